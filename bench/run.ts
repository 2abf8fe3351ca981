/**
 * `npm run bench`: the mpudp benchmark suite (issue #6). Runs every scenario
 * with `mpudp bench` roles (src/cli/bench/) in separate processes, each
 * figure beside a baseline measured in the same run, and writes
 * bench/results/latest.json, bench/results/latest.md and SVG plots.
 *
 *   npm run bench                      the full suite (about 12 minutes; lab-delay about 5)
 *   npm run bench -- --quick           small sizes (about 2 minutes)
 *   npm run bench -- --only loopback,latency
 *   npm run bench -- --out /tmp/bench  another output directory
 *
 * Sections: loopback (1, 2), veth (1b: one unshaped veth path with MTU
 * 1500; root only), lab (3, 4; root only, else skipped with the
 * reason), latency (5), scale (6), scaleout (issue #13: 2 cluster workers
 * against 1 process), flapping (7; root only), lab-delay (8, 9, 10: the lab
 * with a delay stage, root only), profile (node --cpu-prof of the hot path).
 * With --only, the sections not run keep their results from the latest.json
 * already there (each says when it ran).
 * See docs/bench.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { measured, renderMarkdown, table, verdict, type Section } from './lib/report.js';
import { flapping, type FlappingConfig } from './scenarios/flapping.js';
import { labScenarios, type LabConfig } from './scenarios/lab.js';
import { labDelayScenarios, type LabDelayConfig } from './scenarios/lab-delay.js';
import { latency, type LatencyConfig } from './scenarios/latency.js';
import { loopback, type LoopbackConfig } from './scenarios/loopback.js';
import { veth, type VethConfig } from './scenarios/veth.js';
import { profile, type ProfileConfig } from './scenarios/profile.js';
import { scale, type ScaleConfig } from './scenarios/scale.js';
import { scaleOut, type ScaleOutConfig } from './scenarios/scale-out.js';

export const SECTIONS = ['loopback', 'veth', 'lab', 'latency', 'scale', 'scaleout', 'flapping', 'lab-delay', 'profile'] as const;
export type SectionName = (typeof SECTIONS)[number];

export interface SuiteConfig {
  loopback: LoopbackConfig;
  veth: VethConfig;
  lab: LabConfig;
  labDelay: LabDelayConfig;
  latency: LatencyConfig;
  scale: ScaleConfig;
  scaleout: ScaleOutConfig;
  flapping: FlappingConfig;
  profile: Omit<ProfileConfig, 'dir'>;
}

export const FULL: SuiteConfig = {
  loopback: { rounds: 5, seconds: 4, warmupSeconds: 1 },
  veth: { rounds: 3, seconds: 4, warmupSeconds: 1 },
  lab: { rounds: 2, seconds: 5, outagesMs: [3000, 10_000], failoverRounds: 2, preMs: 3000, postMs: 5000 },
  labDelay: { rounds: 2, seconds: 8, sharedSeconds: 20 },
  latency: { rounds: 3, seconds: 3, warmup: 20_000, warmupSeconds: 2, lossSeconds: 6, delayA: 2, delayB: 4, loss: 0.01 },
  scale: { connectSeconds: 3, concurrency: 64, idle: [{ n: 1000 }, { n: 10_000, keepAliveS: 15 }], openSeconds: 60, settleMs: 2000, idleCpuMs: 1000, transfers: 1000, transferBytes: 64 * 1024 },
  scaleout: { clientProcesses: 2, connectSeconds: 3, concurrency: 32, transfers: 100, transferBytes: 1024 * 1024, rounds: 2, settleMs: 2000, oneWorker: true },
  flapping: { periodMs: 2000, moves: 5, preMs: 3000, postMs: 3000, rounds: 2, binMs: 10 },
  profile: { seconds: 4, connectSeconds: 3, idleConnections: 2000, idleSeconds: 3, top: 15 },
};

export const QUICK: SuiteConfig = {
  loopback: { rounds: 1, seconds: 2 },
  veth: { rounds: 1, seconds: 2 },
  lab: { rounds: 1, seconds: 3, outagesMs: [3000, 10_000], failoverRounds: 1, preMs: 2000, postMs: 4000 },
  labDelay: { rounds: 1, seconds: 4, sharedSeconds: 10 },
  latency: { rounds: 1, seconds: 1.5, warmup: 1000, lossSeconds: 3, delayA: 2, delayB: 4, loss: 0.01 },
  scale: { connectSeconds: 1, concurrency: 64, idle: [{ n: 1000 }], openSeconds: 30, settleMs: 1000, idleCpuMs: 1000, transfers: 1000, transferBytes: 16 * 1024 },
  scaleout: { clientProcesses: 2, connectSeconds: 1, concurrency: 32, transfers: 50, transferBytes: 256 * 1024, rounds: 1 },
  flapping: { periodMs: 2000, moves: 5, preMs: 2000, postMs: 2000, rounds: 1, binMs: 10 },
  profile: { seconds: 2, connectSeconds: 2, idleConnections: 1000, idleSeconds: 2, top: 15 },
};

const HERE = dirname(fileURLToPath(import.meta.url));
/** SVG names this suite writes (others in the directory are left alone). */
const OWN_SVG = /^(loopback|latency|failover|lab|scale|flapping)-.*\.svg$/;

