/**
 * The performance matrix (issue #3, part 5): scenario builders and
 * measurements on the simulator, shared by test/sim/matrix.test.ts (which
 * asserts the targets) and bench/sim-matrix.ts (which writes the table).
 *
 * Topology: one server node (10.0.0.1), one mpudp client node with one
 * address per path (10.0.<i+1>.2), and optionally a competing single-path
 * client (10.0.9.2). Data flows client → server; each path's links carry
 * the path's rate, delay and loss in both directions (ACKs too). In the
 * shared-bottleneck scenario the data direction of every path, and of the
 * competitor, queues in ONE transmitter (Network.shareLink); the ACK
 * direction is uncongested.
 *
 * Goodput: stream bytes the server application read in a steady window
 * [connect + warmupMs, + measureMs), divided by measureMs. The sender
 * always has data (its send buffer is refilled after every step); the
 * reader reads everything at once.
 */
import { EndpointCore } from '../../src/core/endpoint.js';
import type { Connection } from '../../src/core/connection.js';
import type { CongestionControlName, ConnectionOptions } from '../../src/core/options.js';
import { createCongestionController, type CongestionController } from '../../src/core/path/congestion.js';
import { CoupledReno } from '../../src/core/path/coupled-reno.js';
import type { SchedulerName } from '../../src/core/sched/index.js';
import type { Link, LinkParams } from '../link/index.js';
import type { SimNode } from './network.js';
import { World } from './world.js';

export const MBIT = 1e6;
export const KiB = 1024;
export const MiB = 1024 * 1024;

const SERVER = '10.0.0.1';
const SERVER_PORT = 4433;
const CLIENT_PORT = 50000;
const COMPETITOR = '10.0.9.2';

/** One path of a scenario (both directions). */
export interface PathSpec {
  /** Bottleneck rate, bit/s (ignored in the data direction when the scenario shares one). */
  rateBps: number;
  /** One-way delay, ms (RTT = 2 × delayMs before queueing). */
  delayMs: number;
  /** Random loss probability, each direction. */
  lossRate?: number;
  /** Queue limit, bytes (default: the simulator's, rate × 100 ms). */
  queueBytes?: number | null;
  /** Uniform jitter, ms. */
  jitterMs?: number;
  /** Probability a datagram is held back 5 ms (overtaken by later ones). */
  reorderRate?: number;
  /** Probability a datagram is delivered twice. */
  duplicateRate?: number;
}

/** What a scenario promises. */
export type Target =
  /** Goodput ≥ fraction × the sum of the path rates. */
  | { kind: 'fraction-of-sum'; fraction: number }
  /** Goodput ≥ the better path alone (measured with the same settings), within `tolerance`. */
  | { kind: 'no-harm'; tolerance: number }
  /** mpudp's share of the shared bottleneck ≤ fraction, whatever the controller. */
  | { kind: 'max-share'; fraction: number }
  /** The queueing delay mpudp adds at the bottlenecks is reported (and compared across controllers by the test). */
  | { kind: 'queue-delay' }
  /** Reported only. */
  | { kind: 'report' };

export interface Scenario {
  /** Short name (table row). */
  name: string;
  /** One line for the table. */
  description: string;
  paths: PathSpec[];
  /** Server receive window (flow control), bytes; default the library's. */
  receiveWindow?: number;
  /** Most the receive window may auto-tune to (default: `receiveWindow` when that is given, so the window is fixed; else the library's). */
  maxReceiveWindow?: number;
  /** Who sends: the client ('upload', the default) or the server ('download'). */
  direction?: 'upload' | 'download';
  /** Every data-direction link (and the competitor's) queues in one transmitter. */
  sharedBottleneck?: { rateBps: number; queueBytes?: number };
  /** A competing single-path flow through the shared bottleneck. */
  competitor?: { delayMs: number; jitterMs?: number };
  /** Virtual time before and during measurement, ms, for the full matrix (the test may scale them down). */
  warmupMs: number;
  measureMs: number;
  target: Target;
}

