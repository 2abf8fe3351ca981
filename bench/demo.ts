/**
 * `npm start`: the failover demo, on any Linux machine, no root.
 *
 * A client (127.0.0.1, this process) and a server (127.0.0.1, `mpudp bench
 * server` in its own process: the project's one receiver) are joined by two
 * emulated ISPs (lab/emulator, one UDP relay each): A at 100 Mbit/s and
 * 10 ms one way, B at 50 Mbit/s and 20 ms. The client sends `--size` MiB of
 * the seeded pattern as a verified bench upload (src/cli/bench's sender);
 * ISP A is blackholed at `--fail-at` s and healed `--outage` s later. Once a
 * second a line shows each ISP's throughput; the summary gives bytes, the
 * SHA-256 match, each path's share, duration, goodput, the delivery time
 * lost at the failure and the time until the healed ISP carried data again,
 * and an SVG plot of per-ISP throughput is written.
 *
 *   npm start -- [--size MiB] [--rate-a Mbit] [--delay-a ms] [--rate-b Mbit]
 *                [--delay-b ms] [--fail-at s] [--outage s] [--no-failure]
 *                [--cc cubic|newreno|lia|olia|bbr] [--scheduler NAME]
 *                [--svg FILE (default out/demo.svg, not tracked)] [--json]
 *
 * Exits 1 if a byte is missing or the hashes differ.
 */
import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { IspEmulator } from '../lab/emulator/isp.js';
import { startServer, stopServer } from '../lab/harness/bench-roles.js';
import { encodeHeader, epochMs as wallNow, type Timeline } from '../src/cli/bench/common.js';
import { pathSummary } from '../src/cli/bench/paths.js';
import { Pattern, PatternSource, type ReceiverResult } from '../src/cli/bench/pattern.js';
import { pump, readAll } from '../src/cli/bench/stream.js';
import { CONGESTION_CONTROLLERS } from '../src/api/validate.js';
import { connect, SCHEDULER_NAMES, type CongestionControlName, type SchedulerName } from '../src/index.js';
import { cumulative } from './lib/stats.js';
import { lineChart } from './lib/svg.js';

const MiB = 1024 * 1024;
/** The receiver samples its delivered bytes this often (ms). */
const BIN_MS = 50;
/** Sampling period of the per-path counters (ms). */
const SAMPLE_MS = 100;
/** Window after the failure over which delivery time lost is measured (ms). */
const LOSS_WINDOW_MS = 2000;
/** A healed ISP "carries data again" once this many new bytes went over it. */
const HEAL_BYTES = 64 * 1024;

interface Flags {
  size: number;
  rateA: number;
  delayA: number;
  rateB: number;
  delayB: number;
  failAt: number;
  outage: number;
  failure: boolean;
  svg: string;
  json: boolean;
  /** The client's congestion controller (the sender's; default: the library's). */
  cc: CongestionControlName | undefined;
  /** The client's scheduler (default: the library's). */
  scheduler: SchedulerName | undefined;
}

function parse(): Flags {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '256' },
      'rate-a': { type: 'string', default: '100' },
      'delay-a': { type: 'string', default: '10' },
      'rate-b': { type: 'string', default: '50' },
      'delay-b': { type: 'string', default: '20' },
      'fail-at': { type: 'string', default: '4' },
      outage: { type: 'string', default: '4' },
      'no-failure': { type: 'boolean', default: false },
      svg: { type: 'string', default: 'out/demo.svg' },
      json: { type: 'boolean', default: false },
      cc: { type: 'string' },
      scheduler: { type: 'string' },
    },
  });
  const num = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) {
      console.error(`--${name} must be a number ≥ ${min}, got '${v}'`);
      process.exit(2);
    }
    return n;
  };
  return {
    size: Math.round(num('size', values.size, 1) * MiB),
    rateA: num('rate-a', values['rate-a'], 1),
    delayA: num('delay-a', values['delay-a'], 0),
    rateB: num('rate-b', values['rate-b'], 1),
    delayB: num('delay-b', values['delay-b'], 0),
    failAt: num('fail-at', values['fail-at'], 0),
    outage: num('outage', values.outage, 0),
    failure: values['no-failure'] !== true,
    svg: values.svg!,
    json: values.json === true,
    cc: oneOf('cc', values.cc, CONGESTION_CONTROLLERS),
    scheduler: oneOf('scheduler', values.scheduler, SCHEDULER_NAMES),
  };
}

function oneOf<T extends string>(name: string, v: string | undefined, names: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(names as readonly string[]).includes(v)) {
    console.error(`--${name} must be one of ${names.join(', ')}, got '${v}'`);
    process.exit(2);
  }
  return v as T;
}

const mbps = (bytes: number, ms: number): number => (ms > 0 ? (bytes * 8) / (ms * 1000) : 0);
const fmt = (n: number): string => n.toFixed(1).padStart(6);

