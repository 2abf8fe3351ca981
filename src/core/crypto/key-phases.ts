/**
 * The packet keys of one connection, both directions, and key update
 * (RFC 9001 §6) across every path.
 *
 * Generations: the keys of generation g+1 come from those of generation g
 * (key-schedule.ts nextSecret); the key phase bit of a packet is g mod 2.
 * One generation counter is shared by all paths: a key update changes the
 * keys of every path at once, and each path's packet numbers keep running.
 *
 * Sending: "An endpoint MUST NOT initiate a key update prior to having
 * confirmed the handshake" and "MUST NOT initiate a subsequent key update
 * unless it has received an acknowledgment for a packet that was sent
 * protected with keys from the current key phase" (RFC 9001 §6.1, §6.5).
 * We update once `packetsPerKey` packets were sealed with one key, and only
 * when the peer already answered our previous update (both directions at
 * the same generation) and acknowledged a packet of the current one. Past
 * twice `packetsPerKey` with no update possible the connection must stop
 * (`sendLimitReached`): RFC 9001 §6.6 forbids more than 2^23 packets under
 * one AES-GCM key, and the default `packetsPerKey` is half of that.
 *
 * Receiving: a packet with the current phase opens with the current keys.
 * One with the other phase is either late (the previous generation, kept
 * three PTOs after the peer moved on: RFC 9001 §6.5) or the peer's update
 * (the next generation). Per path we remember the lowest packet number that
 * opened with the current keys: below it, the packet is late; at or above
 * it, it is new. A path with no packet of the current generation yet tries
 * both. Keys change only after a packet authenticated with them: a forgery
 * can neither trigger nor block an update.
 */
import { nextSecret, packetKey } from './key-schedule.js';
import { PathNumbers } from './path-numbers.js';
import type { CipherName, PacketKey } from './aead.js';

/** Default packets sealed under one key before an update: half the AES-GCM limit of RFC 9001 §6.6 (2^23). */
export const DEFAULT_PACKETS_PER_KEY = 2 ** 22;

/**
 * "the integrity limit for AEAD_AES_128_GCM ... is 2^52 invalid packets",
 * "for AEAD_CHACHA20_POLY1305 ... 2^36" (RFC 9001 §6.6): counted across
 * all keys of the connection.
 */
export const INTEGRITY_LIMIT: Record<CipherName, number> = { 'aes-128-gcm': 2 ** 52, 'chacha20-poly1305': 2 ** 36 };

export class KeyPhases {
  /** Generation of the keys we seal with. */
  private sendGeneration = 0;
  private sendSecret: Uint8Array;
  private sendKey: PacketKey;
  /** Packets sealed with the current send key. */
  private sealedWithKey = 0;
  /** Per path: the first packet number sealed with the current send key. */
  private readonly sendStart = new PathNumbers();
  /** The peer acknowledged a packet of the current send generation. */
  private sendConfirmed = false;

  /** Generation of the keys the peer's packets open with now. */
  private recvGeneration = 0;
  private recvSecret: Uint8Array;
  private recvKey: PacketKey;
  /** The previous generation's key, kept for late packets until `previousUntil`. */
  private previousKey: PacketKey | null = null;
  private previousUntil = -Infinity;
  /** The next generation's key, derived on first need. */
  private nextKey: PacketKey | null = null;
  /** Per path: the lowest packet number opened with the current receive key. */
  private readonly recvStart = new PathNumbers();

  /** Packets that failed authentication, across all keys. */
  authFailures = 0;
  /** Key updates we started, and updates of the peer we followed. */
  updatesInitiated = 0;
  updatesFollowed = 0;

  constructor(
    readonly cipher: CipherName,
    sendSecret: Uint8Array,
    recvSecret: Uint8Array,
    /** Packets sealed under one key before an update. */
    readonly packetsPerKey: number = DEFAULT_PACKETS_PER_KEY,
  ) {
    // Copies: the handshake's secrets are views of its 96-byte output,
    // which a copy lets go (and a 32-byte copy stays in V8's heap, aead.ts).
    this.sendSecret = new Uint8Array(sendSecret);
    this.sendKey = packetKey(cipher, sendSecret);
    this.recvSecret = new Uint8Array(recvSecret);
    this.recvKey = packetKey(cipher, recvSecret);
  }

  /** The key phase bit our next packet carries. */
  get keyPhase(): boolean {
    return (this.sendGeneration & 1) === 1;
  }

  /** Generation of the send keys (0 until the first update). */
  get generation(): number {
    return this.sendGeneration;
  }

