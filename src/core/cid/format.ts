/**
 * The connection IDs an endpoint issues for itself, and what its peers in a
 * fleet can read back from them.
 *
 * Layout (docs/protocol.md, "Connection IDs"):
 *
 *   configured host:    first octet ‖ seal(server ID ‖ [slot] ‖ nonce)
 *   no configuration:   0b111 ‖ length ‖ [slot] ‖ nonce            (unroutable)
 *
 * The server ID is the host's, as an ID-routing balancer knows it; the slot
 * (one byte, cluster workers only) names the worker that owns the
 * connection. A balancer configured with the host's server ID length counts
 * the slot as part of the nonce, as draft-ietf-quic-load-balancers §6.1
 * ("Load balancer chains") has nearer tiers do: "Load balancers closer to
 * the client can then treat any parts of the server ID they did not use as
 * part of the nonce." Its §6.2 suggests the same for process demultiplexing:
 * "Some bytes of the server ID are reserved to encode the process ID."
 */
import type { RandomSource } from '../types.js';
import {
  BlockCipher,
  KEY_LENGTH,
  MAX_BLOCK_LENGTH,
  MAX_CONFIG_ID,
  MAX_SERVER_ID_LENGTH,
  MIN_NONCE_LENGTH,
  MIN_SERVER_ID_LENGTH,
  UNROUTABLE_CONFIG,
  blockLengthValid,
  configIdOf,
  decodeCid,
  encodeCid,
} from './quic-lb.js';

/** Length of the CIDs an endpoint issues without a QUIC-LB configuration. */
export const DEFAULT_CID_LENGTH = 8;
/** Shortest and longest CID we issue or accept (QUIC's limit is 20; 8 keeps 7 bytes of entropy after the first octet). */
export const MIN_CID_LENGTH = 8;
export const MAX_CID_LENGTH = 20;
/** Bytes of the worker slot in a cluster worker's CIDs. */
export const SLOT_LENGTH = 1;
/** Most workers one host's CIDs can name. */
export const MAX_SLOTS = 256;

/** One host's QUIC-LB configuration, as its balancer knows it. */
export interface QuicLbConfig {
  /** Config rotation codepoint, 0 to 6. */
  configId: number;
  /** This host's server ID, 1 to 15 bytes. */
  serverId: Uint8Array;
  /** Random bytes after the server ID (and the worker slot), at least 4. */
  nonceLength: number;
  /** 16-byte AES key: encrypted server IDs; null: plaintext. */
  key: Uint8Array | null;
}

/** What an endpoint's CIDs are built from. */
export interface CidFormatConfig {
  /** The host's QUIC-LB configuration; null: unroutable CIDs of DEFAULT_CID_LENGTH bytes. */
  quicLb: QuicLbConfig | null;
  /** Cluster worker: its slot, 0 to 255; null outside a cluster. */
  slot: number | null;
}

/** What a CID of this host says. */
export interface ParsedCid {
  /** The host's server ID (empty without a QUIC-LB configuration). */
  serverId: Uint8Array;
  /** The owning worker's slot, or null outside a cluster. */
  slot: number | null;
}

/** Why a QUIC-LB configuration cannot be used, or null if it can. */
export function quicLbProblem(c: QuicLbConfig, cluster: boolean): string | null {
  if (!Number.isInteger(c.configId) || c.configId < 0 || c.configId > MAX_CONFIG_ID) return `configId must be 0 to ${MAX_CONFIG_ID} (0b111 is reserved)`;
  if (!(c.serverId instanceof Uint8Array) || c.serverId.length < MIN_SERVER_ID_LENGTH || c.serverId.length > MAX_SERVER_ID_LENGTH) {
    return `serverId must be ${MIN_SERVER_ID_LENGTH} to ${MAX_SERVER_ID_LENGTH} bytes`;
  }
  if (!Number.isInteger(c.nonceLength) || c.nonceLength < MIN_NONCE_LENGTH) return `nonceLength must be at least ${MIN_NONCE_LENGTH}`;
  if (c.key !== null && (!(c.key instanceof Uint8Array) || c.key.length !== KEY_LENGTH)) return `key must be ${KEY_LENGTH} bytes`;
  const block = c.serverId.length + (cluster ? SLOT_LENGTH : 0) + c.nonceLength;
  if (block > MAX_BLOCK_LENGTH) {
    return `serverId (${c.serverId.length})${cluster ? ' + worker slot (1)' : ''} + nonceLength (${c.nonceLength}) must be at most ${MAX_BLOCK_LENGTH} bytes`;
  }
  if (1 + block < MIN_CID_LENGTH) return `the CID would be ${1 + block} bytes; at least ${MIN_CID_LENGTH} (raise nonceLength)`;
  if (!blockLengthValid(block, c.key !== null)) return `no QUIC-LB encoding takes a ${block}-byte block`;
  return null;
}

