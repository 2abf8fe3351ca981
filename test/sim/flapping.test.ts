/**
 * Flapping (issue #15): the connection lives as long as one path works,
 * whatever happened to the paths before. Alternating outages of two ISPs
 * (the lab's schedule) at 0.5 s, 2 s and 5 s periods, short repeated
 * outages of one path, and paths that fail in one direction only. The
 * random schedules are in liveness-property.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { FAILED_PROBE_MAX } from '../../src/core/path/path-state.js';
import { IspPair, alternating, closedEvent, firstDifference, longestStall, pathStates, receivedBytes, repeated, schedule, type OutageStep } from './outages.js';
import type { Side } from './scenario.js';

const MiB = 1024 * 1024;

/** A bulk upload (the client writes as fast as the connection takes) over `ip` while `steps` run from `t0`. */
function bulkUpload(ip: IspPair, steps: OutageStep[], startAfter: number, runMs: number): { t0: number; written: number; chunkSeed: number } {
  const pair = ip.pair;
  const conn = pair.connect();
  pair.world.runUntil(() => pair.server.connection !== null && conn.pathList.filter((p) => p.state === 'active').length >= ip.size, 5_000);
  const t0 = pair.world.now + startAfter;
  schedule(ip, t0, steps);
  let written = 0;
  const chunk = new Uint8Array(64 * 1024);
  const feed = (): void => {
    for (;;) {
      // Each byte is its offset's low 8 bits mixed with a constant: a reordering or a gap shows.
      for (let i = 0; i < chunk.length; i++) chunk[i] = ((written + i) * 131 + ((written + i) >>> 8)) & 0xff;
      const n = conn.write(chunk);
      written += n;
      if (n < chunk.length) break;
    }
    pair.client.endpoint.touch(conn);
  };
  feed();
  pair.world.runUntil(() => {
    if (conn.writableBytes > 0) feed();
    return pair.world.now >= t0 + runMs;
  }, runMs + startAfter + 1_000);
  return { t0, written, chunkSeed: 131 };
}

/** The bytes bulkUpload wrote, for `n` bytes. */
function expectedBulk(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + (i >>> 8)) & 0xff;
  return out;
}

/** Every byte the receiver got so far is the sender's, in order. */
function expectIntactPrefix(side: Side, expected: Uint8Array, what: string): void {
  const got = receivedBytes(side);
  expect(got.length, what).toBeLessThanOrEqual(expected.length);
  expect(firstDifference(got, expected), `${what}: first corrupted byte`).toBe(-1);
}

