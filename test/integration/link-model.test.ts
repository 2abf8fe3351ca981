/**
 * One link model, two clocks: the same seeded link (lab/link) carries the
 * same datagrams in the ISP emulator (real UDP on loopback, real clock) and
 * in the simulator (virtual clock), and the two delivery schedules must
 * agree: the same datagrams lost, duplicated and held back, the same order
 * of delivery and the same delivery times, to the microsecond. On the real
 * clock the relay then sends each datagram at that time give or take its
 * timer: never early, late by Node's timer granularity (more on a loaded
 * machine, so that check is on the median and generous).
 *
 * The simulator replays the times at which the relay offered each datagram
 * to its link (the relay's trace hook), so both models see the same input.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { IspEmulator } from '../../lab/emulator/index.js';
import type { LinkParams } from '../../lab/link/index.js';
import { deriveSeed } from '../../lab/random.js';
import type { SimNode } from '../../lab/sim/network.js';
import { World } from '../../lab/sim/world.js';
import type { Transmit } from '../../src/core/types.js';

const SEED = 7;
const COUNT = 300;
const SIZE = 1000;
/** Every parameter but the blackhole, with a queue that does not overflow (a tail drop would depend on timer slop). */
const PARAMS: Partial<LinkParams> = {
  delayMs: 20,
  jitterMs: 6,
  lossRate: 0.05,
  rateBps: 20e6,
  queueBytes: 1 << 20,
  overheadBytes: 28,
  duplicateRate: 0.03,
  reorderRate: 0.05,
  reorderDelayMs: 5,
};

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function udp(address: string): Promise<Socket> {
  // A receive buffer for the whole run: on a loaded machine the event loop
  // may not read for a while, and the relay then sends what fell due at once.
  const s = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  s.bind(0, address);
  await once(s, 'listening');
  cleanup.push(() => new Promise<void>((r) => s.close(() => r())));
  return s;
}

/** One delivery: which datagram, when (ms since the first offer). */
interface Delivery {
  seq: number;
  at: number;
}

/** One send of the relay: the datagram, when its link said it was due, when it went. */
interface Send extends Delivery {
  due: number;
}

/** Runs the datagrams through the relay; returns its offer times and its sends (on its clock, from the first offer). */
async function throughEmulator(): Promise<{ offers: number[]; sends: Send[]; received: number; counters: Record<string, number> }> {
  const sink = await udp('127.0.0.1');
  let received = 0;
  sink.on('message', () => received++);
  const isp = await IspEmulator.start({ listen: { address: '127.0.0.11', port: 0 }, target: { address: '127.0.0.1', port: sink.address().port }, seed: SEED, ...PARAMS });
  cleanup.push(() => isp.close());
  const offers: number[] = [];
  const sends: Send[] = [];
  isp.trace = (kind, direction, now, data, due) => {
    if (direction !== 'forward') return;
    if (kind === 'offer') offers[data.readUInt32BE(0)] = now;
    else sends.push({ seq: data.readUInt32BE(0), at: now, due });
  };
  const client = await udp('127.0.0.1');
  const port = isp.address()!.port;
  // Bursts of 20 every 5 ms: 33 Mbit/s offered to a 20 Mbit/s link, so the queue shapes the schedule.
  for (let seq = 0; seq < COUNT; seq++) {
    const b = Buffer.alloc(SIZE);
    b.writeUInt32BE(seq, 0);
    client.send(b, port, '127.0.0.11');
    if (seq % 20 === 19) await new Promise((r) => setTimeout(r, 5));
  }
  const st = () => isp.stats().forward;
  const deadline = performance.now() + 10_000;
  while ((st().sent < COUNT || st().inFlight > 0) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  // What the relay sent is still on its way to the sink (loopback, same process).
  while (received < sends.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const f = st();
  expect(f.sent, 'every datagram reached the relay').toBe(COUNT);
  expect(f.inFlight).toBe(0);
  const t0 = Math.min(...offers);
  return {
    offers: offers.map((t) => t - t0),
    sends: sends.map((d) => ({ seq: d.seq, at: d.at - t0, due: d.due - t0 })),
    received,
    counters: { loss: f.drops.loss, queueFull: f.drops['queue-full'], duplicated: f.duplicated, reordered: f.reordered, delivered: f.delivered },
  };
}

/** Replays the offers on the simulator's virtual clock with the relay's forward link seed. */
function throughSimulator(offers: number[]): { deliveries: Delivery[]; counters: Record<string, number> } {
  const START = 1000;
  const world = new World({ seed: 1, startTime: START });
  const queue: Transmit[] = [];
  const deliveries: Delivery[] = [];
  const sender: SimNode = {
    handleDatagram: () => {},
    handleTimeout: () => {},
    pollTransmit: () => queue.shift() ?? null,
    pollTimeout: () => null,
  };
  const sink: SimNode = {
    handleDatagram: (data, _local, _remote, now) => void deliveries.push({ seq: new DataView(data.buffer, data.byteOffset).getUint32(0), at: now - START }),
    handleTimeout: () => {},
    pollTransmit: () => null,
    pollTimeout: () => null,
  };
  world.addNode(sender, '10.0.0.1');
  world.addNode(sink, '10.0.0.2');
  const link = world.network.link('10.0.0.1', '10.0.0.2', PARAMS, deriveSeed(SEED, 0));
  offers.forEach((t, seq) => {
    world.at(START + t, () => {
      const data = new Uint8Array(SIZE);
      new DataView(data.buffer).setUint32(0, seq);
      queue.push({ data, local: { address: '10.0.0.1', port: 1 }, remote: { address: '10.0.0.2', port: 2 } });
    });
  });
  world.runUntilIdle(60_000);
  const c = link.counters;
  return { deliveries, counters: { loss: c.drops.loss, queueFull: c.drops['queue-full'], duplicated: c.duplicated, reordered: c.reordered, delivered: c.delivered } };
}

describe('one link model in the simulator and the emulator', () => {
  it('the same seeded link gives the same delivery schedule on the virtual and the real clock', async () => {
    const emulated = await throughEmulator();
    const simulated = throughSimulator(emulated.offers);
    const info = `seed ${SEED}; emulator ${JSON.stringify(emulated.counters)}; simulator ${JSON.stringify(simulated.counters)}`;
    // The same random decisions (every kind happened at least once, so each was compared).
    expect(emulated.counters, info).toEqual(simulated.counters);
    for (const k of ['loss', 'duplicated', 'reordered'] as const) expect(simulated.counters[k], `${k}: ${info}`).toBeGreaterThan(0);
    expect(emulated.received, 'the sink got every datagram the relay sent').toBe(emulated.sends.length);
    // The same datagrams, in the same order, due at the same times.
    expect(emulated.sends.map((d) => d.seq)).toEqual(simulated.deliveries.map((d) => d.seq));
    const off = emulated.sends.map((d, i) => Math.abs(d.due - simulated.deliveries[i]!.at));
    expect(Math.max(...off), 'largest difference of the two schedules (ms)').toBeLessThan(0.001);
    // Sent at those times on the real clock: never early (the relay sends what is due within 0.5 ms), late by its timer.
    const late = emulated.sends.map((d) => d.at - d.due).sort((a, b) => a - b);
    const median = late[Math.floor(late.length / 2)]!;
    console.log(`${late.length} deliveries; sent minus due: min ${late[0]!.toFixed(2)} ms, median ${median.toFixed(2)} ms, max ${late[late.length - 1]!.toFixed(2)} ms`);
    expect(late[0]!, info).toBeGreaterThanOrEqual(-0.501);
    expect(median, info).toBeLessThan(20);
  }, 30_000);
});
