/**
 * Admission: what a server does with an Initial for no connection it
 * knows, decided before any state or key exists for it
 * (validate-before-commit; docs/protocol.md, "Handshake"):
 *
 * - a datagram that is not one well-formed HELLO we would answer is junk:
 *   counted by reason, and toward the retry threshold;
 * - a HELLO with a retry cookie is taken if the cookie proves the address;
 * - otherwise the server asks for one (a stateless Retry) when its retry
 *   mode says so: always, or ('auto') once half-open handshakes plus recent
 *   junk reach the threshold or the source already holds its share of
 *   half-open handshakes;
 * - without a cookie, a source over its half-open share is dropped.
 */
import { encodeFrame, frameLength, FrameType } from '../wire/frames.js';
import { decodeFrame } from '../wire/frame-decode.js';
import { decodeHeader, encodeHeader, headerLength } from '../wire/header.js';
import { Reader } from '../wire/varint.js';
import { MIN_INITIAL_SIZE, PacketType, type Frame, type PacketHeader } from '../wire/types.js';
import { WireError } from '../wire/errors.js';
import { cipherById } from './crypto/aead.js';
import { TAG16, retryIntegrityTag, type EndpointTokens } from './crypto/tokens.js';
import { PROTOCOL_VERSION, type HelloFrame } from './handshake.js';
import type { EndpointConfig } from './options.js';
import { countDrop } from './stats.js';
import type { DropReason } from './drops.js';
import type { SocketAddress } from './types.js';

/** Default number of half-open connections (plus junk Initials in the last second or two) above which 'auto' retry starts. */
export const DEFAULT_RETRY_THRESHOLD = 256;
/** Default cap on half-open connections from one source address without a retry cookie. */
export const DEFAULT_HALF_OPEN_PER_SOURCE = 8;

/** What to do with a checked HELLO: take it, answer with a Retry, or drop it (counted). */
export type Admit = 'accept' | 'retry' | 'drop';

export class Admission {
  /** Half-open connections, in all. */
  private open = 0;
  /** Half-open connections per source address. */
  private readonly bySource = new Map<string, number>();
  /** Junk Initials in the current and the previous second (they count toward the retry threshold). */
  private junkSecond = 0;
  private junkThis = 0;
  private junkPrevious = 0;

  constructor(
    private readonly config: EndpointConfig,
    private readonly tokens: EndpointTokens,
    private readonly drops: Record<string, number>,
  ) {}

  /** Half-open connections held now. */
  get halfOpen(): number {
    return this.open;
  }

  /**
   * The Initial's HELLO if the datagram is one we would answer: right after
   * the header comes one HELLO, then nothing but PADDING (zero bytes); our
   * version, a cipher we know, parameters we can work with. Junk is
   * refused by byte checks, mostly without decoding anything. Counts junk.
   */
  check(data: Uint8Array, now: number): HelloFrame | null {
    // Anti-amplification: "A server MUST discard an Initial packet that is
    // carried in a UDP datagram with a payload that is smaller than the
    // smallest allowed maximum datagram size of 1200 bytes." (RFC 9000 §14.1)
    if (data.length < MIN_INITIAL_SIZE) {
      this.junk('initial-too-small', now);
      return null;
    }
    const hello = parseInitial(data);
    if (hello === null) this.junk('bad-initial', now);
    return hello;
  }

  /** Whether to take a checked HELLO from `remote`, sent to `dcid`. */
  decide(hello: HelloFrame, dcid: Uint8Array, remote: SocketAddress, now: number): Admit {
    const fromSource = this.bySource.get(remote.address) ?? 0;
    const perSourceCap = this.config.maxHalfOpenPerSource ?? DEFAULT_HALF_OPEN_PER_SOURCE;
    const mode = this.config.retry ?? 'auto';
    const loaded = this.open + this.recentJunk(now) >= (this.config.retryThreshold ?? DEFAULT_RETRY_THRESHOLD);
    const demand = mode === 'always' || (mode === 'auto' && (loaded || fromSource >= perSourceCap));
    if (hello.cookie.length > 0 && mode !== 'never') {
      // A cookie is checked whenever one comes (it proves the address).
      if (this.tokens.cookieValid(hello.cookie, dcid, remote, now)) return 'accept';
      this.junk('bad-cookie', now);
      return 'drop';
    }
    if (demand) return 'retry';
    if (fromSource >= perSourceCap) {
      countDrop(this.drops, 'half-open-per-source');
      return 'drop';
    }
    return 'accept';
  }

  /** A refused Initial: counted by reason and toward the retry threshold. */
  junk(reason: DropReason, now: number): void {
    countDrop(this.drops, reason);
    this.recentJunk(now);
    this.junkThis++;
  }

  /** A connection from `source` is half-open from now on. */
  enter(source: string): void {
    this.open++;
    this.bySource.set(source, (this.bySource.get(source) ?? 0) + 1);
  }

  /** A half-open connection from `source` was confirmed, or ended. */
  leave(source: string): void {
    this.open--;
    const n = (this.bySource.get(source) ?? 1) - 1;
    if (n > 0) this.bySource.set(source, n);
    else this.bySource.delete(source);
  }

  /** Retry: header, RETRY(cookie), and the integrity tag over the client's Initial DCID. */
  retry(dcid: Uint8Array, clientCid: Uint8Array, remote: SocketAddress, now: number): Uint8Array {
    const frame: Frame = { type: 'retry', cookie: this.tokens.cookie(Math.floor(now / 1000), dcid, remote) };
    const header: PacketHeader = { type: PacketType.Retry, dcid: clientCid, pathId: 0, packetNumber: 0, keyPhase: false };
    const size = headerLength(header) + frameLength(frame);
    const buf = new Uint8Array(size + TAG16);
    encodeFrame(frame, buf, encodeHeader(header, buf, 0));
    buf.set(retryIntegrityTag(dcid, buf.subarray(0, size)), size);
    return buf;
  }

  /** Junk Initials of this second and the previous one (older ones are forgotten). */
  private recentJunk(now: number): number {
    const second = Math.floor(now / 1000);
    if (second !== this.junkSecond) {
      this.junkPrevious = second === this.junkSecond + 1 ? this.junkThis : 0;
      this.junkThis = 0;
      this.junkSecond = second;
    }
    return this.junkThis + this.junkPrevious;
  }
}

/** One HELLO, then nothing but PADDING, with parameters we can work with; else null. */
function parseInitial(data: Uint8Array): HelloFrame | null {
  const reader = new Reader(data);
  let hello: Frame;
  try {
    decodeHeader(reader);
    if (data[reader.pos] !== FrameType.Hello) return null;
    hello = decodeFrame(reader);
  } catch (err) {
    if (err instanceof WireError) return null;
    throw err;
  }
  for (let i = reader.pos; i < data.length; i++) if (data[i] !== 0) return null;
  if (hello.type !== 'hello' || hello.version !== PROTOCOL_VERSION || cipherById(hello.cipher) === null) return null;
  const p = hello.params;
  if (p.maxPaths < 1 || p.maxDatagramSize < MIN_INITIAL_SIZE) return null;
  return hello;
}
