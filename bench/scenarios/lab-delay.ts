/**
 * Issue #12 in the namespace lab, with a real delay stage (lab.sh `delay
 * up`: VXLAN tunnels through userspace ISP-emulator relays, so TCP crosses
 * the same delay as mpudp), mpudp beside kernel MP-TCP in the same run:
 *
 *  - lab-hetero: ISP A 100 Mbit/s at 10 ms RTT plus ISP B 50 Mbit/s at
 *    60 ms RTT, download and upload: goodput ÷ (A + B), target ≥ 0.95.
 *  - lab-lossy: the same with 1 % random loss on B (nftables numgen, both
 *    directions), download: target ≥ 0.85 of the sum.
 *  - lab-shared: one 100 Mbit/s bottleneck (tbf on tunnel A, at the
 *    client's ingress past the relay: `sharedQueueAt`) with a buffer
 *    of one BDP at 20 ms RTT; mpudp with two paths through it (two client
 *    addresses) against one kernel TCP Cubic flow, both downloading at
 *    once: mpudp's share of what both delivered, target ≤ 60 %. Kernel
 *    MP-TCP with two subflows through the same queue beside it.
 *
 * CPU: every run records the client's and the server's CPU seconds, the
 * relays', and how busy the whole machine was (both cores), to tell a
 * CPU-bound result from a network-bound one. The heterogeneous runs record
 * what the senders' tbf counted (bytes, packets) beside the goodput, and the
 * notes give the ceiling of goodput ÷ (A + B) those bytes allow
 * (docs/bench.md, "Issue 12: lab ceilings"). Downloads record the mpudp
 * sender's shared-bottleneck detection counters (the bench server's
 * `sender` report), and the shared runs mpudp's share in every second.
 */
import { loadavg } from 'node:os';
import type { CongestionControlName } from '../../src/core/options.js';
import type { SchedulerName } from '../../src/core/sched/index.js';
import { askStats, runClientRole, stopServer } from '../../lab/harness/bench-roles.js';
import { labDown, labUp, type Lab } from '../../lab/harness/netns.js';
import type { Report, RoleProcess } from '../../lab/harness/process.js';
import { missingForLab } from '../../lab/harness/requirements.js';
import type { Timeline } from '../../src/cli/bench/common.js';
import { fmt, table, type Figure, type Section } from '../lib/report.js';
import { cumulative, median } from '../lib/stats.js';
import {
  busyFraction,
  DELAY_PORT,
  ensureEthtool,
  machineCpu,
  qdiscSent,
  Relays,
  setupMptcpTunnels,
  startDelayServers,
  tcpCongestionControl,
  TUN,
  TUN_DATAGRAM,
} from './lab-delay-setup.js';
import { ensureMptcpize, NAME, type LabTransport } from './lab-setup.js';

export interface LabDelayConfig {
  /** Rounds of each measurement. */
  rounds: number;
  /** Transfer time of the heterogeneous and lossy runs (s). */
  seconds: number;
  /** Transfer time of the shared-bottleneck runs (s). */
  sharedSeconds: number;
  /** Namespace prefix (default mpudp-d<pid>). */
  prefix?: string;
  /** mpudp's congestion controller and scheduler on both ends (default bbr and ecf: the configuration issue #12's targets are for). */
  cc?: CongestionControlName;
  scheduler?: SchedulerName;
  /** Which measurements to run (default all); a section whose runs were left out reports none. */
  only?: Array<'hetero' | 'lossy' | 'shared'>;
  /** Run kernel MP-TCP beside mpudp (default true when mptcpize is there). */
  kernel?: boolean;
  /** mpudp's paths through the shared bottleneck (default 2; 1: what one path of the controller takes). */
  sharedPaths?: 1 | 2;
  /**
   * Where the shared bottleneck's queue is (default 'receiver'): 'receiver',
   * tbf on the client's ingress of tunnel A, past the relay, as a router's
   * queue would be; 'sender', tbf on the server's end of the tunnel, in the
   * senders' own qdisc, where Linux holds the TCP flow to its small-queue
   * budget (TSQ, about two 11 kB buffers) and mpudp's UDP to its socket
   * buffer only (the measurement before the sharelab branch).
   */
  sharedQueueAt?: 'receiver' | 'sender';
}

