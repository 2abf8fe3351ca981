import { describe, expect, it } from 'vitest';
import {
  createCongestionController,
  initialWindow,
  minimumWindow,
  type CongestionController,
} from '../../src/core/path/congestion.js';
import { CUBIC_ALPHA, CUBIC_BETA, CUBIC_C, Cubic, cubicK, cubicWindow } from '../../src/core/path/cubic.js';
import { NewReno } from '../../src/core/path/new-reno.js';
import { RttEstimator } from '../../src/core/path/rtt.js';

const MDS = 1200;

function rttOf(ms: number): RttEstimator {
  const r = new RttEstimator();
  r.update(ms, 0, 0);
  return r;
}

/**
 * One round trip of a window-limited sender: at `now` it sends a full window
 * in MDS packets (sent time `now`), all acknowledged at now + rtt with the
 * whole window in flight. Returns the time of the acknowledgments.
 */
function round(cc: CongestionController, now: number, rtt: RttEstimator): number {
  const w = cc.window;
  const packets = Math.max(1, Math.floor(w / MDS));
  for (let i = 0; i < packets; i++) cc.onPacketSent(MDS, now);
  const ackTime = now + rtt.smoothed;
  for (let i = 0; i < packets; i++) cc.onAck(MDS, now, ackTime, rtt, packets * MDS);
  return ackTime;
}

describe('initial and minimum windows (RFC 9002 §7.2)', () => {
  it('initial = min(10 * mds, max(14720, 2 * mds)); minimum = 2 * mds', () => {
    expect(initialWindow(1200)).toBe(12000);
    expect(initialWindow(1500)).toBe(14720);
    expect(initialWindow(9000)).toBe(18000);
    expect(minimumWindow(1200)).toBe(2400);
    for (const name of ['cubic', 'newreno', 'lia', 'olia'] as const) {
      const cc = createCongestionController(name, MDS);
      expect(cc.name).toBe(name);
      expect(cc.window).toBe(12000);
      expect(cc.slowStartThreshold).toBe(Infinity);
      expect(cc.inRecovery).toBe(false);
    }
    expect(() => createCongestionController('vegas' as never, MDS)).toThrow(RangeError);
  });
});

