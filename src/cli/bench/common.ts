/**
 * What both roles of `mpudp bench` share: the test header the client sends
 * first, a clock, CPU and memory readings, the receiver's timeline sampler
 * and the JSON-line output. The bytes both sides pump are ./pattern.ts's.
 *
 * The test protocol over a stream (mpudp or TCP): the client sends one line
 * of JSON, the TestHeader, then
 * - `bulk`, dir `up`: data until `bytes` or `timeMs`, then its FIN; the
 *   server answers with one line of JSON (a ReceiverResult) and ends.
 * - `bulk`, dir `down`: the server sends data until `bytes` or `timeMs`,
 *   then its FIN; the client measures.
 * - `rr`: the server echoes every byte (requests of `size` bytes, answered
 *   in full before the next is sent).
 * Connections of the `connect` and `hold` tests (handshake rate, idle
 * memory) send no header and no byte at all.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Protocol version in every header. */
export const BENCH_PROTOCOL = 1;
/** Default port (as iperf3's). */
export const DEFAULT_PORT = 5201;
/** Longest header line accepted. */
export const MAX_HEADER = 4096;

export type Transport = 'mpudp' | 'tcp' | 'udp';
export type TestMode = 'bulk' | 'rr';

/** The first line the client sends on a stream. */
export interface TestHeader {
  /** Always BENCH_PROTOCOL. */
  mpudpBench: number;
  mode: TestMode;
  /** bulk: who sends ('up' = client to server). */
  dir: 'up' | 'down';
  /** bulk: bytes to send (null: until timeMs). */
  bytes: number | null;
  /** bulk: how long to send (ms), when bytes is null. */
  timeMs: number | null;
  /** bulk: the receiver checks every byte against the pattern (and hashes them) and reports it. */
  verify: boolean;
  /** bulk: seed of the pattern (./pattern.ts) the sender sends. */
  seed: number;
  /** bulk up: the server samples its receiver timeline every binMs and reports it (0: none). */
  binMs: number;
  /** rr: bytes per request and per response. */
  size: number;
}

/** Milliseconds since the epoch with sub-millisecond resolution (comparable across processes of one host). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** CPU seconds (user + system) this process has used. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Memory of this process after a full GC when `--expose-gc` was given (`gc` says whether it ran). */
export function memory(): { heapUsed: number; rss: number; external: number; arrayBuffers: number; gc: boolean } {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers, gc: g !== undefined };
}

/**
 * The receiver's timeline: every `binMs`, cumulative counters (bytes
 * delivered, bytes received per path, rx bytes per network interface) with
 * their time. Cumulative samples let the analysis cut exact bins later by
 * interpolation, whatever the timer's jitter.
 */
export interface Timeline {
  /** Epoch ms of t = 0. */
  t0: number;
  /** Column names: 't' (ms since t0), 'delivered', then 'path:ID' and 'if:NAME'. */
  columns: string[];
  rows: number[][];
}

export class TimelineSampler {
  private readonly t0 = epochMs();
  private readonly rows: number[][] = [];
  /** Cumulative bytes received per path id, one entry per row (paths appear while sampling). */
  private readonly pathColumns = new Map<number, number[]>();
  private timer: NodeJS.Timeout | null = null;
  private readonly ifaceFiles: string[];