/** One-way delays (ms) of the heterogeneous paths, and of the shared bottleneck. */
const ONE_WAY = { a: 5, b: 30, shared: 10 };
const RATE = { a: 100e6, b: 50e6 };
/** Timeline bin (ms) and the part of each run left out at the start (ms). */
const BIN_MS = 100;
const STEADY_FROM_MS = 1000;
/**
 * The shared-bottleneck share is taken once mpudp's detection has had time
 * to find the shared queue (it needs a second of samples and two pauses half
 * a second apart: 2–5 s); the share from the first second is reported too.
 */
const SHARED_FROM_MS = 5000;

interface Run {
  /** 'hetero-half': the heterogeneous paths at half the rates (a control: is the full rate limited by CPU?). */
  scenario: 'hetero' | 'hetero-half' | 'lossy' | 'shared';
  transport: LabTransport;
  dir: 'down' | 'up';
  round: number;
  /** Goodput first to last byte, and after the first second (download), Mbit/s. */
  mbps: number;
  steadyMbps: number;
  /** Competing TCP Cubic flow (shared): its goodput and mpudp's share over the common window from SHARED_FROM_MS, and from STEADY_FROM_MS. */
  competitorMbps?: number;
  share?: number;
  shareFrom1s?: number;
  /** mpudp's share in each whole second of the common window (raw data only). */
  sharePerSecond?: number[];
  /** What the senders' tunnel qdiscs (tbf, both ISPs) sent during the run: bytes as tbf counts them, and packets; and the goodput bytes (heterogeneous runs). */
  wire?: { bytes: number; packets: number; goodputBytes: number };
  /** The mpudp sender's shared-bottleneck detection counters (stats().sharedBottleneck; raw data and the note). */
  detection?: Record<string, number> | null;
  /** The mpudp sender's losses per path (heterogeneous runs, raw data): declared, of those proven spurious (reordering), and the times its ACKs changed route (the receiver suspected a direction). */
  losses?: { id: number; lost: number; spurious: number; ackRouteChanges: number }[] | null;
  /** CPU seconds: client process, server process, relays (client side + server side); machine busy fraction (both cores). */
  clientCpu: number;
  serverCpu: number;
  relayCpu: number;
  machineBusy: number;
}

/** Losses per path from an mpudp bench path summary (src/cli/bench/paths.ts), or null without one. */
function senderLosses(paths: unknown): { id: number; lost: number; spurious: number; ackRouteChanges: number }[] | null {
  if (!Array.isArray(paths)) return null;
  return (paths as Array<Record<string, unknown>>).map((p) => ({ id: Number(p.id), lost: Number(p.packetsLost), spurious: Number(p.packetsSpuriouslyLost ?? 0), ackRouteChanges: Number(p.ackRouteChanges ?? 0) }));
}

function skipped(id: string, title: string, why: string): Section {
  return { id, title, skipped: why, method: '', figures: [], raw: { skipped: why } };
}

/** The mpudp controller and scheduler arguments of a run (both ends). */
function mpudpArgs(cfg: LabDelayConfig): string[] {
  return ['--cc', cfg.cc ?? 'bbr', '--scheduler', cfg.scheduler ?? 'ecf'];
}

function clientArgs(t: LabTransport, dir: 'down' | 'up', seconds: number, locals: string[], servers: string[], mpudp: string[] = []): string[] {
  const common = ['--port', String(DELAY_PORT), '--time', String(seconds), '--interval', '0', ...(dir === 'down' ? ['--reverse', '--bin-ms', String(BIN_MS), '--ifaces', 'dly-a,dly-b'] : [])];
  if (t === 'mpudp') return [servers.join(','), '--local', locals.join(','), ...(locals.length === servers.length ? ['--paired'] : []), '--max-datagram', String(TUN_DATAGRAM), ...mpudp, ...common];
  return [servers[0]!, '--transport', 'tcp', ...common];
}

