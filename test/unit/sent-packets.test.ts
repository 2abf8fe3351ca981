import { describe, expect, it } from 'vitest';
import type { AckRange } from '../../src/wire/types.js';
import { RttEstimator } from '../../src/core/path/rtt.js';
import {
  K_PACKET_THRESHOLD,
  K_TIME_THRESHOLD,
  LOST_KEPT,
  LOST_MEMORY_RTTS,
  MAX_PACKET_THRESHOLD,
  MAX_TIME_THRESHOLD,
  SentPackets,
  lossDelay,
  persistentCongestion,
  type SentPacket,
} from '../../src/core/path/sent-packets.js';
import { Rng } from '../../lab/random.js';

const MAD = 25;

function withSeed(seed: number, fn: (rng: Rng) => void): void {
  try {
    fn(new Rng(seed));
  } catch (e) {
    throw new Error(`seed ${seed}: ${(e as Error).message}`, { cause: e });
  }
}

function pns(list: readonly { packetNumber: number }[]): number[] {
  return list.map((p) => p.packetNumber);
}

/** Sends packets first..last, one per `gap` ms starting at t0, 1000 bytes each. */
function sendRun(sp: SentPackets<string>, first: number, last: number, t0: number, gap = 1): void {
  for (let pn = first; pn <= last; pn++) sp.onSent(pn, t0 + (pn - first) * gap, 1000, true, true, `p${pn}`);
}

