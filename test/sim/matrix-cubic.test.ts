/**
 * The rows of matrix.test.ts with Cubic (the library's default): they stay
 * green, the jittery row shows reordering learnt rather than taken for
 * congestion, and the lossy row shows what loss-based control leaves on a
 * path with random loss (the clean path alone, about).
 */
import { describe, expect, it } from 'vitest';
import { betterPathAlone, judge, runBulk } from '../../lab/sim/matrix.js';
import { DEFAULT_SCHEDULER, describeRun, mbps, run, TIMEOUT } from './matrix-run.js';

describe(`performance matrix, cubic (${DEFAULT_SCHEDULER})`, () => {
  for (const name of ['balanced', 'unbalanced-4M', 'hetero-up']) {
    it(`${name}: meets its target`, { timeout: TIMEOUT }, () => {
      const { cfg, r } = run(name, 'cubic');
      console.log(describeRun(cfg, r));
      expect(r.goodputBps, describeRun(cfg, r)).toBeGreaterThanOrEqual(judge(cfg, r).reference);
    });
  }

  it('unbalanced, 1 MiB receive window: never below the better path alone', { timeout: TIMEOUT }, () => {
    const { cfg, r } = run('unbalanced-1M', 'cubic');
    const alone = runBulk({ ...cfg, scenario: betterPathAlone(cfg.scenario) });
    const msg = `${describeRun(cfg, r)}; better path alone ${mbps(alone.goodputBps)}`;
    console.log(msg);
    expect(r.goodputBps, msg).toBeGreaterThanOrEqual(alone.goodputBps * 0.98);
  });

  it('jittery (1 % of packets held back 5 ms): the reordering is learnt, not taken for congestion', { timeout: TIMEOUT }, () => {
    // The library's defaults: Cubic and min-RTT. Before spurious losses were
    // detected (packets overtaken by 26 others declared lost, every window cut
    // kept) this gave 14.0 Mbit/s.
    const { cfg, r } = run('jittery', 'cubic', 'min-rtt');
    const msg = `${describeRun(cfg, r)}; per path [events, undone, lost, spurious]: ${JSON.stringify(r.paths.map((p) => [p.lossEvents, p.lossEventsUndone, p.packetsLost, p.packetsSpuriouslyLost]))}`;
    console.log(msg);
    expect(r.goodputBps, msg).toBeGreaterThanOrEqual(0.95 * 100e6);
    for (const p of r.paths) {
      expect(p.packetsSpuriouslyLost, msg).toBeGreaterThan(0);
      expect(p.lossEventsUndone, msg).toBeGreaterThan(0);
      // Learnt: each path declares a few reordered packets lost, not the 1 % held back.
      expect(p.packetsSpuriouslyLost, msg).toBeLessThan(20);
    }
  });

  it('lossy (1 % on one path): never below the clean path alone; the lossy path near the Mathis rate', { timeout: TIMEOUT }, () => {
    const { cfg, r } = run('lossy', 'cubic');
    console.log(describeRun(cfg, r));
    // The clean path alone delivers 98 % of its 50 Mbit/s.
    expect(r.goodputBps, describeRun(cfg, r)).toBeGreaterThanOrEqual(0.98 * 0.98 * 50e6);
    // 1.22 · MSS / (RTT · √p) ≈ 5.9 Mbit/s: why Cubic misses the 85 % target here.
    expect(r.paths[1]!.sendBps, describeRun(cfg, r)).toBeLessThan(15e6);
  });
});