describe('alternating outages of two ISPs (the lab schedule of issue #15)', () => {
  // One-way delays: ~0 (the namespace lab), 5 ms and 30 ms (RTT 60 ms).
  const cases: Array<{ period: number; delayMs: number; seed: number; moves: number }> = [
    { period: 2000, delayMs: 0.05, seed: 1501, moves: 5 },
    { period: 2000, delayMs: 5, seed: 1502, moves: 5 },
    { period: 2000, delayMs: 30, seed: 1503, moves: 5 },
    { period: 500, delayMs: 0.05, seed: 1504, moves: 5 },
    { period: 500, delayMs: 10, seed: 1505, moves: 5 },
    { period: 5000, delayMs: 5, seed: 1506, moves: 3 },
  ];
  for (const { period, delayMs, seed, moves } of cases) {
    it(`period ${period / 1000} s, one-way delay ${delayMs} ms: no freeze, every byte intact, stalls bounded`, () => {
      const rtt = 2 * delayMs;
      const ip = new IspPair({ seed, isps: [{ delayMs, rateBps: 5e6 }, { delayMs, rateBps: 5e6 }] });
      const pair = ip.pair;
      const lastHeal = moves * period;
      const { t0, written } = bulkUpload(ip, alternating(period, moves), 500, lastHeal + 3_000);
      const client = pair.client.connection!;
      const server = pair.server.connection!;
      const states = `client ${pathStates(client)}; server ${pathStates(server)}`;
      // Not a zombie: both ends are open and the working pairs are active again on both ends.
      expect(client.state, states).toBe('established');
      expect(server.state, states).toBe('established');
      for (const conn of [client, server]) {
        for (const p of conn.pathList) {
          if (p.local.address.split('.')[2] !== p.remote.address.split('.')[2]) continue; // a cross pair: no route
          expect(p.state, `${conn.role} path ${p.id} after the last heal (${states})`).toBe('active');
        }
      }
      // The failed paths came back through acknowledged probes, counted.
      for (const conn of [client, server]) {
        const s = conn.stats();
        expect(s.pathsRecovered, `${conn.role} stats`).toBeGreaterThan(0);
        expect(s.failedProbes + s.livenessPings, `${conn.role} stats`).toBeGreaterThan(0);
      }
      // Delivery never stopped for long, during the flapping or after it.
      const stall = longestStall(pair.server, t0, pair.world.now);
      const bound = 3 * rtt + 300;
      console.log(`period ${period} ms, RTT ${rtt} ms: longest stall ${stall.ms.toFixed(0)} ms at ${((stall.at - t0) / 1000).toFixed(2)} s (bound ${bound} ms); ${(pair.server.receivedBytes / MiB).toFixed(1)} MiB delivered`);
      expect(stall.ms, `longest stall at ${stall.at - t0} ms; ${states}`).toBeLessThanOrEqual(bound);
      expectIntactPrefix(pair.server, expectedBulk(written), `seed ${seed}`);
      // Everything written arrives once the writer stops.
      expect(pair.world.runUntil(() => pair.server.receivedBytes === written, 10_000), `seed ${seed}: ${pair.server.receivedBytes} of ${written}`).toBe(true);
      expectIntactPrefix(pair.server, expectedBulk(written), `seed ${seed}`);
    });
  }
});

describe('short repeated outages of one path', () => {
  for (const { downMs, everyMs, seed } of [
    { downMs: 60, everyMs: 300, seed: 1511 },
    { downMs: 250, everyMs: 700, seed: 1512 },
    { downMs: 900, everyMs: 1500, seed: 1513 },
  ]) {
    it(`ISP A down ${downMs} ms every ${everyMs} ms: intact, stalls bounded, A carries data at the end`, () => {
      const delayMs = 8;
      const ip = new IspPair({ seed, isps: [{ delayMs, rateBps: 5e6 }, { delayMs, rateBps: 5e6 }] });
      const pair = ip.pair;
      const count = 6;
      const { t0, written } = bulkUpload(ip, repeated(0, downMs, everyMs, count), 500, count * everyMs + 2_000);
      const stall = longestStall(pair.server, t0, pair.world.now);
      const bound = 3 * 2 * delayMs + 300;
      console.log(`A down ${downMs} ms every ${everyMs} ms: longest stall ${stall.ms.toFixed(0)} ms (bound ${bound} ms)`);
      expect(stall.ms).toBeLessThanOrEqual(bound);
      const client = pair.client.connection!;
      const a = client.pathsById.get(0)!;
      expect(a.state, pathStates(client)).toBe('active');
      const sentBefore = a.counters.dataBytesSent + a.counters.dataBytesRetransmitted;
      pair.world.runFor(500);
      expect(a.counters.dataBytesSent + a.counters.dataBytesRetransmitted, 'ISP A carries data again').toBeGreaterThan(sentBefore);
      expect(pair.world.runUntil(() => pair.server.receivedBytes >= written, 10_000)).toBe(true);
      expectIntactPrefix(pair.server, expectedBulk(written), `seed ${seed}`);
    });
  }
});

