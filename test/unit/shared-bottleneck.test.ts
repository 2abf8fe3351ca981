/**
 * Shared-bottleneck detection, fed synthetic RTT samples: what the queues
 * of two paths look like behind one bottleneck and behind two, and how the
 * pause of one path shows in the other's queue.
 */
import { describe, expect, it } from 'vitest';
import {
  BIN_MS,
  COOLDOWN_MS,
  MISSES_TO_SPLIT,
  RESUME_MS,
  SharedBottleneckDetector,
  TRICKLE_MS,
  pearson,
  type BottleneckPathSource,
} from '../../src/core/cc/shared-bottleneck.js';

const MIN_RTT = 20;

interface FakePath extends BottleneckPathSource {
  state: string;
  validated: boolean;
  backup: boolean;
}

function fakePaths(): FakePath[] {
  return [0, 1].map((id) => ({
    id,
    state: 'active',
    validated: true,
    backup: false,
    rtt: { smoothed: MIN_RTT + 10, min: MIN_RTT },
    cc: { window: id === 0 ? 200_000 : 100_000, pacingRate: null },
  }));
}

/** A loss-based flow's standing queue: a sawtooth between 5 and 15 ms, period 1 s. */
function sawtooth(t: number): number {
  return 5 + 10 * ((t % 1000) / 1000);
}

/**
 * Feeds both paths a sample every ms until `until`. `queue(pathId, t)` gives
 * the path's queueing delay at t; the detector's pauses are reported to it.
 */
function drive(
  d: SharedBottleneckDetector,
  from: number,
  until: number,
  queue: (pathId: number, t: number, pausedSince: number | null) => number,
): void {
  let pausedSince: number | null = null;
  for (let t = from; t < until; t++) {
    const paused = d.paused(1, t) || d.paused(0, t);
    if (paused && pausedSince === null) pausedSince = t;
    if (!paused && pausedSince !== null && t > pausedSince + 200) pausedSince = null;
    for (const id of [0, 1]) {
      if (d.paused(id, t) || (d.standby(id) && !d.trickleDue(id, t))) continue;
      if (d.standby(id)) d.onTrickleSent(id, t);
      d.onRttSample(id, MIN_RTT + queue(id, t, pausedSince), MIN_RTT, t);
    }
  }
}

/** Two paths behind one queue, driven for 6 s until path 1 stands by behind path 0 (as the first test shows). */
function groupedPair(): { paths: FakePath[]; d: SharedBottleneckDetector } {
  const paths = fakePaths();
  const d = new SharedBottleneckDetector(true, () => paths);
  drive(d, 0, 6000, (_id, t, pausedSince) => (pausedSince !== null && t > pausedSince + 30 ? sawtooth(t) * 0.4 : sawtooth(t)));
  expect(d.standby(1)).toBe(true);
  return { paths, d };
}

