/**
 * The deterministic performance matrix (issues #3 and #12) on the
 * simulator. Writes bench/results/sim-matrix.md and sim-matrix.json:
 *
 *  1. every scenario × every congestion controller, with the default
 *     scheduler: goodput against the target, and the queueing delay the
 *     connection keeps at its bottlenecks;
 *  2. every scenario × every scheduler, for cubic and bbr;
 *  3. the shared bottleneck across seeds, every controller against its
 *     competitor (Reno against the Reno-based ones, Cubic against cubic
 *     and bbr), and bbr against Reno too;
 *  4. the time to deliver 64 KiB messages: two equal paths with 1 % loss,
 *     and the heterogeneous paths (100 Mbit/s 10 ms + 50 Mbit/s 60 ms).
 *
 *   npx tsx bench/sim-matrix.ts          (about 12 minutes on one core)
 *
 * Environment (all optional):
 *   MATRIX_SCALE=0.5          scale every warm-up and measurement window
 *   MATRIX_SCENARIOS=a,b      only these scenarios
 *   MATRIX_SCHEDULERS=a,b     only these schedulers in part 2
 *   MATRIX_CC=cubic,bbr       only these congestion controllers
 *   MATRIX_SEED=1             seed of every run (part 3 uses 1..6)
 *   MATRIX_OUT=dir            output directory (default bench/results)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONGESTION_CONTROLLER_NAMES } from '../src/core/path/congestion.js';
import { DEFAULT_OPTIONS, type CongestionControlName } from '../src/core/options.js';
import { SCHEDULER_NAMES, type SchedulerName } from '../src/core/sched/index.js';
import {
  HETERO_PATHS,
  SCENARIOS,
  betterPathAlone,
  capacityBps,
  defaultCompetitorCc,
  judge,
  runBulk,
  runLatency,
  type RunConfig,
  type RunResult,
  type Scenario,
  type Verdict,
} from '../lab/sim/matrix.js';

const env = process.env;
const list = (v: string | undefined): string[] | null => (v ? v.split(',').map((x) => x.trim()).filter(Boolean) : null);
const scale = Number(env.MATRIX_SCALE ?? 1);
const seed = Number(env.MATRIX_SEED ?? 1);
const scenarios = SCENARIOS.filter((s) => list(env.MATRIX_SCENARIOS)?.includes(s.name) ?? true);
const schedulers = SCHEDULER_NAMES.filter((s) => list(env.MATRIX_SCHEDULERS)?.includes(s) ?? true) as SchedulerName[];
const ccs = (list(env.MATRIX_CC) ?? [...CONGESTION_CONTROLLER_NAMES]) as CongestionControlName[];
const defaultScheduler = (typeof DEFAULT_OPTIONS.scheduler === 'string' ? DEFAULT_OPTIONS.scheduler : 'min-rtt') as SchedulerName;
const sweepCcs = ccs.filter((c) => c === 'cubic' || c === 'bbr');
const outDir = env.MATRIX_OUT ?? join(dirname(fileURLToPath(import.meta.url)), 'results');

interface Cell {
  part: 'controllers' | 'schedulers';
  scenario: string;
  scheduler: SchedulerName;
  congestionControl: CongestionControlName;
  competitorCongestionControl: CongestionControlName | null;
  goodputMbps: number;
  competitorMbps: number | null;
  share: number | null;
  capacityMbps: number;
  /** Percent of the sum of the paths (or of the shared bottleneck). */
  percentOfCapacity: number;
  target: string;
  /** Percent of the target's reference (goodput targets) or the share (share target); null for report-only. */
  percentOfTarget: number | null;
  verdict: 'pass' | 'FAIL' | 'n/a';
  perPathMbps: number[];
  lossEvents: number[];
  smoothedRttMs: number[];
  queueDelayMeanMs: number;
  queueDelayP95Ms: number;
  windowBlocked: number;
  wallMs: number;
}

function targetText(s: Scenario, baselineMbps?: number): string {
  const t = s.target;
  switch (t.kind) {
    case 'fraction-of-sum':
      return `≥ ${Math.round(t.fraction * 100)} % of ${(capacityBps(s) / 1e6).toFixed(0)} Mbit/s`;
    case 'no-harm':
      return `≥ better path alone (${baselineMbps?.toFixed(1) ?? '?'} Mbit/s)`;
    case 'max-share':
      return `share ≤ ${Math.round(t.fraction * 100)} %`;
    case 'queue-delay':
      return 'queueing delay reported';
    case 'report':
      return 'report only';
  }
}