  /** Seals one packet (see PacketKey.seal) and counts it against the key's limit. */
  seal(buf: Uint8Array, headerEnd: number, payloadEnd: number, pathId: number, packetNumber: number, start = 0): number {
    if (!this.sendStart.has(pathId)) this.sendStart.set(pathId, packetNumber);
    this.sealedWithKey++;
    return this.sendKey.seal(buf, headerEnd, payloadEnd, pathId, packetNumber, start);
  }

  /** The peer acknowledged packets of `pathId` up to `largest`. */
  onAcked(pathId: number, largest: number): void {
    if (this.sendConfirmed) return;
    const start = this.sendStart.get(pathId);
    if (start !== undefined && largest >= start) this.sendConfirmed = true;
  }

  /** A path is gone, or was never accepted: forget its bookkeeping. */
  forgetPath(pathId: number): void {
    this.sendStart.delete(pathId);
    this.recvStart.delete(pathId);
  }

  /** Path IDs with bookkeeping (for tests: never more than the connection's paths). */
  get pathsTracked(): number {
    return Math.max(this.sendStart.size, this.recvStart.size);
  }

  /** Time for a key update, and allowed. */
  get updateDue(): boolean {
    return this.sealedWithKey >= this.packetsPerKey && this.sendConfirmed && this.sendGeneration === this.recvGeneration;
  }

  /** So many packets were sealed under one key that the connection must stop (no update was possible). */
  get sendLimitReached(): boolean {
    return this.sealedWithKey >= 2 * this.packetsPerKey;
  }

  /** Starts a key update: our next packet carries the other key phase. */
  initiateUpdate(): void {
    this.updatesInitiated++;
    this.advanceSend();
  }

  /**
   * Opens a Short packet (header [0, headerEnd)) with the key its phase
   * and packet number call for. Returns the frames in the clear, or null
   * (counted in authFailures). `pto` sizes how long the previous key is
   * kept once the peer moved on.
   */
  open(packet: Uint8Array, headerEnd: number, keyPhase: boolean, pathId: number, packetNumber: number, now: number, pto: number): Uint8Array | null {
    if (this.previousKey !== null && now >= this.previousUntil) this.previousKey = null;
    if (keyPhase === ((this.recvGeneration & 1) === 1)) {
      const plain = this.recvKey.open(packet, headerEnd, pathId, packetNumber);
      if (plain === null) return this.failed();
      const start = this.recvStart.get(pathId);
      if (start === undefined || packetNumber < start) this.recvStart.set(pathId, packetNumber);
      return plain;
    }
    const start = this.recvStart.get(pathId);
    const tryPrevious = this.previousKey !== null && (start === undefined || packetNumber < start);
    const tryNext = start === undefined || packetNumber >= start;
    if (tryPrevious) {
      const plain = this.previousKey!.open(packet, headerEnd, pathId, packetNumber);
      if (plain !== null) return plain;
    }
    if (tryNext) {
      this.nextKey ??= packetKey(this.cipher, nextSecret(this.recvSecret));
      const plain = this.nextKey.open(packet, headerEnd, pathId, packetNumber);
      if (plain !== null) {
        this.advanceReceive(now, pto);
        this.recvStart.set(pathId, packetNumber);
        return plain;
      }
    }
    return this.failed();
  }

  private failed(): null {
    this.authFailures++;
    return null;
  }

  /** The peer's packets now come under the next generation; we follow with ours if we had not moved yet. */
  private advanceReceive(now: number, pto: number): void {
    this.previousKey = this.recvKey;
    // RFC 9001 §6.5: old read keys are kept "no more than three times the
    // PTO after having received a packet protected using the new keys".
    this.previousUntil = now + 3 * pto;
    this.recvSecret = nextSecret(this.recvSecret);
    this.recvKey = this.nextKey!;
    this.nextKey = null;
    this.recvGeneration++;
    this.recvStart.clear();
    // RFC 9001 §6.2: "An endpoint that receives a packet with a changed key
    // phase ... MUST update its send keys to the corresponding key phase".
    if (this.sendGeneration < this.recvGeneration) {
      this.updatesFollowed++;
      this.advanceSend();
    }
  }

  private advanceSend(): void {
    this.sendSecret = nextSecret(this.sendSecret);
    this.sendKey = packetKey(this.cipher, this.sendSecret);
    this.sendGeneration++;
    this.sealedWithKey = 0;
    this.sendStart.clear();
    this.sendConfirmed = false;
  }
}