/** The scenarios of issue #3. */
export const SCENARIOS: Scenario[] = [
  {
    name: 'balanced',
    description: '2 × 50 Mbit/s, 20 ms RTT',
    paths: [
      { rateBps: 50 * MBIT, delayMs: 10 },
      { rateBps: 50 * MBIT, delayMs: 10 },
    ],
    warmupMs: 2000,
    measureMs: 8000,
    target: { kind: 'fraction-of-sum', fraction: 0.95 },
  },
  {
    name: 'unbalanced-4M',
    description: '100 Mbit/s 10 ms RTT + 20 Mbit/s 80 ms RTT, 4 MiB receive window',
    paths: [
      { rateBps: 100 * MBIT, delayMs: 5 },
      { rateBps: 20 * MBIT, delayMs: 40 },
    ],
    receiveWindow: 4 * MiB,
    warmupMs: 2000,
    measureMs: 8000,
    target: { kind: 'fraction-of-sum', fraction: 0.9 },
  },
  {
    name: 'unbalanced-1M',
    description: 'the same with a 1 MiB receive window',
    paths: [
      { rateBps: 100 * MBIT, delayMs: 5 },
      { rateBps: 20 * MBIT, delayMs: 40 },
    ],
    receiveWindow: 1 * MiB,
    warmupMs: 2000,
    measureMs: 8000,
    target: { kind: 'no-harm', tolerance: 0.02 },
  },
  {
    name: 'lossy',
    description: '2 × 50 Mbit/s, 20 ms RTT, 1 % random loss on one',
    paths: [
      { rateBps: 50 * MBIT, delayMs: 10 },
      { rateBps: 50 * MBIT, delayMs: 10, lossRate: 0.01 },
    ],
    warmupMs: 2000,
    measureMs: 8000,
    target: { kind: 'fraction-of-sum', fraction: 0.85 },
  },
  {
    name: 'shared',
    description: '2 paths + 1 single-path flow through one 50 Mbit/s bottleneck (1 BDP queue), 20 ms RTT',
    paths: [
      { rateBps: 1000 * MBIT, delayMs: 10, jitterMs: 1 },
      { rateBps: 1000 * MBIT, delayMs: 10, jitterMs: 1 },
    ],
    // A queue of one BDP (20 ms): with the default 100 ms queue a Reno sawtooth
    // lasts ~30 s and a 20 s window would measure the start-up, not the sharing.
    sharedBottleneck: { rateBps: 50 * MBIT, queueBytes: 125_000 },
    competitor: { delayMs: 10, jitterMs: 1 },
    warmupMs: 3000,
    measureMs: 20_000,
    target: { kind: 'max-share', fraction: 0.6 },
  },
  {
    name: 'hetero-up',
    description: '100 Mbit/s 10 ms RTT + 50 Mbit/s 60 ms RTT, upload',
    paths: [
      { rateBps: 100 * MBIT, delayMs: 5 },
      { rateBps: 50 * MBIT, delayMs: 30 },
    ],
    warmupMs: 2000,
    measureMs: 8000,
    target: { kind: 'fraction-of-sum', fraction: 0.95 },
  },
  {
    name: 'hetero-down',
    description: 'the same, download (the server sends)',
    paths: [
      { rateBps: 100 * MBIT, delayMs: 5 },
      { rateBps: 50 * MBIT, delayMs: 30 },
    ],
    direction: 'download',
    warmupMs: 2000,
    measureMs: 8000,
    target: { kind: 'fraction-of-sum', fraction: 0.95 },
  },
  {
    name: 'bufferbloat',
    description: '2 × 50 Mbit/s, 20 ms RTT, deep buffers (500 ms each): queueing delay added',
    paths: [
      { rateBps: 50 * MBIT, delayMs: 10, queueBytes: 3_125_000 },
      { rateBps: 50 * MBIT, delayMs: 10, queueBytes: 3_125_000 },
    ],
    warmupMs: 2000,
    measureMs: 8000,
    target: { kind: 'queue-delay' },
  },
  {
    name: 'jittery',
    description: '2 × 50 Mbit/s, 20 ms RTT, 2 ms jitter, 1 % reordered by 5 ms, 0.5 % duplicated (report only)',
    paths: [
      { rateBps: 50 * MBIT, delayMs: 10, jitterMs: 2, reorderRate: 0.01, duplicateRate: 0.005 },
      { rateBps: 50 * MBIT, delayMs: 10, jitterMs: 2, reorderRate: 0.01, duplicateRate: 0.005 },
    ],
    warmupMs: 2000,
    measureMs: 8000,
    target: { kind: 'report' },
  },
];