/** Delivered bytes of a download's timeline in [from, to] (epoch ms). */
function deliveredBetween(r: Report, from: number, to: number): number {
  const d = cumulative(r.timeline as Timeline, 'delivered');
  return d(to) - d(from);
}

function steadyMbps(r: Report): number {
  if (r.timeline === null || r.timeline === undefined) return NaN;
  const first = Number(r.firstMs);
  const last = Number(r.lastMs);
  const from = first + STEADY_FROM_MS;
  return last > from ? (deliveredBetween(r, from, last) * 8) / ((last - from) / 1000) / 1e6 : NaN;
}

/** Measures one client run with the CPU of everything involved. */
async function measured(
  server: RoleProcess,
  relays: Relays,
  body: () => Promise<Report[]>,
): Promise<{ reports: Report[]; serverCpu: number; relayCpu: number; machineBusy: number }> {
  const s0 = Number((await askStats(server)).cpuSeconds);
  const r0 = await relays.cpu();
  const m0 = machineCpu();
  const reports = await body();
  const m1 = machineCpu();
  const r1 = await relays.cpu();
  const s1 = Number((await askStats(server)).cpuSeconds);
  return { reports, serverCpu: s1 - s0, relayCpu: r1.client - r0.client + (r1.server - r0.server), machineBusy: busyFraction(m0, m1) };
}

