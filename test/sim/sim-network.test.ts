/**
 * Tests of the simulator itself, with tiny fake nodes: a paced sender and a
 * sink that records arrivals.
 */
import { describe, expect, it } from 'vitest';
import type { SocketAddress, Transmit } from '../../src/core/types.js';
import { Rng } from '../../lab/random.js';
import { EventHeap, World, type SimNode } from '../../lab/sim/index.js';

/** Sends `count` datagrams of `size` bytes, one every `intervalMs` from `start` (0 = all at once). */
class Sender implements SimNode {
  /** Datagrams emitted so far. */
  sent = 0;
  /** Send time of each datagram, by sequence number. */
  readonly sendTimes: number[] = [];
  /** Datagrams received (local address seen, time). */
  readonly received: { local: SocketAddress; time: number }[] = [];
  /** When the next datagram is due. */
  private next: number;
  constructor(
    private readonly local: SocketAddress,
    private readonly remote: SocketAddress,
    private readonly count: number,
    private readonly size: number,
    private readonly intervalMs: number,
    start: number,
  ) {
    this.next = start;
  }
  handleDatagram(_data: Uint8Array, local: SocketAddress, _remote: SocketAddress, now: number): void {
    this.received.push({ local, time: now });
  }
  handleTimeout(): void {}
  pollTimeout(): number | null {
    return this.sent < this.count ? this.next : null;
  }
  pollTransmit(now: number): Transmit | null {
    if (this.sent >= this.count || now < this.next) return null;
    const data = new Uint8Array(this.size);
    new DataView(data.buffer).setUint32(0, this.sent);
    this.sendTimes.push(now);
    this.sent++;
    this.next += this.intervalMs;
    return { data, local: this.local, remote: this.remote };
  }
}

/** Records every datagram it receives; optionally echoes it back. */
class Sink implements SimNode {
  /** Arrival time of each datagram. */
  readonly times: number[] = [];
  /** Sequence number (first 4 bytes) of each datagram. */
  readonly seqs: number[] = [];
  /** Raw datagrams. */
  readonly data: Uint8Array[] = [];
  /** local / remote as seen on each arrival. */
  readonly addrs: { local: SocketAddress; remote: SocketAddress }[] = [];
  /** Echo replies waiting. */
  private readonly out: Transmit[] = [];
  constructor(private readonly echo = false) {}
  handleDatagram(data: Uint8Array, local: SocketAddress, remote: SocketAddress, now: number): void {
    this.times.push(now);
    this.seqs.push(new DataView(data.buffer, data.byteOffset).getUint32(0));
    this.data.push(data);
    this.addrs.push({ local, remote });
    if (this.echo) this.out.push({ data, local, remote });
  }
  handleTimeout(): void {}
  pollTimeout(): number | null {
    return null;
  }
  pollTransmit(): Transmit | null {
    return this.out.shift() ?? null;
  }
}

const A = { address: '10.0.0.1', port: 4000 };
const B = { address: '10.0.0.2', port: 5000 };

/** A world with a sender at A and a sink at B, link A->B with `params`. */
function pair(seed: number, count: number, size: number, intervalMs: number, params: Parameters<World['network']['link']>[2]) {
  const world = new World({ seed });
  const sender = world.addNode(new Sender(A, B, count, size, intervalMs, world.now), A.address);
  const sink = world.addNode(new Sink(), B.address);
  const link = world.network.link(A.address, B.address, params);
  return { world, sender, sink, link };
}

function outOfOrder(seqs: number[]): number {
  let n = 0;
  for (let i = 1; i < seqs.length; i++) if (seqs[i]! < seqs[i - 1]!) n++;
  return n;
}

describe('EventHeap', () => {
  it('pops in time order, stable for equal times', () => {
    const seed = 7;
    const rng = new Rng(seed);
    const heap = new EventHeap<number>();
    const entries: { t: number; i: number }[] = [];
    for (let i = 0; i < 5000; i++) {
      const t = rng.int(0, 200); // many ties
      entries.push({ t, i });
      heap.push(t, i);
      if (rng.chance(0.2)) {
        // Interleave pops: the popped item must be the current minimum.
        entries.sort((x, y) => x.t - y.t || x.i - y.i);
        expect(heap.pop(), `seed ${seed}`).toBe(entries.shift()!.i);
      }
    }
    entries.sort((x, y) => x.t - y.t || x.i - y.i);
    const out: number[] = [];
    while (heap.size > 0) out.push(heap.pop()!);
    expect(out, `seed ${seed}`).toEqual(entries.map((e) => e.i));
    expect(heap.pop()).toBeUndefined();
    expect(heap.peekTime()).toBe(Infinity);
  });
});