export function scenario(name: string): Scenario {
  const s = [...SCENARIOS, LAB_SHARED].find((x) => x.name === name);
  if (s === undefined) throw new Error(`no scenario ${name}`);
  return s;
}

/**
 * The namespace lab's shared bottleneck (bench/scenarios/lab-delay.ts,
 * lab-shared; issue #12): the same rate, delay, one-BDP queue and Cubic
 * competitor, and the server sending. Not a row of the matrix (its 100
 * Mbit/s runs are slow): test/sim/matrix-shared.test.ts runs it.
 */
export const LAB_SHARED: Scenario = {
  name: 'shared-lab',
  description: 'the namespace lab\'s shared bottleneck: 2 paths + 1 single-path flow through one 100 Mbit/s bottleneck (1 BDP queue, 250 kB), 20 ms RTT, download',
  paths: [
    { rateBps: 1000 * MBIT, delayMs: 10, jitterMs: 1 },
    { rateBps: 1000 * MBIT, delayMs: 10, jitterMs: 1 },
  ],
  direction: 'download',
  sharedBottleneck: { rateBps: 100 * MBIT, queueBytes: 250_000 },
  competitor: { delayMs: 10, jitterMs: 1 },
  warmupMs: 5000,
  measureMs: 15_000,
  target: { kind: 'max-share', fraction: 0.6 },
};

/** Sum of the path rates, or the shared bottleneck's rate. */
export function capacityBps(s: Scenario): number {
  if (s.sharedBottleneck !== undefined) return s.sharedBottleneck.rateBps;
  return s.paths.reduce((n, p) => n + p.rateBps, 0);
}

/** The scenario reduced to its best path alone (the "do no harm" baseline). */
export function betterPathAlone(s: Scenario): Scenario {
  const best = s.paths.reduce((a, b) => (b.rateBps > a.rateBps ? b : a));
  return { ...s, name: `${s.name}:best-path-alone`, description: 'the better path alone', paths: [best] };
}

export interface RunConfig {
  scenario: Scenario;
  scheduler: SchedulerName;
  congestionControl: CongestionControlName;
  /** Controller of the competing flow (default: 'newreno' against a coupled one, else the same). */
  competitorCongestionControl?: CongestionControlName;
  seed: number;
  /** Virtual ms from connect before measuring. */
  warmupMs: number;
  /** Virtual ms measured. */
  measureMs: number;
  /**
   * Experiments only: a controller for every mpudp client path, installed
   * when the path is created (to try a controller the core does not offer).
   */
  experimentalController?: (maxDatagramSize: number) => CongestionController;
  /** Experiments only: connection options of the mpudp client (and the server's defaults). */
  options?: Partial<ConnectionOptions>;
  /** Experiments only: client paths (by index) that start as backups. */
  backupPaths?: number[];
  /** Experiments only: called with the mpudp sender's connection, the competitor's and the mpudp receiver's when the run ends. */
  onEnd?: (conn: Connection, competitor: Connection | null, receiver: Connection | null) => void;
}

export interface PathReport {
  id: number;
  /** Goodput-window rate of stream bytes first sent + re-sent on the path, bit/s. */
  sendBps: number;
  lossEvents: number;
  packetsLost: number;
  /** Packets declared lost and acknowledged later (reordering taken for loss). */
  packetsSpuriouslyLost: number;
  /** Congestion events undone because every loss they reacted to proved spurious. */
  lossEventsUndone: number;
  smoothedRtt: number;
  congestionWindow: number;
}

