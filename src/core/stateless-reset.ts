/**
 * Stateless resets an endpoint sends (RFC 9000 §10.3): the answer to a
 * Short packet for a connection it does not know, which ends the peer's
 * connection if the peer still has one with us. It looks like any short
 * packet: our first byte, random bytes, and the token of the CID the
 * packet was sent to. It is always shorter than the packet that triggered
 * it, so two endpoints that both lost their state cannot keep resetting
 * each other; and it is rate-limited. Below: the peers' tokens, which
 * tell a connection its peer lost it.
 */
import { CID_LENGTH, PacketType } from '../wire/types.js';
import { TAG16, type EndpointTokens } from './crypto/tokens.js';
import { countDrop } from './stats.js';
import { bytesKey } from './bytes-key.js';

/** Smallest stateless reset we send, and the datagram must be longer than it (RFC 9000 §10.3.3: smaller than what triggered it). */
export const MIN_RESET_SIZE = 1 + CID_LENGTH + 4 + TAG16;
/** Largest stateless reset we send. */
const MAX_RESET_SIZE = 40;
/** Most stateless resets sent per second. */
const RESETS_PER_SECOND = 1000;

export class StatelessResets {
  /** The second `sentThis` counts. */
  private second = 0;
  /** Resets sent in that second. */
  private sentThis = 0;

  constructor(
    private readonly tokens: EndpointTokens,
    private readonly random: (n: number) => Uint8Array,
    /** Whether a CID is one this endpoint's CID format issues (its server ID, its worker slot). */
    private readonly issuedHere: (cid: Uint8Array) => boolean,
    private readonly drops: Record<string, number>,
  ) {}

  /**
   * The reset to send for `data`, a Short packet to `dcid`, or null (too
   * short to answer, not a CID we could have issued, or over the rate;
   * the last two counted).
   */
  answer(data: Uint8Array, dcid: Uint8Array, now: number): Uint8Array | null {
    if (data.length <= MIN_RESET_SIZE) return null;
    // "servers MUST NOT generate a stateless reset if a connection with the
    // corresponding connection ID could be active on any endpoint using the
    // same static key." (RFC 9000 §21.11) Every worker of a cluster, and
    // every host of a fleet, holds the service's key: a CID this endpoint
    // could not have issued (another worker's slot, another host's server
    // ID) may be live there, and a reset for it would end it.
    if (!this.issuedHere(dcid)) {
      countDrop(this.drops, 'reset-not-ours');
      return null;
    }
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      this.sentThis = 0;
    }
    if (this.sentThis >= RESETS_PER_SECOND) {
      countDrop(this.drops, 'reset-rate-limit');
      return null;
    }
    this.sentThis++;
    const size = Math.min(data.length - 1, MAX_RESET_SIZE);
    const buf = new Uint8Array(size);
    buf.set(this.random(size - TAG16), 0);
    buf[0] = 0x40 | PacketType.Short | (buf[1]! & 0x04);
    buf.set(this.tokens.resetToken(dcid), size - TAG16);
    return buf;
  }
}

/**
 * The peers' reset tokens (RFC 9000 §10.3.1: "An endpoint detects a
 * potential stateless reset using the trailing 16 bytes of the UDP
 * datagram"): a datagram for no known connection that ends in one of them
 * tells that connection its peer lost it. Each entry keeps its own key.
 */
export class PeerResetTokens<E extends { resetKey: string | null }> {
  private readonly byToken = new Map<string, E>();

  /** Files `entry` under `token`, once. */
  note(entry: E, token: Uint8Array): void {
    if (entry.resetKey !== null) return;
    entry.resetKey = bytesKey(token);
    this.byToken.set(entry.resetKey, entry);
  }

  forget(entry: E): void {
    if (entry.resetKey !== null && this.byToken.get(entry.resetKey) === entry) this.byToken.delete(entry.resetKey);
  }

  /** The entry whose peer's token ends `datagram`, if any. */
  match(datagram: Uint8Array): E | undefined {
    if (datagram.length < MIN_RESET_SIZE || this.byToken.size === 0) return undefined;
    return this.byToken.get(bytesKey(datagram.subarray(datagram.length - TAG16)));
  }
}
