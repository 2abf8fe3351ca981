/**
 * Issue #6, parts 1 and 2: bulk goodput on loopback, sender and receiver in
 * separate processes (`mpudp bench` client and server), beside a raw
 * `node:dgram` blast (1472-byte datagrams, the size mpudp's path MTU discovery reaches on loopback; 4 MiB buffers) and Node's TCP,
 * in rounds that interleave the transports so drift on the shared machine
 * hits them all alike. Also CPU seconds per GB (sender + receiver) and,
 * with two loopback paths (127.0.0.1 and 127.0.0.2), the aggregate and each
 * path's share.
 */
import { fmt, table, type Figure, type Section } from '../lib/report.js';
import { freePort, runClientRole, startServer, stopServer } from '../../lab/harness/bench-roles.js';
import type { Report } from '../../lab/harness/process.js';
import { max, median, min, ratio } from '../lib/stats.js';
import { barChart } from '../lib/svg.js';

export interface LoopbackConfig {
  /** Rounds of (udp, tcp, mpudp 1 path, mpudp 2 paths). */
  rounds: number;
  /** Seconds each transfer sends. */
  seconds: number;
  /** Seconds of the one unmeasured transfer of each kind before the rounds (0: none). */
  warmupSeconds?: number;
}

/**
 * One unmeasured transfer of each kind, so that the long-lived server's JIT
 * has compiled every transport's receive path before the measured rounds,
 * as it has in a server that has run for a while. Without it the first
 * round measured mpudp's cold server: 728–848 Mbit/s against 900–992 in
 * the rounds after it, in three runs of 2026-12-04 (docs/bench.md).
 */
export async function warmUp(kinds: readonly Kind[], seconds: number, clientArgs: (kind: Kind) => string[], opts: { ns?: string } = {}): Promise<void> {
  if (seconds <= 0) return;
  for (const kind of kinds) await runClientRole(clientArgs(kind), { ...opts, timeoutMs: seconds * 1000 + 60_000, name: `${LABEL[kind]} warm-up client` });
}

export type Kind = 'udp' | 'udpSealed' | 'tcp' | 'mpudp1' | 'mpudp2';
const KINDS: Kind[] = ['udp', 'udpSealed', 'tcp', 'mpudp1', 'mpudp2'];
export const LABEL: Record<Kind, string> = { udp: 'raw dgram', udpSealed: 'sealed raw dgram', tcp: 'Node TCP', mpudp1: 'mpudp 1 path', mpudp2: 'mpudp 2 paths' };

/** One transfer, reduced. */
export interface BulkRun {
  kind: Kind;
  round: number;
  mbps: number;
  bytes: number;
  /** Sender + receiver CPU seconds per GB delivered. */
  cpuPerGB: number;
  senderCpu: number;
  receiverCpu: number;
  /** mpudp 2 paths: each path's share of the stream bytes first sent. */
  shares?: number[];
  /** raw udp: datagrams lost (sent but not received). */
  lossRate?: number;
}

/** A client's arguments; one-path kinds go from `local` to `host` (the loopback by default, a veth's ends in veth.ts). */
export function args(kind: Kind, port: number, seconds: number, host = '127.0.0.1', local = host): string[] {
  const common = ['--port', String(port), '--time', String(seconds), '--interval', '1'];
  switch (kind) {
    case 'udp':
      return [host, '--transport', 'udp', '--local', local, '--datagram', '1472', ...common];
    case 'udpSealed':
      return [host, '--transport', 'udp', '--local', local, '--datagram', '1472', '--seal', 'aes-128-gcm', ...common];
    case 'tcp':
      return [host, '--transport', 'tcp', ...common];
    case 'mpudp1':
      return [host, '--local', local, ...common];
    case 'mpudp2':
      return ['127.0.0.1,127.0.0.2', '--local', '127.0.0.1,127.0.0.2', '--paired', ...common];
  }
}

export function reduce(kind: Kind, round: number, r: Report): BulkRun {
  const bytes = Number(r.bytes);
  const senderCpu = Number(r.cpuSeconds);
  const receiverCpu = Number(r.receiverCpuSeconds ?? NaN);
  const run: BulkRun = {
    kind,
    round,
    mbps: Number(r.bps) / 1e6,
    bytes,
    cpuPerGB: (senderCpu + receiverCpu) / (bytes / 1e9),
    senderCpu,
    receiverCpu,
  };
  if (kind === 'udp' || kind === 'udpSealed') run.lossRate = Number(r.lossRate);
  const paths = r.paths as { dataBytesSent: number }[] | null;
  if (kind === 'mpudp2' && paths) {
    const total = paths.reduce((a, p) => a + p.dataBytesSent, 0);
    run.shares = paths.map((p) => (total > 0 ? p.dataBytesSent / total : 0));
  }
  return run;
}