export class CidFormat {
  /** Bytes of every CID issued. */
  readonly length: number;
  /** Config rotation codepoint of every CID issued. */
  private readonly configId: number;
  private readonly cipher: BlockCipher;
  /** Bytes before the slot: the server ID. */
  private readonly serverId: Uint8Array;
  private readonly slot: number | null;

  constructor(readonly config: CidFormatConfig) {
    const q = config.quicLb;
    if (config.slot !== null && (!Number.isInteger(config.slot) || config.slot < 0 || config.slot >= MAX_SLOTS)) {
      throw new RangeError(`slot must be 0 to ${MAX_SLOTS - 1}`);
    }
    if (q !== null) {
      const problem = quicLbProblem(q, config.slot !== null);
      if (problem !== null) throw new RangeError(`QUIC-LB configuration: ${problem}`);
    }
    this.slot = config.slot;
    this.configId = q?.configId ?? UNROUTABLE_CONFIG;
    this.cipher = new BlockCipher(q?.key ?? null);
    this.serverId = q?.serverId.slice() ?? new Uint8Array(0);
    this.length = q !== null ? 1 + q.serverId.length + (this.slot !== null ? SLOT_LENGTH : 0) + q.nonceLength : DEFAULT_CID_LENGTH;
  }

  /** A fresh CID: the first octet, the server ID and slot, then a random nonce, sealed. */
  issue(random: RandomSource): Uint8Array {
    const block = new Uint8Array(this.length - 1);
    block.set(this.serverId, 0);
    let at = this.serverId.length;
    if (this.slot !== null) block[at++] = this.slot;
    block.set(random(block.length - at), at);
    return encodeCid(this.configId, this.cipher, block);
  }

  /**
   * Reads a CID back: null when it cannot be one of this host's (another
   * length, codepoint or server ID). Any worker of the host can read any
   * other's CIDs: they share the configuration.
   */
  parse(cid: Uint8Array): ParsedCid | null {
    if (cid.length !== this.length || configIdOf(cid) !== this.configId) return null;
    const block = decodeCid(this.configId, this.cipher, this.length - 1, cid);
    if (block === null) return null;
    for (let i = 0; i < this.serverId.length; i++) if (block[i] !== this.serverId[i]) return null;
    const serverId = block.slice(0, this.serverId.length);
    return { serverId, slot: this.slot !== null ? block[this.serverId.length]! : null };
  }

  /** Whether `cid` is one this format issues: this host's server ID and this worker's slot. */
  issued(cid: Uint8Array): boolean {
    const parsed = this.parse(cid);
    return parsed !== null && parsed.slot === this.slot;
  }

  /** The slot of the worker that owns `cid`, or null (not a CID of this host's cluster). */
  slotOf(cid: Uint8Array): number | null {
    return this.slot === null ? null : (this.parse(cid)?.slot ?? null);
  }
}

/** Bytes of the plaintext block of a configuration (a balancer's server ID length plus its nonce length). */
export function blockLengthOf(c: QuicLbConfig, cluster: boolean): number {
  return c.serverId.length + (cluster ? SLOT_LENGTH : 0) + c.nonceLength;
}
