/**
 * Where the CPU goes: `node --cpu-prof` on both processes of a loopback
 * bulk upload (one path) and of the handshake test, then self time per
 * function and per module from the .cpuprofile files (V8's format: nodes
 * with call frames, samples and time deltas). The profiles are kept in
 * bench/results/profile/ (not committed: *.cpuprofile is ignored).
 */
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fmt, table, type Section } from '../lib/report.js';
import { freePort, runClientRole, sleep, spawnBench, startServer, stopServer } from '../../lab/harness/bench-roles.js';
import { REPO } from '../../lab/harness/process.js';

export interface ProfileConfig {
  /** Seconds of bulk upload. */
  seconds: number;
  /** Seconds of handshakes. */
  connectSeconds: number;
  /** Idle server: connections held, and the seconds its CPU is sampled while they idle. */
  idleConnections: number;
  idleSeconds: number;
  /** Where the .cpuprofile files go. */
  dir: string;
  /** Functions listed per profile. */
  top: number;
}

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  /** Share of the busy (non-idle) time, 0..1. */
  share: number;
}

export interface ProfileSummary {
  label: string;
  file: string;
  /** Sampled time (ms) and the busy part of it. */
  totalMs: number;
  busyMs: number;
  functions: SelfTime[];
  modules: SelfTime[];
}

/** Where a call frame lives, short: src/core/send.ts, node:internal/..., (native). */
function where(url: string): string {
  if (url === '') return '(native)';
  if (url.startsWith('file://')) {
    const p = relative(REPO, decodeURIComponent(url.slice('file://'.length)));
    return p.startsWith('node_modules/') ? p.split('/').slice(0, 2).join('/') : p;
  }
  return url;
}

/** Self time per function and per module of one profile. */
export function summarizeProfile(label: string, file: string, top: number): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  // timeDeltas[i] is the time since the previous sample: it belongs to the sample before.
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt);
  }
  const fn = new Map<string, SelfTime>();
  const mod = new Map<string, SelfTime>();
  let total = 0;
  let idle = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id);
    if (!n) continue;
    total += ms;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += ms;
      continue;
    }
    const w = where(n.callFrame.url);
    const key = `${name}@${w}:${n.callFrame.lineNumber}`;
    // tsx's transpiled modules put everything on line 1: a file name says more than ":1" there.
    const line = n.callFrame.url && n.callFrame.lineNumber > 0 ? `:${n.callFrame.lineNumber + 1}` : '';
    const e = fn.get(key) ?? { name, where: `${w}${line}`, ms: 0, share: 0 };
    e.ms += ms;
    fn.set(key, e);
    // Native frames ((program), (garbage collector), builtins) have no file: they are their own module.
    const mkey = n.callFrame.url ? w : name;
    const m = mod.get(mkey) ?? { name: mkey, where: '', ms: 0, share: 0 };
    m.ms += ms;
    mod.set(mkey, m);
  }
  const busy = total - idle;
  const rank = (xs: Iterable<SelfTime>): SelfTime[] =>
    [...xs]
      .map((x) => ({ ...x, share: busy > 0 ? x.ms / busy : 0 }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top);
  return { label, file: relative(REPO, file), totalMs: total, busyMs: busy, functions: rank(fn.values()), modules: rank(mod.values()) };
}

/**
 * The main thread's profile of one process: every thread writes its own
 * (tsx's loader runs in a worker), and the main thread is the busiest.
 */
function mainThreadProfile(label: string, dir: string, top: number): ProfileSummary {
  const files = readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  const all = files.map((f) => summarizeProfile(label, join(dir, f), top));
  return all.sort((a, b) => b.busyMs - a.busyMs)[0]!;
}