export async function loopback(cfg: LoopbackConfig): Promise<Section> {
  const t0 = Date.now();
  const port = await freePort(['127.0.0.1', '127.0.0.2']);
  // One server for every transport; mpudp on both loopback addresses, without
  // advertising them (the 1-path client must stay on one path).
  const server = await startServer(['--port', String(port), '--address', '127.0.0.1,127.0.0.2', '--no-advertise']);
  const runs: BulkRun[] = [];
  try {
    await warmUp(KINDS, cfg.warmupSeconds ?? 0, (kind) => args(kind, port, cfg.warmupSeconds ?? 0));
    for (let round = 0; round < cfg.rounds; round++) {
      for (const kind of KINDS) {
        const r = await runClientRole(args(kind, port, cfg.seconds), { timeoutMs: cfg.seconds * 1000 + 60_000 });
        runs.push(reduce(kind, round, r));
      }
    }
  } finally {
    await stopServer(server);
  }
  return summarize(cfg, runs, Date.now() - t0);
}

/** Per round, `a`'s goodput ÷ `b`'s. */
export function perRoundRatios(runs: BulkRun[], a: Kind, b: Kind): number[] {
  return [...new Set(runs.map((r) => r.round))].map((round) => ratio(runs.find((r) => r.kind === a && r.round === round)?.mbps, runs.find((r) => r.kind === b && r.round === round)?.mbps));
}

/** "range x–y over n rounds" (or "1 round") for per-round ratios. */
export function roundsRange(xs: number[]): string {
  return xs.length > 1 ? `range ${fmt(min(xs))}–${fmt(max(xs))} over ${xs.length} rounds` : '1 round';
}

/** The table of median CPU seconds per transport (both processes). */
export function cpuTable(runs: BulkRun[], kinds: Kind[]): string {
  const med = (k: Kind, f: (r: BulkRun) => number): number => median(runs.filter((r) => r.kind === k).map(f));
  return table(
    ['transport', 'sender CPU s', 'receiver CPU s', 'GB delivered', 'CPU s per GB'],
    kinds.map((k) => [LABEL[k], fmt(med(k, (r) => r.senderCpu)), fmt(med(k, (r) => r.receiverCpu)), fmt(med(k, (r) => r.bytes / 1e9)), fmt(med(k, (r) => r.cpuPerGB))]),
    ['l', 'r', 'r', 'r', 'r'],
  );
}

