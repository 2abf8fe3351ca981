/**
 * Helpers shared by the matrix test files (matrix*.test.ts): one run of a
 * scenario with the test's window scale, and a one-line account of it for
 * failure messages.
 */
import type { CongestionControlName } from '../../src/core/options.js';
import type { SchedulerName } from '../../src/core/sched/index.js';
import { runBulk, scenario, type RunConfig, type RunResult } from '../../lab/sim/matrix.js';

/** Windows are the scenarios' own scaled by MATRIX_SCALE (default 1: the same numbers as the table). */
export const SCALE = Number(process.env.MATRIX_SCALE ?? 1);
export const SEED = 1;
export const TIMEOUT = 180_000;
/**
 * What the main rows test: BBR with ECF, the configuration recommended for
 * lossy, jittery and long paths (the library's defaults are Cubic and
 * min-RTT, whose own rows are matrix-cubic.test.ts and the table).
 */
export const DEFAULT_CC: CongestionControlName = 'bbr';
export const DEFAULT_SCHEDULER: SchedulerName = 'ecf';

export function run(
  name: string,
  cc: CongestionControlName = DEFAULT_CC,
  sched: SchedulerName = DEFAULT_SCHEDULER,
  seed = SEED,
  extra: Partial<RunConfig> = {},
): { cfg: RunConfig; r: RunResult } {
  const s = scenario(name);
  const cfg: RunConfig = {
    scenario: s,
    scheduler: sched,
    congestionControl: cc,
    seed,
    warmupMs: Math.round(s.warmupMs * SCALE),
    measureMs: Math.round(s.measureMs * SCALE),
    ...extra,
  };
  return { cfg, r: runBulk(cfg) };
}

export const mbps = (bps: number): string => `${(bps / 1e6).toFixed(2)} Mbit/s`;

export function describeRun(cfg: RunConfig, r: RunResult): string {
  const paths = r.paths
    .map((p) => `path ${p.id}: ${mbps(p.sendBps)} sent, ${p.lossEvents} loss events, srtt ${p.smoothedRtt.toFixed(0)} ms, cwnd ${p.congestionWindow}`)
    .join('; ');
  return (
    `[seed ${cfg.seed}] ${cfg.scenario.name} ${cfg.scheduler} ${cfg.congestionControl}: ${mbps(r.goodputBps)} ` +
    `(${paths}; queueing delay ${r.queueDelayMs.mean.toFixed(1)}/${r.queueDelayMs.p95.toFixed(1)} ms; window blocked ${r.windowBlocked})`
  );
}
