/**
 * The core's random source under the io layer: bytes from node's CSPRNG,
 * drawn POOL_SIZE at a time and handed out once each, every call a copy of
 * its own (a view would keep the whole pool alive for as long as a
 * connection keeps its connection ID). One randomBytes call costs about
 * 5 µs whatever its size, and a handshake makes about nine of them
 * (connection IDs, nonces, the HELLO nonce, challenges); a copy from the
 * pool costs about 0.4 µs.
 */
import { randomFillSync } from 'node:crypto';

/** Bytes drawn from the CSPRNG at a time. */
export const POOL_SIZE = 4096;

export class RandomPool {
  private readonly pool = Buffer.alloc(POOL_SIZE);
  /** Next unused byte; POOL_SIZE: the pool is used up. */
  private offset = POOL_SIZE;

  /** `n` fresh random bytes nobody else has been given. */
  readonly take = (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    if (n > POOL_SIZE) return randomFillSync(out);
    if (this.offset + n > POOL_SIZE) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    out.set(this.pool.subarray(this.offset, this.offset + n));
    // Handed out once: the bytes given are wiped from the pool.
    this.pool.fill(0, this.offset, this.offset + n);
    this.offset += n;
    return out;
  };
}
