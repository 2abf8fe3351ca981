/**
 * Issue #13: scale-out on one host. The same mpudp server (the `mpudp
 * bench` server's streams, lab/harness/cluster-server.ts) as one process
 * and as 2 node:cluster workers, on loopback, driven by the same clients
 * (`clientProcesses` bench client roles at once, so that one client process
 * is not the bottleneck):
 * - handshakes per second: connect, wait, destroy, `concurrency` in flight
 *   per client process, for `connectSeconds`;
 * - aggregate goodput: `transfers` connections per client process opened
 *   first, then all upload `transferBytes` at once, every SHA-256 checked;
 *   goodput is all bytes over first byte to last byte, across processes;
 * - the workers' routing counters over each phase: datagrams that reached
 *   the public port, and those forwarded to another worker; and over the
 *   steady state: from the moment every client reports all its connections
 *   open (they then wait `settleMs` before sending) to the end of the
 *   uploads, where both must be 0;
 * - CPU per handshake and per GB, of the server (all workers) and of the
 *   clients, from which the section derives the ceiling of each ratio on
 *   this machine's cores (the clients run on them too) and the server-only
 *   capacity ratio (what free cores for the clients would show).
 * With `oneWorker`, a cluster of 1 worker runs too: the cost of cluster
 * mode itself, apart from a second process.
 * The clients share the machine's cores with the servers: on a 2-core host
 * four busy processes compete, so the ratio is a floor, and noisy when
 * other work runs.
 */
import { availableParallelism } from 'node:os';
import { fmt, table, type Figure, type Section } from '../lib/report.js';
import { freePort, runClientRole, sleep } from '../../lab/harness/bench-roles.js';
import type { RoleProcess } from '../../lab/harness/process.js';
import { ratio } from '../lib/stats.js';
import { ClusterFixture, type WorkerStats } from '../../lab/harness/cluster.js';

export interface ScaleOutConfig {
  /** Bench client processes at once. */
  clientProcesses: number;
  connectSeconds: number;
  /** Handshakes in flight per client process. */
  concurrency: number;
  /** Connections per client process in the goodput phase. */
  transfers: number;
  transferBytes: number;
  /** Runs of each phase per configuration (the best is kept, the range noted). */
  rounds: number;
  /** Goodput phase: once every connection is open, each client waits until all have moved off their first-contact path, at most this long (ms; default 2000), then sends. */
  settleMs?: number;
  /** Also run a cluster of 1 worker (the cost of cluster mode apart from a second process). */
  oneWorker?: boolean;
}

interface Routing {
  sharedReceived: number;
  forwardedInitial: number;
  forwardedOther: number;
  accepted: number;
}

export interface ScaleOutRun {
  workers: number;
  handshakesPerSecond: number[];
  /** Server CPU (all workers) per handshake (ms), and per GB received (s), over the last round. */
  serverCpuMsPerHandshake: number | null;
  serverCpuSPerGB: number | null;
  /** The client processes' CPU over the same, for comparison. */
  clientCpuMsPerHandshake: number | null;
  clientCpuSPerGB: number | null;
  handshakeErrors: number;
  goodputMbps: number[];
  intact: number;
  failed: number;
  connections: number;
  /** Routing counters over the handshake phase and the goodput phase. */
  connectRouting: Routing | null;
  transferRouting: Routing | null;
  /** Over the steady state of the goodput phase (every connection open and settled, to the end of the uploads); summed over rounds. */
  steadyRouting: Routing | null;
  /** Per client process and round: connections moved off their first-contact path before sending, and how long the wait took (ms). */
  settle: { moved: number; ms: number }[];
}