function say(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: join(HERE, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`usage: npm run bench -- [--quick] [--only ${SECTIONS.join(',')}] [--out DIR]\n`);
    return 0;
  }
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : [...SECTIONS];
  for (const s of only) {
    if (!(SECTIONS as readonly string[]).includes(s)) {
      process.stderr.write(`bench: unknown section '${s}' (${SECTIONS.join(', ')})\n`);
      return 2;
    }
  }
  const cfg = values.quick ? QUICK : FULL;
  const out = values.out ?? join(HERE, 'results');
  mkdirSync(out, { recursive: true });
  const started = Date.now();
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  const sections: Section[] = [];
  const failures: string[] = [];
  const runSection = async (name: SectionName, fn: () => Promise<Section | Section[]>): Promise<void> => {
    if (!only.includes(name)) return;
    const t = Date.now();
    say(`${name}: running`);
    try {
      const got = await fn();
      for (const s of Array.isArray(got) ? got : [got]) {
        sections.push(s);
        if (s.skipped) say(`${s.title}: SKIPPED: ${s.skipped}`);
      }
    } catch (err) {
      const msg = (err as Error).stack ?? String(err);
      failures.push(`${name}: ${msg}`);
      say(`${name}: FAILED: ${msg}`);
    }
    say(`${name}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  };
  await runSection('loopback', () => loopback(cfg.loopback));
  await runSection('veth', () => veth(cfg.veth));
  await runSection('lab', () => labScenarios(cfg.lab));
  await runSection('latency', () => latency(cfg.latency));
  await runSection('scale', () => scale(cfg.scale));
  await runSection('scaleout', () => scaleOut(cfg.scaleout));
  await runSection('flapping', () => flapping(cfg.flapping));
  await runSection('lab-delay', () => labDelayScenarios(cfg.labDelay));
  await runSection('profile', () => profile({ ...cfg.profile, dir: join(out, 'profile') }));

  const total = (Date.now() - started) / 1000;
  const commit = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--', 'src', ':(exclude)src/cli']) !== '';
  const meta = {
    date: new Date().toISOString(),
    args: process.argv.slice(2).join(' '),
    machine: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, load average ${load} at the start; commit ${commit}${dirty ? ' with uncommitted changes in src/' : ''}; ${total.toFixed(0)} s in all.`,
  };
  // Each section records the run it came from (kept when a later --only run carries it over).
  const ranIn = `${meta.date.slice(0, 16).replace('T', ' ')} UTC, commit ${commit}${dirty ? ' (uncommitted changes in src/)' : ''}`;
  for (const s of sections) s.ranIn = ranIn;
  const all = only.length === SECTIONS.length ? sections : withCarriedOver(out, only, sections);
  // Write the plots first (latest.md links them); drop our stale ones.
  if (only.length === SECTIONS.length) for (const f of readdirSync(out)) if (OWN_SVG.test(f)) rmSync(join(out, f));
  for (const s of sections) for (const [name, svg] of Object.entries(s.svgs ?? {})) if (svg !== '') writeFileSync(join(out, name), `${svg}\n`);
  const appendix = failures.length > 0 ? ['## Scenarios that failed', '', ...failures.map((f) => `- ${f.split('\n')[0]}`)] : [];
  writeFileSync(join(out, 'latest.md'), renderMarkdown({ ...meta, date: meta.date.slice(0, 16).replace('T', ' ') + ' UTC' }, all, appendix));
  writeFileSync(
    join(out, 'latest.json'),
    `${JSON.stringify({ meta: { ...meta, config: cfg, sections: only }, sections: all.map(({ svgs, carried: _carried, ...s }) => ({ ...s, svgNames: Object.keys(svgs ?? {}) })), failures }, null, 1)}\n`,
  );
  // The targets, on stdout.
  const rows = sections.flatMap((s) => s.figures.filter((f) => f.target).map((f) => [s.id, f.name, measured(f), f.target!.text, verdict(f.target!.pass)]));
  process.stdout.write(`${table(['section', 'figure', 'measured', 'target', 'result'], rows)}\n`);
  for (const s of sections) if (s.skipped) process.stdout.write(`skipped ${s.title}: ${s.skipped}\n`);
  say(`wrote ${relative(process.cwd(), join(out, 'latest.md'))} and latest.json in ${total.toFixed(0)} s`);
  return failures.length > 0 ? 1 : 0;
}