export async function labDelayScenarios(cfg: LabDelayConfig): Promise<Section[]> {
  const t0 = Date.now();
  const titles = {
    hetero: '8. Two-ISP lab with delay: 100 Mbit/s 10 ms + 50 Mbit/s 60 ms',
    lossy: '9. Two-ISP lab with delay: 1 % random loss on ISP B',
    shared: '10. Two-ISP lab with delay: shared bottleneck against kernel TCP Cubic',
  };
  const missing = missingForLab();
  const why = missing.length > 0 ? `the lab needs ${missing.join(', ')}` : ensureEthtool();
  if (why !== null) return [skipped('lab-hetero', titles.hetero, why), skipped('lab-lossy', titles.lossy, why), skipped('lab-shared', titles.shared, why)];
  const noMptcp = ensureMptcpize();
  const transports: LabTransport[] = noMptcp === null && cfg.kernel !== false ? ['mpudp', 'mptcp'] : ['mpudp'];
  const runs_ = (x: 'hetero' | 'lossy' | 'shared'): boolean => cfg.only === undefined || cfg.only.includes(x);
  const runs: Run[] = [];
  const rtts: Record<string, number> = {};
  const load0 = loadavg();
  let lab: Lab | undefined;
  let relays: Relays | undefined;
  let servers: Partial<Record<LabTransport, RoleProcess>> = {};
  let kernelCc = '';
  const restores: Array<() => void> = [];
  try {
    lab = await labUp({ prefix: cfg.prefix ?? `mpudp-d${process.pid}` });
    await lab.sh('delay', 'up');
    // Kernel TCP and MP-TCP run Cubic, the usual default (this kernel defaults to bbr).
    for (const ns of [lab.srv, lab.cli]) {
      const r = tcpCongestionControl(ns, 'cubic');
      kernelCc = r.inForce;
      restores.push(r.restore);
    }
    relays = await Relays.start(lab, ONE_WAY.a, ONE_WAY.b);
    if (noMptcp === null) setupMptcpTunnels(lab, false);
    servers = await startDelayServers(lab, noMptcp === null, mpudpArgs(cfg));
    // The round-trip times the relays give (TCP request/response, 100 bytes).
    for (const [name, host] of [['A', TUN.serverA], ['B', TUN.serverB]] as const) {
      const r = await runClientRole([host, '--transport', 'tcp', '--port', String(DELAY_PORT), '--mode', 'rr', '--size', '100', '--count', '50', '--warmup', '10', '--interval', '0'], { ns: lab.cli, timeoutMs: 60_000 });
      rtts[name] = Number(r.p50Ms);
    }
    const one = async (scenario: Run['scenario'], t: LabTransport, dir: 'down' | 'up', round: number): Promise<void> => {
      const server = servers[t]!;
      const from0 = server.reports.length;
      // The sender's side of the tunnels: tbf there is what the rate limits.
      const senderNs = dir === 'down' ? lab!.srv : lab!.cli;
      const wire0 = ['dly-a', 'dly-b'].map((d) => qdiscSent(senderNs, d));
      const m = await measured(server, relays!, async () => [
        await runClientRole(clientArgs(t, dir, cfg.seconds, [TUN.clientA, TUN.clientB], [TUN.serverA, TUN.serverB], mpudpArgs(cfg)), { ns: lab!.cli, mptcp: t === 'mptcp', timeoutMs: cfg.seconds * 1000 + 60_000, name: `${NAME[t]} client` }),
      ]);
      const r = m.reports[0]!;
      const wire1 = ['dly-a', 'dly-b'].map((d) => qdiscSent(senderNs, d));
      const wire = {
        bytes: wire1[0]!.bytes - wire0[0]!.bytes + (wire1[1]!.bytes - wire0[1]!.bytes),
        packets: wire1[0]!.packets - wire0[0]!.packets + (wire1[1]!.packets - wire0[1]!.packets),
        goodputBytes: Number(r.bytes),
      };
      // A download's sender is the server: its detection counters (paths wrongly grouped would show here).
      const sent = t === 'mpudp' && dir === 'down' ? await server.waitFor((x) => x.type === 'sender' && x.transport === 'mpudp', 10_000, 'the mpudp sender result', from0).catch(() => null) : null;
      runs.push({
        scenario,
        transport: t,
        dir,
        round,
        mbps: Number(r.bps) / 1e6,
        steadyMbps: dir === 'down' ? steadyMbps(r) : NaN,
        clientCpu: Number(r.cpuSeconds),
        serverCpu: dir === 'up' ? Number(r.receiverCpuSeconds ?? m.serverCpu) : m.serverCpu,
        relayCpu: m.relayCpu,
        machineBusy: m.machineBusy,
        detection: (sent?.sharedBottleneck as Record<string, number> | undefined) ?? null,
        losses: t === 'mpudp' ? senderLosses(dir === 'up' ? r.paths : sent?.paths) : null,
        wire,
      });
    };
    if (runs_('hetero')) {
      for (let round = 0; round < cfg.rounds; round++) for (const dir of ['down', 'up'] as const) for (const t of transports) await one('hetero', t, dir, round);
      // The control: the same paths at half the rates, half the CPU.
      await lab.sh('delay', 'shape', 'A', `${RATE.a / 2e6}mbit`, '25ms');
      await lab.sh('delay', 'shape', 'B', `${RATE.b / 2e6}mbit`, '25ms');
      for (const t of transports) await one('hetero-half', t, 'down', 0);
      await lab.sh('delay', 'shape', 'A', `${RATE.a / 1e6}mbit`, '25ms');
      await lab.sh('delay', 'shape', 'B', `${RATE.b / 1e6}mbit`, '25ms');
    }
    if (runs_('lossy')) {
      await lab.sh('loss', 'B', '0.01');
      for (let round = 0; round < cfg.rounds; round++) for (const t of transports) await one('lossy', t, 'down', round);
      await lab.sh('loss', 'B', '0');
    }

    // The shared bottleneck: tunnel A at 100 Mbit/s with a one-BDP queue at 20 ms RTT.
    if (runs_('shared')) {
      await relays.stop();
      relays = await Relays.start(lab, ONE_WAY.shared, ONE_WAY.b);
      const rtt = 2 * ONE_WAY.shared;
      const bdpBytes = (RATE.a / 8) * (rtt / 1000);
      // tbf's queue holds rate × latency + burst (64 KB): latency is what makes the total one BDP.
      const latencyMs = Math.max(1, rtt - (64 * 1024 * 8 * 1000) / RATE.a);
      await lab.sh('delay', 'shape', 'A', '100mbit', `${latencyMs.toFixed(1)}ms`);
      if ((cfg.sharedQueueAt ?? 'receiver') === 'receiver') await lab.sh('delay', 'ingress', 'A', '100mbit', `${latencyMs.toFixed(1)}ms`);
      await lab.sh('delay', 'addr', 'A', '1');
      if (noMptcp === null) setupMptcpTunnels(lab, true);
      for (let round = 0; round < cfg.rounds; round++) {
        for (const t of transports) {
          const server = servers[t]!;
          const from0 = server.reports.length;
        const m = await measured(server, relays!, () =>
            Promise.all([
              runClientRole(clientArgs(t, 'down', cfg.sharedSeconds, (cfg.sharedPaths === 1 ? [TUN.clientA] : [TUN.clientA, TUN.clientA2]), [TUN.serverA], mpudpArgs(cfg)), { ns: lab!.cli, mptcp: t === 'mptcp', timeoutMs: cfg.sharedSeconds * 1000 + 60_000, name: `${NAME[t]} client (shared)` }),
              runClientRole(clientArgs('mptcp', 'down', cfg.sharedSeconds, [], [TUN.serverA]), { ns: lab!.cli, mptcp: false, timeoutMs: cfg.sharedSeconds * 1000 + 60_000, name: 'TCP Cubic competitor' }),
            ]),
          );
          const [mine, tcp] = m.reports as [Report, Report];
        // The server's account of the download it sent (its detection counters).
        const sent = t === 'mpudp' ? await server.waitFor((r) => r.type === 'sender' && r.transport === 'mpudp', 10_000, 'the mpudp sender result', from0).catch(() => null) : null;
          // The window both were running in, once detection had time.
          const start = Math.max(Number(mine.firstMs), Number(tcp.firstMs));
          const from = start + SHARED_FROM_MS;
          const to = Math.min(Number(mine.lastMs), Number(tcp.lastMs));
          const a = deliveredBetween(mine, from, to);
          const b = deliveredBetween(tcp, from, to);
          const a1 = deliveredBetween(mine, start + STEADY_FROM_MS, to);
          const b1 = deliveredBetween(tcp, start + STEADY_FROM_MS, to);
          runs.push({
            scenario: 'shared',
            transport: t,
            dir: 'down',
            round,
            mbps: (a * 8) / ((to - from) / 1000) / 1e6,
            steadyMbps: steadyMbps(mine),
            competitorMbps: (b * 8) / ((to - from) / 1000) / 1e6,
            share: a / (a + b || 1),
            shareFrom1s: a1 / (a1 + b1 || 1),
          detection: (sent?.sharedBottleneck as Record<string, number> | undefined) ?? null,
          sharePerSecond: Array.from({ length: Math.max(0, Math.floor((to - start) / 1000)) }, (_, i) => {
            const x = deliveredBetween(mine, start + i * 1000, start + (i + 1) * 1000);
            const y = deliveredBetween(tcp, start + i * 1000, start + (i + 1) * 1000);
            return Math.round((1000 * x) / (x + y || 1)) / 1000;
          }),
            clientCpu: Number(mine.cpuSeconds),
            serverCpu: m.serverCpu,
            relayCpu: m.relayCpu,
            machineBusy: m.machineBusy,
          });
        }
      }
      rtts.shared = rtt;
      rtts.sharedBdpBytes = bdpBytes;
    }
  } finally {
    for (const s of Object.values(servers)) await stopServer(s);
    await relays?.stop().catch(() => {});
    await labDown(lab).catch(() => {});
    for (const r of restores) r();
  }
  const ms = Date.now() - t0;
  const ctx = { cfg, runs, rtts, noMptcp, kernelCc, load: [load0, loadavg()] };
  return [heteroSection(ctx, titles.hetero, ms), lossySection(ctx, titles.lossy), sharedSection(ctx, titles.shared)];
}