export interface RunResult {
  /** mpudp goodput in the window, bit/s. */
  goodputBps: number;
  /** Competing flow's goodput, bit/s (0 without one). */
  competitorBps: number;
  /** mpudp's share of what both flows delivered (shared scenario), else 1. */
  share: number;
  /** Client per-path counters at the end. */
  paths: PathReport[];
  /** Client: receive-window stalls (send side), reinjections, penalizations, redundant copies. */
  windowBlocked: number;
  opportunisticReinjections: number;
  penalizations: number;
  redundantCopies: number;
  /** Largest shared-queue occupancy, bytes (shared scenario). */
  maxQueueBytes: number;
  /**
   * Queueing delay at the data-direction bottlenecks during the measurement
   * (sampled every 10 ms): the mean over paths of each path's mean, and the
   * 95th percentile over every sample of every path, ms. The shared
   * scenario samples its one shared queue.
   */
  queueDelayMs: { mean: number; p95: number };
  /** Client paths counted in one CoupledGroup at the end (0 for uncoupled controllers). */
  coupledPaths: number;
  /** Real milliseconds the run took. */
  wallMs: number;
}

/** A server that accepts every connection and reads everything, recording reads per connection. */
class Reader {
  /** Bytes read per connection, and the (virtual) time of each read. */
  readonly reads = new Map<Connection, { times: number[]; bytes: number[]; total: number }>();
  /** Called after each read with the connection and its running total. */
  onRead: ((conn: Connection, total: number, now: number) => void) | null = null;

  constructor(
    readonly endpoint: EndpointCore,
    private readonly world: World,
  ) {}

  /** Reads `conn` too (a client connection, for downloads). */
  track(conn: Connection): void {
    if (!this.reads.has(conn)) this.reads.set(conn, { times: [], bytes: [], total: 0 });
  }

  pump(): void {
    const ep = this.endpoint;
    for (let e = ep.pollEvent(); e !== null; e = ep.pollEvent()) {
      if (e.type === 'accepted') this.reads.set(e.connection, { times: [], bytes: [], total: 0 });
    }
    for (const [conn, log] of this.reads) {
      let any = false;
      for (let chunk = conn.read(); chunk !== null; chunk = conn.read()) {
        log.times.push(this.world.now);
        log.bytes.push(chunk.length);
        log.total += chunk.length;
        any = true;
      }
      if (any) {
        ep.touch(conn);
        if (this.onRead !== null) this.onRead(conn, log.total, this.world.now);
      }
    }
  }

  /** Bytes `conn` delivered in [t0, t1). */
  between(conn: Connection, t0: number, t1: number): number {
    const log = this.reads.get(conn);
    if (log === undefined) return 0;
    let n = 0;
    for (let i = 0; i < log.times.length; i++) if (log.times[i]! >= t0 && log.times[i]! < t1) n += log.bytes[i]!;
    return n;
  }

  /** The accepted connection with a path from `address` (a client address is in one connection only). */
  byClientAddress(address: string): Connection | null {
    for (const conn of this.reads.keys()) if (conn.pathList.some((p) => p.remote.address === address)) return conn;
    return null;
  }
}

/** A client endpoint as a SimNode that drains its events. */
function clientNode(ep: EndpointCore, after: () => void): SimNode {
  return {
    handleDatagram: (d, l, r, now) => {
      ep.handleDatagram(d, l, r, now);
      for (let e = ep.pollEvent(); e !== null; e = ep.pollEvent()) {
        // events are not needed here
      }
      after();
    },
    handleTimeout: (now) => {
      ep.handleTimeout(now);
      for (let e = ep.pollEvent(); e !== null; e = ep.pollEvent()) {
        // events are not needed here
      }
      after();
    },
    pollTransmit: (now) => ep.pollTransmit(now),
    pollTimeout: () => ep.pollTimeout(),
  };
}

/**
 * Until the connection owns a CoupledGroup (the lead wires one into
 * PathState), re-home coupled controllers created with private groups into
 * the group of the connection's first path. A no-op once all coupled paths
 * of `conn` share one group, and for uncoupled controllers.
 */
