/**
 * Issue #6, part 4, in the two-ISP lab: ISP A blackholed mid-download and
 * healed after each outage; delivery time lost in the 2 s after the
 * failure, worst lag, time until ISP A carries data again, and a per-ISP
 * SVG timeline of every run, for mpudp and kernel MP-TCP.
 */
import { nftBlackhole, nftHeal, nftInClient, type Lab } from '../../lab/harness/netns.js';
import type { Report, RoleProcess } from '../../lab/harness/process.js';
import { epochMs, type Timeline } from '../../src/cli/bench/common.js';
import { fmt, table, type Figure, type Section } from '../lib/report.js';
import { runClientRole, sleep } from '../../lab/harness/bench-roles.js';
import { bins, cumulative, median, ratio, span } from '../lib/stats.js';
import { lineChart } from '../lib/svg.js';
import { BIN_MS, CARRYING_BYTES, LOSS_WINDOW_MS, NAME, clientArgs, type LabConfig, type LabTransport } from './lab-setup.js';

export interface FailoverRun {
  transport: LabTransport;
  outageMs: number;
  round: number;
  /** Delivery time lost in the 2 s after the failure (ms). */
  lostMs: number;
  /** The furthest delivery fell behind the surviving ISP's line in those 2 s (ms): a stall later made up still counts. */
  maxLagMs: number;
  /** The surviving ISP's goodput rate it is measured against (Mbit/s): its wire rate × the transport's goodput per wire byte. */
  survivorMbps: number;
  /** Goodput delivered in the 2 s after the failure (Mbit/s). */
  windowMbps: number;
  /** Goodput in the stretch before the failure (Mbit/s). */
  beforeMbps: number;
  /** Time from the heal until ISP A carried data again (ms); null: not within the run. */
  healMs: number | null;
  /** Every byte arrived (the transfer ended normally). */
  completed: boolean;
  /** Times (ms from the timeline's start) of the failure and the heal. */
  failAt: number;
  healAt: number;
  svg: string;
}

/**
 * Lost time = window − (bytes delivered in the window) ÷ (surviving ISP's
 * goodput rate). That rate is ISP B's rate times `efficiency`, the
 * transport's own goodput per unit of link capacity in steady state (the
 * same run's aggregation transfers after their first second), so each
 * transport is held to what it does on a healthy link, headers and
 * acknowledgements included. Without it: goodput per byte the client's
 * interfaces received over this transfer (which overstates TCP's: veth GRO
 * merges its segments before the counter).
 */
export function analyzeFailover(
  t: LabTransport,
  outageMs: number,
  round: number,
  r: Report,
  tFail: number,
  tHeal: number,
  rateBBps: number,
  efficiency?: number,
): FailoverRun {
  const tl = r.timeline as Timeline;
  const d = cumulative(tl, 'delivered');
  const a = cumulative(tl, 'if:isp-a');
  const b = cumulative(tl, 'if:isp-b');
  const whole = span(tl);
  const wireAll = a(whole.end) - a(whole.start) + (b(whole.end) - b(whole.start));
  const eff = efficiency !== undefined && Number.isFinite(efficiency) ? efficiency : wireAll > 0 ? (d(whole.end) - d(whole.start)) / wireAll : 0.95;
  const preFrom = Math.max(whole.start + 500, tFail - 2500);
  const goodBefore = d(tFail) - d(preFrom);
  const survivorBytesPerMs = ((rateBBps / 8) * Math.min(1, eff)) / 1000;
  const delivered = d(tFail + LOSS_WINDOW_MS) - d(tFail);
  const lostMs = Math.max(0, LOSS_WINDOW_MS - delivered / survivorBytesPerMs);
  let maxLagMs = 0;
  for (let dt = 0; dt <= LOSS_WINDOW_MS; dt += 10) {
    const lag = dt - (d(tFail + dt) - d(tFail)) / survivorBytesPerMs;
    if (lag > maxLagMs) maxLagMs = lag;
  }
  // Heal: bins aligned on the heal.
  const { end } = span(tl);
  const healBins = bins(tl, 'if:isp-a', tHeal, end, BIN_MS);
  const k = healBins.findIndex((x) => x >= CARRYING_BYTES);
  const healMs = k >= 0 ? (k + 1) * BIN_MS : null;
  const t0 = tl.t0;
  const series = (col: string): [number, number][] => {
    const { start } = span(tl);
    const xs = bins(tl, col, start, end, BIN_MS);
    return xs.map((v, i) => [(start - t0 + i * BIN_MS) / 1000, (v * 8) / (BIN_MS / 1000) / 1e6] as [number, number]);
  };
  const svg = lineChart({
    title: `${NAME[t]}: ISP A blackholed for ${outageMs / 1000} s (lost ${Math.round(lostMs)} ms, ISP A back ${healMs === null ? 'never' : `after ${healMs} ms`})`,
    xLabel: 's since the transfer started (50 ms bins)',
    yLabel: 'Mbit/s',
    series: [
      { label: 'ISP A (rx, wire)', points: series('if:isp-a'), step: true },
      { label: 'ISP B (rx, wire)', points: series('if:isp-b'), step: true },
      { label: 'goodput (delivered)', points: series('delivered'), step: true, dashed: true, color: '#444' },
    ],
    spans: [{ from: (tFail - t0) / 1000, to: (tHeal - t0) / 1000, label: 'ISP A blackholed' }],
    markers: [
      { x: (tFail - t0) / 1000, label: 'blackhole' },
      { x: (tHeal - t0) / 1000, label: 'heal', color: '#2ca02c' },
    ],
  });
  return {
    transport: t,
    outageMs,
    round,
    lostMs,
    maxLagMs,
    survivorMbps: (survivorBytesPerMs * 8) / 1000,
    windowMbps: (delivered * 8) / LOSS_WINDOW_MS / 1000,
    beforeMbps: (goodBefore * 8) / (tFail - preFrom) / 1000,
    healMs,
    completed: r.type === 'result',
    failAt: tFail - t0,
    healAt: tHeal - t0,
    svg,
  };
}

