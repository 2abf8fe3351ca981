/**
 * What every client test of `mpudp bench` shares: its configuration, the
 * reporter it talks to, and opening, feeding, reading and closing one
 * stream of either transport (mpudp or Node's TCP).
 */
import type { CipherName } from '../../core/crypto/aead.js';
import { once } from 'node:events';
import { connect as tcpConnect, type Socket as TcpSocket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect, type MultipathSocket, type PathInfo } from '../../index.js';
import type { CongestionControlName } from '../../core/options.js';
import type { AddressPair, PathPolicy } from '../../core/pm/path-manager.js';
import type { SchedulerName } from '../../core/sched/index.js';
import { epochMs, round3, type Transport } from './common.js';
import type { PatternSource } from './pattern.js';

export type ClientMode = 'bulk' | 'rr' | 'connect' | 'hold';

export interface ClientConfig {
  /** What is measured: mpudp, Node's TCP, or raw datagrams. */
  transport: Transport;
  /** Which test. */
  mode: ClientMode;
  /** Server addresses (mpudp races them all; TCP and UDP use the first). */
  hosts: string[];
  /** Server port (the raw UDP test goes to port + 1). */
  port: number;
  /** Local addresses (mpudp: one path each; TCP and UDP: the first is bound). */
  locals: string[];
  /** mpudp: local address i only pairs with server address i (one path each). */
  paired: boolean;
  /** connect, hold: connection n uses only local address n mod count (many one-address clients, as many sources as --local gives). */
  rotateLocal?: boolean;
  /** Bulk: bytes per transfer (null: `timeMs`). */
  bytes: number | null;
  /** Bulk: sending time; rr, connect: test time. */
  timeMs: number;
  /** Bulk: the server sends. */
  reverse: boolean;
  /** Bulk: transfers at once. */
  parallel: number;
  /** Bulk: once every connection is open, wait (at most this long, ms) until each has left its first-contact path (a cluster worker moved it to its own port), then send. */
  settleMs?: number;
  /** Bulk: the receiver checks every byte against the pattern (and hashes them). */
  verify: boolean;
  /** Bulk: seed of the pattern sent. */
  seed: number;
  /** rr: bytes per request and per response. */
  size: number;
  /** rr: round trips (null: as many as fit `timeMs`). */
  count: number | null;
  /** rr: round trips before measuring. */
  warmup: number;
  /** connect, hold: connections being opened at once. */
  concurrency: number;
  /** hold: connections to open (opening stops after `timeMs`). */
  connections: number;
  /** hold: how long to hold them (ms); null: until stdin ends or says `stop`. */
  holdMs: number | null;
  /** Interval report period (ms); 0: none. */
  intervalMs: number;
  /** Receiver timeline sampling period (ms); 0: none. */
  binMs: number;
  /** Interfaces whose rx bytes the timeline samples. */
  ifaces: string[];
  /** udp: datagram size. */
  datagramSize: number;
  /** udp: seal each datagram with this AEAD. */
  seal?: CipherName;
  scheduler?: SchedulerName;
  congestionControl?: CongestionControlName;
  maxDatagramSize?: number;
  /** mpudp keepAliveInterval (ms). */
  keepAliveInterval?: number;
  /** Give up on a handshake after this long (ms). */
  connectTimeoutMs: number;
}

/** Per path, one interval. */
export interface PathInterval {
  id: number;
  local: string;
  remote: string;
  state: string;
  bps: number;
  srttMs: number;
  cwnd: number;
}

/** One interval of a running test. */
export interface Interval {
  type: 'interval';
  fromMs: number;
  toMs: number;
  bytes: number;
  bps: number;
  /** bulk: bytes so far (the peer's: acknowledged or received). */
  totalBytes?: number;
  /** rr: round trips in the interval and their p50 / p99 (ms). */
  count?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** connect: handshakes completed. */
  handshakes?: number;
  paths?: PathInterval[];
}

/** Where the client's output goes. */
export interface Reporter {
  start(info: Record<string, unknown>): void;
  interval(i: Interval): void;
  result(r: Record<string, unknown>): void;
  event(e: Record<string, unknown>): void;
}

/** An open stream of either transport. */
export interface Stream {
  sock: Duplex;
  /** mpudp only. */
  mp: MultipathSocket | null;
}

/** mpudp path policy: local address i with server address i only. */
function pairedPolicy(locals: string[], remotes: string[]): PathPolicy {
  return {
    name: 'paired',
    select: (candidates: readonly AddressPair[]) =>
      candidates.filter((c) => {
        const i = locals.indexOf(c.local.address);
        return i >= 0 && remotes[i] === c.remote.address;
      }),
  };
}