export function ensureCoupled(conn: Connection): void {
  const first = conn.pathList[0]?.cc;
  if (!(first instanceof CoupledReno)) return;
  for (const path of conn.pathList) {
    const cc = path.cc;
    if (cc instanceof CoupledReno && cc.group !== first.group) {
      cc.dispose();
      (path as { cc: CongestionController }).cc = createCongestionController(cc.name, path.maxDatagramSize, first.group);
    }
  }
}

/** Paths of `conn` taking part in its first path's CoupledGroup (0 when not coupled). */
function coupledPaths(conn: Connection): number {
  const first = conn.pathList[0]?.cc;
  if (!(first instanceof CoupledReno)) return 0;
  return conn.pathList.filter((p) => p.cc instanceof CoupledReno && p.cc.group === first.group && p.cc.coupled).length;
}

/** Keeps `conn`'s send buffer full from a shared buffer. */
function refill(conn: Connection, ep: EndpointCore, chunk: Uint8Array): void {
  if (conn.writableBytes < chunk.length / 4) return;
  let wrote = false;
  while (conn.writableBytes > 0) {
    if (conn.write(chunk) === 0) break;
    wrote = true;
  }
  if (wrote) ep.touch(conn);
}

interface Built {
  world: World;
  reader: Reader;
  /** Reads the client connections (downloads). */
  clientReader: Reader;
  server: EndpointCore;
  client: EndpointCore;
  conn: Connection;
  competitor: { ep: EndpointCore; conn: Connection } | null;
  sharedQueue: Link | null;
  /** Each mpudp path's data-direction link, in path order. */
  dataLinks: Link[];
}

/** Builds the world of `cfg` and connects (the competitor too). */
function build(cfg: RunConfig, options: Partial<ConnectionOptions>): Built {
  const s = cfg.scenario;
  const world = new World({ seed: cfg.seed });
  const server = new EndpointCore({
    random: world.random(),
    server: true,
    localAddresses: [{ address: SERVER, port: SERVER_PORT }],
    connectionDefaults: {
      ...windowOptions(s),
      congestionControl: cfg.congestionControl,
      scheduler: cfg.scheduler,
      ...cfg.options,
    },
  });
  const reader = new Reader(server, world);
  const pump = (): void => reader.pump();
  world.addNode(
    {
      handleDatagram: (d, l, r, now) => {
        server.handleDatagram(d, l, r, now);
        pump();
      },
      handleTimeout: (now) => {
        server.handleTimeout(now);
        pump();
      },
      pollTransmit: (now) => server.pollTransmit(now),
      pollTimeout: () => server.pollTimeout(),
    },
    SERVER,
  );
  const clientAddrs = s.paths.map((_, i) => `10.0.${i + 1}.2`);
  const client = new EndpointCore({ random: world.random(), server: false });
  const clientReader = new Reader(client, world);
  let conn: Connection | null = null;
  const patched = new WeakSet<object>();
  const factory = cfg.experimentalController;
  world.addNode(
    clientNode(client, () => {
      clientReader.pump();
      if (conn === null) return;
      ensureCoupled(conn);
      if (factory === undefined) return;
      for (const p of conn.pathList) {
        if (patched.has(p)) continue;
        patched.add(p);
        (p as { cc: CongestionController }).cc = factory(p.maxDatagramSize);
      }
    }),
    ...clientAddrs,
  );
  const linkParams = (p: PathSpec): Partial<LinkParams> => ({
    rateBps: p.rateBps,
    delayMs: p.delayMs,
    lossRate: p.lossRate ?? 0,
    jitterMs: p.jitterMs ?? 0,
    queueBytes: p.queueBytes ?? null,
    reorderRate: p.reorderRate ?? 0,
    duplicateRate: p.duplicateRate ?? 0,
  });
  const download = s.direction === 'download';
  const dataLinks = s.paths.map((p, i) => {
    const [up, down] = world.network.path(clientAddrs[i]!, SERVER, linkParams(p));
    return download ? down : up;
  });
  let sharedQueue = null;
  const dataPairs: Array<[string, string]> = clientAddrs.map((a) => (download ? [SERVER, a] : [a, SERVER]));
  let competitor: Built['competitor'] = null;
  if (s.competitor !== undefined) {
    const cep = new EndpointCore({ random: world.random(), server: false });
    world.addNode(clientNode(cep, () => clientReader.pump()), COMPETITOR);
    world.network.path(COMPETITOR, SERVER, { delayMs: s.competitor.delayMs, jitterMs: s.competitor.jitterMs ?? 0 });
    dataPairs.push(download ? [SERVER, COMPETITOR] : [COMPETITOR, SERVER]);
    const ccc = cfg.competitorCongestionControl ?? defaultCompetitorCc(cfg.congestionControl);
    const cconn = cep.connect(
      {
        localAddresses: [{ address: COMPETITOR, port: CLIENT_PORT }],
        remoteAddresses: [{ address: SERVER, port: SERVER_PORT }],
        ...options,
        congestionControl: ccc,
        scheduler: 'min-rtt',
      },
      world.now,
    );
    competitor = { ep: cep, conn: cconn };
    clientReader.track(cconn);
  }
  if (s.sharedBottleneck !== undefined) {
    sharedQueue = world.network.bottleneck('shared', {
      rateBps: s.sharedBottleneck.rateBps,
      queueBytes: s.sharedBottleneck.queueBytes ?? null,
    });
    world.network.shareLink(sharedQueue, dataPairs);
  }
  conn = client.connect(
    {
      localAddresses: clientAddrs.map((a) => ({ address: a, port: CLIENT_PORT })),
      remoteAddresses: [{ address: SERVER, port: SERVER_PORT }],
      ...options,
      ...cfg.options,
      congestionControl: cfg.congestionControl,
      scheduler: cfg.scheduler,
      ...(cfg.backupPaths !== undefined ? { backupAddresses: cfg.backupPaths.map((i) => clientAddrs[i]!) } : {}),
    },
    world.now,
  );
  clientReader.track(conn);
  return { world, reader, clientReader, server, client, conn, competitor, sharedQueue, dataLinks };
}