interface Ctx {
  cfg: LabDelayConfig;
  runs: Run[];
  rtts: Record<string, number>;
  noMptcp: string | null;
  kernelCc: string;
  load: number[][];
}

const med = (runs: Run[], f: (r: Run) => number): number => median(runs.map(f).filter(Number.isFinite));
const SUM = (RATE.a + RATE.b) / 1e6;

/**
 * The physical ceiling of goodput ÷ (A + B) (docs/bench.md, "Issue 12: lab
 * ceilings"): tbf on a tunnel counts each packet's inner Ethernet frame
 * (14 bytes of header + the IP packet). mpudp's 1472-byte datagram is a
 * 1514-byte frame carrying 1435 bytes of stream data (header 1 + CID 8 +
 * path ID 1 + packet number 4, DATA frame 1 + offset 4 + length 2, AEAD tag
 * 16); kernel MP-TCP's 1500-byte segment carries at most 1424 (TCP 20 +
 * timestamps 12 + DSS with a 32-bit data ACK and a 64-bit mapping, 22
 * padded to 24; the lab's downloads carried 1420, with a 64-bit data ACK).
 */
const TBF_FRAME = TUN_DATAGRAM + 20 + 8 + 14;
export const CEILING = {
  mpudp: (TUN_DATAGRAM - (1 + 8 + 1 + 4) - (1 + 4 + 2) - 16) / TBF_FRAME,
  mptcp: (TUN_DATAGRAM + 28 - 20 - 20 - 12 - 24) / TBF_FRAME,
};
const ceilingNote = `ceiling ${fmt(CEILING.mpudp)} (kernel MP-TCP ${fmt(CEILING.mptcp)}): the stream bytes per byte tbf counts`;