/** Opens one stream (the `index`th of the run); rejects on error or after the connect timeout. */
export async function openStream(c: ClientConfig, index = 0): Promise<Stream> {
  if (c.rotateLocal && c.locals.length > 1) c = { ...c, locals: [c.locals[index % c.locals.length]!] };
  if (c.transport === 'tcp') {
    const sock: TcpSocket = tcpConnect({
      host: c.hosts[0]!,
      port: c.port,
      allowHalfOpen: true,
      noDelay: true,
      ...(c.locals[0] ? { localAddress: c.locals[0] } : {}),
    });
    await withTimeout(once(sock, 'connect'), c.connectTimeoutMs, () => sock.destroy(), `tcp connect to ${c.hosts[0]}:${c.port}`);
    return { sock, mp: null };
  }
  const mp = connect({
    addresses: c.hosts,
    port: c.port,
    allowHalfOpen: true,
    ...(c.locals.length > 0 ? { localAddresses: c.locals } : {}),
    ...(c.paired && c.locals.length > 0 ? { pathManager: pairedPolicy(c.locals, c.hosts) } : {}),
    ...(c.scheduler ? { scheduler: c.scheduler } : {}),
    ...(c.congestionControl ? { congestionControl: c.congestionControl } : {}),
    ...(c.maxDatagramSize ? { maxDatagramSize: c.maxDatagramSize } : {}),
    ...(c.keepAliveInterval ? { keepAliveInterval: c.keepAliveInterval } : {}),
  });
  await withTimeout(once(mp, 'connect'), c.connectTimeoutMs, () => mp.destroy(), `mpudp connect to ${c.hosts.join(',')}:${c.port}`);
  return { sock: mp, mp };
}

/** Rejects after `ms` (running `onTimeout`) unless `p` settles first. */
export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => void, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new Error(`${what}: no answer within ${ms} ms`));
      }, ms);
    }),
  ]);
}

/** Reads everything until 'end' (the server's result line). */
export function readAll(sock: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    sock.on('data', (d: Buffer) => parts.push(d));
    sock.once('end', () => resolve(Buffer.concat(parts)));
    sock.once('error', reject);
  });
}

/** When a pump stops writing. */
export interface PumpOptions {
  /** Stop at this epoch ms. */
  deadline?: number;
  /** Stop when this says so (checked before every write). */
  stop?: () => boolean;
  /** Write no faster than this (bit/s; 0 or absent: as fast as the stream takes it). */
  paceBps?: number;
}

/**
 * Writes from `source` with backpressure until it is empty, the deadline
 * passes or `stop()` says so, paced if asked; then ends the stream and
 * resolves once the end is flushed (rejects on a stream error).
 */
export function pump(sock: Duplex, source: PatternSource, o: PumpOptions = {}): Promise<void> {
  const deadline = o.deadline ?? Infinity;
  const pace = o.paceBps ?? 0;
  const t0 = epochMs();
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    const step = (): void => {
      while (!sock.destroyed) {
        if (epochMs() >= deadline || o.stop?.() === true) break;
        if (pace > 0) {
          const wait = t0 + (source.sent * 8000) / pace - epochMs();
          if (wait > 1) {
            setTimeout(step, wait);
            return;
          }
        }
        const chunk = source.next();
        if (chunk === null) break;
        if (!sock.write(chunk)) {
          sock.once('drain', step);
          return;
        }
      }
      if (sock.destroyed) resolve();
      else sock.end(() => resolve());
    };
    step();
  });
}

/** Closes a finished stream: mpudp waits (bounded) for its graceful close. */
export async function closeStream(s: Stream): Promise<void> {
  s.sock.resume();
  if (s.sock.destroyed) return;
  const closed = once(s.sock, 'close').catch(() => undefined);
  s.sock.end();
  await Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]);
  if (!s.sock.destroyed) s.sock.destroy();
}

/** Per-path interval rates from two samples of the paths. */
export function pathIntervals(prev: Map<number, number>, paths: PathInfo[], dir: 'up' | 'down', ms: number): PathInterval[] {
  return paths.map((p) => {
    const now = dir === 'up' ? p.bytesSent : p.bytesReceived;
    const before = prev.get(p.id) ?? 0;
    prev.set(p.id, now);
    return {
      id: p.id,
      local: p.localAddress,
      remote: p.remoteAddress,
      state: p.state,
      bps: ms > 0 ? Math.round(((now - before) * 8) / (ms / 1000)) : 0,
      srttMs: round3(p.smoothedRtt),
      cwnd: p.congestionWindow,
    };
  });
}

/** The io loop's counters of an mpudp client (datagrams, flushes, timer runs), or null. */
export function ioStats(s: Stream): Record<string, number> | null {
  const st = s.mp?._endpoint()?.stats();
  if (!st) return null;
  return {
    datagramsSent: st.datagramsSent,
    datagramsReceived: st.datagramsReceived,
    flushes: st.flushes,
    timeouts: st.timeouts,
    bufferSizeCapped: st.bufferSizeCapped,
  };
}

