/**
 * Issue #6, parts 3 and 4, in the two-ISP namespace lab (lab/harness/lab.sh):
 * ISP A 100 Mbit/s and ISP B 50 Mbit/s (tbf), strict reverse-path
 * filtering, faults by nftables in the client namespace.
 *
 * - Aggregation: a download for `seconds` over both ISPs, goodput ÷
 *   (rate A + rate B), mpudp beside kernel MP-TCP (Node's `net` under
 *   `mptcpize`) in the same lab, interleaved.
 * - Failover: the active ISP (A) is blackholed mid-transfer and healed after
 *   each outage; delivery time lost in the 2 s after the failure (from the
 *   receiver's bytes in 50 ms bins against the surviving ISP's rate), and
 *   the time until ISP A carries data again; the same for MP-TCP; a per-ISP
 *   SVG timeline of every run.
 *
 * Needs root, ip, tc, nft (and mptcpize for the MP-TCP baseline, installed
 * from Debian when missing); otherwise the sections say why they were
 * skipped. The lab setup is in lab-setup.ts, failover in failover.ts.
 */
import { labDown, labUp, type Lab } from '../../lab/harness/netns.js';
import type { Report, RoleProcess } from '../../lab/harness/process.js';
import { missingForLab } from '../../lab/harness/requirements.js';
import type { Timeline } from '../../src/cli/bench/common.js';
import { fmt, table, type Figure, type Section } from '../lib/report.js';
import { runClientRole, stopServer } from '../../lab/harness/bench-roles.js';
import { cumulative, median, ratio, span } from '../lib/stats.js';
import { failoverRun, failoverSection, type FailoverRun } from './failover.js';
import { LAB_DATAGRAM, NAME, clientArgs, ensureMptcpize, setupMptcp, startLabServers, type LabConfig, type LabTransport } from './lab-setup.js';

export type { FailoverRun } from './failover.js';
export { analyzeFailover } from './failover.js';
export type { LabConfig, LabTransport } from './lab-setup.js';

// ---- aggregation ----

export interface AggregationRun {
  transport: LabTransport;
  /** Round number (0-based). */
  round: number;
  /** Goodput, first to last byte (Mbit/s). */
  mbps: number;
  /** Goodput ÷ (rate A + rate B). */
  ofCapacity: number;
  /** Goodput after the first second ÷ (rate A + rate B). */
  steadyOfCapacity: number;
  /** Share of the bytes received on ISP A / B (interface counters). */
  shareA: number;
  shareB: number;
  /** CPU seconds of the client (the receiver). */
  cpuSeconds: number;
}

export function reduceAggregation(t: LabTransport, round: number, r: Report, capacityBps: number): AggregationRun {
  const tl = r.timeline as Timeline;
  const { start, end } = span(tl);
  const a = cumulative(tl, 'if:isp-a');
  const b = cumulative(tl, 'if:isp-b');
  const d = cumulative(tl, 'delivered');
  const ra = a(end) - a(start);
  const rb = b(end) - b(start);
  const first = Number(r.firstMs);
  const last = Number(r.lastMs);
  const steadyFrom = first + 1000;
  const steady = last > steadyFrom ? ((d(last) - d(steadyFrom)) * 8) / ((last - steadyFrom) / 1000) : NaN;
  return {
    transport: t,
    round,
    mbps: Number(r.bps) / 1e6,
    ofCapacity: Number(r.bps) / capacityBps,
    steadyOfCapacity: steady / capacityBps,
    shareA: ra / (ra + rb || 1),
    shareB: rb / (ra + rb || 1),
    cpuSeconds: Number(r.cpuSeconds),
  };
}

export async function labScenarios(cfg: LabConfig): Promise<Section[]> {
  const t0 = Date.now();
  const missing = missingForLab();
  if (missing.length > 0) {
    const why = `the two-ISP lab needs ${missing.join(', ')}`;
    return [skipped('lab-aggregation', '3. Two-ISP lab: aggregation', why), skipped('lab-failover', '4. Two-ISP lab: failover', why)];
  }
  const noMptcp = ensureMptcpize(cfg.install ?? true);
  const transports: LabTransport[] = noMptcp === null ? ['mpudp', 'mptcp'] : ['mpudp'];
  let lab: Lab | undefined;
  let servers: Partial<Record<LabTransport, RoleProcess>> = {};
  const agg: AggregationRun[] = [];
  const fo: FailoverRun[] = [];
  try {
    lab = await labUp({ prefix: cfg.prefix ?? `mpudp-b${process.pid}` });
    if (noMptcp === null) setupMptcp(lab);
    servers = await startLabServers(lab, noMptcp === null);
    const capacity = lab.rateA + lab.rateB;
    for (let round = 0; round < cfg.rounds; round++) {
      for (const t of transports) {
        const r = await runClientRole(clientArgs(t, cfg.seconds * 1000), { ns: lab.cli, mptcp: t === 'mptcp', timeoutMs: cfg.seconds * 1000 + 60_000, name: `${NAME[t]} client` });
        agg.push(reduceAggregation(t, round, r, capacity));
      }
    }
    for (let round = 0; round < cfg.failoverRounds; round++) {
      for (const outage of cfg.outagesMs) {
        for (const t of transports) {
          const eff = median(agg.filter((x) => x.transport === t).map((x) => x.steadyOfCapacity));
          fo.push(await failoverRun(lab, t, outage, round, cfg, eff));
        }
      }
    }
  } finally {
    for (const s of Object.values(servers)) await stopServer(s);
    await labDown(lab).catch(() => {});
  }
  const ms = Date.now() - t0;
  return [aggregationSection(cfg, agg, noMptcp, lab!, ms), failoverSection(cfg, fo, noMptcp, ms)];
}