function detail(runs: Run[], shared = false): string {
  const headers = ['scenario', 'transport', 'dir', 'round', 'goodput Mbit/s', shared ? '÷ 100' : '÷ (A + B)', 'after 1st s Mbit/s', ...(shared ? ['TCP Cubic Mbit/s', 'share (from 5 s)', 'share (from 1 s)'] : ['goodput ÷ tbf bytes', 'tbf bytes per packet']), 'client CPU s', 'server CPU s', 'relays CPU s', 'machine busy'];
  return table(
    headers,
    runs.map((r) => [
      r.scenario,
      NAME[r.transport],
      r.dir,
      r.round + 1,
      fmt(r.mbps),
      fmt(r.mbps / (shared ? 100 : r.scenario === 'hetero-half' ? SUM / 2 : SUM)),
      fmt(r.steadyMbps),
      ...(shared
        ? [fmt(r.competitorMbps), `${fmt(100 * (r.share ?? NaN))} %`, `${fmt(100 * (r.shareFrom1s ?? NaN))} %`]
        : [fmt((r.wire?.goodputBytes ?? NaN) / (r.wire?.bytes ?? NaN)), fmt((r.wire?.bytes ?? NaN) / (r.wire?.packets ?? NaN))]),
      fmt(r.clientCpu),
      fmt(r.serverCpu),
      fmt(r.relayCpu),
      `${fmt(100 * r.machineBusy)} %`,
    ]),
    headers.map((_, i) => (i < 3 ? 'l' : 'r')),
  );
}

function cpuNote(runs: Run[]): string {
  const busy = med(runs, (r) => r.machineBusy);
  return `machine busy (both cores) ${fmt(100 * busy)} % median; relays ${fmt(med(runs, (r) => r.relayCpu))} CPU s per run`;
}