function cell(part: Cell['part'], cfg: RunConfig, r: RunResult, v: Verdict, baselineMbps?: number): Cell {
  const s = cfg.scenario;
  const shared = s.competitor !== undefined;
  const t = s.target;
  let pct: number | null = null;
  if (t.kind === 'fraction-of-sum' || t.kind === 'no-harm') pct = 100 * v.ratio;
  else if (t.kind === 'max-share') pct = 100 * r.share;
  return {
    part,
    scenario: s.name,
    scheduler: cfg.scheduler,
    congestionControl: cfg.congestionControl,
    competitorCongestionControl: shared ? (cfg.competitorCongestionControl ?? defaultCompetitorCc(cfg.congestionControl)) : null,
    goodputMbps: r.goodputBps / 1e6,
    competitorMbps: shared ? r.competitorBps / 1e6 : null,
    share: shared ? r.share : null,
    capacityMbps: capacityBps(s) / 1e6,
    percentOfCapacity: (100 * r.goodputBps) / capacityBps(s),
    target: targetText(s, baselineMbps),
    percentOfTarget: pct,
    verdict: !v.applies ? 'n/a' : v.pass ? 'pass' : 'FAIL',
    perPathMbps: r.paths.map((p) => p.sendBps / 1e6),
    lossEvents: r.paths.map((p) => p.lossEvents),
    smoothedRttMs: r.paths.map((p) => p.smoothedRtt),
    queueDelayMeanMs: r.queueDelayMs.mean,
    queueDelayP95Ms: r.queueDelayMs.p95,
    windowBlocked: r.windowBlocked,
    wallMs: r.wallMs,
  };
}

const started = performance.now();
const cells: Cell[] = [];
const baselines: Record<string, number> = {};

/** The better path alone, per scenario and controller (the no-harm reference). */
function baseline(s: Scenario, cc: CongestionControlName, warmupMs: number, measureMs: number): number {
  const key = `${s.name}/${cc}`;
  if (baselines[key] === undefined) {
    const b = runBulk({ scenario: betterPathAlone(s), scheduler: 'min-rtt', congestionControl: cc, seed, warmupMs, measureMs });
    baselines[key] = b.goodputBps / 1e6;
    console.log(`${s.name} baseline (better path alone, ${cc}): ${baselines[key]!.toFixed(2)} Mbit/s`);
  }
  return baselines[key]!;
}

function runCell(part: Cell['part'], s: Scenario, cc: CongestionControlName, sched: SchedulerName): void {
  const warmupMs = Math.round(s.warmupMs * scale);
  const measureMs = Math.round(s.measureMs * scale);
  const baselineMbps = s.target.kind === 'no-harm' ? baseline(s, cc, warmupMs, measureMs) : undefined;
  const cfg: RunConfig = { scenario: s, scheduler: sched, congestionControl: cc, seed, warmupMs, measureMs };
  const r = runBulk(cfg);
  const v = judge(cfg, r, baselineMbps !== undefined ? baselineMbps * 1e6 : undefined);
  const c = cell(part, cfg, r, v, baselineMbps);
  cells.push(c);
  console.log(
    `${s.name.padEnd(14)} ${sched.padEnd(12)} ${cc.padEnd(7)} ${c.goodputMbps.toFixed(2).padStart(7)} Mbit/s` +
      (c.share !== null ? ` share ${(c.share * 100).toFixed(1)} %` : '') +
      ` queue ${c.queueDelayMeanMs.toFixed(1)} ms ${c.verdict}  (${(r.wallMs / 1000).toFixed(1)} s)`,
  );
}

// 1. Controllers, default scheduler.
for (const s of scenarios) for (const cc of ccs) runCell('controllers', s, cc, defaultScheduler);
// 2. Schedulers, cubic and bbr (the shared scenario does not depend on the scheduler).
for (const s of scenarios) {
  if (s.competitor !== undefined) continue;
  for (const cc of sweepCcs) for (const sched of schedulers) if (sched !== defaultScheduler) runCell('schedulers', s, cc, sched);
}

