/**
 * The endpoint's stateless tokens: retry cookies, the Retry integrity tag
 * and stateless reset tokens. Each is an HMAC under a secret of the
 * endpoint, so checking one needs no per-connection state.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { macEqual } from './macs.js';
import type { SocketAddress } from '../types.js';

/** Bytes of a retry cookie: issue time (4, seconds) ‖ HMAC (16). */
export const COOKIE_LENGTH = 20;
/** How long a retry cookie stays valid (ms). */
export const COOKIE_LIFETIME = 10_000;
/** Bytes of the Retry integrity tag and of a stateless reset token. */
export const TAG16 = 16;

/**
 * The Retry integrity key is public, as QUIC's is (RFC 9001 §5.8): the tag
 * proves that whoever sent the Retry saw the client's Initial, whose
 * destination CID it covers, and that the Retry was not corrupted.
 */
const RETRY_INTEGRITY_KEY = Buffer.from('mpudp v2 retry integrity');

/** The Retry's tag: HMAC-SHA256(public key, the Initial's DCID ‖ the Retry without its tag), 16 bytes. */
export function retryIntegrityTag(initialDcid: Uint8Array, retryWithoutTag: Uint8Array): Uint8Array {
  const h = createHmac('sha256', RETRY_INTEGRITY_KEY);
  h.update(initialDcid);
  h.update(retryWithoutTag);
  return new Uint8Array(h.digest().subarray(0, TAG16));
}

export class EndpointTokens {
  /** Keys retry cookies (random per endpoint: a cookie is only good for ten seconds anyway). */
  private readonly cookieKey: Uint8Array;
  /** Keys stateless reset tokens. */
  private readonly resetKey: Uint8Array;

  /**
   * `resetSeed`: what the reset key is derived from. A server passes its
   * long-term key, so after a restart with the same key it still knows the
   * tokens of the connections it lost and can end them.
   */
  constructor(cookieKey: Uint8Array, resetSeed: Uint8Array) {
    this.cookieKey = cookieKey;
    this.resetKey = new Uint8Array(hkdfSync('sha256', resetSeed, Buffer.alloc(0), 'mpudp v2 stateless reset', 32));
  }

  /** The stateless reset token of our connection ID `cid`. */
  resetToken(cid: Uint8Array): Uint8Array {
    return new Uint8Array(createHmac('sha256', this.resetKey).update(cid).digest().subarray(0, TAG16));
  }

  /** A cookie binding the client's address, port and Initial DCID to its issue time (seconds). */
  cookie(issued: number, dcid: Uint8Array, remote: SocketAddress): Uint8Array {
    const h = createHmac('sha256', this.cookieKey);
    h.update(`${remote.address}|${remote.port}|${issued}|`);
    h.update(dcid);
    const out = new Uint8Array(COOKIE_LENGTH);
    new DataView(out.buffer).setUint32(0, issued);
    out.set(h.digest().subarray(0, 16), 4);
    return out;
  }

  /** The cookie was issued by us to this address and DCID, less than COOKIE_LIFETIME ago. */
  cookieValid(cookie: Uint8Array, dcid: Uint8Array, remote: SocketAddress, now: number): boolean {
    if (cookie.length !== COOKIE_LENGTH) return false;
    const issued = new DataView(cookie.buffer, cookie.byteOffset, 4).getUint32(0);
    if (now / 1000 - issued > COOKIE_LIFETIME / 1000 || issued > now / 1000 + 1) return false;
    return macEqual(this.cookie(issued, dcid, remote).subarray(4), cookie.subarray(4));
  }
}
