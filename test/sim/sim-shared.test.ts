/**
 * Tests of the simulator's shared bottleneck and link schedules, with tiny
 * fake nodes: constant-rate senders and a sink that records arrivals.
 */
import { describe, expect, it } from 'vitest';
import type { SocketAddress, Transmit } from '../../src/core/types.js';
import { World, type SimNode } from '../../lab/sim/index.js';

/** Sends a datagram of `size` bytes every `intervalMs` from `start` until `stop`. */
class CbrSender implements SimNode {
  /** Send time of each datagram, by sequence number. */
  readonly sendTimes: number[] = [];
  /** When the next datagram is due. */
  private next: number;
  constructor(
    private readonly local: SocketAddress,
    private readonly remote: SocketAddress,
    private readonly size: number,
    private readonly intervalMs: number,
    start: number,
    private readonly stop: number,
  ) {
    this.next = start;
  }
  handleDatagram(): void {}
  handleTimeout(): void {}
  pollTimeout(): number | null {
    return this.next < this.stop ? this.next : null;
  }
  pollTransmit(now: number): Transmit | null {
    if (this.next >= this.stop || now < this.next) return null;
    const data = new Uint8Array(this.size);
    new DataView(data.buffer).setUint32(0, this.sendTimes.length);
    this.sendTimes.push(now);
    this.next += this.intervalMs;
    return { data, local: this.local, remote: this.remote };
  }
}

/** Records every arrival: time, source address, sequence number. */
class Sink implements SimNode {
  readonly arrivals: Array<{ time: number; from: string; seq: number; bytes: number }> = [];
  handleDatagram(data: Uint8Array, _local: SocketAddress, remote: SocketAddress, now: number): void {
    const seq = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
    this.arrivals.push({ time: now, from: remote.address, seq, bytes: data.byteLength });
  }
  handleTimeout(): void {}
  pollTimeout(): number | null {
    return null;
  }
  pollTransmit(): Transmit | null {
    return null;
  }
  /** Bit/s received from `from` in [t0, t1). */
  rate(from: string | null, t0: number, t1: number): number {
    let bytes = 0;
    for (const a of this.arrivals) if ((from === null || a.from === from) && a.time >= t0 && a.time < t1) bytes += a.bytes;
    return (bytes * 8000) / (t1 - t0);
  }
}

const SINK = '10.0.0.1';
const addr = (address: string): SocketAddress => ({ address, port: 1 });

describe('shared bottleneck', () => {
  it('three pairs share one rate and one queue, each keeping its own delay', () => {
    const seed = 501;
    const world = new World({ seed });
    const sink = world.addNode(new Sink(), SINK);
    const t0 = world.now;
    // Each sender offers about 8 Mbit/s (1000 B every ~1 ms; slightly different
    // periods, so drop-tail does not lock onto one phase); the bottleneck carries 12 Mbit/s.
    const periods = [1, 1.07, 0.93];
    ['10.0.1.2', '10.0.2.2', '10.0.3.2'].forEach((a, i) =>
      world.addNode(new CbrSender(addr(a), addr(SINK), 1000, periods[i]!, t0, t0 + 2000), a),
    );
    const b = world.network.bottleneck('b', { rateBps: 12e6, queueBytes: 30_000 });
    const delays = [5, 20, 40];
    const links = world.network.shareLink(b, [
      ['10.0.1.2', SINK],
      ['10.0.2.2', SINK],
      ['10.0.3.2', SINK],
    ]);
    links.forEach((l, i) => l.set({ delayMs: delays[i]!, rateBps: 1e9 })); // own rate ignored while shared
    expect(links.every((l) => l.bottleneck === b)).toBe(true);
    world.runFor(2200);
    // The sum is the bottleneck's rate, not 3 x 8 or 3 x 1000 Mbit/s.
    const total = sink.rate(null, t0 + 200, t0 + 1800);
    expect(total, `seed ${seed}: total ${total}`).toBeGreaterThan(11.5e6);
    expect(total, `seed ${seed}: total ${total}`).toBeLessThanOrEqual(12e6 * 1.01);
    // Similar offered loads and FIFO tail drop: every pair gets a share.
    for (const s of ['10.0.1.2', '10.0.2.2', '10.0.3.2']) {
      const r = sink.rate(s, t0 + 200, t0 + 1800);
      expect(r, `seed ${seed}: ${s} got ${r}`).toBeGreaterThan(2.5e6);
      expect(r, `seed ${seed}: ${s} got ${r}`).toBeLessThan(5.5e6);
    }
    // The queue is shared: tail drops, the shared queue never above its limit.
    const drops = links.reduce((n, l) => n + l.counters.drops['queue-full'], 0);
    expect(drops).toBeGreaterThan(0);
    expect(b.counters.maxQueueBytes).toBeLessThanOrEqual(30_000);
    expect(b.counters.maxQueueBytes).toBeGreaterThan(25_000);
    // Each pair keeps its own delay: the first datagram of each arrives after
    // its delay plus its serialization behind the others sent at t0 (< 3 ms).
    for (let i = 0; i < 3; i++) {
      const first = sink.arrivals.find((a) => a.from === `10.0.${i + 1}.2`)!;
      expect(first.time - t0).toBeGreaterThanOrEqual(delays[i]!);
      expect(first.time - t0).toBeLessThan(delays[i]! + 3);
    }
  });

  it('serializes the pairs in one FIFO: a datagram waits for the other pair’s datagrams ahead of it', () => {
    const world = new World({ seed: 502 });
    const sink = world.addNode(new Sink(), SINK);
    const t0 = world.now;
    // 1 Mbit/s: a 1000-byte datagram takes 8 ms. Both send one at t0, then B at t0 + 1.
    world.addNode(new CbrSender(addr('10.0.1.2'), addr(SINK), 1000, 100, t0, t0 + 1), '10.0.1.2');
    world.addNode(new CbrSender(addr('10.0.2.2'), addr(SINK), 1000, 1, t0, t0 + 2), '10.0.2.2');
    const a = world.network.link('10.0.1.2', SINK, { rateBps: 1e6, delayMs: 10 });
    world.network.shareLink(a, [['10.0.2.2', SINK]], { delayMs: 1 });
    world.runFor(100);
    const times = sink.arrivals.map((x) => `${x.from}@${(x.time - t0).toFixed(0)}`);
    // A first (depart 8, +10), B's first behind it (depart 16, +1), B's second (depart 24, +1).
    expect(times).toEqual(['10.0.2.2@17', '10.0.1.2@18', '10.0.2.2@25']);
  });
});