/** One failover run: download, blackhole A after preMs, heal after the outage, analyze. */
export async function failoverRun(lab: Lab, t: LabTransport, outageMs: number, round: number, cfg: LabConfig, efficiency: number): Promise<FailoverRun> {
  const timeMs = cfg.preMs + outageMs + cfg.postMs;
  let tFail = 0;
  let tHeal = 0;
  let faults: Promise<void> = Promise.resolve();
  const onStart = (role: RoleProcess): void => {
    faults = (async () => {
      await role.waitFor((x) => x.type === 'connected', 20_000, 'connected');
      const t0 = epochMs();
      await sleep(cfg.preMs);
      tFail = await nftInClient(lab, nftBlackhole('A'));
      await sleep(Math.max(0, t0 + cfg.preMs + outageMs - epochMs()));
      tHeal = await nftInClient(lab, nftHeal('A'));
    })();
  };
  try {
    const r = await runClientRole(clientArgs(t, timeMs), { ns: lab.cli, mptcp: t === 'mptcp', timeoutMs: timeMs + 60_000, onStart, name: `${NAME[t]} client` });
    await faults;
    return analyzeFailover(t, outageMs, round, r, tFail, tHeal, lab.rateB, efficiency);
  } finally {
    await faults.catch(() => {});
    await lab.sh('heal', 'A').catch(() => {});
  }
}

/** Median heal time over runs, a run that never healed counting as infinitely long (Infinity if the median falls on one). */
export function healMedian(runs: FailoverRun[]): number {
  const xs = runs.map((r) => r.healMs ?? Infinity).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const m = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[m]! : (xs[m - 1]! + xs[m]!) / 2;
}