// 3. The shared bottleneck across seeds (its paths have 1 ms of jitter, so seeds differ).
interface ShareRow {
  congestionControl: CongestionControlName;
  competitorCongestionControl: CongestionControlName;
  seeds: number[];
  shares: number[];
  mean: number;
  max: number;
  /** Runs in which shared-bottleneck detection put a path on standby. */
  grouped: number;
}
const shareRows: ShareRow[] = [];
const shareSeeds = [1, 2, 3, 4, 5, 6];
const sharedScenario = scenarios.find((x) => x.name === 'shared');
if (sharedScenario !== undefined) {
  const pairs: Array<[CongestionControlName, CongestionControlName]> = ccs.map((cc) => [cc, defaultCompetitorCc(cc)]);
  if (ccs.includes('bbr')) pairs.push(['bbr', 'newreno']);
  for (const [cc, comp] of pairs) {
    let grouped = 0;
    const shares = shareSeeds.map((sd) => {
      const r = runBulk({
        scenario: sharedScenario,
        scheduler: defaultScheduler,
        congestionControl: cc,
        competitorCongestionControl: comp,
        seed: sd,
        warmupMs: Math.round(sharedScenario.warmupMs * scale),
        measureMs: Math.round(sharedScenario.measureMs * scale),
        onEnd: (conn) => {
          if (conn.stats().sharedBottleneck.grouped > 0) grouped++;
        },
      });
      return r.share;
    });
    const row = {
      congestionControl: cc,
      competitorCongestionControl: comp,
      seeds: shareSeeds,
      shares,
      mean: shares.reduce((a, b) => a + b, 0) / shares.length,
      max: Math.max(...shares),
      grouped,
    };
    shareRows.push(row);
    console.log(`shared ${cc} vs ${comp}: shares ${shares.map((x) => (x * 100).toFixed(1)).join(' ')} %, mean ${(row.mean * 100).toFixed(1)} %`);
  }
}

// 4. Message latency.
interface LatencyCell {
  paths: 'equal, 1 % loss' | 'heterogeneous';
  scheduler: SchedulerName;
  congestionControl: CongestionControlName;
  messages: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}
const latency: LatencyCell[] = [];
const latencyCfg = { messages: Math.max(100, Math.round(300 * scale)), size: 64 * 1024, intervalMs: 100 };
for (const kind of ['equal, 1 % loss', 'heterogeneous'] as const) {
  for (const cc of sweepCcs) {
    for (const sched of schedulers) {
      const r = runLatency({ scheduler: sched, congestionControl: cc, seed, ...latencyCfg, lossRate: kind === 'heterogeneous' ? 0 : 0.01, ...(kind === 'heterogeneous' ? { paths: HETERO_PATHS } : {}) });
      latency.push({ paths: kind, scheduler: sched, congestionControl: cc, messages: latencyCfg.messages, p50Ms: r.p50, p99Ms: r.p99, maxMs: r.max });
      console.log(`latency ${kind} ${cc} ${sched.padEnd(12)} p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  max ${r.max.toFixed(1)} ms`);
    }
  }
}

// ---- output ----