describe('a path that fails in one direction only', () => {
  for (const direction of ['up', 'down'] as const) {
    it(`ISP A loses its ${direction === 'up' ? 'client → server' : 'server → client'} direction for 3 s: intact, stalls bounded, A back on both ends`, () => {
      const delayMs = 10;
      const seed = direction === 'up' ? 1521 : 1522;
      const ip = new IspPair({ seed, isps: [{ delayMs, rateBps: 10e6 }, { delayMs, rateBps: 10e6 }] });
      const pair = ip.pair;
      const steps: OutageStep[] = [
        { at: 0, isp: 0, down: true, direction },
        { at: 3_000, isp: 0, down: false },
      ];
      const { t0, written } = bulkUpload(ip, steps, 500, 4_500);
      const stall = longestStall(pair.server, t0, pair.world.now);
      console.log(`one-way (${direction}) outage of ISP A: longest stall ${stall.ms.toFixed(0)} ms`);
      expect(stall.ms).toBeLessThanOrEqual(3 * 2 * delayMs + 300);
      for (const conn of [pair.client.connection!, pair.server.connection!]) {
        expect(conn.pathsById.get(0)!.state, `${conn.role}: ${pathStates(conn)}`).toBe('active');
      }
      expect(pair.world.runUntil(() => pair.server.receivedBytes >= written, 10_000)).toBe(true);
      expectIntactPrefix(pair.server, expectedBulk(written), `seed ${seed}`);
    });
  }
});

describe('every path failed', () => {
  it('an idle connection notices its dead paths although its keep-alive interval is shorter than the backed-off PTO', () => {
    // A keep-alive restarts the PTO (it runs from the last ack-eliciting
    // packet sent): sent on a path still waiting for an ACK, it kept a dead
    // path's PTO from ever firing again once the back-off outgrew 150 ms.
    const ip = new IspPair({ seed: 1532, isps: [{ delayMs: 15, rateBps: 10e6 }, { delayMs: 15, rateBps: 10e6 }], options: { keepAliveInterval: 150 } });
    const pair = ip.pair;
    const client = pair.connect();
    pair.world.runUntil(() => pair.server.connection !== null && client.pathList.filter((p) => p.state === 'active').length >= 2, 5_000);
    const server = pair.server.connection!;
    pair.world.runUntil(() => false, 1_000);
    schedule(ip, pair.world.now, [
      { at: 0, isp: 0, down: true },
      { at: 0, isp: 1, down: true },
    ]);
    const allFailed = (): boolean => [client, server].every((c) => c.pathList.every((p) => p.state === 'failed' || (!p.validated && p.state !== 'active')));
    expect(pair.world.runUntil(allFailed, 3_000), `client ${pathStates(client)}; server ${pathStates(server)}`).toBe(true);
  });

  it('each pair is probed from both ends at least every 300 ms + RTT; the first pair that heals carries the waiting data', () => {
    const delayMs = 15;
    const rtt = 2 * delayMs;
    const ip = new IspPair({ seed: 1531, isps: [{ delayMs, rateBps: 10e6 }, { delayMs, rateBps: 10e6 }] });
    const pair = ip.pair;
    const world = pair.world;
    // Sends per directed address pair, from the moment both ends hold every path failed.
    const sends = new Map<string, number[]>();
    let recording = false;
    world.network.trace = (kind, time, src, _sp, dst) => {
      if (kind !== 'send' || !recording) return;
      const key = `${src}>${dst}`;
      let list = sends.get(key);
      if (list === undefined) sends.set(key, (list = []));
      list.push(time);
    };
    const outage: OutageStep[] = [
      { at: 0, isp: 0, down: true },
      { at: 0, isp: 1, down: true },
      { at: 6_000, isp: 1, down: false },
    ];
    const { t0 } = bulkUpload(ip, outage, 500, 0);
    const client = pair.client.connection!;
    const server = pair.server.connection!;
    const allFailed = (): boolean =>
      [client, server].every((c) => c.pathList.every((p) => p.state === 'failed' || (!p.validated && p.state !== 'active')));
    expect(world.runUntil(allFailed, 5_000), `client ${pathStates(client)}; server ${pathStates(server)}`).toBe(true);
    const from = world.now;
    recording = true;
    // The bulk writer filled the send buffer: data waits while nothing works.
    expect(client.sendBuffer.bufferedBytes).toBeGreaterThan(0);
    world.runUntil(() => false, t0 + 6_000 - world.now);
    recording = false;
    const healedAt = t0 + 6_000;
    // Six seconds of probing: a failed path tracks its latest probe only.
    for (const conn of [client, server]) {
      for (const p of conn.pathList) expect(p.sent.count, `${conn.role} path ${p.id} packets tracked`).toBeLessThanOrEqual(1);
    }
    // Both ends probe both working pairs (a-a, b-b) during the whole outage.
    for (const [src, dst] of [
      ['10.0.1.2', '10.0.1.1'],
      ['10.0.1.1', '10.0.1.2'],
      ['10.0.2.2', '10.0.2.1'],
      ['10.0.2.1', '10.0.2.2'],
    ] as const) {
      const times = [from, ...(sends.get(`${src}>${dst}`) ?? []), healedAt];
      let gap = 0;
      for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
      expect(gap, `${src} → ${dst}: longest gap between probes`).toBeLessThanOrEqual(300 + rtt);
    }
    // ISP B healed: the waiting data goes out on it and arrives within the probe interval and a few RTTs.
    const before = pair.server.receivedBytes;
    expect(world.runUntil(() => pair.server.receivedBytes > before, 5_000)).toBe(true);
    const resumed = pair.server.deliveries.find((d) => d.time >= healedAt)!.time;
    console.log(`every path failed, then ISP B healed: delivery resumed ${(resumed - healedAt).toFixed(0)} ms after the heal`);
    expect(resumed - healedAt).toBeLessThanOrEqual(300 + 3 * rtt);
    const viaB = client.pathList.find((p) => p.local.address === '10.0.2.2' && p.remote.address === '10.0.2.1')!;
    expect(viaB.state).toBe('active');
    expect(viaB.counters.dataBytesSent + viaB.counters.dataBytesRetransmitted).toBeGreaterThan(0);
  });
});

