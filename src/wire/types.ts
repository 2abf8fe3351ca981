/**
 * Wire-level types shared by every codec: the packet header and the frames.
 * Encodings are documented in docs/protocol.md; this file is the contract
 * between `src/wire` (codecs) and `src/core` (the state machine).
 *
 * Integers on the wire are QUIC variable-length integers (RFC 9000 §16)
 * unless said otherwise; in memory they are JS numbers, so values above
 * Number.MAX_SAFE_INTEGER are refused by the decoder (code WIRE_VARINT_RANGE).
 */

/** Packet types, the low 2 bits of the first byte (the top two bits are 0b01). */
export const PacketType = {
  /** Client's first flight: carries HELLO; padded to at least 1200 bytes. */
  Initial: 0,
  /** Server's answer: HELLO + FINISHED. */
  Handshake: 1,
  /** Everything after the handshake. */
  Short: 2,
  /** Server's stateless answer to a flood: RETRY frame with a cookie. */
  Retry: 3,
} as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

/** Length of every connection ID, in bytes. Fixed so demultiplexing is one slice. */
export const CID_LENGTH = 8;
/** Minimum size of a datagram that carries an Initial packet (anti-amplification). */
export const MIN_INITIAL_SIZE = 1200;

export interface PacketHeader {
  type: PacketType;
  /** Destination connection ID, CID_LENGTH bytes. */
  dcid: Uint8Array;
  /** Path this packet belongs to: its packet number space. */
  pathId: number;
  /** Packet number in that path's own number space (full, not truncated). */
  packetNumber: number;
  /** Key phase of a Short packet (RFC 9001 §6): which generation of keys protects it. False in every other type. */
  keyPhase: boolean;
}

/** One acknowledged range of packet numbers, inclusive at both ends. */
export interface AckRange {
  smallest: number;
  largest: number;
}

/** Transport parameters carried in HELLO. */
export interface TransportParams {
  /** Initial receive window in bytes of the data sequence space. */
  initialMaxData: number;
  /** Most paths the sender accepts. */
  maxPaths: number;
  /** Idle timeout in milliseconds (0 = none). */
  idleTimeoutMs: number;
  /** Largest datagram payload the sender accepts. */
  maxDatagramSize: number;
}

export type Frame =
  /** A run of `length` zero bytes (length >= 1). */
  | { type: 'padding'; length: number }
  | { type: 'ping' }
  /**
   * Acknowledges packets of path `pathId`; may travel on any path.
   * `ranges` are disjoint, sorted by descending packet number, and the first
   * one's `largest` is the largest acknowledged. `ackDelay` in microseconds.
   */
  | { type: 'ack'; pathId: number; ackDelay: number; ranges: AckRange[] }
  /** Data-level cumulative ACK and receive window (MAX_DATA in absolute bytes). */
  | { type: 'data_ack'; cumulative: number; maxData: number }
  /** Bytes of the one stream at data sequence `offset`; `fin` marks the last byte. */
  | { type: 'data'; offset: number; fin: boolean; data: Uint8Array }
  /**
   * Handshake: version, the AEAD cipher of the connection (CipherId), the
   * sender's CID, its ephemeral X25519 public key, a random nonce,
   * parameters, retry cookie.
   */
  | {
      type: 'hello';
      version: number;
      cipher: number;
      cid: Uint8Array;
      publicKey: Uint8Array;
      nonce: Uint8Array;
      params: TransportParams;
      cookie: Uint8Array;
    }
  /** Server's proof of key derivation: HMAC over the handshake transcript (32 bytes). */
  | { type: 'finished'; mac: Uint8Array }
  /** Server's long-term X25519 public key (32 bytes); the handshake proves it holds the private half. */
  | { type: 'identity'; staticKey: Uint8Array }
  /** The sender's stateless reset token (16 bytes): a datagram ending in it closes the connection. */
  | { type: 'reset_token'; token: Uint8Array }
  /** Stateless retry cookie; the client repeats its Initial with this cookie in HELLO. */
  | { type: 'retry'; cookie: Uint8Array }
  /** Opens path `pathId` from the packet's addresses (the packet's AEAD proves the sender). */
  | { type: 'path_join'; pathId: number }
  /** Challenge on path `pathId`; data 8 bytes. */
  | { type: 'path_challenge'; pathId: number; data: Uint8Array }
  /** Answer to a challenge: echoes its 8 bytes. */
  | { type: 'path_response'; pathId: number; data: Uint8Array }
  /** Sender's preference for path `pathId`; `seq` orders updates. */
  | { type: 'path_status'; pathId: number; seq: number; backup: boolean }
  /** Sender closes path `pathId`. */
  | { type: 'path_abandon'; pathId: number; errorCode: number }
  /**
   * Advertises an address of the sender. `address` is textual IPv4 or IPv6.
   * `seq` orders the sender's ADD_ADDRESS and REMOVE_ADDRESS frames of one
   * address ID: an older one arriving late changes nothing.
   */
  | {
      type: 'add_address';
      addressId: number;
      seq: number;
      address: string;
      port: number;
      backup: boolean;
    }
  /** Withdraws an advertised address; `seq` as in ADD_ADDRESS. */
  | { type: 'remove_address'; addressId: number; seq: number }
  /** Aborts the connection; `reason` UTF-8, at most 1024 bytes. */
  | { type: 'close'; errorCode: number; reason: string };

export type FrameKind = Frame['type'];
