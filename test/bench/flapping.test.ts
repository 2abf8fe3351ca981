/**
 * The flapping section's analysis (bench/scenarios/flapping.ts) on synthetic
 * timelines: the longest delivery stall, cut to the window, and a run that
 * failed counting as an infinite stall.
 */
import { describe, expect, it } from 'vitest';
import type { Timeline } from '../../src/cli/bench/common.js';
import { flappingSection, timelineStalls, type FlappingConfig, type FlappingRun } from '../../bench/scenarios/flapping.js';

/** Delivery sampled every 10 ms from t0 = 1,000,000, growing 1,000 B per sample except in the given stalls [from, to). */
function timeline(stalls: Array<[number, number]>, end = 5_000): Timeline {
  const rows: number[][] = [];
  let d = 0;
  for (let t = 0; t <= end; t += 10) {
    if (!stalls.some(([a, b]) => t > a && t <= b)) d += 1_000;
    rows.push([t, d]);
  }
  return { t0: 1_000_000, columns: ['t', 'delivered'], rows };
}

const cfg: FlappingConfig = { periodMs: 2000, moves: 5, preMs: 3000, postMs: 3000, rounds: 1, binMs: 10 };

function run(transport: 'mpudp' | 'mptcp', stallMs: number, completed = true): FlappingRun {
  return { transport, round: 0, stallMs, stallAtS: 1, topStallsMs: [stallMs], windowMbps: 50, completed, error: completed ? null : 'client failed', outages: [], svg: '' };
}

describe('flapping analysis', () => {
  it('finds the longest stall of the delivered bytes, within one sample', () => {
    const tl = timeline([
      [1_000, 1_250],
      [3_000, 3_100],
    ]);
    const stalls = timelineStalls(tl, tl.t0, tl.t0 + 5_000);
    expect(stalls[0]!.ms).toBeGreaterThanOrEqual(250);
    expect(stalls[0]!.ms).toBeLessThanOrEqual(260);
    expect(stalls[0]!.at - tl.t0).toBeGreaterThanOrEqual(990);
    expect(stalls[0]!.at - tl.t0).toBeLessThanOrEqual(1_000);
    expect(stalls[1]!.ms).toBeLessThanOrEqual(110);
  });

  it('cuts stalls to the window', () => {
    const tl = timeline([[1_000, 2_000]]);
    const stalls = timelineStalls(tl, tl.t0 + 1_500, tl.t0 + 5_000);
    expect(stalls[0]!.at - tl.t0).toBe(1_500);
    expect(stalls[0]!.ms).toBeLessThanOrEqual(510);
  });

  it('a stall that lasts to the end of the timeline counts', () => {
    const tl = timeline([[4_000, 6_000]]);
    expect(timelineStalls(tl, tl.t0, tl.t0 + 5_000)[0]!.ms).toBeGreaterThanOrEqual(990);
  });

  it('the section reports the worst run, and a failed run as a miss', () => {
    const ok = flappingSection(cfg, [run('mpudp', 120), run('mpudp', 180), run('mptcp', 2_000)], null, 1);
    expect(ok.figures[0]!.value).toBe(180);
    expect(ok.figures[0]!.baseline!.value).toBe(2_000);
    expect(ok.figures[0]!.target!.pass).toBe(true);
    const failed = flappingSection(cfg, [run('mpudp', 120), run('mpudp', 0, false), run('mptcp', 2_000)], null, 1);
    expect(failed.figures[0]!.value).toBeNull();
    expect(failed.figures[0]!.target!.pass).toBe(false);
    const slow = flappingSection(cfg, [run('mpudp', 450)], 'mptcpize missing', 1);
    expect(slow.figures[0]!.target!.pass).toBe(false);
    expect(slow.figures[0]!.note).toContain('MP-TCP skipped');
  });
});
