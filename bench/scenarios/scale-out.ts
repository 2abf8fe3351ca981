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
 *   the public port, and those forwarded to another worker.
 * The clients share the machine's cores with the servers: on a 2-core host
 * four busy processes compete, so the ratio is a floor, and noisy when
 * other work runs.
 */
import { fmt, table, type Figure, type Section } from '../lib/report.js';
import { freePort, runClientRole, sleep } from '../../lab/harness/bench-roles.js';
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
  handshakeErrors: number;
  goodputMbps: number[];
  intact: number;
  failed: number;
  connections: number;
  /** Routing counters over the handshake phase and the goodput phase. */
  connectRouting: Routing | null;
  transferRouting: Routing | null;
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

/** CPU seconds of every worker alive in both snapshots (a worker's counter is its own process's). */
function cpu(ws: WorkerStats[]): number {
  return ws.reduce((a, w) => a + w.cpuSeconds, 0);
}

async function runConfig(workers: number, cfg: ScaleOutConfig): Promise<ScaleOutRun> {
  const port = await freePort();
  // Worker ports right after the public one: freePort checked port + 1; slot 1's is port + 2.
  const fixture = new ClusterFixture({ workers, port, ownPort: port + 1, mode: 'bench' });
  const run: ScaleOutRun = { workers, handshakesPerSecond: [], serverCpuMsPerHandshake: null, serverCpuSPerGB: null, clientCpuMsPerHandshake: null, handshakeErrors: 0, goodputMbps: [], intact: 0, failed: 0, connections: 0, connectRouting: null, transferRouting: null };
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
      const rs = await Promise.all(
        Array.from({ length: cfg.clientProcesses }, () =>
          runClientRole([...client, '--parallel', String(cfg.transfers), '--bytes', String(cfg.transferBytes), '--verify', '--concurrency', '64'], { timeoutMs: 300_000 }),
        ),
      );
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
  const two = await runConfig(2, cfg);
  return summarize(cfg, single, two, Date.now() - t0);
}

const best = (xs: number[]): number | null => (xs.length > 0 ? Math.max(...xs) : null);
const range = (xs: number[]): string => (xs.length > 1 ? ` (rounds: ${xs.map((x) => fmt(x)).join(', ')})` : '');

export function summarize(cfg: ScaleOutConfig, single: ScaleOutRun, two: ScaleOutRun, ms: number): Section {
  const hs1 = best(single.handshakesPerSecond);
  const hs2 = best(two.handshakesPerSecond);
  const gp1 = best(single.goodputMbps);
  const gp2 = best(two.goodputMbps);
  const hr = ratio(hs2, hs1);
  const gr = ratio(gp2, gp1);
  const tr = two.transferRouting;
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
      name: 'packets forwarded between workers per connection (goodput phase, all but Initials)',
      value: tr ? tr.forwardedOther / Math.max(1, tr.accepted) : null,
      unit: '',
      note: tr ? `${tr.forwardedOther} forwarded non-Initial packets and ${tr.forwardedInitial} Initials over ${tr.accepted} connections; ${tr.sharedReceived} datagrams reached the public port in all` : '',
    },
  ];
  const rows = [single, two].map((r) => {
    const cr = r.connectRouting;
    const t = r.transferRouting;
    return [
      r.workers === 0 ? '1 process' : `${r.workers} workers`,
      r.handshakesPerSecond.map((x) => fmt(x)).join(', '),
      r.goodputMbps.map((x) => fmt(x)).join(', '),
      `${r.intact}/${r.connections}`,
      r.serverCpuMsPerHandshake !== null ? `${fmt(r.serverCpuMsPerHandshake)} (clients ${fmt(r.clientCpuMsPerHandshake)})` : '–',
      r.serverCpuSPerGB !== null ? fmt(r.serverCpuSPerGB) : '–',
      cr ? `${cr.sharedReceived} / ${cr.forwardedInitial} / ${cr.forwardedOther}` : '–',
      t ? `${t.sharedReceived} / ${t.forwardedInitial} / ${t.forwardedOther}` : '–',
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
      table(['server', 'handshakes/s', 'goodput Mbit/s', 'intact', 'server CPU ms per handshake', 'server CPU s per GB', 'handshake phase: public port / fwd Initials / fwd other', 'goodput phase: same'], rows),
    ],
    raw: { config: cfg, single, two },
    ms,
  };
}
