/**
 * The deterministic performance matrix (issue #3, part 5) on the simulator:
 * every scenario × every built-in scheduler × congestion controller, plus
 * the time to deliver a 64 KiB message under 1 % loss. Writes
 * bench/results/sim-matrix.md and bench/results/sim-matrix.json.
 *
 *   npx tsx bench/sim-matrix.ts
 *
 * Environment (all optional):
 *   MATRIX_SCALE=0.5          scale every warm-up and measurement window
 *   MATRIX_SCENARIOS=a,b      only these scenarios
 *   MATRIX_SCHEDULERS=a,b     only these schedulers
 *   MATRIX_CC=cubic,lia       only these congestion controllers
 *   MATRIX_SEED=1             seed of every run
 *   MATRIX_OUT=dir            output directory (default bench/results)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CongestionControlName } from '../src/core/options.js';
import { SCHEDULER_NAMES, type SchedulerName } from '../src/core/sched/index.js';
import {
  SCENARIOS,
  betterPathAlone,
  capacityBps,
  defaultCompetitorCc,
  judge,
  runBulk,
  runLatency,
  type LatencyResult,
  type RunConfig,
  type RunResult,
  type Scenario,
  type Verdict,
} from '../test/sim/matrix.js';

const env = process.env;
const list = (v: string | undefined): string[] | null => (v ? v.split(',').map((x) => x.trim()).filter(Boolean) : null);
const scale = Number(env.MATRIX_SCALE ?? 1);
const seed = Number(env.MATRIX_SEED ?? 1);
const scenarios = SCENARIOS.filter((s) => list(env.MATRIX_SCENARIOS)?.includes(s.name) ?? true);
const schedulers = SCHEDULER_NAMES.filter((s) => list(env.MATRIX_SCHEDULERS)?.includes(s) ?? true) as SchedulerName[];
const ccs = (list(env.MATRIX_CC) ?? ['cubic', 'lia', 'olia']) as CongestionControlName[];
const outDir = env.MATRIX_OUT ?? join(dirname(fileURLToPath(import.meta.url)), 'results');

interface Cell {
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
  /** Percent of the target's reference (goodput targets) or share/limit (share target); null for report-only. */
  percentOfTarget: number | null;
  verdict: 'pass' | 'FAIL' | 'n/a';
  perPathMbps: number[];
  lossEvents: number[];
  smoothedRttMs: number[];
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

function cell(cfg: RunConfig, r: RunResult, v: Verdict, baselineMbps?: number): Cell {
  const s = cfg.scenario;
  const shared = s.competitor !== undefined;
  const t = s.target;
  let pct: number | null = null;
  if (t.kind === 'fraction-of-sum' || t.kind === 'no-harm') pct = 100 * v.ratio;
  else if (t.kind === 'max-share') pct = 100 * r.share;
  return {
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
    windowBlocked: r.windowBlocked,
    wallMs: r.wallMs,
  };
}

const started = performance.now();
const cells: Cell[] = [];
const baselines: Record<string, number> = {};
for (const s of scenarios) {
  const warmupMs = Math.round(s.warmupMs * scale);
  const measureMs = Math.round(s.measureMs * scale);
  for (const cc of ccs) {
    let baselineMbps: number | undefined;
    if (s.target.kind === 'no-harm') {
      const b = runBulk({ scenario: betterPathAlone(s), scheduler: 'min-rtt', congestionControl: cc, seed, warmupMs, measureMs });
      baselineMbps = b.goodputBps / 1e6;
      baselines[`${s.name}/${cc}`] = baselineMbps;
      console.log(`${s.name} baseline (better path alone, ${cc}): ${baselineMbps.toFixed(2)} Mbit/s`);
    }
    for (const sched of schedulers) {
      const cfg: RunConfig = { scenario: s, scheduler: sched, congestionControl: cc, seed, warmupMs, measureMs };
      const r = runBulk(cfg);
      const v = judge(cfg, r, baselineMbps !== undefined ? baselineMbps * 1e6 : undefined);
      const c = cell(cfg, r, v, baselineMbps);
      cells.push(c);
      console.log(
        `${s.name.padEnd(14)} ${sched.padEnd(12)} ${cc.padEnd(7)} ${c.goodputMbps.toFixed(2).padStart(7)} Mbit/s` +
          (c.share !== null ? ` share ${(c.share * 100).toFixed(1)} %` : '') +
          ` ${c.verdict}  (${(r.wallMs / 1000).toFixed(1)} s)`,
      );
    }
  }
}

// The shared bottleneck across seeds (its paths have 1 ms of jitter, so seeds differ).
interface ShareRow {
  congestionControl: CongestionControlName;
  competitorCongestionControl: CongestionControlName;
  seeds: number[];
  shares: number[];
  mean: number;
  max: number;
}
const shareRows: ShareRow[] = [];
const shareSeeds = [1, 2, 3, 4, 5, 6];
const sharedScenario = scenarios.find((x) => x.name === 'shared');
if (sharedScenario !== undefined) {
  for (const cc of ccs) {
    const shares = shareSeeds.map((sd) =>
      runBulk({
        scenario: sharedScenario,
        scheduler: 'min-rtt',
        congestionControl: cc,
        seed: sd,
        warmupMs: Math.round(sharedScenario.warmupMs * scale),
        measureMs: Math.round(sharedScenario.measureMs * scale),
      }).share,
    );
    const row = {
      congestionControl: cc,
      competitorCongestionControl: defaultCompetitorCc(cc),
      seeds: shareSeeds,
      shares,
      mean: shares.reduce((a, b) => a + b, 0) / shares.length,
      max: Math.max(...shares),
    };
    shareRows.push(row);
    console.log(`shared ${cc}: shares ${shares.map((x) => (x * 100).toFixed(1)).join(' ')} %, mean ${(row.mean * 100).toFixed(1)} %`);
  }
}