describe('Link model', () => {
  it('one-way delay is exact', () => {
    const { world, sender, sink, link } = pair(1, 50, 100, 10, { delayMs: 25 });
    expect(world.now).toBe(1000);
    world.runUntilIdle(10_000);
    expect(sink.seqs).toEqual([...Array(50).keys()]);
    for (let i = 0; i < 50; i++) expect(sink.times[i]).toBe(sender.sendTimes[i]! + 25);
    expect(sink.times[0]).toBe(1025);
    expect(link.counters).toMatchObject({ sent: 50, delivered: 50, dropped: 0, bytesDelivered: 5000 });
    expect(sink.addrs[0]).toEqual({ local: B, remote: A });
  });

  it('rate limit adds serialization delay', () => {
    // 1250 bytes at 10 Mbit/s = 1 ms each; sent back to back at t=1000.
    const { world, sink } = pair(2, 3, 1250, 0, { delayMs: 20, rateBps: 10_000_000 });
    world.runUntilIdle(1000);
    expect(sink.times).toEqual([1021, 1022, 1023]);
  });

  it('throughput over 1 s is the rate within 1 %', () => {
    // Offered 16 Mbit/s into an 8 Mbit/s bottleneck for 2 s.
    const { world, sink, link } = pair(3, 4000, 1000, 0.5, { delayMs: 10, rateBps: 8_000_000 });
    const log = link.recordDeliveries();
    world.runUntilIdle(10_000);
    const bps = log.throughputBps(1500, 2500);
    expect(Math.abs(bps - 8_000_000) / 8_000_000).toBeLessThan(0.01);
    expect(link.counters.drops['queue-full']).toBeGreaterThan(1000);
    expect(link.counters.maxQueueBytes).toBeLessThanOrEqual(100_000); // default = rate * 100 ms
    expect(sink.seqs.length).toBe(link.counters.delivered);
    expect(outOfOrder(sink.seqs)).toBe(0);
    expect(log.series(1500, 2500, 250).every((b) => Math.abs(b - 8e6) < 8e6 * 0.02)).toBe(true);
  });

  it('queue limit tail-drops and counts', () => {
    // 20 x 1000 B at once into a 5000 B queue at 1 Mbit/s: 5 pass, 15 tail-dropped.
    const { world, sink, link } = pair(4, 20, 1000, 0, { rateBps: 1_000_000, queueBytes: 5000 });
    world.runUntilIdle(1000);
    expect(sink.seqs).toEqual([0, 1, 2, 3, 4]);
    expect(link.counters.drops['queue-full']).toBe(15);
    expect(link.counters.dropped).toBe(15);
    expect(sink.times).toEqual([1008, 1016, 1024, 1032, 1040]);
    // Drained: accepts again.
    expect(link.queuedBytes(world.now)).toBe(0);
  });

  it('loss rate is about p over 20k datagrams', () => {
    const seed = 5;
    const { world, sink, link } = pair(seed, 20_000, 100, 0.1, { delayMs: 5, lossRate: 0.1 });
    world.runUntilIdle(10_000);
    const lost = link.counters.drops.loss;
    // sd = sqrt(20000 * 0.1 * 0.9) ~ 42; allow ~5 sd.
    expect(Math.abs(lost - 2000), `seed ${seed} lost ${lost}`).toBeLessThan(210);
    expect(sink.seqs.length + lost).toBe(20_000);
    expect(link.counters.sent).toBe(20_000);
  });

  it('blackhole drops everything (in flight too), then heals', () => {
    const { world, sender, sink, link } = pair(6, 500, 100, 1, { delayMs: 10 });
    world.at(1100, () => link.set({ blackhole: true }));
    world.at(1300, () => link.set({ blackhole: false }));
    world.runUntilIdle(10_000);
    expect(sender.sent).toBe(500);
    // Nothing arrives while the hole is open; datagrams sent from 1300 on arrive.
    expect(sink.times.some((t) => t >= 1100 && t < 1300)).toBe(false);
    expect(sink.times.filter((t) => t < 1100).length).toBe(90); // sent 1000..1089
    expect(sink.seqs.filter((s) => sender.sendTimes[s]! >= 1300).length).toBe(200);
    expect(link.counters.drops.blackhole).toBe(500 - sink.seqs.length);
    // Sent 1090..1099: in flight at 1100, lost on arrival; 1100..1299: refused on entry.
    expect(link.counters.drops.blackhole).toBe(210);
  });

  it('jitter without reorder keeps order; with reorder: true it reorders', () => {
    const run = (reorder: boolean) => {
      const { world, sender, sink } = pair(7, 2000, 100, 1, { delayMs: 10, jitterMs: 20, reorder });
      world.runUntilIdle(10_000);
      return { sender, sink };
    };
    const fifo = run(false);
    expect(fifo.sink.seqs.length).toBe(2000);
    expect(outOfOrder(fifo.sink.seqs)).toBe(0);
    const delays = fifo.sink.seqs.map((s, i) => fifo.sink.times[i]! - fifo.sender.sendTimes[s]!);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...delays)).toBeGreaterThan(25);
    const free = run(true);
    expect(free.sink.seqs.length).toBe(2000);
    expect(outOfOrder(free.sink.seqs)).toBeGreaterThan(100);
  });

  it('reorderRate lets later datagrams overtake', () => {
    const { world, sink, link } = pair(8, 5000, 100, 1, { delayMs: 10, reorderRate: 0.05, reorderDelayMs: 3.5 });
    world.runUntilIdle(10_000);
    expect(sink.seqs.length).toBe(5000);
    const r = link.counters.reordered;
    expect(r).toBeGreaterThan(150);
    expect(r).toBeLessThan(350);
    // Each held-back datagram is overtaken by 3 later ones (1 ms apart, 3.5 ms extra).
    expect(outOfOrder(sink.seqs)).toBeGreaterThan(r * 0.8);
    expect([...sink.seqs].sort((x, y) => x - y)).toEqual([...Array(5000).keys()]);
  });

  it('duplicateRate delivers second copies (own buffers)', () => {
    const { world, sink, link } = pair(9, 5000, 100, 0.5, { delayMs: 10, duplicateRate: 0.1 });
    world.runUntilIdle(10_000);
    const d = link.counters.duplicated;
    expect(d).toBeGreaterThan(400);
    expect(d).toBeLessThan(600);
    expect(sink.seqs.length).toBe(5000 + d);
    expect(link.counters.delivered).toBe(5000 + d);
    const i = sink.seqs.findIndex((s, k) => k > 0 && s === sink.seqs[k - 1]);
    expect(i).toBeGreaterThan(0);
    expect(sink.times[i]).toBe(sink.times[i - 1]);
    // Each copy is private: writing one (in-place decryption) leaves the other intact.
    const copy = sink.data[i]!;
    const original = sink.data[i - 1]!;
    expect([...copy]).toEqual([...original]);
    copy.fill(0xee);
    expect(original[0]).toBe((sink.seqs[i]! >>> 24) & 0xff);
    expect(original[4]).toBe(0);
  });

  it('link parameters change at run time (delay shrinks: still FIFO)', () => {
    const { world, sink, link } = pair(10, 100, 100, 1, { delayMs: 50 });
    world.at(1050, () => link.set({ delayMs: 5 }));
    world.runUntilIdle(10_000);
    expect(sink.seqs.length).toBe(100);
    expect(outOfOrder(sink.seqs)).toBe(0);
    expect(sink.times.at(-1)).toBe(1099 + 5);
    expect(() => link.set({ lossRate: 2 })).toThrow(RangeError);
  });
});