const f1 = (x: number | null): string => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(1));
const md: string[] = [];
md.push('# Simulated performance matrix');
md.push('');
md.push(
  `Generated by \`npx tsx bench/sim-matrix.ts\` (seed ${seed}, window scale ${scale}). ` +
    'Deterministic: the same code and seed give the same numbers. Goodput is stream bytes read by the ' +
    'receiving application in the measurement window, after a warm-up (slow start excluded). Each path ' +
    'is a FIFO bottleneck with the given rate and one-way delay in both directions; queues hold 100 ms ' +
    'at the path rate unless said otherwise; maximum datagram size 1200 bytes (about 2 % of it is headers, ' +
    'so a full link gives about 98 % of its rate as goodput). Queueing delay: the data-direction bottleneck ' +
    'queues sampled every 10 ms of the measurement (mean of the paths\' means / 95th percentile of all samples).',
);
md.push('');
md.push('| scenario | windows (warm-up + measured) |');
md.push('|---|---|');
for (const s of scenarios) md.push(`| **${s.name}**: ${s.description} | ${(s.warmupMs * scale) / 1000} s + ${(s.measureMs * scale) / 1000} s |`);
md.push('');
const goodputTable = (part: Cell['part']): void => {
  md.push('| scenario | scheduler | cc | goodput Mbit/s | % of capacity | target | % of target | result | per path Mbit/s (sent) | queueing delay ms (mean / p95) | loss events |');
  md.push('|---|---|---|---:|---:|---|---:|---|---|---|---|');
  for (const c of cells.filter((x) => x.part === part)) {
    const shareNote = c.share !== null ? ` (share ${(c.share * 100).toFixed(1)} %, competitor ${c.competitorCongestionControl} ${f1(c.competitorMbps)})` : '';
    const pctTarget = c.percentOfTarget === null ? '–' : c.scenario === 'shared' ? `share ${f1(c.percentOfTarget)} %` : `${f1(c.percentOfTarget)} %`;
    md.push(
      `| ${c.scenario} | ${c.scheduler} | ${c.congestionControl} | ${c.goodputMbps.toFixed(1)}${shareNote} | ${f1(c.percentOfCapacity)} % | ${c.target} | ${pctTarget} | ${c.verdict} | ${c.perPathMbps.map(f1).join(' / ')} | ${f1(c.queueDelayMeanMs)} / ${f1(c.queueDelayP95Ms)} | ${c.lossEvents.join(' / ')} |`,
    );
  }
  md.push('');
};
md.push(`## 1. Goodput and queueing delay by controller (scheduler ${defaultScheduler}, the default)`);
md.push('');
goodputTable('controllers');
md.push('## 2. Goodput by scheduler (cubic and bbr)');
md.push('');
goodputTable('schedulers');
if (shareRows.length > 0) {
  md.push(`## 3. Shared bottleneck across seeds (${defaultScheduler})`);
  md.push('');
  md.push(
    `mpudp's share of the 50 Mbit/s bottleneck (one-BDP queue) beside one single-path flow, seeds ${shareSeeds.join(', ')}. ` +
      'Target for every controller: ≤ 60 %. "grouped": runs in which shared-bottleneck detection put one path on standby ' +
      '(lia and olia are coupled instead, and detection is off for them).',
  );
  md.push('');
  md.push('| cc | competitor cc | shares % | mean % | max % | grouped | result |');
  md.push('|---|---|---|---:|---:|---:|---|');
  for (const r of shareRows) {
    md.push(
      `| ${r.congestionControl} | ${r.competitorCongestionControl} | ${r.shares.map((x) => (x * 100).toFixed(1)).join(', ')} | ${(r.mean * 100).toFixed(1)} | ${(r.max * 100).toFixed(1)} | ${r.grouped} / ${r.shares.length} | ${r.mean <= 0.6 ? 'pass' : 'FAIL'} |`,
    );
  }
  md.push('');
}
md.push('## 4. Time to deliver a 64 KiB message');
md.push('');
md.push(
  `${latencyCfg.messages} messages of 64 KiB, one every ${latencyCfg.intervalMs} ms; time from write() to the last byte read. ` +
    '"equal, 1 % loss": two 50 Mbit/s paths with 20 ms RTT and 1 % random loss on both (each direction). ' +
    '"heterogeneous": 100 Mbit/s 10 ms RTT + 50 Mbit/s 60 ms RTT, no loss.',
);
md.push('');
md.push('| paths | cc | scheduler | p50 ms | p99 ms | max ms |');
md.push('|---|---|---|---:|---:|---:|');
for (const l of latency) md.push(`| ${l.paths} | ${l.congestionControl} | ${l.scheduler} | ${l.p50Ms.toFixed(1)} | ${l.p99Ms.toFixed(1)} | ${l.maxMs.toFixed(1)} |`);
md.push('');
const failures = cells.filter((c) => c.verdict === 'FAIL');
md.push(`${cells.length} cells, ${failures.length} below target. Real time: ${((performance.now() - started) / 1000).toFixed(0)} s.`);
md.push('');

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'sim-matrix.md'), md.join('\n'));
writeFileSync(
  join(outDir, 'sim-matrix.json'),
  JSON.stringify({ seed, scale, defaultScheduler, scenarios, baselines, cells, sharedAcrossSeeds: shareRows, latency: { ...latencyCfg, results: latency } }, null, 2) + '\n',
);
console.log(`wrote ${join(outDir, 'sim-matrix.md')} and sim-matrix.json; ${failures.length} of ${cells.length} cells below target`);