function skipped(id: string, title: string, why: string): Section {
  return { id, title, skipped: why, method: '', figures: [], raw: { skipped: why } };
}

export function aggregationSection(cfg: LabConfig, runs: AggregationRun[], noMptcp: string | null, lab: { rateA: number; rateB: number }, ms: number): Section {
  const med = (t: LabTransport, f: (r: AggregationRun) => number): number => median(runs.filter((r) => r.transport === t).map(f));
  const capMbps = (lab.rateA + lab.rateB) / 1e6;
  const mp = med('mpudp', (r) => r.ofCapacity);
  const kernel = noMptcp === null ? med('mptcp', (r) => r.ofCapacity) : null;
  const figures: Figure[] = [
    {
      name: `goodput ÷ (rate A + rate B), ${cfg.seconds} s download`,
      value: mp,
      unit: '',
      baseline: { name: 'kernel MP-TCP', value: kernel },
      target: { text: '≥ 0.95 (kernel MP-TCP measured before: 0.89 over 5 s)', on: 'value', pass: Number.isFinite(mp) ? mp >= 0.95 : null },
      note: `after the first second: mpudp ${fmt(med('mpudp', (r) => r.steadyOfCapacity))}${kernel !== null ? `, MP-TCP ${fmt(med('mptcp', (r) => r.steadyOfCapacity))}` : ''}${noMptcp ? `; MP-TCP skipped: ${noMptcp}` : ''}`,
    },
    {
      name: 'goodput',
      value: med('mpudp', (r) => r.mbps),
      unit: 'Mbit/s',
      baseline: { name: 'kernel MP-TCP', value: kernel !== null ? med('mptcp', (r) => r.mbps) : null },
      ratio: kernel !== null ? ratio(med('mpudp', (r) => r.mbps), med('mptcp', (r) => r.mbps)) : null,
      note: `capacity ${fmt(capMbps)} Mbit/s (tbf rates, wire bytes)`,
    },
  ];
  const detail = table(
    ['transport', 'round', 'goodput Mbit/s', '÷ (A + B)', 'after 1st s ÷ (A + B)', 'ISP A share', 'ISP B share', 'client CPU s'],
    runs.map((r) => [NAME[r.transport], r.round + 1, fmt(r.mbps), fmt(r.ofCapacity), fmt(r.steadyOfCapacity), `${fmt(100 * r.shareA)} %`, `${fmt(100 * r.shareB)} %`, fmt(r.cpuSeconds)]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
  return {
    id: 'lab-aggregation',
    title: '3. Two-ISP lab: aggregation',
    method:
      `Namespace lab (lab/harness/lab.sh): ISP A ${lab.rateA / 1e6} Mbit/s and ISP B ${lab.rateB / 1e6} Mbit/s (tbf on both ends of each veth), no added delay. ` +
      `The server sends for ${cfg.seconds} s to the client (download), ${cfg.rounds} round(s), mpudp and kernel MP-TCP interleaved; goodput is the client's, first byte to last. ` +
      `mpudp: one path per ISP (paired addresses), ${LAB_DATAGRAM}-byte datagrams (the veth MTU, as TCP's MSS). ` +
      "Kernel MP-TCP: the same `mpudp bench` code over Node's `net` under `mptcpize run`; the server listens on the wildcard and announces its ISP B address (`ip mptcp endpoint add 10.77.2.1 dev isp-b signal`), both namespaces `ip mptcp limits set subflows 2 add_addr_accepted 2`: one subflow per ISP (a client `subflow` endpoint would join B → server A, which the lab's strict rp_filter drops). " +
      'ISP shares are from the client interfaces\' rx counters.',
    figures,
    extra: [detail],
    raw: { config: cfg, runs, mptcpSkipped: noMptcp },
    ms,
  };
}