describe('SentPackets', () => {
  it('tracks bytes in flight, counts and send times', () => {
    const sp = new SentPackets<string>();
    sp.onSent(0, 0, 1200, true, true, 'a');
    sp.onSent(1, 1, 50, false, false, 'ack-only');
    sp.onSent(2, 2, 1000, false, true, 'padding');
    expect(sp.count).toBe(3);
    expect(sp.bytesInFlight).toBe(2200);
    expect(sp.ackElicitingInFlight).toBe(1);
    expect(sp.largestSent).toBe(2);
    expect(sp.largestAcked).toBeNull();
    expect(sp.timeOfLastAckEliciting).toBe(0);
    expect(() => sp.onSent(2, 3, 10, true, true, 'dup')).toThrow(RangeError);
    expect(() => sp.onSent(1, 3, 10, true, true, 'old')).toThrow(RangeError);
  });

  it('acks ranges, takes an RTT sample from the newly acked largest and returns acked ascending', () => {
    const sp = new SentPackets<string>();
    const rtt = new RttEstimator();
    sendRun(sp, 0, 9, 0);
    const res = sp.onAck([{ smallest: 5, largest: 9 }, { smallest: 0, largest: 3 }], 50, rtt, 2, MAD);
    expect(pns(res.acked)).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9]);
    expect(res.acked[0]!.meta).toBe('p0');
    expect(res.rttUpdated).toBe(true);
    expect(rtt.latest).toBe(50 - 9);
    expect(res.largestNewlyAckedTimeSent).toBe(9);
    expect(res.ackedUnsent).toBe(false);
    // 4 is unacked, 9 >= 4 + 3 -> lost by packet threshold
    expect(pns(res.lost)).toEqual([4]);
    expect(sp.count).toBe(0);
    expect(sp.bytesInFlight).toBe(0);
    expect(sp.ackElicitingInFlight).toBe(0);
    expect(sp.largestAcked).toBe(9);
  });

  it('packet threshold: a packet is lost once a packet 3 numbers above it is acked', () => {
    const sp = new SentPackets<string>();
    const rtt = new RttEstimator();
    sendRun(sp, 0, 5, 0);
    let res = sp.onAck([{ smallest: 1, largest: 2 }], 100, rtt, 0, MAD);
    expect(res.lost).toEqual([]); // 2 < 0 + 3, and sent 0 > 100 - 9/8 * 98
    expect(sp.lossTime).not.toBeNull();
    res = sp.onAck([{ smallest: 3, largest: 3 }], 100, rtt, 0, MAD);
    expect(pns(res.lost)).toEqual([0]); // 3 >= 0 + 3
    expect(sp.count).toBe(2); // 4 and 5 remain
    expect(sp.bytesInFlight).toBe(2000);
  });

  it('time threshold: lossTime = timeSent + 9/8 max(smoothed, latest); detectLost fires at it', () => {
    const sp = new SentPackets<string>();
    const rtt = new RttEstimator();
    sp.onSent(0, 0, 1000, true, true, 'a');
    sp.onSent(1, 10, 1000, true, true, 'b');
    const res = sp.onAck([{ smallest: 1, largest: 1 }], 110, rtt, 0, MAD);
    expect(rtt.smoothed).toBe(100);
    expect(res.lost).toEqual([]);
    expect(lossDelay(rtt)).toBeCloseTo(112.5, 12);
    expect(sp.lossTime).toBeCloseTo(0 + 112.5, 12);
    expect(sp.detectLost(112, rtt)).toEqual([]);
    expect(sp.lossTime).toBeCloseTo(112.5, 12);
    const lost = sp.detectLost(112.5, rtt);
    expect(pns(lost)).toEqual([0]);
    expect(sp.lossTime).toBeNull();
    expect(sp.count).toBe(0);
  });

  it('time threshold uses max(smoothed, latest) and at least kGranularity', () => {
    const rtt = new RttEstimator();
    rtt.update(100, 0, MAD);
    rtt.update(300, 0, MAD); // latest 300 > smoothed 125
    expect(lossDelay(rtt)).toBeCloseTo((9 / 8) * 300, 12);
    const tiny = new RttEstimator();
    tiny.update(0.2, 0, 0);
    expect(lossDelay(tiny)).toBe(1);
  });

  it('no RTT sample when the largest acked is not newly acked or nothing ack-eliciting is acked', () => {
    const sp = new SentPackets<string>();
    const rtt = new RttEstimator();
    sp.onSent(0, 0, 100, false, false, 'ack-only');
    sp.onSent(1, 1, 1000, true, true, 'a');
    sp.onSent(2, 2, 1000, true, true, 'b');
    let res = sp.onAck([{ smallest: 0, largest: 0 }], 20, rtt, 0, MAD);
    expect(res.rttUpdated).toBe(false); // only a non-ack-eliciting packet
    expect(rtt.hasSample).toBe(false);
    res = sp.onAck([{ smallest: 2, largest: 2 }], 30, rtt, 0, MAD);
    expect(res.rttUpdated).toBe(true);
    expect(rtt.latest).toBe(28);
    // ack 1 plus the already-acked 2: largest (2) not newly acked -> no sample
    res = sp.onAck([{ smallest: 1, largest: 2 }], 40, rtt, 0, MAD);
    expect(pns(res.acked)).toEqual([1]);
    expect(res.rttUpdated).toBe(false);
    expect(rtt.latest).toBe(28);
  });

  it('unknown, duplicate and spurious acks are harmless', () => {
    const sp = new SentPackets<string>();
    const rtt = new RttEstimator();
    sendRun(sp, 10, 14, 0);
    // Entirely unsent (above largest sent): ignored, flagged, nothing lost.
    let res = sp.onAck([{ smallest: 100, largest: 200 }], 5, rtt, 0, MAD);
    expect(res.acked).toEqual([]);
    expect(res.lost).toEqual([]);
    expect(res.ackedUnsent).toBe(true);
    expect(sp.largestAcked).toBeNull();
    expect(sp.count).toBe(5);
    // Below anything sent: ignored.
    res = sp.onAck([{ smallest: 0, largest: 5 }], 5, rtt, 0, MAD);
    expect(res.acked).toEqual([]);
    expect(sp.count).toBe(5);
    // Partly bogus: the sent part is acked, largestAcked clamps to largest sent.
    res = sp.onAck([{ smallest: 13, largest: 50 }], 6, rtt, 0, MAD);
    expect(pns(res.acked)).toEqual([13, 14]);
    expect(res.ackedUnsent).toBe(true);
    expect(res.rttUpdated).toBe(false); // the ACK's largest (50) was never sent
    expect(sp.largestAcked).toBe(14);
    expect(pns(res.lost)).toEqual([10, 11]); // 14 >= 11 + 3
    // Acking them again (spurious / duplicate): nothing happens.
    res = sp.onAck([{ smallest: 10, largest: 14 }], 7, rtt, 0, MAD);
    expect(pns(res.acked)).toEqual([12]);
    res = sp.onAck([{ smallest: 10, largest: 14 }], 8, rtt, 0, MAD);
    expect(res.acked).toEqual([]);
    expect(sp.count).toBe(0);
    expect(sp.bytesInFlight).toBe(0);
    // Empty ACK frame.
    res = sp.onAck([], 9, rtt, 0, MAD);
    expect(res.acked).toEqual([]);
  });

  it('handles sender-skipped packet numbers', () => {
    const sp = new SentPackets<string>();
    const rtt = new RttEstimator();
    sp.onSent(0, 0, 1000, true, true, 'a');
    sp.onSent(5, 1, 1000, true, true, 'b'); // 1..4 skipped
    sp.onSent(6, 2, 1000, true, true, 'c');
    expect(sp.get(3)).toBeUndefined();
    expect(sp.get(5)?.meta).toBe('b');
    const res = sp.onAck([{ smallest: 0, largest: 6 }], 20, rtt, 0, MAD);
    expect(pns(res.acked)).toEqual([0, 5, 6]);
    expect(sp.count).toBe(0);
  });

  it('drainAll returns everything and clears', () => {
    const sp = new SentPackets<string>();
    const rtt = new RttEstimator();
    sendRun(sp, 0, 9, 0);
    sp.onAck([{ smallest: 8, largest: 8 }], 20, rtt, 0, MAD);
    expect(sp.lossTime).not.toBeNull();
    const drained = sp.drainAll();
    // On the ack: 0..5 lost by packet threshold, 6 (sent at 6 <= 20 - 9/8 * 12) by time; 7 waits.
    expect(pns(drained)).toEqual([7, 9]);
    expect(sp.count).toBe(0);
    expect(sp.bytesInFlight).toBe(0);
    expect(sp.ackElicitingInFlight).toBe(0);
    expect(sp.lossTime).toBeNull();
    expect(sp.oldest()).toBeUndefined();
    // New packets continue above the old numbers.
    sp.onSent(10, 30, 500, true, true, 'x');
    expect(sp.bytesInFlight).toBe(500);
    expect([...sp.packets()].map((p) => p.meta)).toEqual(['x']);
  });

  it('cumulative acks over a large window stay linear (tombstones are not rescanned)', () => {
    const sp = new SentPackets<null>();
    const rtt = new RttEstimator(100);
    const n = 30_000;
    for (let pn = 0; pn < n; pn++) sp.onSent(pn, pn * 0.001, 1200, true, true, null);
    const t0 = performance.now();
    // Packet 0 is never acked; every ACK repeats the whole history [1, k].
    let lost = 0;
    for (let k = 1; k < n; k += 2) lost += sp.onAck([{ smallest: 1, largest: k }], 200, rtt, 0, MAD).lost.length;
    const elapsed = performance.now() - t0;
    expect(lost).toBe(1);
    expect(sp.count).toBe(0);
    expect(elapsed).toBeLessThan(500); // quadratic rescanning would take seconds
  });

  it('matches a naive model under random acks and losses (10k in flight)', () => {
    const seed = 0x5e47;
    withSeed(seed, (rng) => {
      const sp = new SentPackets<number>();
      const rtt = new RttEstimator(100);
      const model = new Map<number, { size: number; timeSent: number }>(); // live packets
      let next = 0;
      let now = 0;
      let largestAcked = -1;
      // The adaptive thresholds, modelled: the newest LOST_KEPT losses, and
      // what an ACK that covers one of them makes of the thresholds.
      let lostList: { pn: number; timeSent: number; lostAt: number }[] = [];
      let packetThreshold = K_PACKET_THRESHOLD;
      let timeThreshold = K_TIME_THRESHOLD;
      let spuriousSeen = 0;
      for (let round = 0; round < 400; round++) {
        const burst = rng.int(1, 60);
        for (let i = 0; i < burst; i++) {
          const pn = next;
          next += rng.chance(0.02) ? 2 : 1; // occasional skipped number
          const size = rng.int(100, 1400);
          sp.onSent(pn, now, size, true, true, pn);
          model.set(pn, { size, timeSent: now });
          now += 0.01;
        }
        if (round === 200) {
          // Build up ~10k in flight before acking again.
          for (let i = 0; i < 10_000; i++) {
            sp.onSent(next, now, 1000, true, true, next);
            model.set(next, { size: 1000, timeSent: now });
            next++;
          }
          expect(sp.count).toBe(model.size);
        }
        now += rng.int(1, 30);
        // ACK a random subset of the newest packets as up to 3 ranges.
        const top = next - 1 - rng.int(0, 5);
        const ranges: AckRange[] = [];
        let hi = top;
        for (let k = 0; k < 3 && hi >= 0; k++) {
          const lo = Math.max(0, hi - rng.int(0, 40));
          ranges.push({ smallest: lo, largest: hi });
          hi = lo - rng.int(2, 6);
        }
        const base = Math.max(rtt.smoothed, rtt.latest);
        const res = sp.onAck(ranges, now, rtt, 0, MAD);
        const covered = (pn: number): boolean => ranges.some((r) => pn >= r.smallest && pn <= r.largest);
        lostList = lostList.filter((l) => l.lostAt >= now - (LOST_MEMORY_RTTS * base + MAD));
        const expectSpurious = lostList.filter((l) => covered(l.pn));
        lostList = lostList.filter((l) => !covered(l.pn));
        for (const l of expectSpurious) {
          if (largestAcked >= 0) packetThreshold = Math.min(MAX_PACKET_THRESHOLD, Math.max(packetThreshold, largestAcked - l.pn + 1));
          timeThreshold = Math.min(MAX_TIME_THRESHOLD, Math.max(timeThreshold, (now - l.timeSent) / base));
        }
        expect(pns(res.spurious)).toEqual(expectSpurious.map((l) => l.pn));
        spuriousSeen += expectSpurious.length;
        expect(sp.packetThreshold).toBe(packetThreshold);
        expect(sp.timeThreshold).toBeCloseTo(timeThreshold, 9);
        const expectAcked: number[] = [];
        for (const r of ranges) for (let pn = r.smallest; pn <= r.largest; pn++) if (model.has(pn)) expectAcked.push(pn);
        expectAcked.sort((a, b) => a - b);
        expect(pns(res.acked)).toEqual(expectAcked);
        for (const pn of expectAcked) model.delete(pn);
        largestAcked = Math.max(largestAcked, top);
        expect(sp.largestAcked).toBe(largestAcked);
        const expectLost: number[] = [];
        let expectLossTime: number | null = null;
        const delay = lossDelay(rtt, timeThreshold);
        for (const [pn, p] of model) {
          if (pn >= largestAcked) continue;
          if (largestAcked >= pn + packetThreshold || p.timeSent + delay <= now) expectLost.push(pn);
          else expectLossTime = Math.min(expectLossTime ?? Infinity, p.timeSent + delay);
        }
        expectLost.sort((a, b) => a - b);
        expect(pns(res.lost)).toEqual(expectLost);
        expect(sp.lossTime).toBe(expectLossTime);
        for (const pn of expectLost) {
          lostList.push({ pn, timeSent: model.get(pn)!.timeSent, lostAt: now });
          model.delete(pn);
        }
        lostList = lostList.slice(-LOST_KEPT);
        // Remaining below largestAcked: fewer than the packet threshold, and within the time threshold.
        for (const p of sp.packets()) {
          if (p.packetNumber < largestAcked) {
            expect(largestAcked - p.packetNumber).toBeLessThan(packetThreshold);
            expect(p.timeSent).toBeGreaterThan(now - delay);
          }
        }
        let bytes = 0;
        for (const p of model.values()) bytes += p.size;
        expect(sp.count).toBe(model.size);
        expect(sp.bytesInFlight).toBe(bytes);
      }
      // The random ACKs re-acknowledge packets declared lost: the adaptation ran.
      expect(spuriousSeen).toBeGreaterThan(0);
      expect(packetThreshold).toBeGreaterThan(K_PACKET_THRESHOLD);
    });
  });
});