describe('link schedules (rate changes over time)', () => {
  it('applies each step at its time; throughput follows the rate', () => {
    const seed = 503;
    const world = new World({ seed });
    const sink = world.addNode(new Sink(), SINK);
    const t0 = world.now;
    // Offered: 24 Mbit/s (3000 B every 1 ms); the link changes 20 -> 5 -> 10 Mbit/s.
    world.addNode(new CbrSender(addr('10.0.1.2'), addr(SINK), 3000, 1, t0, t0 + 3000), '10.0.1.2');
    const l = world.network.link('10.0.1.2', SINK, { rateBps: 20e6, delayMs: 5, queueBytes: 20_000 });
    world.scheduleLink(l, [
      { afterMs: 2000, params: { rateBps: 10e6 } },
      { afterMs: 1000, params: { rateBps: 5e6 } },
    ]);
    world.runFor(3100);
    const r = [sink.rate(null, t0 + 100, t0 + 1000), sink.rate(null, t0 + 1100, t0 + 2000), sink.rate(null, t0 + 2100, t0 + 3000)];
    const msg = `seed ${seed}: rates ${r.map((x) => (x / 1e6).toFixed(2)).join(', ')}`;
    expect(r[0]!, msg).toBeGreaterThan(19.5e6);
    expect(r[0]!, msg).toBeLessThanOrEqual(20.2e6);
    expect(r[1]!, msg).toBeGreaterThan(4.9e6);
    expect(r[1]!, msg).toBeLessThanOrEqual(5.1e6);
    expect(r[2]!, msg).toBeGreaterThan(9.8e6);
    expect(r[2]!, msg).toBeLessThanOrEqual(10.2e6);
    expect(l.params.rateBps).toBe(10e6);
  });

  it('a schedule on a shared bottleneck changes the rate for every pair through it', () => {
    const world = new World({ seed: 504 });
    const sink = world.addNode(new Sink(), SINK);
    const t0 = world.now;
    for (const a of ['10.0.1.2', '10.0.2.2']) world.addNode(new CbrSender(addr(a), addr(SINK), 1000, 1, t0, t0 + 2000), a);
    const b = world.network.bottleneck('b', { rateBps: 10e6, queueBytes: 10_000 });
    world.network.shareLink(b, [
      ['10.0.1.2', SINK],
      ['10.0.2.2', SINK],
    ], { delayMs: 2 });
    world.scheduleLink(b, [{ afterMs: 1000, params: { rateBps: 4e6 } }]);
    world.runFor(2100);
    const before = sink.rate(null, t0 + 100, t0 + 1000);
    const after = sink.rate(null, t0 + 1100, t0 + 2000);
    expect(before).toBeGreaterThan(9.8e6);
    expect(before).toBeLessThanOrEqual(10.1e6);
    expect(after).toBeGreaterThan(3.9e6);
    expect(after).toBeLessThanOrEqual(4.1e6);
  });
});