describe.each(['cubic', 'newreno', 'lia', 'olia'] as const)('%s: common behaviour', (name) => {
  it('slow start doubles the window every RTT', () => {
    const cc = createCongestionController(name, MDS);
    const rtt = rttOf(50);
    let now = 0;
    for (let i = 0; i < 4; i++) {
      const before = cc.window;
      now = round(cc, now, rtt);
      expect(cc.window).toBe(2 * before);
    }
    expect(cc.window).toBe(16 * 12000);
  });

  it('does not grow when application-limited (bytes in flight < window / 2)', () => {
    const cc = createCongestionController(name, MDS);
    const rtt = rttOf(50);
    cc.onAck(MDS, 0, 50, rtt, cc.window / 2 - 1);
    expect(cc.window).toBe(12000);
    cc.onAck(MDS, 0, 50, rtt, cc.window / 2);
    expect(cc.window).toBe(12000 + MDS);
  });

  it('reduces at most once per recovery period and ignores acks of packets sent before it', () => {
    const cc = createCongestionController(name, MDS);
    const rtt = rttOf(50);
    let now = round(cc, 0, rtt); // 24000
    now = round(cc, now, rtt); // 48000
    const w = cc.window;
    expect(cc.onCongestionEvent(now - 10, now)).toBe(true); // loss of a packet sent before now
    const reduced = cc.window;
    const factor = name === 'cubic' ? CUBIC_BETA : 0.5;
    expect(reduced).toBe(Math.floor(w * factor));
    expect(cc.slowStartThreshold).toBeCloseTo(w * factor, 6);
    expect(cc.inRecovery).toBe(true);
    // More losses of packets sent before recovery started: no further reduction.
    expect(cc.onCongestionEvent(now - 5, now + 1)).toBe(false);
    expect(cc.onCongestionEvent(now, now + 2)).toBe(false);
    expect(cc.window).toBe(reduced);
    // Acks of packets sent before recovery started: no growth, recovery continues.
    cc.onAck(MDS, now - 1, now + 3, rtt, reduced);
    expect(cc.window).toBe(reduced);
    expect(cc.inRecovery).toBe(true);
    // Ack of a packet sent after recovery started ends it.
    cc.onAck(MDS, now + 1, now + 60, rtt, reduced);
    expect(cc.inRecovery).toBe(false);
    // A loss of a packet sent after recovery started is a new congestion event.
    const w2 = cc.window;
    cc.onCongestionEvent(now + 1, now + 61);
    expect(cc.window).toBe(Math.floor(Math.max(w2 * factor, minimumWindow(MDS))));
  });

  it('persistent congestion drops the window to the minimum; reset restores slow start', () => {
    const cc = createCongestionController(name, MDS);
    const rtt = rttOf(50);
    let now = round(cc, 0, rtt);
    cc.onCongestionEvent(now - 1, now);
    cc.onPersistentCongestion();
    expect(cc.window).toBe(2 * MDS);
    expect(cc.inRecovery).toBe(false);
    // Below ssthresh again: slow start (window grows by bytes acked).
    now += 1;
    cc.onAck(MDS, now, now + 50, rtt, 2 * MDS);
    expect(cc.window).toBe(3 * MDS);
    cc.reset();
    expect(cc.window).toBe(12000);
    expect(cc.slowStartThreshold).toBe(Infinity);
    expect(cc.inRecovery).toBe(false);
  });

  it('never goes below the minimum window', () => {
    const cc = createCongestionController(name, MDS);
    for (let i = 0; i < 20; i++) cc.onCongestionEvent(i * 10 + 5, i * 10 + 6);
    expect(cc.window).toBe(2 * MDS);
  });

  it('undoes a spurious reduction: the window, threshold and growth it had before, once', () => {
    const rtt = rttOf(50);
    const cc = createCongestionController(name, MDS);
    const twin = createCongestionController(name, MDS);
    let now = 0;
    for (let i = 0; i < 3; i++) {
      round(twin, now, rtt);
      now = round(cc, now, rtt);
    }
    // Into congestion avoidance through a first, real event (both), then grow a little.
    for (const c of [cc, twin]) c.onCongestionEvent(now - 1, now);
    for (let i = 0; i < 3; i++) {
      round(twin, now + 1, rtt);
      now = round(cc, now + 1, rtt);
    }
    const before = { window: cc.window, ssthresh: cc.slowStartThreshold };
    expect(twin.window).toBe(before.window);
    cc.onCongestionEvent(now - 1, now);
    expect(cc.window).toBeLessThan(before.window);
    expect(cc.inRecovery).toBe(true);
    cc.undoCongestionEvent!();
    expect(cc.window).toBe(before.window);
    expect(cc.slowStartThreshold).toBe(before.ssthresh);
    expect(cc.inRecovery).toBe(false);
    // It grows from there as the twin that never saw the loss does.
    for (let i = 0; i < 4; i++) {
      round(twin, now + 1, rtt);
      now = round(cc, now + 1, rtt);
    }
    expect(cc.window).toBe(twin.window);
    // Nothing left to undo.
    cc.undoCongestionEvent!();
    expect(cc.window).toBe(twin.window);
  });

  it('after an undo, a real loss of a packet sent before the undone event is a congestion event of its own', () => {
    const rtt = rttOf(50);
    const cc = createCongestionController(name, MDS);
    let now = round(cc, 0, rtt);
    now = round(cc, now, rtt);
    const w = cc.window;
    cc.onCongestionEvent(now - 1, now);
    cc.undoCongestionEvent!();
    expect(cc.window).toBe(w);
    // Without the undo this loss (sent before the recovery period began) would be ignored.
    cc.onCongestionEvent(now - 2, now + 1);
    expect(cc.window).toBeLessThan(w);
    expect(cc.inRecovery).toBe(true);
  });

  it('keeps a window that grew past the one before the reduction; undoes nothing after persistent congestion or a reset', () => {
    const rtt = rttOf(50);
    const cc = createCongestionController(name, MDS);
    let now = round(cc, 0, rtt);
    cc.onCongestionEvent(now - 1, now);
    const reduced = cc.window;
    // Slow start below the new threshold is over; grow the window past the old one.
    for (let i = 0; i < 40; i++) now = round(cc, now + 1, rtt);
    const grown = cc.window;
    expect(grown).toBeGreaterThan(2 * reduced);
    cc.undoCongestionEvent!();
    expect(cc.window).toBe(grown);
    cc.onCongestionEvent(now - 1, now);
    cc.onPersistentCongestion();
    cc.undoCongestionEvent!();
    expect(cc.window).toBe(2 * MDS);
    now = round(cc, now + 1, rtt);
    cc.onCongestionEvent(now - 1, now);
    cc.reset();
    cc.undoCongestionEvent!();
    expect(cc.window).toBe(initialWindow(MDS));
  });
});