function routing(before: WorkerStats[], after: WorkerStats[]): Routing | null {
  if (after.some((w) => w.stats.cluster === undefined)) return null;
  const total = (ws: WorkerStats[], f: (w: WorkerStats) => number): number => ws.reduce((a, w) => a + f(w), 0);
  const d = (f: (w: WorkerStats) => number): number => total(after, f) - total(before, f);
  return {
    sharedReceived: d((w) => w.stats.cluster!.sharedReceived),
    forwardedInitial: d((w) => w.stats.cluster!.forwardedOut.initial),
    forwardedOther: d((w) => w.stats.cluster!.forwardedOut.other),
    accepted: d((w) => w.stats.core.accepted),
  };
}

function addRouting(a: Routing | null, b: Routing | null): Routing | null {
  if (a === null || b === null) return b ?? a;
  return {
    sharedReceived: a.sharedReceived + b.sharedReceived,
    forwardedInitial: a.forwardedInitial + b.forwardedInitial,
    forwardedOther: a.forwardedOther + b.forwardedOther,
    accepted: a.accepted + b.accepted,
  };
}

/** CPU seconds of every worker alive in both snapshots (a worker's counter is its own process's). */
function cpu(ws: WorkerStats[]): number {
  return ws.reduce((a, w) => a + w.cpuSeconds, 0);
}

async function runConfig(workers: number, cfg: ScaleOutConfig): Promise<ScaleOutRun> {
  const port = await freePort();
  // Worker ports right after the public one: freePort checked port + 1; slot 1's is port + 2.
  const fixture = new ClusterFixture({ workers, port, ownPort: port + 1, mode: 'bench' });
  const run: ScaleOutRun = { workers, handshakesPerSecond: [], serverCpuMsPerHandshake: null, serverCpuSPerGB: null, clientCpuMsPerHandshake: null, clientCpuSPerGB: null, handshakeErrors: 0, goodputMbps: [], intact: 0, failed: 0, connections: 0, connectRouting: null, transferRouting: null, steadyRouting: null, settle: [] };
  try {
    await fixture.listening(Math.max(1, workers));
    if (workers > 1) await fixture.statsUntil((ws) => ws.length === workers && ws.every((w) => w.stats.cluster!.liveSlots.length === workers), 20_000);
    const client = ['127.0.0.1', '--local', '127.0.0.1', '--port', String(port), '--interval', '0'];
    for (let round = 0; round < cfg.rounds; round++) {
      const s0 = await fixture.stats();
      const rs = await Promise.all(
        Array.from({ length: cfg.clientProcesses }, () =>
          runClientRole([...client, '--mode', 'connect', '--time', String(cfg.connectSeconds), '--concurrency', String(cfg.concurrency)], { timeoutMs: cfg.connectSeconds * 1000 + 60_000 }),
        ),
      );
      const s1 = await fixture.stats();
      run.handshakesPerSecond.push(rs.reduce((a, r) => a + Number(r.perSecond), 0));
      run.handshakeErrors += rs.reduce((a, r) => a + Number(r.errors), 0);
      run.connectRouting = routing(s0, s1);
      const handshakes = rs.reduce((a, r) => a + Number(r.handshakes), 0);
      run.serverCpuMsPerHandshake = (cpu(s1) - cpu(s0)) * 1000 / Math.max(1, handshakes);
      run.clientCpuMsPerHandshake = rs.reduce((a, r) => a + Number(r.cpuSeconds), 0) * 1000 / Math.max(1, handshakes);
      await sleep(500);
    }
    for (let round = 0; round < cfg.rounds; round++) {
      const s0 = await fixture.stats();
      const roles: RoleProcess[] = [];
      // A cluster's clients wait until every connection has moved to its worker's port before they send.
      const settleArgs = workers > 0 ? ['--settle-ms', String(cfg.settleMs ?? 2000)] : [];
      const done = Promise.all(
        Array.from({ length: cfg.clientProcesses }, () =>
          runClientRole([...client, '--parallel', String(cfg.transfers), '--bytes', String(cfg.transferBytes), '--verify', '--concurrency', '64', ...settleArgs], {
            timeoutMs: 300_000,
            onStart: (role) => roles.push(role),
          }),
        ),
      );
      // Every connection of every client open and moved to its worker's port (each client reports 'settled' before it sends):
      // from here on nothing may reach the public port.
      if (workers > 0) {
        const settled = Promise.all(roles.map((role) => role.waitFor((r) => r.type === 'settled', 300_000, 'connections settled')));
        const mid = await Promise.race([settled.then(() => fixture.stats()), done.then(() => null)]);
        if (mid !== null) {
          run.settle.push(...(await settled).map((r) => ({ moved: Number(r.moved), ms: Number(r.ms) })));
          const s1 = await done.then(() => fixture.stats());
          run.steadyRouting = addRouting(run.steadyRouting, routing(mid, s1));
        }
      }
      const rs = await done;
      const s1 = await fixture.stats();
      const bytes = rs.reduce((a, r) => a + Number(r.bytes), 0);
      const first = Math.min(...rs.map((r) => Number(r.firstMs)));
      const last = Math.max(...rs.map((r) => Number(r.lastMs)));
      run.goodputMbps.push(last > first ? (bytes * 8) / ((last - first) / 1000) / 1e6 : 0);
      run.intact += rs.reduce((a, r) => a + Number(r.intact), 0);
      run.failed += rs.reduce((a, r) => a + Number(r.failed), 0);
      run.connections += rs.reduce((a, r) => a + Number(r.parallel), 0);
      run.transferRouting = routing(s0, s1);
      run.serverCpuSPerGB = (cpu(s1) - cpu(s0)) / Math.max(1e-9, bytes / 1e9);
      run.clientCpuSPerGB = rs.reduce((a, r) => a + Number(r.cpuSeconds), 0) / Math.max(1e-9, bytes / 1e9);
      await sleep(500);
    }
  } finally {
    await fixture.stop();
  }
  return run;
}

