/**
 * Issue #6, part 6: scale, beside Node TCP in the same run, on loopback.
 * - Handshakes per second: the client connects, waits for 'connect',
 *   destroys, with `concurrency` handshakes in flight, for a time.
 * - Memory per idle connection: a fresh server (node --expose-gc) reports
 *   heap and RSS after a full GC; the client opens N connections that send
 *   nothing and holds them; (after − before) ÷ N, at each N.
 * - Concurrent transfers: `transfers` connections opened first, then all
 *   upload `transferBytes` at once; every transfer's SHA-256 is checked at
 *   both ends.
 */
import { fmt, table, type Figure, type Section } from '../lib/report.js';
import { askStats, freePort, runClientRole, sleep, spawnBench, startServer, stopServer } from '../../lab/harness/bench-roles.js';
import type { Report } from '../../lab/harness/process.js';
import { ratio } from '../lib/stats.js';

export interface ScaleConfig {
  /** Seconds of handshakes per transport. */
  connectSeconds: number;
  /** Handshakes in flight. */
  concurrency: number;
  /**
   * Idle connection counts to measure memory at, each with mpudp's
   * keepAliveInterval (s) on both ends (default: the default, 1 s).
   */
  idle: { n: number; keepAliveS?: number }[];
  /** Most seconds spent opening the idle connections. */
  openSeconds: number;
  /** Idle memory: wait after the last handshake, then the window the idle CPU is measured over (ms). */
  settleMs: number;
  idleCpuMs: number;
  /** Concurrent transfers and bytes each. */
  transfers: number;
  transferBytes: number;
}

type T = 'mpudp' | 'tcp';
const NAME: Record<T, string> = { mpudp: 'mpudp', tcp: 'Node TCP' };

export interface IdleRun {
  transport: T;
  n: number;
  /** Connections the server had open when measured. */
  serverConnections: number;
  heapPerConn: number;
  rssPerConn: number;
  /** Buffers outside the JS heap (ArrayBuffers), per connection. */
  arrayBuffersPerConn: number;
  clientHeapPerConn: number;
  clientRssPerConn: number;
  /** mpudp keepAliveInterval (s), when not the default. */
  keepAliveS: number | null;
  /** Server CPU while holding the idle connections (share of one core). */
  serverIdleCpu: number;
  openPerSecond: number;
  errors: number;
}

export interface ConnectRun {
  transport: T;
  perSecond: number;
  handshakes: number;
  errors: number;
  p50: number;
  p99: number;
  /** CPU seconds of client and server over the test. */
  clientCpu: number;
  serverCpu: number;
}

export interface TransfersRun {
  transport: T;
  transfers: number;
  intact: number;
  failed: number;
  connectMs: number;
  /** First byte to last byte, all transfers (ms). */
  ms: number;
  mbps: number;
  /** The client's error, when the run failed. */
  error?: string;
}

const client = (t: T): string[] => (t === 'mpudp' ? ['127.0.0.1', '--local', '127.0.0.1'] : ['127.0.0.1', '--transport', 'tcp']);
/**
 * Handshakes and idle connections come from SOURCES loopback addresses in
 * turn, as from that many clients: the server allows 8 half-open
 * connections per source address before it asks for a Retry (issue #9), so
 * 64 in flight from one address measured the two-round-trip handshake.
 */
export const SOURCES = 16;
const manyClients = (t: T): string[] => [
  '127.0.0.1',
  ...(t === 'tcp' ? ['--transport', 'tcp'] : []),
  '--local',
  Array.from({ length: SOURCES }, (_, i) => `127.0.0.${i + 1}`).join(','),
  '--rotate-local',
];

