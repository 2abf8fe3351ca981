/**
 * Issue #11's second place for the bulk ratio: one unshaped veth path with
 * MTU 1500 between two namespaces (ISP A of the lab, lab/harness/lab.sh,
 * with its tbf taken off both ends). The same rounds as the loopback
 * section's one-path figures: a raw node:dgram blast of 1472-byte
 * datagrams (the veth MTU's UDP payload), the same blast sealed with
 * mpudp's AEAD, Node's TCP, and mpudp over one path, which starts at 1200
 * bytes and must reach 1472 by its own path MTU discovery (no
 * --max-datagram here: the default ceiling). Sender in the client
 * namespace, receiver in the server's.
 *
 * Needs root, ip, tc and nft, like the lab; otherwise the section says why
 * it was skipped.
 */
import { labDown, labUp, type Lab } from '../../lab/harness/netns.js';
import { missingForLab } from '../../lab/harness/requirements.js';
import { run, runClientRole, startServer, stopServer } from '../../lab/harness/bench-roles.js';
import type { RoleProcess } from '../../lab/harness/process.js';
import { fmt, table, type Figure, type Section } from '../lib/report.js';
import { median, ratio } from '../lib/stats.js';
import { CLIENT, PORT, SERVER } from './lab-setup.js';
import { LABEL, args, cpuTable, perRoundRatios, reduce, roundsRange, warmUp, type BulkRun, type Kind } from './loopback.js';

export interface VethConfig {
  /** Rounds of (raw dgram, sealed dgram, TCP, mpudp 1 path). */
  rounds: number;
  /** Seconds each transfer sends. */
  seconds: number;
  /** Seconds of the one unmeasured transfer of each kind before the rounds (loopback.ts warmUp; 0: none). */
  warmupSeconds?: number;
  /** Namespace prefix (default mpudp-v<pid>). */
  prefix?: string;
}

const KINDS: Kind[] = ['udp', 'udpSealed', 'tcp', 'mpudp1'];

/** One transfer, with the datagram size mpudp's path reached (mpudp only). */
export type VethRun = BulkRun & { mtu?: number };

export async function veth(cfg: VethConfig): Promise<Section> {
  const t0 = Date.now();
  const missing = missingForLab();
  if (missing.length > 0) return { id: 'veth', title: TITLE, skipped: `the veth path needs ${missing.join(', ')}`, method: '', figures: [], raw: { skipped: true } };
  let lab: Lab | undefined;
  let server: RoleProcess | undefined;
  const runs: VethRun[] = [];
  try {
    lab = await labUp({ prefix: cfg.prefix ?? `mpudp-v${process.pid}` });
    // Unshaped: ISP A's tbf off on both ends (the veth's default qdisc takes over).
    for (const ns of [lab.cli, lab.srv]) run('tc', ['-n', ns, 'qdisc', 'del', 'dev', 'isp-a', 'root']);
    server = await startServer(['--port', String(PORT), '--address', SERVER.a, '--no-advertise'], { ns: lab.srv });
    await warmUp(KINDS, cfg.warmupSeconds ?? 0, (kind) => args(kind, PORT, cfg.warmupSeconds ?? 0, SERVER.a, CLIENT.a), { ns: lab.cli });
    for (let round = 0; round < cfg.rounds; round++) {
      for (const kind of KINDS) {
        const r = await runClientRole(args(kind, PORT, cfg.seconds, SERVER.a, CLIENT.a), { ns: lab.cli, timeoutMs: cfg.seconds * 1000 + 60_000, name: `${LABEL[kind]} client` });
        const one: VethRun = reduce(kind, round, r);
        const paths = r.paths as { mtu?: number }[] | null;
        if (kind === 'mpudp1' && paths?.[0]?.mtu !== undefined) one.mtu = paths[0].mtu;
        runs.push(one);
      }
    }
  } finally {
    await stopServer(server);
    await labDown(lab).catch(() => {});
  }
  return summarizeVeth(cfg, runs, Date.now() - t0);
}

const TITLE = '1b. One unshaped veth path, MTU 1500';