describe('NewReno (RFC 9002 §7.3)', () => {
  it('halves on loss and then grows by one datagram per window per RTT', () => {
    const cc = new NewReno(MDS);
    const rtt = rttOf(100);
    let now = round(cc, 0, rtt);
    now = round(cc, now, rtt);
    now = round(cc, now, rtt); // 96000
    expect(cc.window).toBe(96000);
    cc.onCongestionEvent(now - 1, now);
    expect(cc.window).toBe(48000);
    expect(cc.slowStartThreshold).toBe(48000);
    now += 1; // packets below are sent after recovery started
    for (let i = 0; i < 5; i++) {
      const before = cc.window;
      now = round(cc, now, rtt);
      expect(cc.window - before).toBe(MDS);
    }
    expect(cc.window).toBe(48000 + 5 * MDS);
  });
});

describe('CUBIC (RFC 9438)', () => {
  it('constants: C = 0.4, beta = 0.7, alpha = 3(1 - beta)/(1 + beta)', () => {
    expect(CUBIC_C).toBe(0.4);
    expect(CUBIC_BETA).toBe(0.7);
    expect(CUBIC_ALPHA).toBeCloseTo(0.9 / 1.7, 12);
    // K = cbrt((W_max - cwnd_epoch) / C), in segments
    expect(cubicK(100 * MDS, 70 * MDS, MDS)).toBeCloseTo(Math.cbrt(75), 12);
    expect(cubicWindow(Math.cbrt(75), Math.cbrt(75), 100 * MDS, MDS)).toBeCloseTo(100 * MDS, 6);
    expect(cubicWindow(0, Math.cbrt(75), 100 * MDS, MDS)).toBeCloseTo(70 * MDS, 6);
  });

  /** Slow start up to 100 segments, then a loss. */
  function cubicAt100(rtt: RttEstimator): { cc: Cubic; now: number } {
    const cc = new Cubic(MDS);
    let now = 0;
    while (cc.window < 100 * MDS) {
      const need = (100 * MDS - cc.window) / MDS;
      const n = Math.min(need, cc.window / MDS);
      for (let i = 0; i < n; i++) cc.onAck(MDS, now, now + rtt.smoothed, rtt, cc.window);
      now += rtt.smoothed;
    }
    expect(cc.window).toBe(100 * MDS);
    cc.onCongestionEvent(now - 1, now);
    return { cc, now: now + 1 }; // later packets are sent after recovery started
  }

  it('after a loss: window = 0.7 W, W_max = W, then follows W_cubic(t) back to W_max (K = cbrt(75) s)', () => {
    const rtt = rttOf(100);
    const res = cubicAt100(rtt);
    const cc = res.cc;
    let now = res.now;
    expect(cc.window).toBe(70 * MDS);
    expect(cc.wMax).toBe(100 * MDS);
    const K = Math.cbrt((100 - 70) / 0.4); // 4.217 s
    let epoch: number | null = null;
    let prev = cc.window;
    let checked = 0;
    for (let i = 0; i < 80; i++) {
      now = round(cc, now, rtt);
      if (epoch === null) {
        epoch = cc.epoch;
        expect(epoch).not.toBeNull();
        expect(cc.k).toBeCloseTo(K, 12);
      }
      const t = (now - epoch!) / 1000;
      const w = cc.window;
      expect(w).toBeGreaterThanOrEqual(prev); // non-decreasing
      prev = w;
      // cwnd tracks W_cubic(t) (it aims at W_cubic(t + RTT) each ACK and lags by ~one RTT).
      const expected = cubicWindow(t, K, 100 * MDS, MDS);
      if (t <= K + 1) {
        expect(Math.abs(w - expected) / expected, `t=${t.toFixed(2)} w=${w} W(t)=${expected.toFixed(0)}`).toBeLessThan(0.02);
        checked++;
      }
      // Concave: stays below W_max until t reaches K.
      if (t < K - 0.5) expect(w).toBeLessThan(100 * MDS);
    }
    expect(checked).toBeGreaterThan(40);
    // Well past K the convex region takes it beyond W_max.
    expect(cc.window).toBeGreaterThan(100 * MDS);
  });

  it('fast convergence: a loss below the previous W_max lowers W_max to cwnd (1 + beta) / 2', () => {
    const rtt = rttOf(100);
    const res = cubicAt100(rtt);
    const cc = res.cc;
    let now = res.now;
    for (let i = 0; i < 5; i++) now = round(cc, now, rtt);
    const w = cc.window;
    expect(w).toBeLessThan(100 * MDS);
    cc.onCongestionEvent(now - 1, now);
    expect(Math.abs(cc.wMax - (w * 1.7) / 2)).toBeLessThan(1); // w is the floored window
    expect(cc.window).toBe(Math.floor(w * 0.7));
  });

  it('never grows more than 1.5x per RTT in congestion avoidance', () => {
    // With a 5 s RTT, W_cubic(t + RTT) runs far ahead of cwnd once past K: the
    // target is capped at 1.5 cwnd (uncapped, a round would grow ~2.5x).
    const rtt = rttOf(5000);
    const res = cubicAt100(rtt);
    const cc = res.cc;
    let now = res.now;
    let maxRatio = 0;
    for (let i = 0; i < 6; i++) {
      const before = cc.window;
      now = round(cc, now, rtt);
      const ratio = cc.window / before;
      maxRatio = Math.max(maxRatio, ratio);
      expect(ratio).toBeLessThanOrEqual(1.5);
    }
    expect(maxRatio).toBeGreaterThan(1.25); // the cap was what bound the growth
  });

  it('excludes idle time (no sends for longer than an RTT) from t', () => {
    const rtt = rttOf(100);
    const res = cubicAt100(rtt);
    const cc = res.cc;
    let now = round(cc, res.now, rtt); // starts the epoch
    const epoch = cc.epoch!;
    now += 60_000; // a minute of silence
    const before = cc.window;
    round(cc, now, rtt);
    expect(cc.epoch! - epoch).toBeCloseTo(60_000, 6);
    expect(cc.window).toBeLessThan(before * 1.05); // still on the concave curve near t = 0.2 s
  });

  it('Reno-friendly region: on short RTTs cwnd follows W_est above W_cubic', () => {
    const rtt = rttOf(1); // 1 ms: Reno gains ~0.53 segment per ms, far faster than the cubic curve
    const res = cubicAt100(rtt);
    const cc = res.cc;
    let now = round(cc, res.now, rtt);
    const epoch = cc.epoch!;
    for (let i = 0; i < 300; i++) now = round(cc, now, rtt);
    const t = (now - epoch) / 1000;
    const wCubic = cubicWindow(t, cc.k, cc.wMax, MDS);
    expect(cc.window).toBeGreaterThan(wCubic + 50 * MDS);
    expect(cc.window).toBeCloseTo(Math.floor(cc.renoEstimate), -1);
    // W_est grows by alpha_cubic (~0.53) segments per RTT up to cwnd_prior (100
    // segments, ~57 RTTs), then by 1 per RTT: ~100 + 243 segments after 300 RTTs.
    const segs = cc.window / MDS;
    expect(segs).toBeGreaterThan(330);
    expect(segs).toBeLessThan(350);
  });

  it('excludes application-limited time from t', () => {
    const rtt = rttOf(100);
    const res = cubicAt100(rtt);
    const cc = res.cc;
    let now = round(cc, res.now, rtt); // epoch starts
    const epoch = cc.epoch!;
    const w = cc.window;
    // Five seconds of app-limited acks: no growth, and the epoch moves with them.
    for (let i = 0; i < 50; i++) {
      now += 100;
      cc.onAck(MDS, now - 100, now, rtt, MDS);
    }
    expect(cc.window).toBe(w);
    expect(cc.epoch! - epoch).toBeCloseTo(5000, 6);
  });

  it('after persistent congestion the next epoch has K = 0 and W_max = cwnd at its start', () => {
    const rtt = rttOf(100);
    const res = cubicAt100(rtt);
    const cc = res.cc;
    cc.onPersistentCongestion();
    expect(cc.window).toBe(2 * MDS);
    expect(cc.epoch).toBeNull();
    let now = res.now;
    while (cc.epoch === null) now = round(cc, now, rtt);
    // Slow start ended within that round at cwnd = ssthresh; the epoch began there.
    expect(cc.k).toBe(0);
    expect(cc.wMax).toBe(cc.slowStartThreshold);
    expect(cc.slowStartThreshold).toBeCloseTo(0.7 * 100 * MDS, 6);
  });
});