function heteroSection(c: Ctx, title: string, ms: number): Section {
  const figures: Figure[] = [];
  for (const dir of ['down', 'up'] as const) {
    const mine = c.runs.filter((r) => r.scenario === 'hetero' && r.dir === dir && r.transport === 'mpudp');
    const kernel = c.runs.filter((r) => r.scenario === 'hetero' && r.dir === dir && r.transport === 'mptcp');
    const v = med(mine, (r) => r.mbps) / SUM;
    figures.push({
      name: `goodput ÷ (A + B), ${dir === 'down' ? 'download' : 'upload'}, ${c.cfg.seconds} s`,
      value: v,
      unit: '',
      baseline: { name: 'kernel MP-TCP', value: kernel.length > 0 ? med(kernel, (r) => r.mbps) / SUM : null },
      target: { text: '≥ 0.95', on: 'value', pass: Number.isFinite(v) ? v >= 0.95 : null },
      note: `${fmt(med(mine, (r) => r.mbps))} Mbit/s; ${ceilingNote}; ${dir === 'down' ? `${detectionNote(mine, c.cfg.seconds)} (separate bottlenecks: grouping is wrong here); ` : ''}${cpuNote(mine)}`,
    });
  }
  const half = (t: LabTransport): Run[] => c.runs.filter((r) => r.scenario === 'hetero-half' && r.transport === t);
  if (half('mpudp').length > 0) {
    figures.push({
      name: 'control: the same download at half the rates (50 + 25 Mbit/s), goodput ÷ 75 Mbit/s',
      value: med(half('mpudp'), (r) => r.mbps) / (SUM / 2),
      unit: '',
      baseline: { name: 'kernel MP-TCP', value: half('mptcp').length > 0 ? med(half('mptcp'), (r) => r.mbps) / (SUM / 2) : null },
      note: `half the packets per second for the same paths and delays: the difference to the full rate is what CPU takes; ${cpuNote(half('mpudp'))}`,
    });
  }
  return {
    id: 'lab-hetero',
    title,
    method:
      'Namespace lab (lab/harness/lab.sh `delay up`): each ISP is a VXLAN tunnel over its veth, and each direction of each tunnel crosses a userspace relay ' +
      '(bench/scenarios/lab-relay.ts: the ISP emulator of lab/emulator, through its module API) that adds the one-way delay, so TCP and MP-TCP meet the same delay as mpudp; ' +
      `tbf on the tunnels gives ISP A ${RATE.a / 1e6} Mbit/s and ISP B ${RATE.b / 1e6} Mbit/s. One-way delays ${ONE_WAY.a} ms (A) and ${ONE_WAY.b} ms (B); ` +
      `measured TCP round trips (p50, 100-byte request/response): A ${fmt(c.rtts.A)} ms, B ${fmt(c.rtts.B)} ms. ` +
      `${c.cfg.rounds} round(s) per direction, ${c.cfg.seconds} s each, mpudp (${(c.cfg.cc ?? 'bbr')} and ${(c.cfg.scheduler ?? 'ecf')} on both ends; one path per ISP, ${TUN_DATAGRAM}-byte datagrams) and kernel MP-TCP (Node's net under mptcpize, ${c.kernelCc}) interleaved. ` +
      `Goodput first to last byte ÷ ${SUM} Mbit/s. Load average at the start ${c.load[0]!.map((x) => x.toFixed(2)).join(' ')}, at the end ${c.load[1]!.map((x) => x.toFixed(2)).join(' ')} (the machine is shared).` +
      (c.noMptcp ? ` MP-TCP skipped: ${c.noMptcp}.` : ''),
    figures,
    extra: [detail(c.runs.filter((r) => r.scenario === 'hetero' || r.scenario === 'hetero-half'))],
    raw: { config: c.cfg, rtts: c.rtts, runs: c.runs.filter((r) => r.scenario === 'hetero' || r.scenario === 'hetero-half'), kernelCc: c.kernelCc, load: c.load },
    ms,
  };
}

function lossySection(c: Ctx, title: string): Section {
  const mine = c.runs.filter((r) => r.scenario === 'lossy' && r.transport === 'mpudp');
  const kernel = c.runs.filter((r) => r.scenario === 'lossy' && r.transport === 'mptcp');
  const v = med(mine, (r) => r.mbps) / SUM;
  return {
    id: 'lab-lossy',
    title,
    method:
      'The lab of section 8 (download), with 1 % random loss on ISP B in both directions: an nftables `numgen random mod 1000 < 10` drop rule on the client\'s ISP B veth (`lab.sh loss B 0.01`), under the tunnel.',
    figures: [
      {
        name: `goodput ÷ (A + B), 1 % loss on B, download, ${c.cfg.seconds} s`,
        value: v,
        unit: '',
        baseline: { name: 'kernel MP-TCP', value: kernel.length > 0 ? med(kernel, (r) => r.mbps) / SUM : null },
        target: { text: '≥ 0.85', on: 'value', pass: Number.isFinite(v) ? v >= 0.85 : null },
        note: `${fmt(med(mine, (r) => r.mbps))} Mbit/s; ${ceilingNote}; ${cpuNote(mine)}`,
      },
    ],
    extra: [detail(c.runs.filter((r) => r.scenario === 'lossy'))],
    raw: { runs: c.runs.filter((r) => r.scenario === 'lossy') },
  };
}