interface LatencyCell {
  scheduler: SchedulerName;
  congestionControl: CongestionControlName;
  messages: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}
const latency: LatencyCell[] = [];
const latencyCfg = { messages: Math.max(100, Math.round(300 * scale)), size: 64 * 1024, intervalMs: 100, lossRate: 0.01 };
for (const sched of schedulers) {
  const r: LatencyResult = runLatency({ scheduler: sched, congestionControl: 'cubic', seed, ...latencyCfg });
  latency.push({ scheduler: sched, congestionControl: 'cubic', messages: latencyCfg.messages, p50Ms: r.p50, p99Ms: r.p99, maxMs: r.max });
  console.log(`latency ${sched.padEnd(12)} p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  max ${r.max.toFixed(1)} ms`);
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
    'at the path rate unless said otherwise; maximum datagram size 1200 bytes.',
);
md.push('');
md.push('| scenario | windows (warm-up + measured) |');
md.push('|---|---|');
for (const s of scenarios) md.push(`| **${s.name}**: ${s.description} | ${(s.warmupMs * scale) / 1000} s + ${(s.measureMs * scale) / 1000} s |`);
md.push('');
md.push('## Goodput');
md.push('');
md.push('| scenario | scheduler | cc | goodput Mbit/s | % of capacity | target | % of target | result | per path Mbit/s (sent) | loss events |');
md.push('|---|---|---|---:|---:|---|---:|---|---|---|');
for (const c of cells) {
  const shareNote = c.share !== null ? ` (share ${(c.share * 100).toFixed(1)} %, competitor ${c.competitorCongestionControl} ${f1(c.competitorMbps)})` : '';
  const pctTarget = c.percentOfTarget === null ? '–' : c.scenario === 'shared' ? `share ${f1(c.percentOfTarget)} %` : `${f1(c.percentOfTarget)} %`;
  md.push(
    `| ${c.scenario} | ${c.scheduler} | ${c.congestionControl} | ${c.goodputMbps.toFixed(1)}${shareNote} | ${f1(c.percentOfCapacity)} % | ${c.target} | ${pctTarget} | ${c.verdict} | ${c.perPathMbps.map(f1).join(' / ')} | ${c.lossEvents.join(' / ')} |`,
  );
}
md.push('');
if (shareRows.length > 0) {
  md.push('## Shared bottleneck across seeds (min-rtt)');
  md.push('');
  md.push(`mpudp's share of the 50 Mbit/s bottleneck beside one single-path flow, seeds ${shareSeeds.join(', ')}. Target for coupled controllers: ≤ 60 %.`);
  md.push('');
  md.push('| cc | competitor cc | shares % | mean % | max % |');
  md.push('|---|---|---|---:|---:|');
  for (const r of shareRows) {
    md.push(`| ${r.congestionControl} | ${r.competitorCongestionControl} | ${r.shares.map((x) => (x * 100).toFixed(1)).join(', ')} | ${(r.mean * 100).toFixed(1)} | ${(r.max * 100).toFixed(1)} |`);
  }
  md.push('');
}
md.push('## Time to deliver a 64 KiB message');
md.push('');
md.push(
  `${latencyCfg.messages} messages of 64 KiB, one every ${latencyCfg.intervalMs} ms, over two 50 Mbit/s paths with 20 ms RTT ` +
    `and ${latencyCfg.lossRate * 100} % random loss on both (each direction); time from write() to the last byte read.`,
);
md.push('');
md.push('| scheduler | cc | p50 ms | p99 ms | max ms |');
md.push('|---|---|---:|---:|---:|');
for (const l of latency) md.push(`| ${l.scheduler} | ${l.congestionControl} | ${l.p50Ms.toFixed(1)} | ${l.p99Ms.toFixed(1)} | ${l.maxMs.toFixed(1)} |`);
md.push('');
const failures = cells.filter((c) => c.verdict === 'FAIL');
md.push(`${cells.length} cells, ${failures.length} below target. Real time: ${((performance.now() - started) / 1000).toFixed(0)} s.`);
md.push('');

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'sim-matrix.md'), md.join('\n'));
writeFileSync(
  join(outDir, 'sim-matrix.json'),
  JSON.stringify({ seed, scale, scenarios, baselines, cells, sharedAcrossSeeds: shareRows, latency: { ...latencyCfg, results: latency } }, null, 2) + '\n',
);
console.log(`wrote ${join(outDir, 'sim-matrix.md')} and sim-matrix.json; ${failures.length} of ${cells.length} cells below target`);
