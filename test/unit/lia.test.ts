/**
 * Coupled congestion control: LIA (RFC 6356) and OLIA, and the CoupledGroup
 * they share.
 */
import { describe, expect, it } from 'vitest';
import { createCongestionController } from '../../src/core/path/congestion.js';
import { CoupledGroup, type CoupledMember } from '../../src/core/path/coupled-group.js';
import type { CoupledReno } from '../../src/core/path/coupled-reno.js';
import { Lia } from '../../src/core/path/lia.js';
import { NewReno } from '../../src/core/path/new-reno.js';
import { Olia } from '../../src/core/path/olia.js';
import { RttEstimator } from '../../src/core/path/rtt.js';
import { Rng } from '../../lab/random.js';

const MDS = 1200;

function rttOf(ms: number): RttEstimator {
  const r = new RttEstimator();
  r.update(ms, 0, 0);
  return r;
}

/** A fixed member for group arithmetic. */
function member(cwndBytes: number, srttMs: number, coupled = true): CoupledMember {
  return { cwndBytes, srttMs, coupled };
}

/**
 * Drives `cc` by slow start to 2 * `target` bytes, then a loss halves it to
 * `target` (ssthresh = target: congestion avoidance from there). Returns a
 * time after the recovery period began (packets sent then end it). `target`
 * above half the initial window, so the path has an RTT sample (takes part).
 */
function toCongestionAvoidance(cc: CoupledReno | NewReno, target: number, rtt: RttEstimator): number {
  expect(2 * target).toBeGreaterThan(cc.window);
  let now = 0;
  while (cc.window < 2 * target) {
    const n = Math.min(MDS, 2 * target - cc.window);
    cc.onAck(n, now, now + rtt.smoothed, rtt, cc.window);
  }
  now = 1000;
  cc.onCongestionEvent(now - 1, now);
  expect(cc.window).toBe(target);
  expect(cc.slowStartThreshold).toBe(target);
  return now + 1;
}

/** One window-limited round: a window of MDS packets, all acknowledged one RTT later. */
function round(cc: CoupledReno | NewReno, now: number, rtt: RttEstimator): number {
  const packets = Math.max(1, Math.floor(cc.window / MDS));
  const flight = packets * MDS;
  for (let i = 0; i < packets; i++) cc.onAck(MDS, now, now + rtt.smoothed, rtt, flight);
  return now + rtt.smoothed;
}

describe('CoupledGroup: LIA alpha (RFC 6356 equation 2)', () => {
  it('matches hand-computed values for two paths', () => {
    const g = new CoupledGroup();
    // 10 MSS at 10 ms and 20 MSS at 80 ms:
    // total = 36000; max(w/r^2) = 12000/100 = 120; sum(w/r) = 1200 + 300 = 1500
    // alpha = 36000 * 120 / 1500^2 = 1.92
    g.join(member(12000, 10));
    g.join(member(24000, 80));
    expect(g.totalWindow()).toBe(36000);
    expect(g.liaAlpha()).toBeCloseTo(1.92, 12);
  });

  it('is 1/n for n equal paths and 1 for a lone path; ignores members not taking part', () => {
    const g = new CoupledGroup();
    const a = member(50_000, 20);
    g.join(a);
    expect(g.liaAlpha()).toBeCloseTo(1, 12);
    g.join(member(50_000, 20));
    // alpha = 2w * (w/r^2) / (2w/r)^2 = 1/2
    expect(g.liaAlpha()).toBeCloseTo(0.5, 12);
    g.join(member(50_000, 20));
    expect(g.liaAlpha()).toBeCloseTo(1 / 3, 12);
    g.join(member(1e9, 1, false));
    expect(g.liaAlpha()).toBeCloseTo(1 / 3, 12);
    expect(g.totalWindow()).toBe(150_000);
    g.leave(a);
    expect(g.size).toBe(3);
    expect(g.liaAlpha()).toBeCloseTo(0.5, 12);
  });

  it('is independent of the units of windows and RTTs', () => {
    const rng = new Rng(6356);
    for (let i = 0; i < 200; i++) {
      const g1 = new CoupledGroup();
      const g2 = new CoupledGroup();
      const n = rng.int(1, 5);
      for (let j = 0; j < n; j++) {
        const w = rng.int(2, 500) * MDS;
        const r = 1 + rng.next() * 300;
        g1.join(member(w, r));
        g2.join(member(w / MDS, r / 1000));
      }
      expect(g1.liaAlpha(), `seed 6356 case ${i}`).toBeCloseTo(g2.liaAlpha(), 9);
    }
  });
});