/** Which --only name a section id belongs to ('lab-failover' → 'lab'). */
function sectionGroup(id: string): string {
  if (id === 'lab-flapping') return 'flapping';
  if (id === 'lab-hetero' || id === 'lab-lossy' || id === 'lab-shared') return 'lab-delay';
  return SECTIONS.find((n) => id === n || id.startsWith(`${n}-`)) ?? id;
}

/**
 * A partial run (--only): the sections just measured, and every other
 * section of the latest.json already in `out`, in suite order. A carried
 * section keeps the note of the run it came from and its plots (names from
 * latest.json, or from the old latest.md for files written before names
 * were recorded).
 */
function withCarriedOver(out: string, only: string[], fresh: Section[]): Section[] {
  const jsonPath = join(out, 'latest.json');
  if (!existsSync(jsonPath)) return fresh;
  let old: { meta?: { date?: string; machine?: string }; sections?: Array<Section & { svgNames?: string[] }> };
  try {
    old = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch {
    return fresh;
  }
  const oldMd = existsSync(join(out, 'latest.md')) ? readFileSync(join(out, 'latest.md'), 'utf8') : '';
  const plotsInMd = (title: string): string[] => {
    const start = oldMd.indexOf(`\n## ${title}\n`);
    if (start < 0) return [];
    const end = oldMd.indexOf('\n## ', start + 4);
    return [...oldMd.slice(start, end < 0 ? undefined : end).matchAll(/^!\[([^\]]+)\]\(/gm)].map((m) => m[1]!);
  };
  const oldRun = old.meta?.date ? `${old.meta.date.slice(0, 16).replace('T', ' ')} UTC${/commit (\w+)/.exec(old.meta.machine ?? '') ? `, commit ${/commit (\w+)/.exec(old.meta.machine ?? '')![1]}` : ''}` : 'an earlier run';
  const carried = (old.sections ?? [])
    .filter((s) => !only.includes(sectionGroup(s.id)) && !fresh.some((f) => f.id === s.id))
    .map(({ svgNames, ...s }) => ({
      ...s,
      ranIn: s.ranIn ?? oldRun,
      carried: true,
      // Names only: the files are already in `out` and are not rewritten.
      svgs: Object.fromEntries((svgNames ?? plotsInMd(s.title)).map((n) => [n, ''])),
    }));
  const order = (s: Section): number => SECTIONS.indexOf(sectionGroup(s.id) as SectionName);
  return [...carried, ...fresh].sort((a, b) => order(a) - order(b) || 0);
}

/** True when this module is the program. */
function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