export function summarizeVeth(cfg: VethConfig, runs: VethRun[], ms: number): Section {
  const of = (k: Kind): VethRun[] => runs.filter((r) => r.kind === k);
  const med = (k: Kind, f: (r: VethRun) => number): number => median(of(k).map(f));
  const rounds = [...new Set(runs.map((r) => r.round))];
  const get = (k: Kind, round: number): VethRun | undefined => runs.find((r) => r.kind === k && r.round === round);
  const range = roundsRange;
  const rSealed = perRoundRatios(runs, 'mpudp1', 'udpSealed');
  const rUdp = perRoundRatios(runs, 'mpudp1', 'udp');
  const sealed = median(rSealed);
  const mtus = of('mpudp1').map((r) => r.mtu ?? NaN);
  const figures: Figure[] = [
    {
      name: 'goodput, 1 path ÷ sealed raw dgram (1472-byte datagrams, same AEAD)',
      value: med('mpudp1', (r) => r.mbps),
      unit: 'Mbit/s',
      baseline: { name: 'sealed raw dgram blast', value: med('udpSealed', (r) => r.mbps) },
      ratio: sealed,
      target: { text: '≥ 0.75 (issue #11, on a veth with MTU 1500)', on: 'ratio', pass: Number.isFinite(sealed) ? sealed >= 0.75 : null },
      note: `${range(rSealed)}; datagram size mpudp reached: ${mtus.map((m) => fmt(m)).join(', ')} bytes`,
    },
    {
      name: 'goodput, 1 path ÷ raw dgram (1472-byte datagrams)',
      value: med('mpudp1', (r) => r.mbps),
      unit: 'Mbit/s',
      baseline: { name: 'raw dgram blast', value: med('udp', (r) => r.mbps) },
      ratio: median(rUdp),
      note: `${range(rUdp)}; the sealed blast reaches ${fmt(ratio(med('udpSealed', (r) => r.mbps), med('udp', (r) => r.mbps)))} of the plain one`,
    },
    {
      name: 'CPU s per GB (sender + receiver), 1 path',
      value: med('mpudp1', (r) => r.cpuPerGB),
      unit: 's/GB',
      baseline: { name: 'sealed raw dgram', value: med('udpSealed', (r) => r.cpuPerGB) },
      ratio: ratio(med('mpudp1', (r) => r.cpuPerGB), med('udpSealed', (r) => r.cpuPerGB)),
      note: `raw dgram: ${fmt(med('udp', (r) => r.cpuPerGB))} s/GB; Node TCP: ${fmt(med('tcp', (r) => r.cpuPerGB))} s/GB (${fmt(med('tcp', (r) => r.mbps))} Mbit/s)`,
    },
  ];
  const detail = table(
    ['round', ...KINDS.map((k) => `${LABEL[k]} Mbit/s`), 'mpudp datagram size', 'mpudp 1 ÷ sealed', 'dgram loss'],
    rounds.map((round) => [
      round + 1,
      ...KINDS.map((k) => fmt(get(k, round)?.mbps)),
      fmt(get('mpudp1', round)?.mtu),
      fmt(ratio(get('mpudp1', round)?.mbps, get('udpSealed', round)?.mbps)),
      get('udp', round)?.lossRate !== undefined ? `${fmt(100 * get('udp', round)!.lossRate!)} %` : '–',
    ]),
    ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
  const cpu = cpuTable(runs, KINDS);
  return {
    id: 'veth',
    title: TITLE,
    method:
      `Two namespaces joined by one veth pair with MTU 1500 and no qdisc shaping (the lab's ISP A, lab/harness/lab.sh, its tbf removed on both ends); sender (\`mpudp bench client\`) in one, receiver in the other; ${cfg.warmupSeconds ? `after one unmeasured ${cfg.warmupSeconds} s transfer of each kind (the server's warm-up), ` : ''}${cfg.rounds} round(s), each sending for ${cfg.seconds} s with raw dgram, sealed raw dgram, Node TCP and mpudp over one path, in that order. ` +
      'Both blasts send 1472-byte datagrams (the MTU\'s UDP payload); the sealed one seals each with AES-128-GCM, mpudp\'s default protection, and the receiver opens it. mpudp starts at 1200 bytes and reaches the MTU by its path MTU discovery (the size reached is in the table). Ratios are the median of per-round ratios; CPU is user + system time of both processes during the transfer.',
    figures,
    extra: ['Per round:', detail, 'CPU (medians):', cpu],
    raw: { config: cfg, runs },
    ms,
  };
}