describe('LIA (RFC 6356)', () => {
  it('increases each path by min(alpha*b*MSS/cwnd_total, b*MSS/cwnd_i) per ACK', () => {
    const g = new CoupledGroup();
    const a = new Lia(MDS, g);
    const b = new Lia(MDS, g);
    const rttA = rttOf(10);
    const rttB = rttOf(80);
    const nowA = toCongestionAvoidance(a, 12000, rttA);
    const nowB = toCongestionAvoidance(b, 24000, rttB);
    // As in the group test: alpha = 1.92, cwnd_total = 36000.
    expect(a.alpha).toBeCloseTo(1.92, 12);
    // Path A: coupled term 1.92 * 1200 * 1200 / 36000 = 76.8 < own term 1200 * 1200 / 12000 = 120.
    a.onAck(MDS, nowA, nowA + 10, rttA, 12000);
    expect(a.cwndBytes).toBeCloseTo(12000 + 76.8, 9);
    // Path B (alpha and total recomputed): coupled term > own term 1200 * 1200 / 24000 = 60.
    const alpha = g.liaAlpha();
    const total = g.totalWindow();
    expect((alpha * MDS * MDS) / total).toBeGreaterThan(60);
    b.onAck(MDS, nowB, nowB + 80, rttB, 24000);
    expect(b.cwndBytes).toBeCloseTo(24000 + 60, 9);
  });

  it('two paths over one bottleneck (same RTT): the sum of windows grows no faster than one Reno flow', () => {
    const rng = new Rng(17);
    for (let trial = 0; trial < 20; trial++) {
      const g = new CoupledGroup();
      const a = new Lia(MDS, g);
      const b = new Lia(MDS, g);
      const reno = new NewReno(MDS);
      const rtt = rttOf(rng.int(5, 200));
      const wa = rng.int(6, 100) * MDS;
      const wb = rng.int(6, 100) * MDS;
      let na = toCongestionAvoidance(a, wa, rtt);
      let nb = toCongestionAvoidance(b, wb, rtt);
      let nr = toCongestionAvoidance(reno, wa + wb, rtt);
      for (let i = 0; i < 30; i++) {
        const before = a.cwndBytes + b.cwndBytes;
        const renoBefore = reno.window;
        na = round(a, na, rtt);
        nb = round(b, nb, rtt);
        nr = round(reno, nr, rtt);
        const grew = a.cwndBytes + b.cwndBytes - before;
        const renoGrew = reno.window - renoBefore;
        const msg = `seed 17 trial ${trial} round ${i}: LIA sum grew ${grew}, Reno ${renoGrew}`;
        expect(grew, msg).toBeGreaterThan(0);
        // Reno grows one MSS per window acknowledged; the coupled pair no more
        // (alpha*MSS per RTT in total, alpha <= 1 for equal RTTs).
        expect(grew, msg).toBeLessThanOrEqual(MDS + 1e-6);
        expect(renoGrew, msg).toBe(MDS);
      }
    }
  });

  it('never grows a path faster than Reno would on it (the min term), whatever the others do', () => {
    const rng = new Rng(99);
    for (let trial = 0; trial < 100; trial++) {
      const g = new CoupledGroup();
      const paths = Array.from({ length: rng.int(2, 4) }, () => new Lia(MDS, g));
      const rtts = paths.map(() => rttOf(rng.int(1, 300)));
      const nows = paths.map((p, i) => toCongestionAvoidance(p, rng.int(6, 200) * MDS, rtts[i]!));
      for (let k = 0; k < 50; k++) {
        const i = rng.int(0, paths.length - 1);
        const p = paths[i]!;
        const before = p.cwndBytes;
        const bytes = rng.int(1, 4) * MDS;
        p.onAck(bytes, nows[i]!, nows[i]! + 1, rtts[i]!, p.window);
        const grew = p.cwndBytes - before;
        expect(grew, `seed 99 trial ${trial}`).toBeGreaterThan(0);
        expect(grew, `seed 99 trial ${trial}`).toBeLessThanOrEqual((bytes * MDS) / before + 1e-9);
      }
    }
  });

  it('a loss on one path reduces only that path', () => {
    const g = new CoupledGroup();
    const a = new Lia(MDS, g);
    const b = new Lia(MDS, g);
    const rtt = rttOf(20);
    const na = toCongestionAvoidance(a, 60_000, rtt);
    const nb = toCongestionAvoidance(b, 60_000, rtt);
    // End both recovery periods of the set-up, then lose on a.
    a.onAck(MDS, na, na + 20, rtt, 60_000);
    b.onAck(MDS, nb, nb + 20, rtt, 60_000);
    const wa = a.window;
    const wb = b.cwndBytes;
    expect(a.inRecovery || b.inRecovery).toBe(false);
    a.onCongestionEvent(na + 1, na + 25);
    expect(a.window).toBe(Math.floor(wa / 2));
    expect(a.inRecovery).toBe(true);
    expect(b.cwndBytes).toBe(wb);
    expect(b.inRecovery).toBe(false);
    // b keeps growing; a does not for packets sent before its loss.
    b.onAck(MDS, nb + 2, nb + 40, rtt, 60_000);
    expect(b.cwndBytes).toBeGreaterThan(wb);
    a.onAck(MDS, na + 1, na + 40, rtt, 30_000);
    expect(a.window).toBe(Math.floor(wa / 2));
  });

  it('alone it is Reno', () => {
    const lia = createCongestionController('lia', MDS) as Lia;
    const reno = new NewReno(MDS);
    const rtt = rttOf(40);
    let nl = toCongestionAvoidance(lia, 48_000, rtt);
    let nr = toCongestionAvoidance(reno, 48_000, rtt);
    for (let i = 0; i < 20; i++) {
      nl = round(lia, nl, rtt);
      nr = round(reno, nr, rtt);
      expect(Math.abs(lia.window - reno.window)).toBeLessThanOrEqual(MDS);
    }
    expect(lia.alpha).toBeCloseTo(1, 12);
  });

  it('reset() takes a path out of the sums until its next ACK; dispose() leaves the group', () => {
    const g = new CoupledGroup();
    const a = createCongestionController('lia', MDS, g) as Lia;
    const b = createCongestionController('lia', MDS, g) as Lia;
    expect(g.size).toBe(2);
    // No RTT sample yet: neither takes part.
    expect(g.totalWindow()).toBe(0);
    const rtt = rttOf(30);
    const na = toCongestionAvoidance(a, 24_000, rtt);
    toCongestionAvoidance(b, 36_000, rtt);
    expect(g.totalWindow()).toBe(60_000);
    b.reset(); // the path failed
    expect(g.totalWindow()).toBe(24_000);
    expect(a.alpha).toBeCloseTo(1, 12);
    b.onAck(MDS, na, na + 30, rtt, 12_000); // it works again
    expect(g.totalWindow()).toBe(24_000 + 13_200);
    b.dispose();
    b.dispose();
    expect(g.size).toBe(1);
    expect(g.totalWindow()).toBe(24_000);
  });
});