describe('Determinism', () => {
  const scenario = (seed: number) => {
    const { world, sink, link } = pair(seed, 3000, 800, 0.3, {
      delayMs: 20,
      jitterMs: 5,
      lossRate: 0.05,
      rateBps: 20_000_000,
      reorderRate: 0.02,
      duplicateRate: 0.02,
    });
    const log = link.recordDeliveries();
    const bytes = world.random()(16);
    world.runUntilIdle(10_000);
    return { times: sink.times, seqs: sink.seqs, logTimes: log.times, counters: link.counters, bytes: [...bytes] };
  };

  it('same seed: identical delivery log; different seed: different', () => {
    const a = scenario(42);
    const b = scenario(42);
    const c = scenario(43);
    expect(b).toEqual(a);
    expect(c.seqs).not.toEqual(a.seqs);
    expect(c.times).not.toEqual(a.times);
    expect(c.bytes).not.toEqual(a.bytes);
  });

  it('world.random() streams are independent and reproducible', () => {
    const w1 = new World({ seed: 1 });
    const w2 = new World({ seed: 1 });
    const r1a = w1.random();
    const r1b = w1.random();
    expect([...r1a(32)]).toEqual([...w2.random()(32)]);
    expect([...r1b(32)]).not.toEqual([...r1a(32)]);
  });
});

