/**
 * Ephemeral X25519 key pairs made ahead of time, off the handshake's path.
 * Making one costs a scalar multiplication (about 50 µs), as much as one
 * of the handshake's two Diffie-Hellman steps; node's asynchronous
 * generateKeyPair makes it on the libuv thread pool, so a handshake that
 * finds a pair ready spends none of its event-loop time on it.
 *
 * Every pair is handed out once: take() removes it, and the pool keeps no
 * reference to it. An empty pool returns null and the core makes its key
 * itself (src/core/handshake.ts). The pool refills after each take, up to
 * `size` pairs, with at most MAX_PENDING generations queued at once (the
 * thread pool also serves dns.lookup and fs); it starts filling at the
 * first take, so an endpoint that never handshakes makes none.
 *
 * It saves the event loop the work, not the machine: the CPU per pair is
 * the same (about 45 µs), so a host whose cores are all busy gains
 * nothing (docs/bench.md, "Issue 11, handshake and idle-memory slice").
 */
import { generateKeyPair, type KeyObject } from 'node:crypto';
import type { X25519KeyPair } from '../core/crypto/keys.js';

/** Default number of pairs kept ready (64 handshakes in flight find one each). */
export const DEFAULT_KEY_POOL_SIZE = 64;
/** Generations queued on the thread pool at once (libuv's default pool has 4 threads). */
const MAX_PENDING = 4;

export interface KeyPoolStats {
  /** Pairs handed out, and takes that found the pool empty. */
  taken: number;
  empty: number;
}

export class KeyPairPool {
  private readonly ready: X25519KeyPair[] = [];
  private pending = 0;
  private closed = false;
  readonly stats: KeyPoolStats = { taken: 0, empty: 0 };

  constructor(readonly size: number = DEFAULT_KEY_POOL_SIZE) {}

  /** A fresh pair that nobody else has or will get, or null if none is ready. */
  take(): X25519KeyPair | null {
    const pair = this.ready.pop() ?? null;
    if (pair === null) this.stats.empty++;
    else this.stats.taken++;
    this.refill();
    return pair;
  }

  /** Pairs ready now. */
  get available(): number {
    return this.ready.length;
  }

  /** Stops refilling and drops the pairs ready (the endpoint closed). */
  close(): void {
    this.closed = true;
    this.ready.length = 0;
  }

  private refill(): void {
    while (!this.closed && this.pending < MAX_PENDING && this.ready.length + this.pending < this.size) {
      this.pending++;
      generateKeyPair('x25519', undefined, (err, publicKey: KeyObject, privateKey: KeyObject) => {
        this.pending--;
        if (err !== null || this.closed) return;
        const x = publicKey.export({ format: 'jwk' }).x;
        if (x === undefined) return;
        this.ready.push({ privateKey, publicKey: new Uint8Array(Buffer.from(x, 'base64url')) });
        this.refill();
      });
    }
  }
}