export async function profile(cfg: ProfileConfig): Promise<Section> {
  const t0 = Date.now();
  rmSync(cfg.dir, { recursive: true, force: true });
  mkdirSync(cfg.dir, { recursive: true });
  const flags = (name: string): string[] => ['--cpu-prof', '--cpu-prof-dir', join(cfg.dir, name)];
  const runs: { label: string; server: string; client: string; args: string[] }[] = [
    { label: 'bulk', server: 'bulk-receiver', client: 'bulk-sender', args: ['--time', String(cfg.seconds)] },
    { label: 'handshakes', server: 'handshake-server', client: 'handshake-client', args: ['--mode', 'connect', '--time', String(cfg.connectSeconds)] },
  ];
  const result: Record<string, unknown>[] = [];
  for (const r of runs) {
    const port = await freePort();
    const server = await startServer(['--port', String(port), '--address', '127.0.0.1', '--transport', 'mpudp'], { nodeFlags: flags(r.server) });
    try {
      const res = await runClientRole(['127.0.0.1', '--local', '127.0.0.1', '--port', String(port), '--interval', '0', ...r.args], {
        nodeFlags: flags(r.client),
        timeoutMs: 120_000,
      });
      result.push({ label: r.label, mbps: Number(res.bps) / 1e6, perSecond: res.perSecond });
    } finally {
      await stopServer(server);
    }
  }
  // The idle server: its CPU sampled (node:inspector) only while the held connections idle.
  {
    const port = await freePort();
    const server = await startServer(['--port', String(port), '--address', '127.0.0.1', '--transport', 'mpudp']);
    const holder = spawnBench(['client', '127.0.0.1', '--local', '127.0.0.1', '--port', String(port), '--mode', 'hold', '--connections', String(cfg.idleConnections), '--time', '60', '--interval', '0'], {
      name: 'idle holder',
    });
    try {
      const held = await holder.waitFor((r) => r.type === 'held' || r.type === 'error', 120_000, 'held');
      if (held.type === 'error') throw new Error(`hold client failed: ${String(held.message)}`);
      await sleep(1000);
      mkdirSync(join(cfg.dir, 'idle-server'), { recursive: true });
      let from = server.reports.length;
      server.send('profile-start');
      await server.waitFor((r) => r.type === 'profiling', 10_000, 'profiling', from);
      await sleep(cfg.idleSeconds * 1000);
      from = server.reports.length;
      server.send(`profile-stop ${join(cfg.dir, 'idle-server', 'idle.cpuprofile')}`);
      await server.waitFor((r) => r.type === 'profiled', 20_000, 'profiled', from);
      result.push({ label: 'idle', connections: held.connections });
      holder.send('stop');
      await holder.waitFor((r) => r.type === 'result', 60_000, 'result');
    } finally {
      await holder.kill();
      await stopServer(server);
    }
  }
  const summaries = [
    mainThreadProfile('bulk sender (client)', join(cfg.dir, 'bulk-sender'), cfg.top),
    mainThreadProfile('bulk receiver (server)', join(cfg.dir, 'bulk-receiver'), cfg.top),
    mainThreadProfile('handshake client', join(cfg.dir, 'handshake-client'), cfg.top),
    mainThreadProfile('handshake server', join(cfg.dir, 'handshake-server'), cfg.top),
    mainThreadProfile(`idle server (${cfg.idleConnections} connections, keep-alive every 1 s; ${cfg.idleSeconds} s window)`, join(cfg.dir, 'idle-server'), cfg.top),
  ];
  const extra: string[] = [];
  for (const s of summaries) {
    extra.push(`**${s.label}** (\`${s.file}\`, ${fmt(s.busyMs / 1000)} s busy of ${fmt(s.totalMs / 1000)} s sampled). Top functions by self time:`);
    extra.push(table(['function', 'where', 'self ms', '% of busy'], s.functions.map((f) => [`\`${f.name}\``, f.where, fmt(f.ms), `${fmt(100 * f.share)} %`]), ['l', 'l', 'r', 'r']));
    extra.push('By module:');
    extra.push(table(['module', 'self ms', '% of busy'], s.modules.slice(0, 10).map((m) => [m.name, fmt(m.ms), `${fmt(100 * m.share)} %`]), ['l', 'r', 'r']));
  }
  return {
    id: 'profile',
    title: 'CPU profile of the hot path',
    method:
      `\`node --cpu-prof\` on both processes: a ${cfg.seconds} s loopback bulk upload over one path (${result[0] ? fmt(Number(result[0].mbps)) : '–'} Mbit/s while profiled) and ${cfg.connectSeconds} s of handshakes (${result[1] ? fmt(Number(result[1].perSecond)) : '–'}/s while profiled); their whole life is sampled, start-up included. ` +
      `And a server holding ${cfg.idleConnections} idle mpudp connections, sampled (V8's profiler through node:inspector, \`profile-start\`/\`profile-stop\` on the bench server's stdin) only during ${cfg.idleSeconds} s of idling. ` +
      'Self time per function, as a share of the time the process was not idle.',
    figures: [],
    extra,
    raw: { config: cfg, runs: result, summaries },
    ms: Date.now() - t0,
  };
}