describe('Network addressing', () => {
  it('no link / unknown destination is dropped as no-route', () => {
    const world = new World({ seed: 11 });
    world.addNode(new Sender(A, { address: '10.9.9.9', port: 1 }, 3, 10, 0, world.now), A.address);
    world.runUntilIdle(1000);
    expect(world.network.drops['no-route']).toBe(3);
  });

  it('detach drops datagrams to and from the address, attach heals', () => {
    const { world, sender, sink, link } = pair(12, 300, 100, 1, { delayMs: 10 });
    // B loses its address 1100..1200 (in-flight datagrams are lost too).
    world.at(1100, () => world.network.detach(B.address));
    world.at(1200, () => world.network.attach(sink, B.address));
    // A loses its address 1250..1260: its sends are 'no-source'.
    world.at(1250, () => world.network.detach(A.address));
    world.at(1260, () => world.network.attach(sender, A.address));
    world.runUntilIdle(10_000);
    const net = world.network.drops;
    expect(net['no-route']).toBe(100); // arrivals in 1100..1199 = sent 1090..1189
    expect(net['no-source']).toBe(10); // sent 1250..1259
    expect(link.counters.sent).toBe(290);
    expect(sink.seqs.length).toBe(190);
    expect(sink.times.some((t) => t >= 1100 && t < 1200)).toBe(false);
    expect(world.network.addressesOf(sink)).toEqual([B.address]);
    expect(() => world.network.attach(sender, B.address)).toThrow();
  });

  it('rebind rewrites the source port, routes replies back, retires the old port', () => {
    const world = new World({ seed: 13 });
    const sender = world.addNode(new Sender(A, B, 20, 10, 10, world.now), A.address);
    const echo = world.addNode(new Sink(true), B.address);
    const replies = sender.received;
    world.network.path(A.address, B.address, { delayMs: 5 });
    // At 1095 the NAT maps A:4000 to A:4444; a stale datagram to A:4000 is dropped.
    world.at(1095, () => world.network.rebind(A.address, 4000, 4444));
    world.runUntilIdle(10_000);
    const ports = echo.addrs.map((a) => a.remote.port);
    expect(ports.slice(0, 10).every((p) => p === 4000)).toBe(true);
    expect(ports.slice(10).every((p) => p === 4444)).toBe(true);
    // Replies to 4444 reach the node's port 4000; the reply to 1090's datagram (sent 1095) was to 4000: retired.
    expect(world.network.drops.nat).toBe(1);
    expect(replies.length).toBe(19);
    expect(replies.every((r) => r.local.port === 4000 && r.local.address === A.address)).toBe(true);
  });

  it('a trace hook sees sends, deliveries and drops', () => {
    const { world, link } = pair(14, 10, 10, 1, { delayMs: 1 });
    link.set({ lossRate: 0.5 });
    const kinds: Record<string, number> = {};
    world.network.trace = (kind) => {
      kinds[kind] = (kinds[kind] ?? 0) + 1;
    };
    world.runUntilIdle(1000);
    expect(kinds.send).toBe(10);
    expect((kinds.deliver ?? 0) + (kinds.drop ?? 0)).toBe(10);
    expect(kinds.deliver).toBe(link.counters.delivered);
  });
});