describe('OLIA', () => {
  it('alone it is Reno (alpha_r = 0, first term 1/w)', () => {
    const olia = createCongestionController('olia', MDS) as Olia;
    const reno = new NewReno(MDS);
    const rtt = rttOf(40);
    let no = toCongestionAvoidance(olia, 48_000, rtt);
    let nr = toCongestionAvoidance(reno, 48_000, rtt);
    for (let i = 0; i < 20; i++) {
      no = round(olia, no, rtt);
      nr = round(reno, nr, rtt);
      expect(Math.abs(olia.window - reno.window)).toBeLessThanOrEqual(MDS);
    }
    expect(olia.alpha).toBe(0);
  });

  it('moves window from the largest path to the best one (alpha_r signs and sizes)', () => {
    const g = new CoupledGroup();
    const big = new Olia(MDS, g);
    const best = new Olia(MDS, g);
    const rtt = rttOf(20);
    // big: large window, losses close together (short inter-loss distance);
    // best: small window, long inter-loss distance at the same RTT.
    toCongestionAvoidance(big, 96_000, rtt); // l = 2*96000 - 12000 acked before the loss
    const nb = toCongestionAvoidance(best, 24_000, rtt); // l = 36000
    // One more loss on big right away: its l is the bytes since (none) or before it.
    for (let i = 0; i < 200; i++) best.onAck(MDS, nb, nb + 20, rtt, best.window);
    expect(best.interLossBytes).toBeGreaterThan(big.interLossBytes);
    expect(big.window).toBeGreaterThan(best.window);
    // P = 2, M = {big}, B = {best}: alpha_big = -1/2, alpha_best = +1/2.
    expect(big.alpha).toBeCloseTo(-0.5, 12);
    expect(best.alpha).toBeCloseTo(0.5, 12);
    // The increase formula: (w_r/rtt_r^2 / (sum w_p/rtt_p)^2 + alpha_r/w_r) * MSS * bytes.
    const w = best.cwndBytes;
    const sum = big.cwndBytes / 20 + w / 20;
    const expected = (w / 400 / (sum * sum) + 0.5 / w) * MDS * MDS;
    const before = best.cwndBytes;
    best.onAck(MDS, nb, nb + 20, rtt, best.window);
    expect(best.cwndBytes - before).toBeCloseTo(expected, 9);
  });
});