async function idleRun(t: T, n: number, keepAliveS: number | null, cfg: ScaleConfig): Promise<IdleRun> {
  const concurrency = cfg.concurrency;
  const port = await freePort();
  const ka = t === 'mpudp' && keepAliveS !== null ? ['--keepalive', String(keepAliveS)] : [];
  const server = await startServer(['--port', String(port), '--address', '127.0.0.1', '--transport', t, ...ka], { nodeFlags: ['--expose-gc'] });
  try {
    await sleep(300);
    const before = await askStats(server);
    const holder = spawnBench(['client', ...manyClients(t), '--port', String(port), '--mode', 'hold', '--connections', String(n), '--concurrency', String(concurrency), '--time', String(cfg.openSeconds), '--interval', '0', ...ka], {
      nodeFlags: ['--expose-gc'],
      name: `${t} hold client`,
    });
    try {
      const held = await holder.waitFor((r) => r.type === 'held' || r.type === 'error', cfg.openSeconds * 1000 + 60_000, 'held');
      if (held.type === 'error') throw new Error(`hold client failed: ${String(held.message)}`);
      // Let the handshakes' leftovers go (retransmission state, first keep-alives).
      await sleep(cfg.settleMs);
      const cpu0 = Number((await askStats(server)).cpuSeconds);
      const w0 = Date.now();
      await sleep(cfg.idleCpuMs);
      const after = await askStats(server);
      const idleCpu = (Number(after.cpuSeconds) - cpu0) / ((Date.now() - w0) / 1000);
      const mb = before.memory as { heapUsed: number; rss: number; arrayBuffers: number };
      const ma = after.memory as { heapUsed: number; rss: number; arrayBuffers: number };
      const conns = (after.counts as Record<T, { open: number }>)[t].open;
      holder.send('stop');
      await holder.waitFor((r) => r.type === 'result', 60_000, 'result');
      return {
        transport: t,
        n,
        keepAliveS: t === 'mpudp' ? keepAliveS : null,
        serverConnections: conns,
        heapPerConn: (ma.heapUsed - mb.heapUsed) / Math.max(1, conns),
        rssPerConn: (ma.rss - mb.rss) / Math.max(1, conns),
        arrayBuffersPerConn: (ma.arrayBuffers - mb.arrayBuffers) / Math.max(1, conns),
        clientHeapPerConn: Number(held.clientHeapPerConnection),
        clientRssPerConn: Number(held.clientRssPerConnection),
        serverIdleCpu: idleCpu,
        openPerSecond: Number(held.perSecond),
        errors: Number(held.errors),
      };
    } finally {
      await holder.kill();
    }
  } finally {
    await stopServer(server);
  }
}

export async function scale(cfg: ScaleConfig): Promise<Section> {
  const t0 = Date.now();
  const connects: ConnectRun[] = [];
  const transfers: TransfersRun[] = [];
  const idle: IdleRun[] = [];
  const port = await freePort();
  const server = await startServer(['--port', String(port), '--address', '127.0.0.1', '--transport', 'all']);
  try {
    for (const t of ['tcp', 'mpudp'] as T[]) {
      const s0 = Number((await askStats(server)).cpuSeconds);
      const r = await runClientRole([...manyClients(t), '--port', String(port), '--mode', 'connect', '--time', String(cfg.connectSeconds), '--concurrency', String(cfg.concurrency), '--interval', '1'], {
        timeoutMs: cfg.connectSeconds * 1000 + 60_000,
      });
      const s1 = Number((await askStats(server)).cpuSeconds);
      connects.push({
        transport: t,
        perSecond: Number(r.perSecond),
        handshakes: Number(r.handshakes),
        errors: Number(r.errors),
        p50: Number(r.p50Ms),
        p99: Number(r.p99Ms),
        clientCpu: Number(r.cpuSeconds),
        serverCpu: s1 - s0,
      });
      await sleep(500);
    }
    for (const t of ['tcp', 'mpudp'] as T[]) {
      let r: Report;
      try {
        r = await runClientRole(
          [...client(t), '--port', String(port), '--parallel', String(cfg.transfers), '--bytes', String(cfg.transferBytes), '--verify', '--concurrency', String(cfg.concurrency), '--interval', '1'],
          { timeoutMs: 300_000 },
        );
      } catch (err) {
        // A failed run is a missed figure, not the end of the section: the idle runs below still measure.
        transfers.push({ transport: t, transfers: cfg.transfers, intact: 0, failed: cfg.transfers, connectMs: NaN, ms: NaN, mbps: NaN, error: (err as Error).message });
        continue;
      }
      transfers.push({
        transport: t,
        transfers: Number(r.parallel),
        intact: Number(r.intact),
        failed: Number(r.failed),
        connectMs: Number(r.connectMs),
        ms: Number(r.ms),
        mbps: Number(r.bps) / 1e6,
      });
    }
  } finally {
    await stopServer(server);
  }
  for (const { n, keepAliveS } of cfg.idle) {
    for (const t of ['tcp', 'mpudp'] as T[]) idle.push(await idleRun(t, n, keepAliveS ?? null, cfg));
  }
  return summarize(cfg, connects, idle, transfers, Date.now() - t0);
}