export async function scaleOut(cfg: ScaleOutConfig): Promise<Section> {
  const t0 = Date.now();
  const single = await runConfig(0, cfg);
  const one = cfg.oneWorker === true ? await runConfig(1, cfg) : null;
  const two = await runConfig(2, cfg);
  return summarize(cfg, single, two, Date.now() - t0, one);
}

const best = (xs: number[]): number | null => (xs.length > 0 ? Math.max(...xs) : null);
const range = (xs: number[]): string => (xs.length > 1 ? ` (rounds: ${xs.map((x) => fmt(x)).join(', ')})` : '');

/**
 * The most a server of `workers` processes can do per second when each
 * operation costs it `server` CPU and the clients `client`, all on `cores`
 * cores: the server is held to min(workers, cores) cores, and server and
 * clients together to all of them.
 */
export function ceilingRate(server: number | null, client: number | null, workers: number, cores: number): number | null {
  if (server === null || client === null || server <= 0 || client < 0) return null;
  return Math.min(Math.min(Math.max(1, workers), cores) / server, cores / (server + client));
}

const mean = (xs: (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length > 0 ? v.reduce((a, x) => a + x, 0) / v.length : null;
};

export function summarize(cfg: ScaleOutConfig, single: ScaleOutRun, two: ScaleOutRun, ms: number, one: ScaleOutRun | null = null, cores = availableParallelism()): Section {
  const hs1 = best(single.handshakesPerSecond);
  const hs2 = best(two.handshakesPerSecond);
  const gp1 = best(single.goodputMbps);
  const gp2 = best(two.goodputMbps);
  const hr = ratio(hs2, hs1);
  const gr = ratio(gp2, gp1);
  const tr = two.transferRouting;
  const st = two.steadyRouting;
  const clientHs = mean([single.clientCpuMsPerHandshake, two.clientCpuMsPerHandshake]);
  const clientGb = mean([single.clientCpuSPerGB, two.clientCpuSPerGB]);
  const hsCeiling = ratio(ceilingRate(two.serverCpuMsPerHandshake, clientHs, 2, cores), ceilingRate(single.serverCpuMsPerHandshake, clientHs, 1, cores));
  const gpCeiling = ratio(ceilingRate(two.serverCpuSPerGB, clientGb, 2, cores), ceilingRate(single.serverCpuSPerGB, clientGb, 1, cores));
  const cap = (a: number | null, b: number | null): number | null => (a !== null && b !== null && b > 0 ? (2 * a) / b : null);
  const capHs = cap(single.serverCpuMsPerHandshake, two.serverCpuMsPerHandshake);
  const capGb = cap(single.serverCpuSPerGB, two.serverCpuSPerGB);
  const figures: Figure[] = [
    {
      name: `handshakes per second, 2 cluster workers (${cfg.clientProcesses} client processes × ${cfg.concurrency} in flight)`,
      value: hs2,
      unit: '/s',
      baseline: { name: '1 process', value: hs1 },
      ratio: hr,
      target: { text: '≥ 1.8×', on: 'ratio', pass: Number.isFinite(hr) ? hr >= 1.8 : null },
      note: `${two.handshakeErrors} errors (1 process: ${single.handshakeErrors})${range(two.handshakesPerSecond)}`,
    },
    {
      name: `aggregate goodput, 2 cluster workers (${cfg.clientProcesses} × ${cfg.transfers} uploads of ${fmt(cfg.transferBytes / 1024)} KiB)`,
      value: gp2,
      unit: 'Mbit/s',
      baseline: { name: '1 process', value: gp1 },
      ratio: gr,
      target: { text: '≥ 1.7×', on: 'ratio', pass: Number.isFinite(gr) ? gr >= 1.7 : null },
      note: `${two.intact} of ${two.connections} transfers intact${range(two.goodputMbps)}`,
    },
    {
      name: 'server CPU per handshake, 2 workers (all workers) against 1 process',
      value: two.serverCpuMsPerHandshake,
      unit: 'ms',
      baseline: { name: '1 process', value: single.serverCpuMsPerHandshake },
      ratio: ratio(two.serverCpuMsPerHandshake, single.serverCpuMsPerHandshake),
      note: 'what the cluster costs per handshake (forwarded Initials, the move to the worker port); with free cores, capacity scales by workers ÷ this ratio',
    },
    {
      name: 'server CPU per GB received, 2 workers against 1 process',
      value: two.serverCpuSPerGB,
      unit: 's',
      baseline: { name: '1 process', value: single.serverCpuSPerGB },
      ratio: ratio(two.serverCpuSPerGB, single.serverCpuSPerGB),
    },
    {
      name: 'steady state, 2 workers: datagrams at the public port and forwarded between workers, from the moment every connection has moved to its worker\'s port to the end of the uploads',
      value: st ? st.sharedReceived + st.forwardedInitial + st.forwardedOther : null,
      unit: '',
      target: { text: '= 0', on: 'value', pass: st ? st.sharedReceived + st.forwardedInitial + st.forwardedOther === 0 : null },
      note: st
        ? `${st.sharedReceived} at the public port, ${st.forwardedInitial} Initials and ${st.forwardedOther} others forwarded, over ${two.connections} connections; ` +
          `${two.settle.reduce((a, x) => a + x.moved, 0)} of ${two.connections} had moved when the clients began sending, the last ${fmt(Math.max(0, ...two.settle.map((x) => x.ms)))} ms after it was open`
        : 'not measured',
    },
    {
      name: `what ${cores} cores allow (clients on the same cores): ceiling of the handshakes/s ratio`,
      value: hsCeiling,
      unit: '×',
      note: `from this run's CPU per handshake: server ${fmt(single.serverCpuMsPerHandshake ?? NaN)} ms (1 process), ${fmt(two.serverCpuMsPerHandshake ?? NaN)} ms (2 workers); clients ${fmt(clientHs ?? NaN)} ms. A ratio above this ceiling is the scheduler giving the servers a bigger share, not capacity`,
    },
    {
      name: `what ${cores} cores allow (clients on the same cores): ceiling of the goodput ratio`,
      value: gpCeiling,
      unit: '×',
      note: `from this run's CPU per GB: server ${fmt(single.serverCpuSPerGB ?? NaN)} s (1 process), ${fmt(two.serverCpuSPerGB ?? NaN)} s (2 workers); clients ${fmt(clientGb ?? NaN)} s`,
    },
    {
      name: 'server-only capacity ratio, 2 workers against 1 process (2 × CPU per op of 1 process ÷ of 2 workers): what free cores for the clients would show',
      value: capHs,
      unit: '× handshakes',
      note: `goodput: ${capGb === null ? '–' : fmt(capGb)}×${one ? `; a 1-worker cluster costs ${fmt(one.serverCpuMsPerHandshake ?? NaN)} ms per handshake and ${fmt(one.serverCpuSPerGB ?? NaN)} s per GB` : ''}`,
    },
    {
      name: 'packets forwarded between workers per connection (goodput phase, all but Initials)',
      value: tr ? tr.forwardedOther / Math.max(1, tr.accepted) : null,
      unit: '',
      note: tr ? `${tr.forwardedOther} forwarded non-Initial packets and ${tr.forwardedInitial} Initials over ${tr.accepted} connections; ${tr.sharedReceived} datagrams reached the public port in all` : '',
    },
  ];
  const rows = [single, ...(one ? [one] : []), two].map((r) => {
    const cr = r.connectRouting;
    const t = r.transferRouting;
    const sr = r.steadyRouting;
    return [
      r.workers === 0 ? '1 process' : `${r.workers} worker${r.workers > 1 ? 's' : ''}`,
      r.handshakesPerSecond.map((x) => fmt(x)).join(', '),
      r.goodputMbps.map((x) => fmt(x)).join(', '),
      `${r.intact}/${r.connections}`,
      r.serverCpuMsPerHandshake !== null ? `${fmt(r.serverCpuMsPerHandshake)} (clients ${fmt(r.clientCpuMsPerHandshake)})` : '–',
      r.serverCpuSPerGB !== null ? `${fmt(r.serverCpuSPerGB)} (clients ${fmt(r.clientCpuSPerGB)})` : '–',
      cr ? `${cr.sharedReceived} / ${cr.forwardedInitial} / ${cr.forwardedOther}` : '–',
      t ? `${t.sharedReceived} / ${t.forwardedInitial} / ${t.forwardedOther}` : '–',
      sr ? `${sr.sharedReceived} / ${sr.forwardedInitial} / ${sr.forwardedOther}` : '–',
    ];
  });
  return {
    id: 'scaleout',
    title: 'Scale-out: 2 node:cluster workers against 1 process (loopback)',
    method:
      `The same mpudp server as one process and as 2 node:cluster workers sharing the public port (each connection moves to its worker's own port after its first round trip), on 127.0.0.1, one path per connection. ${cfg.clientProcesses} \`mpudp bench\` client processes at once: handshakes (connect, wait, destroy) with ${cfg.concurrency} in flight each for ${cfg.connectSeconds} s; then ${cfg.transfers} connections each, opened first, all uploading ${fmt(cfg.transferBytes / 1024)} KiB at once with SHA-256 checked (goodput: all bytes over first to last byte). Best of ${cfg.rounds} round(s). ` +
      'Clients and servers share the host\'s cores (2 on the reference machine: 4 busy processes), so the ratios are a floor; other work on the machine makes them noisy.',
    figures,
    extra: [
      table(['server', 'handshakes/s', 'goodput Mbit/s', 'intact', 'server CPU ms per handshake', 'server CPU s per GB', 'handshake phase: public port / fwd Initials / fwd other', 'goodput phase: same', 'steady state: same'], rows),
    ],
    raw: { config: cfg, cores, single, one, two },
    ms,
  };
}