/** What the mpudp sender's shared-bottleneck detection did in the runs. */
function detectionNote(runs: Run[], seconds: number): string {
  const d = runs.map((r) => r.detection).filter((x): x is Record<string, number> => x !== null && x !== undefined);
  if (d.length === 0) return 'detection counters not reported';
  const grouped = d.filter((x) => (x.grouped ?? 0) > 0).length;
  const standby = median(d.map((x) => (x.standbyMs ?? 0) / 1000));
  const splits = d.reduce((n, x) => n + (x.split ?? 0), 0);
  return `detection grouped the paths in ${grouped} of ${d.length} runs (standby ${fmt(standby)} s of ${seconds} s, median; ${splits} split(s))`;
}

function sharedSection(c: Ctx, title: string): Section {
  const mine = c.runs.filter((r) => r.scenario === 'shared' && r.transport === 'mpudp');
  const kernel = c.runs.filter((r) => r.scenario === 'shared' && r.transport === 'mptcp');
  const v = med(mine, (r) => r.share ?? NaN);
  return {
    id: 'lab-shared',
    title,
    method:
      `Tunnel A alone, 100 Mbit/s (tbf) with a queue of one BDP (${fmt((c.rtts.sharedBdpBytes ?? NaN) / 1000)} kB at ${c.rtts.shared} ms RTT, relays ${ONE_WAY.shared} ms each way); ` +
      ((c.cfg.sharedQueueAt ?? 'receiver') === 'receiver'
        ? "the queue is at the client's end of the tunnel, past the relay (lab.sh `delay ingress`: tbf on an ifb), as a router's would be, not in the sending host's qdisc, where Linux would hold the TCP flow to its small-queue budget and not mpudp's UDP; "
        : "the queue is in the sending host's qdisc (SHARED_AT=sender), where Linux holds the TCP flow to its small-queue budget and not mpudp's UDP; ") +
      'the client has two addresses on it, so mpudp opens two paths through the one queue. One kernel TCP flow (Cubic, Node\'s net without mptcpize) downloads at the same time; ' +
      `both run ${c.cfg.sharedSeconds} s, and the share is mpudp's bytes ÷ both flows' bytes over the window both ran in, from ${SHARED_FROM_MS / 1000} s on (mpudp's detection has then had time to find the shared queue; the share from the first second on is in the table). ` +
      'Kernel MP-TCP in the same place opens two subflows through the queue (a `subflow` endpoint on the second address); upstream Linux MP-TCP has no coupled congestion control.',
    figures: [
      {
        name: 'share of the shared bottleneck against one TCP Cubic flow',
        value: v,
        unit: '',
        baseline: { name: 'kernel MP-TCP (2 subflows)', value: kernel.length > 0 ? med(kernel, (r) => r.share ?? NaN) : null },
        target: { text: '≤ 0.60', on: 'value', pass: Number.isFinite(v) ? v <= 0.6 : null },
        note: `mpudp ${fmt(med(mine, (r) => r.mbps))} Mbit/s, TCP ${fmt(med(mine, (r) => r.competitorMbps ?? NaN))} Mbit/s; from the first second ${fmt(med(mine, (r) => r.shareFrom1s ?? NaN))}; ${detectionNote(mine, c.cfg.sharedSeconds)}; ${cpuNote(mine)}`,
      },
    ],
    extra: [detail(c.runs.filter((r) => r.scenario === 'shared'), true)],
    raw: { runs: c.runs.filter((r) => r.scenario === 'shared') },
  };
}