describe('persistentCongestion (RFC 9002 §7.6)', () => {
  /** RFC 9002 §7.6.3 example: period 2 (smoothed 1 + max(4*0.25, 1) + 0), threshold 3 -> duration 6. */
  function exampleRtt(): RttEstimator {
    const rtt = new RttEstimator();
    rtt.update(1, 0, 0, -10); // an RTT sample before anything in the example
    rtt.smoothed = 1;
    rtt.rttvar = 0.25;
    return rtt;
  }
  const sendTimes = [0, 1, 2, 3, 4, 5, 6, 8, 12]; // packets 1..9

  function run(ackedExtra: number[]): { lost: readonly SentPacket<null>[]; rtt: RttEstimator } {
    const sp = new SentPackets<null>();
    const rtt = new RttEstimator();
    sendTimes.forEach((t, i) => sp.onSent(i + 1, t, 1000, true, true, null));
    sp.onAck([{ smallest: 1, largest: 1 }], 1.2, rtt, 0, 0);
    const ranges: AckRange[] = [{ smallest: 9, largest: 9 }];
    for (const pn of ackedExtra) ranges.push({ smallest: pn, largest: pn });
    const res = sp.onAck(ranges, 12.2, rtt, 0, 0);
    const ex = exampleRtt();
    return { lost: res.lost, rtt: ex };
  }

  it('is established in the RFC example (packets 2..8 lost, 8 - 1 = 7 > 6)', () => {
    const { lost, rtt } = run([]);
    expect(pns(lost)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(persistentCongestion(lost, rtt, 0)).toBe(true);
  });

  it('is not established when a packet in between was acknowledged', () => {
    const { lost, rtt } = run([5]);
    expect(pns(lost)).toEqual([2, 3, 4, 6, 7, 8]);
    expect(persistentCongestion(lost, rtt, 0)).toBe(false);
  });

  it('is not established when the span does not exceed the duration, or without an RTT sample', () => {
    const { lost, rtt } = run([]);
    expect(persistentCongestion(lost, rtt, 1 / 3)).toBe(false); // duration (2 + 1/3) * 3 = 7, not exceeded
    expect(persistentCongestion(lost, new RttEstimator(), 0)).toBe(false);
    // Packets sent before the first RTT sample do not count.
    const late = exampleRtt();
    late.firstSampleTime = 1.5; // packet 2 (t = 1) now predates it: span 8 - 2 = 6, not > 6
    expect(persistentCongestion(lost, late, 0)).toBe(false);
  });

  it('needs ack-eliciting packets at both ends', () => {
    const rtt = exampleRtt();
    const mk = (pn: number, t: number, ae: boolean): SentPacket<null> => ({
      packetNumber: pn,
      timeSent: t,
      size: 100,
      ackEliciting: ae,
      inFlight: true,
      meta: null,
      delivered: 0,
      deliveredTime: 0,
      firstSentTime: 0,
      appLimited: false,
      txInFlight: 0,
      lostBefore: 0,
    });
    expect(persistentCongestion([mk(1, 0, true), mk(2, 5, false), mk(3, 7, false)], rtt, 0)).toBe(false);
    expect(persistentCongestion([mk(1, 0, true), mk(2, 5, false), mk(3, 7, true)], rtt, 0)).toBe(true);
  });
});