/**
 * The competing single-path flow's controller: Reno against a Reno-based
 * one (newreno, lia, olia), Cubic against cubic and bbr (the flows a BBR
 * sender meets on the Internet are Cubic).
 */
export function defaultCompetitorCc(cc: CongestionControlName): CongestionControlName {
  return cc === 'lia' || cc === 'olia' || cc === 'newreno' ? 'newreno' : 'cubic';
}

/** The flow-control options of a scenario (a given receive window is fixed unless a maximum is given too). */
function windowOptions(s: Scenario): Partial<ConnectionOptions> {
  if (s.receiveWindow === undefined && s.maxReceiveWindow === undefined) return {};
  const o: Partial<ConnectionOptions> = {};
  if (s.receiveWindow !== undefined) o.receiveWindow = s.receiveWindow;
  o.maxReceiveWindow = s.maxReceiveWindow ?? s.receiveWindow;
  return o;
}

/** Runs a bulk transfer for warmup + measure and reports goodput. */
export function runBulk(cfg: RunConfig): RunResult {
  const wall = performance.now();
  const s = cfg.scenario;
  const download = s.direction === 'download';
  const b = build(cfg, windowOptions(s));
  const chunk = new Uint8Array(256 * KiB);
  const t0 = b.world.now + cfg.warmupMs;
  const t1 = t0 + cfg.measureMs;
  // The mpudp sender: the client (upload) or the server's side of it (download).
  let sender: { conn: Connection; ep: EndpointCore } | null = download ? null : { conn: b.conn, ep: b.client };
  const compSender = (): { conn: Connection; ep: EndpointCore } | null => {
    if (b.competitor === null) return null;
    if (!download) return b.competitor;
    const c = b.reader.byClientAddress(COMPETITOR);
    return c === null ? null : { conn: c, ep: b.server };
  };
  const sentAt0 = new Map<number, number>();
  b.world.at(t0, () => {
    for (const p of sender?.conn.pathList ?? []) sentAt0.set(p.id, p.counters.dataBytesSent + p.counters.dataBytesRetransmitted);
  });
  // Queueing delay at the data-direction bottlenecks, every 10 ms of the measurement.
  const queues = b.sharedQueue !== null ? [b.sharedQueue] : b.dataLinks;
  const delays: number[][] = queues.map(() => []);
  for (let t = t0; t < t1; t += 10) {
    b.world.at(t, () => {
      queues.forEach((l, i) => {
        const rate = l.bottleneck.params.rateBps;
        delays[i]!.push(rate > 0 ? (l.queuedBytes(b.world.now) * 8000) / rate : 0);
      });
    });
  }
  let comp = compSender();
  b.world.runUntil(() => {
    if (sender === null) {
      const c = b.reader.byClientAddress('10.0.1.2');
      if (c !== null) sender = { conn: c, ep: b.server };
    }
    if (sender !== null) refill(sender.conn, sender.ep, chunk);
    if (comp === null) comp = compSender();
    if (comp !== null) refill(comp.conn, comp.ep, chunk);
    return false;
  }, t1 - b.world.now);
  const receiverLog = download ? b.clientReader : b.reader;
  const receiver = download ? b.conn : b.reader.byClientAddress('10.0.1.2');
  const goodput = receiver === null ? 0 : (receiverLog.between(receiver, t0, t1) * 8000) / cfg.measureMs;
  let competitorBps = 0;
  if (b.competitor !== null) {
    const c = download ? b.competitor.conn : b.reader.byClientAddress(COMPETITOR);
    competitorBps = c === null ? 0 : (receiverLog.between(c, t0, t1) * 8000) / cfg.measureMs;
  }
  const senderConn = sender?.conn ?? b.conn;
  const st = senderConn.stats();
  cfg.onEnd?.(senderConn, comp?.conn ?? null, receiver);
  const all = delays.flat().sort((x, y) => x - y);
  const meanOf = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, c) => a + c, 0) / xs.length);
  return {
    goodputBps: goodput,
    competitorBps,
    share: b.competitor !== null ? goodput / Math.max(1, goodput + competitorBps) : 1,
    paths: senderConn.pathList.map((p) => ({
      id: p.id,
      sendBps: ((p.counters.dataBytesSent + p.counters.dataBytesRetransmitted - (sentAt0.get(p.id) ?? 0)) * 8000) / cfg.measureMs,
      lossEvents: p.counters.congestionEvents,
      packetsLost: p.counters.packetsLost,
      packetsSpuriouslyLost: p.counters.packetsSpuriouslyLost,
      lossEventsUndone: p.counters.congestionEventsUndone,
      smoothedRtt: p.rtt.smoothed,
      congestionWindow: p.cc.window,
    })),
    windowBlocked: st.windowBlocked,
    opportunisticReinjections: st.opportunisticReinjections,
    penalizations: st.penalizations,
    redundantCopies: st.redundantCopies,
    maxQueueBytes: b.sharedQueue?.counters.maxQueueBytes ?? 0,
    queueDelayMs: { mean: meanOf(delays.map(meanOf)), p95: percentile(all, 0.95) },
    coupledPaths: coupledPaths(senderConn),
    wallMs: performance.now() - wall,
  };
}