export function failoverSection(cfg: LabConfig, runs: FailoverRun[], noMptcp: string | null, ms: number): Section {
  const figures: Figure[] = [];
  for (const outage of cfg.outagesMs) {
    const of = (t: LabTransport): FailoverRun[] => runs.filter((r) => r.transport === t && r.outageMs === outage);
    const lost = median(of('mpudp').map((r) => r.lostMs));
    const kLost = noMptcp === null ? median(of('mptcp').map((r) => r.lostMs)) : null;
    const heal = healMedian(of('mpudp'));
    const kHeal = noMptcp === null ? healMedian(of('mptcp')) : null;
    const list = (rs: FailoverRun[], f: (r: FailoverRun) => number | null): string => rs.map((r) => (f(r) === null ? 'never' : fmt(f(r)))).join(', ');
    figures.push({
      name: `delivery time lost in the 2 s after the failure (${outage / 1000} s outage)`,
      value: lost,
      unit: 'ms',
      baseline: { name: 'kernel MP-TCP', value: kLost },
      ratio: kLost !== null ? ratio(lost, kLost) : null,
      target: { text: '≤ 150 ms (MP-TCP measured before: 73–751, median 420)', on: 'value', pass: Number.isFinite(lost) ? lost <= 150 : null },
      note: `runs: mpudp ${list(of('mpudp'), (r) => r.lostMs)}${noMptcp === null ? `; MP-TCP ${list(of('mptcp'), (r) => r.lostMs)}` : ''}; worst lag behind ISP B: mpudp ${list(of('mpudp'), (r) => r.maxLagMs)}${noMptcp === null ? `, MP-TCP ${list(of('mptcp'), (r) => r.maxLagMs)}` : ''} ms`,
    });
    // A run where ISP A never carried data again counts as longer than any that did.
    const seen = (rs: FailoverRun[]): number => Math.max(cfg.postMs, ...rs.map((r) => r.healMs ?? 0));
    const notWithin = `> ${fmt(seen(of('mptcp')) / 1000)} s (median; ISP A not back within a run)`;
    figures.push({
      name: `ISP A carries data again after the heal (${outage / 1000} s outage)`,
      value: Number.isFinite(heal) ? heal / 1000 : null,
      unit: 's',
      baseline: {
        name: 'kernel MP-TCP',
        value: kHeal !== null && Number.isFinite(kHeal) ? kHeal / 1000 : null,
        ...(kHeal !== null && !Number.isFinite(kHeal) ? { text: notWithin } : {}),
      },
      ratio: kHeal !== null && Number.isFinite(kHeal) ? ratio(heal, kHeal) : null,
      target: { text: `≤ 0.5 s (MP-TCP measured before: ${outage <= 5000 ? '0.2' : '3.3'} s)`, on: 'value', pass: Number.isFinite(heal) ? heal <= 500 : false },
      note: `runs (ms): mpudp ${list(of('mpudp'), (r) => r.healMs)}${noMptcp === null ? `; MP-TCP ${list(of('mptcp'), (r) => r.healMs)}` : ''}`,
    });
  }
  const detail = table(
    ['transport', 'outage', 'round', 'before Mbit/s', 'in 2 s after Mbit/s', 'survivor rate Mbit/s', 'lost ms', 'worst lag ms', 'A back after ms', 'completed'],
    runs.map((r) => [
      NAME[r.transport],
      `${r.outageMs / 1000} s`,
      r.round + 1,
      fmt(r.beforeMbps),
      fmt(r.windowMbps),
      fmt(r.survivorMbps),
      fmt(r.lostMs),
      fmt(r.maxLagMs),
      r.healMs === null ? `> ${fmt(cfg.postMs)}` : fmt(r.healMs),
      r.completed ? 'yes' : 'no',
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
  const svgs: Record<string, string> = {};
  for (const r of runs) svgs[`failover-${r.transport}-${r.outageMs / 1000}s${cfg.failoverRounds > 1 ? `-r${r.round + 1}` : ''}.svg`] = r.svg;
  return {
    id: 'lab-failover',
    title: '4. Two-ISP lab: failover',
    method:
      `Download over both ISPs; ${cfg.preMs / 1000} s in, ISP A (the faster, carrying most bytes) is blackholed (the nftables drop rule of \`lab.sh blackhole A\`, client namespace, both directions, installed with one \`nft\` call; the failure time is that call's midpoint), healed after ${cfg.outagesMs.map((o) => `${o / 1000} s`).join(' and ')} (the rule flushed, as \`lab.sh heal A\` does), and the transfer goes on ${cfg.postMs / 1000} s more; ${cfg.failoverRounds} round(s). ` +
      `Delivery time lost = 2000 ms − (bytes delivered to the client application in the 2 s after the blackhole) ÷ (ISP B's rate × the transport's own steady goodput ÷ capacity, from the aggregation transfers of the same run after their first second): what the 2 s delivered short of ISP B running as full as the transport runs a healthy link. ` +
      "Worst lag (detail table) = the furthest the delivered bytes fell behind that surviving ISP's line at any moment of those 2 s, so a stall made up later by a burst of reordered bytes still shows. " +
      `"Carries data again" = the end of the first 50 ms bin after the heal in which the client's ISP A interface received ≥ ${CARRYING_BYTES / 1024} KiB. Timelines: 50 ms bins of the client interfaces' rx bytes and of the delivered bytes.`,
    figures,
    extra: [detail],
    svgs,
    raw: { config: cfg, runs: runs.map(({ svg: _svg, ...r }) => r), mptcpSkipped: noMptcp },
    ms,
  };
}