  constructor(
    private readonly binMs: number,
    private readonly delivered: () => number,
    private readonly paths: (() => readonly { id: number; bytesReceived: number }[]) | null,
    private readonly ifaces: string[],
  ) {
    this.ifaceFiles = ifaces.map((i) => `/sys/class/net/${i}/statistics/rx_bytes`);
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.binMs);
  }

  stop(): Timeline {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    const ids = [...this.pathColumns.keys()].sort((a, b) => a - b);
    return {
      t0: round3(this.t0),
      columns: ['t', 'delivered', ...ids.map((id) => `path:${id}`), ...this.ifaces.map((i) => `if:${i}`)],
      rows: this.rows.map((r, i) => [r[0]!, r[1]!, ...ids.map((id) => this.pathColumns.get(id)![i] ?? 0), ...r.slice(2)]),
    };
  }

  private sample(): void {
    const index = this.rows.length;
    const row = [round3(epochMs() - this.t0), this.delivered()];
    for (const f of this.ifaceFiles) {
      let v = 0;
      try {
        v = Number(readFileSync(f, 'latin1'));
      } catch {
        v = 0;
      }
      row.push(v);
    }
    this.rows.push(row);
    for (const p of this.paths?.() ?? []) {
      let col = this.pathColumns.get(p.id);
      if (col === undefined) {
        col = new Array<number>(index).fill(0);
        this.pathColumns.set(p.id, col);
      }
      col[index] = p.bytesReceived;
    }
    // A path that vanished keeps its last count.
    for (const col of this.pathColumns.values()) if (col.length <= index) col[index] = col[index - 1] ?? 0;
  }
}

/** Encodes a header line (seed and binMs may be left out: 1 and 0). */
export function encodeHeader(h: Omit<TestHeader, 'mpudpBench' | 'seed' | 'binMs'> & Partial<Pick<TestHeader, 'seed' | 'binMs'>>): Buffer {
  return Buffer.from(`${JSON.stringify({ mpudpBench: BENCH_PROTOCOL, ...h })}\n`);
}

/** Parses a header line; throws a message for anything else. */
export function parseHeader(line: string): TestHeader {
  const h = JSON.parse(line) as Partial<TestHeader>;
  if (h.mpudpBench !== BENCH_PROTOCOL) throw new Error(`not an mpudp bench header (protocol ${String(h.mpudpBench)})`);
  if (h.mode !== 'bulk' && h.mode !== 'rr') throw new Error(`unknown mode ${String(h.mode)}`);
  if (h.dir !== 'up' && h.dir !== 'down') throw new Error(`unknown direction ${String(h.dir)}`);
  return {
    mpudpBench: BENCH_PROTOCOL,
    mode: h.mode,
    dir: h.dir,
    bytes: typeof h.bytes === 'number' ? h.bytes : null,
    timeMs: typeof h.timeMs === 'number' ? h.timeMs : null,
    verify: h.verify === true,
    seed: typeof h.seed === 'number' ? h.seed >>> 0 : 1,
    binMs: typeof h.binMs === 'number' && h.binMs > 0 ? Math.min(h.binMs, 60_000) : 0,
    size: typeof h.size === 'number' && h.size > 0 ? h.size : 1024,
  };
}

/**
 * Splits a stream's first line off: feed chunks to `push`; it returns the
 * line and the rest once a newline arrived, null before.
 */
/** The empty buffer every LineSplitter starts from (a Buffer of its own costs an idle bench connection about 180 bytes). */
const NO_BYTES = Buffer.alloc(0);

export class LineSplitter {
  private buf: Buffer = NO_BYTES;

  push(chunk: Buffer): { line: string; rest: Buffer } | null {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const nl = this.buf.indexOf(10);
    if (nl < 0) {
      if (this.buf.length > MAX_HEADER) throw new Error('header line too long');
      return null;
    }
    const line = this.buf.subarray(0, nl).toString('utf8');
    const rest = this.buf.subarray(nl + 1);
    this.buf = NO_BYTES;
    return { line, rest };
  }
}

/** Writes one JSON line to stdout. */
export function emit(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Percentile (0..100) of sorted numbers, nearest-rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** 123456789 → '117.7 MiB'. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}

/** 123.4e6 → '123 Mbit/s'. */
export function formatBps(bps: number): string {
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(2)} Gbit/s`;
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(bps >= 1e8 ? 0 : 1)} Mbit/s`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(1)} Kbit/s`;
  return `${Math.round(bps)} bit/s`;
}