async function main(): Promise<number> {
  const f = parse();
  const log = f.json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => console.log(line);

  // The receiver, in its own process: `mpudp bench server` for one test.
  const serverRole = await startServer(['--one-off', '--transport', 'mpudp', '--port', '0', '--address', '127.0.0.1', '--no-advertise'], { name: 'server' });
  const listening = serverRole.reports.find((r) => r.type === 'listening') as { addresses: { port: number }[] } | undefined;
  const port = listening!.addresses[0]!.port;

  // Two emulated ISPs in front of it, on 127.0.0.11 and 127.0.0.12; where
  // the host has only 127.0.0.1 (macOS without lo0 aliases), both listen
  // there on two ports: the two paths then differ by port alone.
  const target = { address: '127.0.0.1', port };
  const [hostA, hostB] = (await canBind('127.0.0.11')) && (await canBind('127.0.0.12')) ? ['127.0.0.11', '127.0.0.12'] : ['127.0.0.1', '127.0.0.1'];
  const ispA = await IspEmulator.start({ name: 'ISP A', listen: { address: hostA, port: 0 }, target, delayMs: f.delayA, rateBps: f.rateA * 1e6, seed: 1 });
  const ispB = await IspEmulator.start({ name: 'ISP B', listen: { address: hostB, port: 0 }, target, delayMs: f.delayB, rateBps: f.rateB * 1e6, seed: 2 });
  const addrA = ispA.address()!;
  const addrB = ispB.address()!;

  const client = connect({ addresses: [addrA, addrB], localAddresses: ['127.0.0.1'], addressWatchInterval: 0, allowHalfOpen: true,
    ...(f.cc !== undefined ? { congestionControl: f.cc } : {}),
    ...(f.scheduler !== undefined ? { scheduler: f.scheduler } : {}),
  });
  const failed = new Promise<never>((_, reject) => client.once('error', reject));
  await Promise.race([once(client, 'connect'), failed]);
  const start = wallNow();
  log(
    `mpudp failover demo: ${f.size / MiB} MiB over ISP A (${f.rateA} Mbit/s, ${f.delayA} ms) and ISP B (${f.rateB} Mbit/s, ${f.delayB} ms)` +
      (f.failure ? `; A fails at ${f.failAt} s for ${f.outage} s` : ''),
  );

  // Which ISP each path goes through.
  const ispOf = (remotePort: number): 'A' | 'B' => (remotePort === addrA.port ? 'A' : 'B');
  const ispBytes = (): { A: number; B: number } => {
    const out = { A: 0, B: 0 };
    const stats = client.stats();
    if (stats === null) return out;
    for (const p of stats.paths) {
      const info = client.paths.find((i) => i.id === p.id);
      if (info !== undefined) out[ispOf(info.remotePort)] += p.dataBytesSent + p.dataBytesRetransmitted;
    }
    return out;
  };

  // The failure and the heal.
  let failAt = -1;
  let healAt = -1;
  let healedCarrying = -1;
  let bytesAtHeal = 0;
  const timers: NodeJS.Timeout[] = [];
  if (f.failure) {
    timers.push(
      setTimeout(() => {
        failAt = wallNow();
        ispA.blackhole();
        log(`${((failAt - start) / 1000).toFixed(1).padStart(5)} s  ISP A blackholed`);
      }, f.failAt * 1000),
      setTimeout(() => {
        healAt = wallNow();
        bytesAtHeal = ispBytes().A;
        ispA.heal();
        log(`${((healAt - start) / 1000).toFixed(1).padStart(5)} s  ISP A healed`);
      }, (f.failAt + f.outage) * 1000),
    );
  }

  // Per-ISP samples for the plot; a line a second.
  const series = { A: [] as number[], B: [] as number[] };
  let last = ispBytes();
  let lastAt = wallNow();
  let tick = 0;
  let secondBytes = { A: 0, B: 0 };
  const sampler = setInterval(() => {
    const now = wallNow();
    const cur = ispBytes();
    const dA = cur.A - last.A;
    const dB = cur.B - last.B;
    series.A.push(mbps(dA, now - lastAt));
    series.B.push(mbps(dB, now - lastAt));
    secondBytes = { A: secondBytes.A + dA, B: secondBytes.B + dB };
    if (healAt >= 0 && healedCarrying < 0 && cur.A - bytesAtHeal >= HEAL_BYTES) healedCarrying = now;
    last = cur;
    lastAt = now;
    if (++tick % (1000 / SAMPLE_MS) === 0) {
      log(
        `${((now - start) / 1000).toFixed(0).padStart(5)} s  ISP A ${fmt(mbps(secondBytes.A, 1000))} Mbit/s  ISP B ${fmt(mbps(secondBytes.B, 1000))} Mbit/s` +
          `  total ${fmt(mbps(secondBytes.A + secondBytes.B, 1000))} Mbit/s  sent ${(client.bytesWritten / MiB).toFixed(0)}/${f.size / MiB} MiB`,
      );
      secondBytes = { A: 0, B: 0 };
    }
  }, SAMPLE_MS);

  // Debug: MPUDP_DEMO_TRACE=FILE writes the client's path states every 5 ms
  // from 0.3 s before the failure to 2 s after it (JSON lines).
  const traceFile = process.env.MPUDP_DEMO_TRACE;
  const trace: string[] = [];
  if (traceFile !== undefined && f.failure) {
    const conn = (client as unknown as { connection: TraceConnection | null }).connection;
    const tracer = setInterval(() => {
      const now = wallNow();
      const rel = failAt >= 0 ? now - failAt : now - start - f.failAt * 1000;
      if (rel < -300 || rel > 2000 || conn === null) return;
      trace.push(JSON.stringify(traceLine(conn, rel, ispBytes())));
    }, 5);
    timers.push(tracer);
  }

  // The sender: a verified bench upload; the receiver's report (count,
  // SHA-256, pattern check, delivery timeline) comes back after our FIN.
  const seed = randomInt(2 ** 32);
  const source = new PatternSource(new Pattern(seed), f.size, true);
  const reply = readAll(client);
  client.write(encodeHeader({ mode: 'bulk', dir: 'up', bytes: f.size, timeMs: null, verify: true, seed, binMs: BIN_MS, size: 0 }));
  let server: ReceiverResult & { timeline: Timeline };
  try {
    const [, text] = await Promise.race([Promise.all([pump(client, source), reply]), failed]);
    server = JSON.parse(text.toString('utf8')) as typeof server;
  } finally {
    clearInterval(sampler);
    for (const t of timers) clearTimeout(t);
  }
  const end = wallNow();
  const durationMs = end - start;
  const sha256Sent = source.digest()!;

  // Delivery time lost: the 2 s after the failure, bytes received against
  // ISP B's rate; and against what the connection delivered in the 2 s
  // before the failure when that was less (a CPU-bound run on a loaded
  // machine: there the first figure counts the CPU, not the failover).
  let deliveryLostMs: number | null = null;
  let deliveryLostVsBeforeMs: number | null = null;
  let beforeMbps: number | null = null;
  if (failAt >= 0) {
    const delivered = cumulative(server.timeline, 'delivered');
    const windowMs = Math.min(LOSS_WINDOW_MS, Math.max(0, end - failAt));
    const bytes = delivered(failAt + windowMs) - delivered(failAt);
    deliveryLostMs = Math.max(0, windowMs - (bytes * 8) / (f.rateB * 1e6) * 1000);
    const beforeMs = Math.min(LOSS_WINDOW_MS, failAt - start);
    beforeMbps = mbps(delivered(failAt) - delivered(failAt - beforeMs), beforeMs);
    const expected = Math.min(f.rateB, beforeMbps);
    deliveryLostVsBeforeMs = expected > 0 ? Math.max(0, windowMs - (bytes * 8) / (expected * 1e6) * 1000) : null;
  }
  const healMs = healedCarrying >= 0 ? healedCarrying - healAt : null;
  const summaries = pathSummary(client);
  const firstSent = summaries.reduce((s, p) => s + p.dataBytesSent, 0);
  const paths = summaries.map((p) => ({ ...p, isp: ispOf(p.remotePort), share: firstSent > 0 ? p.dataBytesSent / firstSent : 0 }));
  const summary = {
    bytesSent: source.sent,
    bytesReceived: server.bytes,
    sha256Sent,
    sha256Received: server.sha256,
    match: server.intact === true && sha256Sent === server.sha256 && server.bytes === f.size,
    durationMs: Math.round(durationMs),
    goodputMbps: Number(mbps(server.bytes, durationMs).toFixed(1)),
    deliveryLostMs: deliveryLostMs === null ? null : Math.round(deliveryLostMs),
    beforeFailureMbps: beforeMbps === null ? null : Number(beforeMbps.toFixed(1)),
    deliveryLostVsBeforeMs: deliveryLostVsBeforeMs === null ? null : Math.round(deliveryLostVsBeforeMs),
    healMs: healMs === null ? null : Math.round(healMs),
    paths,
    svg: f.svg,
  };

  if (traceFile !== undefined) writeFileSync(traceFile, trace.join('\n') + '\n');
  mkdirSync(dirname(f.svg), { recursive: true });
  const markers = [];
  if (failAt >= 0) markers.push({ x: (failAt - start) / 1000, label: 'A fails', color: '#c62828' });
  if (healAt >= 0) markers.push({ x: (healAt - start) / 1000, label: 'A heals', color: '#2e7d32' });
  const points = (values: number[]): [number, number][] => values.map((v, i) => [((i + 1) * SAMPLE_MS) / 1000, v]);
  writeFileSync(
    f.svg,
    lineChart({
      title: `mpudp: ${f.size / MiB} MiB over two ISPs (goodput ${summary.goodputMbps} Mbit/s)`,
      xLabel: `time (s, ${SAMPLE_MS} ms samples)`,
      yLabel: 'Mbit/s',
      series: [
        { label: `ISP A (${f.rateA} Mbit/s)`, color: '#1565c0', points: points(series.A) },
        { label: `ISP B (${f.rateB} Mbit/s)`, color: '#ef6c00', points: points(series.B) },
      ],
      markers,
    }),
  );

  await Promise.race([once(client, 'close'), new Promise((r) => setTimeout(r, 2000))]);
  await stopServer(serverRole);
  await ispA.close();
  await ispB.close();

  if (f.json) {
    console.log(JSON.stringify(summary, null, 2));
  } else {
    console.log('');
    console.log(`bytes        sent ${summary.bytesSent}, received ${summary.bytesReceived}`);
    console.log(`sha256       ${sha256Sent} sent`);
    console.log(`             ${server.sha256} received`);
    console.log(`match        ${summary.match ? 'yes' : 'NO'}`);
    for (const p of paths) {
      console.log(
        `path ${p.id}       ISP ${p.isp}  ${(p.share * 100).toFixed(1)}% of bytes` +
          `  (${p.retransmitted} re-sent, ${p.packetsLost} packets lost, srtt ${p.srttMs.toFixed(1)} ms, ${p.state})`,
      );
    }
    console.log(`duration     ${(durationMs / 1000).toFixed(2)} s`);
    console.log(`goodput      ${summary.goodputMbps} Mbit/s (ISPs sum to ${f.rateA + f.rateB} Mbit/s)`);
    if (deliveryLostMs !== null) console.log(`failover     delivery time lost in the ${LOSS_WINDOW_MS / 1000} s after ISP A failed: ${summary.deliveryLostMs} ms`);
    if (deliveryLostVsBeforeMs !== null && beforeMbps !== null && beforeMbps < f.rateB) {
      console.log(`             (${summary.deliveryLostVsBeforeMs} ms against the ${summary.beforeFailureMbps} Mbit/s delivered before the failure: the machine's CPU held the run below ISP B's rate)`);
    }
    if (f.failure) console.log(`healed       ${healMs === null ? 'ISP A did not carry data again before the end' : `ISP A carried data again ${summary.healMs} ms after it healed`}`);
    console.log(`plot         ${f.svg}`);
  }
  return summary.match ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('mpudp demo failed:', err);
    process.exit(2);
  },
);