describe('shared-bottleneck detection', () => {
  it('groups two paths whose queue dips for one when the other pauses (one bottleneck)', () => {
    const idle = new SharedBottleneckDetector(true, () => fakePaths());
    const paths = fakePaths();
    const d = new SharedBottleneckDetector(true, () => paths);
    // Behind one FIFO both see the same queue; the pause of either drains it by its share.
    drive(d, 0, 6000, (_id, t, pausedSince) => {
      const q = sawtooth(t);
      return pausedSince !== null && t > pausedSince + 30 ? q * 0.4 : q;
    });
    expect(d.stats.candidates).toBeGreaterThanOrEqual(2);
    expect(d.stats.pausesShared).toBeGreaterThanOrEqual(2);
    expect(d.stats.grouped).toBe(1);
    // The slower path (smaller window) stands by behind the faster one.
    expect(d.standby(1)).toBe(true);
    expect(d.standby(0)).toBe(false);
    expect(d.stats.tricklePackets).toBeGreaterThan(0);
    // The maps a detector creates only on first need are its own: another
    // detector, made before or after, sees no standby and no lead.
    for (const other of [idle, new SharedBottleneckDetector(true, () => fakePaths())]) {
      expect(other.standby(1) || other.isLead(0) || other.trickleAt(1) !== null).toBe(false);
    }
    // Standby time runs from the grouping to the latest sample (6 s in all; grouping needs MIN_FILLED_BINS, 1 s, of samples first).
    expect(d.stats.standbyMs).toBeGreaterThan(0);
    expect(d.stats.standbyMs).toBeLessThan(5000);
    const before = d.stats.standbyMs;
    drive(d, 6000, 7000, (_id, t) => sawtooth(t));
    expect(d.stats.standbyMs - before).toBeCloseTo(1000, -1);
  });

  it('groups one bottleneck when a late host adds delay to the lead’s samples during the pauses: dips are judged by medians', () => {
    const paths = fakePaths();
    const d = new SharedBottleneckDetector(true, () => paths);
    // As the first test, but while the pause shows (from 30 ms after it starts)
    // every third sample of the lead comes 40 ms late. The mean of those samples
    // sat above the level around the pause (no dip: independent, twice).
    drive(d, 0, 6000, (id, t, pausedSince) => {
      const q = sawtooth(t);
      if (pausedSince === null || t <= pausedSince + 30) return q;
      return q * 0.4 + (id === 0 && t % 3 === 0 ? 40 : 0);
    });
    expect(d.stats.pausesIndependent).toBe(0);
    expect(d.stats.grouped).toBe(1);
    expect(d.standby(1)).toBe(true);
  });

  it('keeps no history and judges nothing while the connection has one path, and starts when a second comes', () => {
    const paths = fakePaths();
    const one = [paths[0]!];
    let list: FakePath[] = one;
    const d = new SharedBottleneckDetector(true, () => list);
    for (let t = 0; t < 3000; t++) d.onRttSample(0, MIN_RTT + sawtooth(t), MIN_RTT, t);
    expect(d.pathsTracked).toBe(0);
    expect(d.stats.candidates + d.stats.noStandingQueue + d.stats.uncorrelated).toBe(0);
    // A second path: both keep history from now on, and the pair is judged (one bottleneck, as in the first test).
    list = paths;
    drive(d, 3000, 9000, (_id, t, pausedSince) => {
      const q = sawtooth(t);
      return pausedSince !== null && t > pausedSince + 30 ? q * 0.4 : q;
    });
    expect(d.pathsTracked).toBe(2);
    expect(d.stats.grouped).toBe(1);
  });

  it('leaves alone two paths whose queues move together but do not answer each other’s pause (two bottlenecks)', () => {
    const paths = fakePaths();
    const d = new SharedBottleneckDetector(true, () => paths);
    // Identical, synchronized sawtooths: passively indistinguishable from one queue.
    drive(d, 0, 6000, (_id, t) => sawtooth(t));
    expect(d.stats.candidates).toBeGreaterThanOrEqual(2);
    expect(d.stats.pausesIndependent).toBeGreaterThanOrEqual(2);
    expect(d.stats.grouped).toBe(0);
    expect(d.standby(0) || d.standby(1)).toBe(false);
    // A cool-down of COOLDOWN_MS follows the second verdict (it came after 2 s
    // of samples at the earliest): no new pause until 11 s.
    const pauses = d.stats.pauses;
    drive(d, 6000, 2000 + COOLDOWN_MS - 1000, (_id, t) => sawtooth(t));
    expect(d.stats.pauses).toBe(pauses);
  });

  it('ignores queues that drain (a rate-based sender’s own probes) even when they line up', () => {
    const paths = fakePaths();
    const d = new SharedBottleneckDetector(true, () => paths);
    // Every 400 ms a 60 ms bump to 10 ms on both paths; empty in between.
    drive(d, 0, 8000, (_id, t) => (t % 400 < 60 ? 10 : 0.2));
    expect(d.stats.candidates).toBe(0);
    expect(d.stats.pauses).toBe(0);
    // Each check that got that far says why it stopped.
    expect(d.stats.noStandingQueue).toBeGreaterThan(0);
  });

  it('splits a group when the standby path stops seeing its lead’s queue', () => {
    const { d } = groupedPair();
    // The routes part: the standby path's probes now find no queue at all.
    drive(d, 6000, 6000 + (MISSES_TO_SPLIT + 2) * TRICKLE_MS, (id, t) => (id === 1 ? 0.1 : sawtooth(t)));
    expect(d.standby(1)).toBe(false);
    expect(d.stats.split).toBe(1);
    expect(d.stats.splitMisses).toBe(1);
    expect(d.stats.splitPathGone + d.stats.splitNoQueue).toBe(0);
  });

  it('keeps a group whose lead’s samples carry host delay: the lead’s level is the floor of its recent samples', () => {
    const { d } = groupedPair();
    // One queue, but the lead's samples come from a host that runs late 40 ms
    // in every 100 and add 150 ms to them (as in the loaded lab, where the
    // lead's mean was 85 ms and its queue 20 ms at most); the trickles meet
    // the queue alone. A mean-based level (about 70 ms) counted every trickle a miss.
    drive(d, 6000, 6000 + 10 * TRICKLE_MS, (id, t) => sawtooth(t) + (id === 0 && t % 100 < 40 ? 150 : 0));
    expect(d.standby(1)).toBe(true);
    expect(d.stats.split).toBe(0);
  });

  it('counts one miss per trickle: three samples that miss within one trickle do not split', () => {
    const { d } = groupedPair();
    // The lead queues 10 ms; the standby path's samples at 6000–6004 ms see none.
    for (let t = 6000; t < 6050; t++) {
      d.onRttSample(0, MIN_RTT + 10, MIN_RTT, t);
      if (t < 6000 + MISSES_TO_SPLIT + 2) d.onRttSample(1, MIN_RTT + 0.1, MIN_RTT, t);
    }
    expect(d.standby(1)).toBe(true);
    // The same evidence from MISSES_TO_SPLIT trickles apart splits the group.
    for (let k = 1; k < MISSES_TO_SPLIT; k++) {
      for (let t = 6000 + k * TRICKLE_MS - 50; t <= 6000 + k * TRICKLE_MS; t++) d.onRttSample(0, MIN_RTT + 10, MIN_RTT, t);
      d.onRttSample(1, MIN_RTT + 0.1, MIN_RTT, 6000 + k * TRICKLE_MS);
    }
    expect(d.standby(1)).toBe(false);
    expect(d.stats.splitMisses).toBe(1);
  });

  it('splits a group when its lead stops working, and counts nothing while disabled', () => {
    const { paths, d } = groupedPair();
    paths[0]!.state = 'suspect';
    drive(d, 6000, 6000 + 2 * BIN_MS, (_id, t) => sawtooth(t));
    expect(d.standby(1)).toBe(false);
    expect(d.stats.splitPathGone).toBe(1);
    // The lead works again at once: the group resumes without new pauses.
    paths[0]!.state = 'active';
    const pauses = d.stats.pauses;
    drive(d, 6000 + 2 * BIN_MS, 6000 + 4 * BIN_MS, (_id, t) => sawtooth(t));
    expect(d.standby(1)).toBe(true);
    expect(d.stats.resumed).toBe(1);
    expect(d.stats.pauses).toBe(pauses);
    // Suspect for longer than RESUME_MS: the group stays apart (a new grouping needs new pauses).
    paths[0]!.state = 'suspect';
    drive(d, 6200, 6200 + 2 * BIN_MS, (_id, t) => sawtooth(t));
    expect(d.standby(1)).toBe(false);
    drive(d, 6300, 6300 + RESUME_MS + BIN_MS, (id, t) => (id === 0 ? sawtooth(t) : 0.1));
    paths[0]!.state = 'active';
    const pauses2 = d.stats.pauses;
    drive(d, 6400 + RESUME_MS, 6400 + RESUME_MS + 2 * BIN_MS, (_id, t) => sawtooth(t));
    expect(d.standby(1)).toBe(false);
    expect(d.stats.resumed).toBe(1);
    expect(d.stats.pauses).toBe(pauses2);

    const off = new SharedBottleneckDetector(true, null);
    expect(off.enabled).toBe(false);
    drive(off, 0, 6000, (_id, t) => sawtooth(t));
    expect(off.stats.candidates).toBe(0);
  });

  it('pearson', () => {
    expect(pearson([1, 2, 3], [2, 4, 6], 2, 4)).toBeCloseTo(1);
    expect(pearson([1, 2, 3], [6, 4, 2], 2, 4)).toBeCloseTo(-1);
    expect(pearson([1, 1, 1], [1, 2, 3], 1, 2)).toBe(0);
  });
});