export function summarize(cfg: LoopbackConfig, runs: BulkRun[], ms: number): Section {
  const of = (k: Kind): BulkRun[] => runs.filter((r) => r.kind === k);
  const med = (k: Kind, f: (r: BulkRun) => number): number => median(of(k).map(f));
  const perRound = (a: Kind, b: Kind): number[] => perRoundRatios(runs, a, b);
  const range = roundsRange;
  const rUdp1 = perRound('mpudp1', 'udp');
  const rTcp1 = perRound('mpudp1', 'tcp');
  const rSealed1 = perRound('mpudp1', 'udpSealed');
  const sealed1 = median(rSealed1);
  const rUdp2 = perRound('mpudp2', 'udp');
  const target1 = median(rUdp1);
  const shares = of('mpudp2').map((r) => r.shares ?? []);
  const shareText = [0, 1].map((i) => `path ${i}: ${fmt(100 * median(shares.map((s) => s[i] ?? NaN)))} %`).join(', ');
  const figures: Figure[] = [
    {
      name: 'goodput, 1 path ÷ raw dgram',
      value: med('mpudp1', (r) => r.mbps),
      unit: 'Mbit/s',
      baseline: { name: 'raw dgram blast', value: med('udp', (r) => r.mbps) },
      ratio: target1,
      target: { text: '≥ 0.75 (utp-native 0.64, werift-sctp 0.10, @matrixai/quic 0.007)', on: 'ratio', pass: Number.isFinite(target1) ? target1 >= 0.75 : null },
      note: range(rUdp1),
    },
    {
      name: 'goodput, 1 path ÷ sealed raw dgram (same AEAD per datagram)',
      value: med('mpudp1', (r) => r.mbps),
      unit: 'Mbit/s',
      baseline: { name: 'sealed raw dgram blast', value: med('udpSealed', (r) => r.mbps) },
      ratio: sealed1,
      target: { text: '≥ 0.75 (issues #9, #11)', on: 'ratio', pass: Number.isFinite(sealed1) ? sealed1 >= 0.75 : null },
      note: `${range(rSealed1)}; the sealed blast reaches ${fmt(ratio(med('udpSealed', (r) => r.mbps), med('udp', (r) => r.mbps)))} of the plain one`,
    },
    {
      name: 'goodput, 1 path ÷ Node TCP',
      value: med('mpudp1', (r) => r.mbps),
      unit: 'Mbit/s',
      baseline: { name: 'Node TCP', value: med('tcp', (r) => r.mbps) },
      ratio: median(rTcp1),
      note: range(rTcp1),
    },
    {
      name: 'CPU s per GB (sender + receiver), 1 path',
      value: med('mpudp1', (r) => r.cpuPerGB),
      unit: 's/GB',
      baseline: { name: 'raw dgram', value: med('udp', (r) => r.cpuPerGB) },
      ratio: ratio(med('mpudp1', (r) => r.cpuPerGB), med('udp', (r) => r.cpuPerGB)),
      note: `sealed raw dgram: ${fmt(med('udpSealed', (r) => r.cpuPerGB))} s/GB; Node TCP: ${fmt(med('tcp', (r) => r.cpuPerGB))} s/GB`,
    },
    {
      name: 'goodput, 2 paths (aggregate) ÷ raw dgram',
      value: med('mpudp2', (r) => r.mbps),
      unit: 'Mbit/s',
      baseline: { name: 'raw dgram blast', value: med('udp', (r) => r.mbps) },
      ratio: median(rUdp2),
      note: `${range(rUdp2)}; shares ${shareText}`,
    },
  ];
  const detail = table(
    ['round', 'raw dgram Mbit/s', 'sealed dgram Mbit/s', 'Node TCP Mbit/s', 'mpudp 1 path Mbit/s', 'mpudp 2 paths Mbit/s (shares)', 'mpudp 1 ÷ dgram', 'mpudp 1 ÷ sealed', 'dgram loss'],
    [...new Set(runs.map((r) => r.round))].map((round) => {
      const get = (k: Kind): BulkRun | undefined => runs.find((r) => r.kind === k && r.round === round);
      return [
        round + 1,
        fmt(get('udp')?.mbps),
        fmt(get('udpSealed')?.mbps),
        fmt(get('tcp')?.mbps),
        fmt(get('mpudp1')?.mbps),
        `${fmt(get('mpudp2')?.mbps)} (${(get('mpudp2')?.shares ?? []).map((s) => `${fmt(100 * s)} %`).join(' / ')})`,
        fmt(ratio(get('mpudp1')?.mbps, get('udp')?.mbps)),
        fmt(ratio(get('mpudp1')?.mbps, get('udpSealed')?.mbps)),
        get('udp')?.lossRate !== undefined ? `${fmt(100 * get('udp')!.lossRate!)} %` : '–',
      ];
    }),
    ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
  const cpu = cpuTable(runs, KINDS);
  const svg = barChart({
    title: `Loopback bulk goodput (median of ${cfg.rounds} round${cfg.rounds > 1 ? 's' : ''}, ${cfg.seconds} s each)`,
    yLabel: 'Mbit/s',
    groups: [
      {
        label: 'goodput, sender and receiver in separate processes',
        bars: KINDS.map((k) => ({ label: LABEL[k], value: med(k, (r) => r.mbps), text: `${fmt(med(k, (r) => r.mbps))}` })),
      },
    ],
    lines: [{ value: 0.75 * med('udp', (r) => r.mbps), label: 'target: 0.75 × raw dgram' }],
  });
  return {
    id: 'loopback',
    title: '1–2. Loopback bulk: one path and two paths',
    method:
      `Sender (\`mpudp bench client\`) and receiver (\`mpudp bench server\`) in separate processes on loopback; ${cfg.warmupSeconds ? `after one unmeasured ${cfg.warmupSeconds} s transfer of each kind (the server's warm-up), ` : ''}${cfg.rounds} round(s), each sending for ${cfg.seconds} s with raw dgram, sealed raw dgram, Node TCP, mpudp over one path (127.0.0.1) and mpudp over two paths (127.0.0.1 and 127.0.0.2 to the same two addresses, paired), in that order. ` +
      'Goodput is what the receiving application got, from its first byte to its last. The raw dgram baseline blasts 1472-byte datagrams from one process to another with 4 MiB socket buffers, no reliability and no congestion control; its goodput is what arrived. The sealed blast does the same, but seals each datagram (into a new buffer) with AES-128-GCM, mpudp\'s default packet protection, and the receiver opens it: the ceiling for a protected transport. ' +
      'mpudp starts each path at 1200-byte datagrams and reaches 1472 by path MTU discovery (its default ceiling) within a round trip. Ratios are the median of per-round ratios; CPU is user + system time of both processes during the transfer.',
    figures,
    extra: ['Per round:', detail, 'CPU (medians):', cpu],
    svgs: { 'loopback-goodput.svg': svg },
    raw: { config: cfg, runs },
    ms,
  };
}