export function summarize(cfg: ScaleConfig, connects: ConnectRun[], idle: IdleRun[], transfers: TransfersRun[], ms: number): Section {
  const c = (t: T): ConnectRun | undefined => connects.find((x) => x.transport === t);
  const figures: Figure[] = [
    {
      name: `handshakes per second (${cfg.concurrency} in flight)`,
      value: c('mpudp')?.perSecond ?? null,
      unit: '/s',
      baseline: { name: 'Node TCP connect/accept', value: c('tcp')?.perSecond ?? null },
      ratio: ratio(c('mpudp')?.perSecond, c('tcp')?.perSecond),
      target: { text: '≥ 2,000/s', on: 'value', pass: c('mpudp') ? c('mpudp')!.perSecond >= 2000 : null },
      note: c('mpudp') ? `p50 ${fmt(c('mpudp')!.p50)} ms, p99 ${fmt(c('mpudp')!.p99)} ms; CPU client ${fmt(c('mpudp')!.clientCpu)} s, server ${fmt(c('mpudp')!.serverCpu)} s; ${c('mpudp')!.errors} errors` : '',
    },
  ];
  for (const { n } of cfg.idle) {
    const m = idle.find((x) => x.transport === 'mpudp' && x.n === n);
    const b = idle.find((x) => x.transport === 'tcp' && x.n === n);
    // Issue 11's target: heap at every N, RSS at N = 10,000 (at 1,000 the RSS
    // step is mostly V8's own pages, reserved whatever the connection count).
    const judgesRss = n >= 10_000;
    const worst = m ? (judgesRss ? Math.max(m.heapPerConn, m.rssPerConn) : m.heapPerConn) : NaN;
    const opened = m && m.serverConnections < n ? `only ${m.serverConnections} of ${n} opened within ${cfg.openSeconds} s; ` : '';
    figures.push({
      name: `server memory per idle connection, N = ${n.toLocaleString('en-US')}${m?.keepAliveS ? ` (keep-alive every ${m.keepAliveS} s)` : ''}`,
      value: m ? m.heapPerConn / 1024 : null,
      unit: 'KiB heap',
      baseline: { name: 'Node TCP heap', value: b ? b.heapPerConn / 1024 : null, unit: 'KiB' },
      ratio: m && b ? ratio(m.heapPerConn, b.heapPerConn) : null,
      target: { text: judgesRss ? '≤ 16 KiB (heap and RSS)' : '≤ 16 KiB heap', on: 'value', pass: m ? worst <= 16 * 1024 : null },
      note: m
        ? `${opened}RSS ${fmt(m.rssPerConn / 1024)} KiB, ArrayBuffers ${fmt(m.arrayBuffersPerConn / 1024)} KiB (TCP RSS ${b ? fmt(b.rssPerConn / 1024) : '–'} KiB; its kernel socket memory is not in RSS); idle server CPU ${fmt(100 * m.serverIdleCpu)} % of a core`
        : '',
    });
  }
  const tr = (t: T): TransfersRun | undefined => transfers.find((x) => x.transport === t);
  const m = tr('mpudp');
  figures.push({
    name: `${cfg.transfers.toLocaleString('en-US')} concurrent transfers of ${fmt(cfg.transferBytes / 1024)} KiB, intact`,
    value: m ? m.intact : null,
    unit: `of ${cfg.transfers}`,
    baseline: { name: 'Node TCP', value: tr('tcp')?.intact ?? null },
    target: { text: 'all intact (SHA-256)', on: 'value', pass: m ? m.intact === cfg.transfers : null },
    note: m?.error !== undefined ? `the run failed: ${m.error}` : m ? `all done in ${fmt(m.ms)} ms after opening (TCP ${fmt(tr('tcp')?.ms)} ms); aggregate ${fmt(m.mbps)} Mbit/s (TCP ${fmt(tr('tcp')?.mbps)})` : '',
  });
  const idleTable = table(
    ['transport', 'N', 'keep-alive', 'open at measurement', 'server heap / conn', 'server RSS / conn', 'server ArrayBuffers / conn', 'client heap / conn', 'client RSS / conn', 'opened per s', 'idle server CPU'],
    idle.map((x) => [
      NAME[x.transport],
      x.n,
      x.transport === 'tcp' ? '–' : `${x.keepAliveS ?? 1} s`,
      x.serverConnections,
      `${fmt(x.heapPerConn / 1024)} KiB`,
      `${fmt(x.rssPerConn / 1024)} KiB`,
      `${fmt(x.arrayBuffersPerConn / 1024)} KiB`,
      `${fmt(x.clientHeapPerConn / 1024)} KiB`,
      `${fmt(x.clientRssPerConn / 1024)} KiB`,
      fmt(x.openPerSecond),
      `${fmt(100 * x.serverIdleCpu)} %`,
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
  const connTable = table(
    ['transport', 'handshakes/s', 'handshakes', 'p50 ms', 'p99 ms', 'client CPU s', 'server CPU s', 'errors'],
    connects.map((x) => [NAME[x.transport], fmt(x.perSecond), x.handshakes, fmt(x.p50), fmt(x.p99), fmt(x.clientCpu), fmt(x.serverCpu), x.errors]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
  const trTable = table(
    ['transport', 'transfers', 'intact', 'opening ms', 'first to last byte ms', 'aggregate Mbit/s'],
    transfers.map((x) => [NAME[x.transport], x.transfers, x.intact, fmt(x.connectMs), fmt(x.ms), fmt(x.mbps)]),
    ['l', 'r', 'r', 'r', 'r', 'r'],
  );
  return {
    id: 'scale',
    title: '6. Scale',
    method:
      `Loopback, client and server in separate processes. Handshakes: ${cfg.connectSeconds} s of connect → 'connect' → destroy with ${cfg.concurrency} in flight from ${SOURCES} loopback source addresses in turn (127.0.0.1–${SOURCES}, as from that many clients: the server asks a source with 8 handshakes half-open for a Retry; the client's connections share one UDP socket per source and one connected socket each, as \`connect()\` does in one process). ` +
      `Idle memory: a fresh server per transport and N, run with --expose-gc; heap, RSS and ArrayBuffers after a full GC before the client connects and ${fmt((cfg.settleMs + cfg.idleCpuMs) / 1000)} s after it holds N connections that send nothing, divided by the connections open (opening stops after ${cfg.openSeconds} s). ` +
      'mpudp probes every idle path every keepAliveInterval (1 s by default); at 1 s, the probing of 10,000 connections needs more CPU than the two cores have (see the idle CPU at 1,000), so the N = 10,000 run probes every ' +
      `${cfg.idle.find((i) => i.keepAliveS)?.keepAliveS ?? 1} s on both ends: memory per connection does not depend on it. ` +
      `Concurrent transfers: ${cfg.transfers} connections opened (${cfg.concurrency} handshakes in flight), then every one uploads ${fmt(cfg.transferBytes / 1024)} KiB at once; the server hashes each stream and the client compares digests.`,
    figures,
    extra: ['Handshakes:', connTable, 'Idle connections:', idleTable, 'Concurrent transfers:', trTable],
    raw: { config: cfg, connects, idle, transfers },
    ms,
  };
}
