/**
 * The seeded pattern every role sends and checks: `mpudp bench`, the lab
 * tests, the Compose demo and `npm start` all move these bytes.
 *
 * A stream is cut into blocks of BLOCK bytes; block i is a view of a pool
 * of POOL_BYTES + BLOCK bytes drawn from the seed (AES-128-CTR keystream
 * under a key hashed from it), starting at offset (i · 65 584) mod
 * POOL_BYTES. So the sender writes views of one buffer (no copy, no
 * allocation), neighbouring blocks differ and the pattern repeats only after
 * 4 GiB, and the receiver, knowing the seed, checks every byte where it
 * lands: a byte lost, duplicated, reordered or changed shows as the first
 * offset that differs. A SHA-256 of the stream is kept on request too, for
 * printing.
 */
import { createCipheriv, createHash, type Hash } from 'node:crypto';
import { cpuSeconds, epochMs, round3 } from './common.js';

/** Bytes per block (and per write). */
export const BLOCK = 64 * 1024;
/** Distinct block start offsets cycle through this much of the pool. */
export const POOL_BYTES = 1 << 20;
/** Step between the pool offsets of neighbouring blocks: 16 · 4099 (a prime), coprime with POOL_BYTES / 16. */
const STRIDE = 16 * 4099;

/** Delivery pauses longer than this are recorded (ms). */
export const GAP_MS = 10;
/** Most gaps kept; past it the shortest are forgotten. */
export const MAX_GAPS = 2000;

export class Pattern {
  /** The keystream blocks are cut from. */
  private readonly pool: Buffer;

  constructor(readonly seed: number) {
    const key = createHash('sha256').update(`mpudp pattern ${seed >>> 0}`).digest().subarray(0, 16);
    const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
    this.pool = Buffer.concat([cipher.update(Buffer.alloc(POOL_BYTES + BLOCK)), cipher.final()]);
  }

  /** Block `i`, or its first `length` bytes: a view (never modified, never to be modified). */
  block(i: number, length = BLOCK): Buffer {
    const start = (i * STRIDE) % POOL_BYTES;
    return this.pool.subarray(start, start + length);
  }

  /** Where `data`, found at stream offset `offset`, first differs from the pattern (relative to `data`), or -1. */
  mismatch(data: Uint8Array, offset: number): number {
    let pos = 0;
    while (pos < data.length) {
      const at = offset + pos;
      const i = Math.floor(at / BLOCK);
      const within = at - i * BLOCK;
      const n = Math.min(BLOCK - within, data.length - pos);
      const want = this.block(i).subarray(within, within + n);
      const got = data.subarray(pos, pos + n);
      if (!want.equals(got)) {
        for (let k = 0; k < n; k++) if (got[k] !== want[k]) return pos + k;
      }
      pos += n;
    }
    return -1;
  }
}

/** The sender's side: the writes of a transfer, `limit` bytes (or unbounded), hashed on request. */
export class PatternSource {
  /** Bytes handed out. */
  sent = 0;
  /** Running SHA-256, or null. */
  private readonly hash: Hash | null;

  constructor(
    private readonly pattern: Pattern,
    private readonly limit: number | null,
    hash: boolean,
  ) {
    this.hash = hash ? createHash('sha256') : null;
  }

  /** The next write (one block, or what is left), or null when `limit` bytes were handed out. */
  next(): Buffer | null {
    const left = this.limit === null ? BLOCK : Math.min(BLOCK, this.limit - this.sent);
    if (left <= 0) return null;
    const chunk = this.pattern.block(this.sent / BLOCK, left);
    this.sent += left;
    this.hash?.update(chunk);
    return chunk;
  }

  /** SHA-256 of what was handed out (hex), or null without hashing. */
  digest(): string | null {
    return this.hash ? this.hash.digest('hex') : null;
  }
}

/** A pause in delivery: it began `ms` after the delivery at `at` (epoch ms). */
export interface Gap {
  at: number;
  ms: number;
}

/** What the receiver of a transfer measured. */
export interface ReceiverResult {
  type: 'receiver';
  bytes: number;
  /** Epoch ms of the first and the last byte received. */
  firstMs: number;
  lastMs: number;
  /** Goodput from the first to the last byte, bit/s. */
  bps: number;
  /** With checking: every byte matched the pattern (null without). */
  intact: boolean | null;
  /** The first stream offset that did not match, or null. */
  mismatchAt: number | null;
  /** SHA-256 (hex) of the bytes, with hashing. */
  sha256: string | null;
  /** Delivery pauses longer than GAP_MS, oldest first (the MAX_GAPS longest). */
  gaps: Gap[];
  /** CPU seconds the receiving process used during the transfer. */
  cpuSeconds: number;
}

/** The receiver's side: counts, times, checks against the pattern and hashes (both when `verify`). */
export class PatternSink {
  bytes = 0;
  firstMs = 0;
  lastMs = 0;
  /** First stream offset that differed, or null. */
  mismatchAt: number | null = null;
  private readonly hash: Hash | null;
  private readonly gaps: Gap[] = [];
  private readonly cpuStart = cpuSeconds();

  /** `pattern` null: count only. */
  constructor(private readonly pattern: Pattern | null) {
    this.hash = pattern !== null ? createHash('sha256') : null;
  }

  add(chunk: Buffer): void {
    const now = epochMs();
    if (this.bytes === 0) this.firstMs = now;
    else if (now - this.lastMs > GAP_MS) this.addGap({ at: round3(this.lastMs), ms: round3(now - this.lastMs) });
    this.lastMs = now;
    if (this.pattern !== null && this.mismatchAt === null) {
      const k = this.pattern.mismatch(chunk, this.bytes);
      if (k >= 0) this.mismatchAt = this.bytes + k;
    }
    this.bytes += chunk.length;
    this.hash?.update(chunk);
  }

  result(): ReceiverResult {
    const ms = this.lastMs - this.firstMs;
    return {
      type: 'receiver',
      bytes: this.bytes,
      firstMs: round3(this.firstMs),
      lastMs: round3(this.lastMs),
      bps: ms > 0 ? Math.round((this.bytes * 8) / (ms / 1000)) : 0,
      intact: this.pattern !== null ? this.mismatchAt === null : null,
      mismatchAt: this.mismatchAt,
      sha256: this.hash ? this.hash.digest('hex') : null,
      gaps: [...this.gaps].sort((a, b) => b.ms - a.ms).slice(0, MAX_GAPS).sort((a, b) => a.at - b.at),
      cpuSeconds: round3(cpuSeconds() - this.cpuStart),
    };
  }

  /** Keeps a gap; past MAX_GAPS, forgets the shortest. */
  private addGap(g: Gap): void {
    this.gaps.push(g);
    if (this.gaps.length > 2 * MAX_GAPS) {
      this.gaps.sort((a, b) => b.ms - a.ms);
      this.gaps.length = MAX_GAPS;
    }
  }
}