export interface LatencyConfig {
  scheduler: SchedulerName;
  congestionControl: CongestionControlName;
  seed: number;
  /** Messages sent. */
  messages: number;
  /** Message size, bytes. */
  size: number;
  /** Interval between messages, ms. */
  intervalMs: number;
  /** Loss on every path, each direction. */
  lossRate: number;
  /** The paths (default: two 50 Mbit/s paths with 20 ms RTT); `lossRate` applies to each. */
  paths?: PathSpec[];
}

/** The heterogeneous paths of the latency check: 100 Mbit/s 10 ms RTT and 50 Mbit/s 60 ms RTT. */
export const HETERO_PATHS: PathSpec[] = [
  { rateBps: 100 * MBIT, delayMs: 5 },
  { rateBps: 50 * MBIT, delayMs: 30 },
];

export interface LatencyResult {
  /** Write-to-read time of each message, ms (Infinity if it never arrived). */
  samples: number[];
  p50: number;
  p99: number;
  max: number;
  wallMs: number;
}

/** The scenario of the latency measurement: two 50 Mbit/s paths, 20 ms RTT (or `paths`), `lossRate` on each. */
export function latencyScenario(lossRate: number, paths?: PathSpec[]): Scenario {
  return {
    name: 'latency',
    description: `64 KiB messages, 2 × 50 Mbit/s, 20 ms RTT, ${lossRate * 100} % loss on both paths`,
    paths: (paths ?? [
      { rateBps: 50 * MBIT, delayMs: 10 },
      { rateBps: 50 * MBIT, delayMs: 10 },
    ]).map((p) => ({ ...p, lossRate })),
    warmupMs: 0,
    measureMs: 0,
    target: { kind: 'report' },
  };
}

