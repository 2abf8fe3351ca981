/**
 * Stateless resets an endpoint sends (RFC 9000 §10.3): the answer to a
 * Short packet for a connection it does not know, which ends the peer's
 * connection if the peer still has one with us. It looks like any short
 * packet: our first byte, random bytes, and the token of the CID the
 * packet was sent to. It is always shorter than the packet that triggered
 * it, so two endpoints that both lost their state cannot keep resetting
 * each other; and it is rate-limited.
 */
import { CID_LENGTH, PacketType } from '../wire/types.js';
import { TAG16, type EndpointTokens } from './crypto/tokens.js';
import { countDrop } from './stats.js';

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