describe('World driver', () => {
  it('world.at fires at the exact time, in insertion order; past times throw', () => {
    const world = new World({ seed: 15 });
    const fired: [number, string][] = [];
    world.at(1234.5, () => fired.push([world.now, 'b']));
    world.at(1100, () => fired.push([world.now, 'a']));
    world.at(1234.5, () => fired.push([world.now, 'c']));
    world.after(500, () => world.after(0, () => fired.push([world.now, 'd'])));
    world.runFor(1000);
    expect(fired).toEqual([
      [1100, 'a'],
      [1234.5, 'b'],
      [1234.5, 'c'],
      [1500, 'd'],
    ]);
    expect(world.now).toBe(2000);
    expect(() => world.at(1999, () => {})).toThrow(/past/);
  });

  it('node timeouts fire at their time; a past timeout fires now, time never goes back', () => {
    const world = new World({ seed: 16 });
    const calls: number[] = [];
    let wake: number | null = 1010;
    world.addNode({
      handleDatagram() {},
      handleTimeout(now: number) {
        calls.push(now);
        wake = calls.length === 1 ? 500 : calls.length === 2 ? 1020.25 : null; // 500 is in the past
      },
      pollTransmit: () => null,
      pollTimeout: () => wake,
    });
    world.runUntilIdle(1000);
    expect(calls).toEqual([1010, 1010, 1020.25]);
    expect(world.now).toBe(1020.25);
  });

  it('runUntil stops on the predicate and at the max time', () => {
    const { world, sink } = pair(17, 100, 10, 10, { delayMs: 3 });
    expect(world.runUntil(() => sink.seqs.length >= 5, 10_000)).toBe(true);
    expect(world.now).toBe(1043); // 5th datagram, sent at 1040
    expect(sink.seqs.length).toBe(5);
    expect(world.runUntil(() => sink.seqs.length >= 1000, 100)).toBe(false);
    expect(world.now).toBe(1143);
    expect(sink.seqs.length).toBe(15);
    // Already true: no step.
    const steps = world.steps;
    expect(world.runUntil(() => true, 100)).toBe(true);
    expect(world.steps).toBe(steps);
    // Idle world: time still advances to the limit.
    const idle = new World({ seed: 1 });
    expect(idle.runUntil(() => false, 250)).toBe(false);
    expect(idle.now).toBe(1250);
  });

  it('sends work done between runs (flush without a pending event)', () => {
    const world = new World({ seed: 18 });
    const out: Transmit[] = [];
    world.addNode(
      { handleDatagram() {}, handleTimeout() {}, pollTimeout: () => null, pollTransmit: () => out.shift() ?? null },
      A.address,
    );
    const sink = world.addNode(new Sink(), B.address);
    world.network.link(A.address, B.address, { delayMs: 7 });
    world.runFor(100);
    out.push({ data: new Uint8Array(8), local: A, remote: B });
    expect(world.runUntil(() => sink.seqs.length === 1, 1000)).toBe(true);
    expect(world.now).toBe(1107);
  });

  it('livelock guard throws with the seed', () => {
    const world = new World({ seed: 99, maxSteps: 1000 });
    world.addNode({ handleDatagram() {}, handleTimeout() {}, pollTransmit: () => null, pollTimeout: () => 0 });
    expect(() => world.runFor(10)).toThrow(/livelock.*seed=99/);
  });

  it('errors thrown by nodes carry the seed and time', () => {
    const world = new World({ seed: 77 });
    world.addNode({
      handleDatagram() {},
      handleTimeout() {
        throw new Error('boom');
      },
      pollTransmit: () => null,
      pollTimeout: () => 1005,
    });
    expect(() => world.runFor(10)).toThrow(/boom \[sim seed=77 t=1005\]/);
  });

  it('copies datagrams at send time (sender may reuse its buffer)', () => {
    const world = new World({ seed: 20 });
    const buf = new Uint8Array(4);
    let n = 0;
    world.addNode(
      {
        handleDatagram() {},
        handleTimeout() {},
        pollTimeout: () => null,
        pollTransmit: () => (n < 3 ? (buf.fill(++n), { data: buf, local: A, remote: B }) : null),
      },
      A.address,
    );
    const sink = world.addNode(new Sink(), B.address);
    world.network.link(A.address, B.address, { delayMs: 1 });
    world.runUntilIdle(100);
    expect(sink.data.map((d) => d[0])).toEqual([1, 2, 3]);
  });

  // How fast is for the bench to measure, not for a test to assert: a timed
  // assertion fails on a loaded machine (project rule).
  it('moves 200k datagrams', () => {
    const { world, sink, link } = pair(19, 200_000, 1200, 0.01, { delayMs: 20, rateBps: 1_000_000_000, jitterMs: 1 });
    world.runUntilIdle(100_000);
    expect(sink.seqs.length).toBe(200_000);
    expect(link.counters.bytesDelivered).toBe(240_000_000);
  });
});