/** Sends `messages` messages of `size` bytes, one every `intervalMs`; returns delivery times. */
export function runLatency(cfg: LatencyConfig): LatencyResult {
  const wall = performance.now();
  const b = build(
    { scenario: latencyScenario(cfg.lossRate, cfg.paths), scheduler: cfg.scheduler, congestionControl: cfg.congestionControl, seed: cfg.seed, warmupMs: 0, measureMs: 0 },
    {},
  );
  const msg = new Uint8Array(cfg.size);
  const writtenAt: number[] = [];
  const deliveredAt: number[] = [];
  b.reader.onRead = (_conn, total, now) => {
    while (deliveredAt.length < writtenAt.length && total >= (deliveredAt.length + 1) * cfg.size) deliveredAt.push(now);
  };
  // Let the paths open (handshake and joins) before the first message.
  const start = b.world.now + 500;
  for (let i = 0; i < cfg.messages; i++) {
    b.world.at(start + i * cfg.intervalMs, () => {
      writtenAt.push(b.world.now);
      let off = 0;
      while (off < msg.length) {
        const n = b.conn.write(off === 0 ? msg : msg.subarray(off));
        if (n === 0) throw new Error('send buffer full: the interval is too short for the message size');
        off += n;
      }
      b.client.touch(b.conn);
    });
  }
  b.world.runUntil(() => deliveredAt.length === cfg.messages, 500 + cfg.messages * cfg.intervalMs + 10_000);
  const samples = writtenAt.map((w, i) => (deliveredAt[i] ?? Infinity) - w);
  const sorted = [...samples].sort((x, y) => x - y);
  return { samples, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] ?? NaN, wallMs: performance.now() - wall };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** A cell's verdict against its scenario's target. */
export interface Verdict {
  /** What the number is compared with (bit/s, or a share). */
  reference: number;
  /** goodput / reference for throughput targets; share / limit for 'max-share'. */
  ratio: number;
  pass: boolean;
  /** The target applies to this cell (max-share applies to coupled controllers only). */
  applies: boolean;
}

export function judge(cfg: RunConfig, r: RunResult, baselineBps?: number): Verdict {
  const t = cfg.scenario.target;
  switch (t.kind) {
    case 'fraction-of-sum': {
      const ref = t.fraction * capacityBps(cfg.scenario);
      return { reference: ref, ratio: r.goodputBps / ref, pass: r.goodputBps >= ref, applies: true };
    }
    case 'no-harm': {
      const ref = (baselineBps ?? NaN) * (1 - t.tolerance);
      return { reference: baselineBps ?? NaN, ratio: r.goodputBps / (baselineBps ?? NaN), pass: r.goodputBps >= ref, applies: true };
    }
    case 'max-share':
      return { reference: t.fraction, ratio: r.share / t.fraction, pass: r.share <= t.fraction, applies: true };
    case 'queue-delay':
      return { reference: NaN, ratio: NaN, pass: true, applies: false };
    case 'report':
      return { reference: NaN, ratio: NaN, pass: true, applies: false };
  }
}