/** Whether a UDP socket can bind `address` here (127.0.0.x beyond .1 needs an alias on macOS). */
function canBind(address: string): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(0, address, () => socket.close(() => resolve(true)));
  });
}

/** What the debug trace reads of the core connection (not a public surface). */
interface TraceConnection {
  pathList: {
    id: number;
    state: string;
    ptoCount: number;
    windowRoom: number;
    rtt: { smoothed: number; rttvar: number; latest: number; minRtt: number };
    sent: { bytesInFlight: number };
    cc: { name: string; window: number; pacingRate?: number | null; state?: string };
  }[];
  sendBuffer: { unsentBytes: number; hasRetransmit: boolean; sendOffset: number; ackedBelow: number };
  sendWindow: { maxData: number };
  scheduler: { name: string; waits?: number };
  coupledGroup: { bottlenecks: { standby(id: number): boolean } };
}

function traceLine(conn: TraceConnection, rel: number, bytes: { A: number; B: number }): object {
  const sb = conn.sendBuffer;
  return {
    t: Math.round(rel * 10) / 10,
    unsent: sb.unsentBytes,
    retx: sb.hasRetransmit,
    inFlightData: sb.sendOffset - sb.ackedBelow,
    winRoom: conn.sendWindow.maxData - sb.sendOffset,
    acked: sb.ackedBelow,
    waits: conn.scheduler.waits,
    bytes,
    paths: conn.pathList.map((p) => ({
      id: p.id,
      st: p.state,
      pto: p.ptoCount,
      srtt: Math.round(p.rtt.smoothed * 10) / 10,
      var: Math.round(p.rtt.rttvar * 10) / 10,
      lat: Math.round(p.rtt.latest * 10) / 10,
      cwnd: p.cc.window,
      rate: p.cc.pacingRate === undefined || p.cc.pacingRate === null ? null : Math.round(p.cc.pacingRate * 8) / 1000,
      bbr: p.cc.state,
      fl: p.sent.bytesInFlight,
      room: p.windowRoom,
      sb: conn.coupledGroup.bottlenecks.standby(p.id),
    })),
  };
}