describe('the idle timeout is honest', () => {
  it('every path loses its client → server direction: the client ends with ERR_MPUDP_NO_WORKING_PATH, the server with ERR_MPUDP_IDLE_TIMEOUT', () => {
    const idleTimeout = 4_000;
    const ip = new IspPair({ seed: 1541, isps: [{ delayMs: 5, rateBps: 10e6 }, { delayMs: 8, rateBps: 10e6 }], options: { idleTimeout } });
    const pair = ip.pair;
    const world = pair.world;
    const { t0 } = bulkUpload(ip, [{ at: 0, isp: 0, down: true, direction: 'up' }, { at: 0, isp: 1, down: true, direction: 'up' }], 300, 0);
    expect(world.runUntil(() => closedEvent(pair.client) !== null && closedEvent(pair.server) !== null, idleTimeout + 5_000)).toBe(true);
    const c = closedEvent(pair.client)!;
    const s = closedEvent(pair.server)!;
    console.log(`one-way failure of every path: client closed ${(c.time - t0).toFixed(0)} ms after (${c.code}), server ${(s.time - t0).toFixed(0)} ms (${s.code})`);
    // The server hears nothing: idle timeout. The client still hears the server's probes, but nothing of its own is acknowledged.
    expect(s.code).toBe('ERR_MPUDP_IDLE_TIMEOUT');
    expect(c.code).toBe('ERR_MPUDP_NO_WORKING_PATH');
    for (const e of [c, s]) {
      expect(e.time - t0).toBeGreaterThanOrEqual(idleTimeout - 100);
      expect(e.time - t0).toBeLessThanOrEqual(idleTimeout + FAILED_PROBE_MAX);
    }
  });

  it('every path down both ways: both ends end with ERR_MPUDP_IDLE_TIMEOUT within the idle timeout', () => {
    const idleTimeout = 4_000;
    const ip = new IspPair({ seed: 1542, isps: [{ delayMs: 5, rateBps: 10e6 }, { delayMs: 8, rateBps: 10e6 }], options: { idleTimeout } });
    const pair = ip.pair;
    const world = pair.world;
    const { t0 } = bulkUpload(ip, [{ at: 0, isp: 0, down: true }, { at: 0, isp: 1, down: true }], 300, 0);
    expect(world.runUntil(() => closedEvent(pair.client) !== null && closedEvent(pair.server) !== null, idleTimeout + 5_000)).toBe(true);
    for (const e of [closedEvent(pair.client)!, closedEvent(pair.server)!]) {
      expect(e.code).toBe('ERR_MPUDP_IDLE_TIMEOUT');
      expect(e.time - t0).toBeLessThanOrEqual(idleTimeout + FAILED_PROBE_MAX);
    }
  });
});
