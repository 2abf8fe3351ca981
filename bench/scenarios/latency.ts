/**
 * Issue #6, part 5: latency of 1 KiB request/response round trips
 * (`mpudp bench client --mode rr`), p50 and p99.
 *
 * - Loopback: mpudp ÷ Node TCP, and ÷ the raw node:dgram floor (a
 *   ping-pong of 1 KiB datagrams, plain and sealed with AES-128-GCM per
 *   datagram as mpudp seals its packets: src/cli/bench/udp-rr.ts), client
 *   and server in separate processes, interleaved rounds.
 * - Under 1 % loss: two emulated ISPs (lab/emulator, in this process) in
 *   front of the server, one path through each, 1 % random loss in both
 *   directions on both; `min-rtt` and `redundant` (scheduler on both ends),
 *   each beside the same two emulated ISPs without loss.
 */
import { IspEmulator } from '../../lab/emulator/index.js';
import { fmt, table, type Figure, type Section } from '../lib/report.js';
import { freePort, runClientRole, startServer, stopServer } from '../../lab/harness/bench-roles.js';
import type { Report } from '../../lab/harness/process.js';
import { max, median, min, ratio } from '../lib/stats.js';
import { barChart } from '../lib/svg.js';

export interface LatencyConfig {
  /** Loopback rounds (each: dgram, sealed dgram, TCP, then mpudp). */
  rounds: number;
  /** Seconds of round trips per loopback run. */
  seconds: number;
  /** Loopback round trips not measured (JIT warm-up). */
  warmup: number;
  /**
   * Seconds added to each loopback run for its warm-up round trips (a
   * run's time counts them), so that about `seconds` are measured.
   */
  warmupSeconds?: number;
  /** Seconds of round trips per emulated run. */
  lossSeconds: number;
  /** One-way delay of emulated ISP A and B (ms). */
  delayA: number;
  delayB: number;
  /** Loss rate of each emulated ISP, each direction. */
  loss: number;
  /**
   * Measured round trips per run instead of a time: each run stops after
   * this many (the seconds above are then only a cap). The tiny run in
   * `npm test` uses it, so a loaded machine gives it fewer round trips per
   * second, never none.
   */
  count?: number;
}

export interface RrRun {
  label: string;
  round: number;
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function reduce(label: string, round: number, r: Report): RrRun {
  return { label, round, count: Number(r.count), p50: Number(r.p50Ms), p90: Number(r.p90Ms), p99: Number(r.p99Ms), max: Number(r.maxMs) };
}

const rrArgs = (seconds: number, warmup: number, count: number | undefined): string[] => [
  ...['--mode', 'rr', '--size', '1024', '--time', String(seconds), '--warmup', String(warmup), '--interval', '1'],
  ...(count === undefined ? [] : ['--count', String(count)]),
];

/** The loopback runs of each round, in order: the two dgram floors, Node TCP, mpudp on one path. */
const LOOPBACK_KINDS = ['udp', 'udp-sealed', 'tcp', 'mpudp'] as const;
type LoopbackKind = (typeof LOOPBACK_KINDS)[number];
const LOOPBACK_ARGS: Record<LoopbackKind, string[]> = {
  udp: ['--transport', 'udp', '--local', '127.0.0.1'],
  'udp-sealed': ['--transport', 'udp', '--local', '127.0.0.1', '--seal', 'aes-128-gcm'],
  tcp: ['--transport', 'tcp'],
  mpudp: ['--transport', 'mpudp', '--local', '127.0.0.1'],
};
const LOOPBACK_NAME: Record<LoopbackKind, string> = { udp: 'dgram ping-pong', 'udp-sealed': 'sealed dgram ping-pong', tcp: 'Node TCP', mpudp: 'mpudp' };

export async function latency(cfg: LatencyConfig): Promise<Section> {
  const t0 = Date.now();
  const runs: RrRun[] = [];
  // Loopback.
  {
    const port = await freePort();
    const server = await startServer(['--port', String(port), '--address', '127.0.0.1', '--transport', 'all']);
    try {
      for (let round = 0; round < cfg.rounds; round++) {
        for (const kind of LOOPBACK_KINDS) {
          const seconds = cfg.seconds + (cfg.warmupSeconds ?? 0);
          const r = await runClientRole(['127.0.0.1', '--port', String(port), ...LOOPBACK_ARGS[kind], ...rrArgs(seconds, cfg.warmup, cfg.count)], {
            timeoutMs: seconds * 1000 + 60_000,
          });
          runs.push(reduce(`${kind}-loopback`, round, r));
        }
      }
    } finally {
      await stopServer(server);
    }
  }
  // Two emulated ISPs.
  const port = await freePort(['127.0.0.1', '127.0.0.2', '127.0.0.11', '127.0.0.12']);
  const ispA = await IspEmulator.start({ name: 'A', listen: { address: '127.0.0.11', port }, target: { address: '127.0.0.1', port }, delayMs: cfg.delayA, seed: 11 });
  const ispB = await IspEmulator.start({ name: 'B', listen: { address: '127.0.0.12', port }, target: { address: '127.0.0.2', port }, delayMs: cfg.delayB, seed: 12 });
  const emulatorDrops: Record<string, unknown> = {};
  try {
    const configs = [
      { label: 'min-rtt, no loss', scheduler: 'min-rtt', loss: 0 },
      { label: `min-rtt, ${cfg.loss * 100} % loss`, scheduler: 'min-rtt', loss: cfg.loss },
      { label: `redundant, no loss`, scheduler: 'redundant', loss: 0 },
      { label: `redundant, ${cfg.loss * 100} % loss`, scheduler: 'redundant', loss: cfg.loss },
    ];
    for (const c of configs) {
      ispA.set({ lossRate: c.loss });
      ispB.set({ lossRate: c.loss });
      const server = await startServer(['--port', String(port), '--address', '127.0.0.1,127.0.0.2', '--transport', 'mpudp', '--no-advertise', '--scheduler', c.scheduler]);
      const before = { a: ispA.stats(), b: ispB.stats() };
      try {
        const r = await runClientRole(
          ['127.0.0.11,127.0.0.12', '--port', String(port), '--local', '127.0.0.1,127.0.0.2', '--paired', '--scheduler', c.scheduler, ...rrArgs(cfg.lossSeconds, cfg.count === undefined ? 50 : cfg.warmup, cfg.count)],
          { timeoutMs: cfg.lossSeconds * 1000 + 60_000 },
        );
        runs.push(reduce(c.label, 0, r));
      } finally {
        await stopServer(server);
      }
      const lossOf = (s: ReturnType<IspEmulator['stats']>, b: ReturnType<IspEmulator['stats']>): number =>
        s.forward.drops.loss + s.reverse.drops.loss - b.forward.drops.loss - b.reverse.drops.loss;
      emulatorDrops[c.label] = { ispA: lossOf(ispA.stats(), before.a), ispB: lossOf(ispB.stats(), before.b) };
    }
  } finally {
    await ispA.close();
    await ispB.close();
  }
  return summarize(cfg, runs, emulatorDrops, Date.now() - t0);
}

export function summarize(cfg: LatencyConfig, runs: RrRun[], emulatorDrops: Record<string, unknown>, ms: number): Section {
  const of = (label: string): RrRun[] => runs.filter((r) => r.label === label);
  /** `label` ÷ Node TCP per round. */
  const perBase = (f: (r: RrRun) => number, label: string): number[] =>
    of(label).map((r) => {
      const t = of('tcp-loopback').find((x) => x.round === r.round);
      return ratio(f(r), t ? f(t) : NaN);
    });
  const med = (label: string, f: (r: RrRun) => number): number => median(of(label).map(f));
  /** mpudp ÷ `base` per round. */
  const perRound = (f: (r: RrRun) => number, base = 'tcp-loopback'): number[] =>
    [...new Set(of('mpudp-loopback').map((r) => r.round))].map((round) => {
      const b = of(base).find((r) => r.round === round);
      return ratio(f(of('mpudp-loopback').find((r) => r.round === round)!), b ? f(b) : NaN);
    });
  const range = (xs: number[]): string => (xs.length > 1 ? `range ${fmt(min(xs))}–${fmt(max(xs))} over ${xs.length} rounds` : '1 round');
  const r50 = perRound((r) => r.p50);
  const r99 = perRound((r) => r.p99);
  /** The floors: mpudp ÷ the plain and the sealed dgram ping-pong. */
  const floors = (['udp', 'udp-sealed'] as const).flatMap((kind): Figure[] =>
    (['p50', 'p99'] as const).map((p) => {
      const rs = perRound((r) => r[p], `${kind}-loopback`);
      return {
        name: `1 KiB round trip ${p}, loopback, ÷ ${LOOPBACK_NAME[kind]}`,
        value: med('mpudp-loopback', (r) => r[p]),
        unit: 'ms',
        baseline: { name: LOOPBACK_NAME[kind], value: med(`${kind}-loopback`, (r) => r[p]) },
        ratio: median(rs),
        note: `${range(rs)}; ${LOOPBACK_NAME[kind]} ÷ Node TCP: ${fmt(median(perBase((r) => r[p], `${kind}-loopback`)))}`,
      };
    }),
  );
  const lossLabel = `${cfg.loss * 100} % loss`;
  const figures: Figure[] = [
    {
      name: '1 KiB round trip p50, loopback',
      value: med('mpudp-loopback', (r) => r.p50),
      unit: 'ms',
      baseline: { name: 'Node TCP', value: med('tcp-loopback', (r) => r.p50) },
      ratio: median(r50),
      target: { text: '≤ 1.5 × TCP', on: 'ratio', pass: Number.isFinite(median(r50)) ? median(r50) <= 1.5 : null },
      note: range(r50),
    },
    {
      name: '1 KiB round trip p99, loopback',
      value: med('mpudp-loopback', (r) => r.p99),
      unit: 'ms',
      baseline: { name: 'Node TCP', value: med('tcp-loopback', (r) => r.p99) },
      ratio: median(r99),
      target: { text: '≤ 2 × TCP', on: 'ratio', pass: Number.isFinite(median(r99)) ? median(r99) <= 2 : null },
      note: range(r99),
    },
    ...floors,
  ];
  for (const s of ['min-rtt', 'redundant']) {
    for (const p of ['p50', 'p99'] as const) {
      const v = med(`${s}, ${lossLabel}`, (r) => r[p]);
      const b = med(`${s}, no loss`, (r) => r[p]);
      figures.push({
        name: `1 KiB round trip ${p}, two emulated ISPs, ${lossLabel}, ${s}`,
        value: v,
        unit: 'ms',
        baseline: { name: `${s}, same ISPs without loss`, value: b },
        ratio: ratio(v, b),
        note: `${of(`${s}, ${lossLabel}`)[0]?.count ?? 0} round trips`,
      });
    }
  }
  const detail = table(
    ['run', 'round', 'round trips', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
    runs.map((r) => [r.label, r.round + 1, r.count, fmt(r.p50), fmt(r.p90), fmt(r.p99), fmt(r.max)]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
  const labels = ['min-rtt, no loss', `min-rtt, ${lossLabel}`, 'redundant, no loss', `redundant, ${lossLabel}`];
  const svg = barChart({
    title: `1 KiB request/response through two emulated ISPs (${cfg.delayA} ms and ${cfg.delayB} ms one way)`,
    yLabel: 'ms',
    groups: labels.map((l) => ({
      label: l,
      bars: [
        { label: 'p50', value: med(l, (r) => r.p50), text: fmt(med(l, (r) => r.p50)) },
        { label: 'p99', value: med(l, (r) => r.p99), text: fmt(med(l, (r) => r.p99)) },
      ],
    })),
  });
  const svgLoop = barChart({
    title: '1 KiB request/response on loopback',
    yLabel: 'ms',
    groups: LOOPBACK_KINDS.map((kind) => ({
      label: LOOPBACK_NAME[kind],
      bars: [
        { label: 'p50', value: med(`${kind}-loopback`, (r) => r.p50), text: fmt(med(`${kind}-loopback`, (r) => r.p50)) },
        { label: 'p99', value: med(`${kind}-loopback`, (r) => r.p99), text: fmt(med(`${kind}-loopback`, (r) => r.p99)) },
      ],
    })),
  });
  return {
    id: 'latency',
    title: '5. Latency: 1 KiB request/response',
    method:
      `The client sends 1 KiB, the server echoes it, the client waits for all 1024 bytes before the next request; Nagle off for TCP. Loopback: ${cfg.rounds} round(s) of ${cfg.seconds} s each for a raw node:dgram ping-pong of 1 KiB datagrams (the floor: two processes, no protocol), the same sealed with AES-128-GCM per datagram on both ends (the floor for a protected transport), Node TCP and mpudp (one path), the first ${cfg.warmup} round trips not measured${cfg.warmupSeconds ? ` (each run lasts ${cfg.seconds + cfg.warmupSeconds} s with them): a fresh client process's JIT is still optimizing mpudp's code for about a second after its first round trips, which 2,000 did not cover (docs/bench.md)` : ''}; ratios are the median of per-round ratios. ` +
      `Emulated: two IspEmulator relays (lab/emulator) in front of the server, ISP A ${cfg.delayA} ms and ISP B ${cfg.delayB} ms one way, one mpudp path through each (paired addresses, the server does not advertise its own), ${cfg.lossSeconds} s per run; loss is random, ${cfg.loss * 100} % in each direction of each ISP; the scheduler is set on both ends.`,
    figures,
    extra: [detail, `Datagrams dropped by the emulators' loss: ${JSON.stringify(emulatorDrops)}`],
    svgs: { 'latency-loopback.svg': svgLoop, 'latency-loss.svg': svg },
    raw: { config: cfg, runs, emulatorDrops },
    ms,
  };
}
