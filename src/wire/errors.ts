/**
 * The one error type of the wire codecs. Decoders are total: given any bytes
 * they return a value or throw a WireError, never anything else. Encoders
 * throw a WireError when handed a value that cannot be put on the wire.
 */

/** Stable error codes; see the table in docs/protocol.md. */
export type WireErrorCode =
  /** Decode: the input ended inside a field. */
  | 'WIRE_TRUNCATED'
  /** Decode: a varint above Number.MAX_SAFE_INTEGER. Encode: a negative, non-integer or too large integer. */
  | 'WIRE_VARINT_RANGE'
  /** Decode: first byte of the packet is not a valid header byte. */
  | 'WIRE_BAD_HEADER'
  /** Decode: a frame type byte we do not know. */
  | 'WIRE_UNKNOWN_FRAME'
  /** Decode: a known frame with an invalid field (bad flags, ack range below 0, bad UTF-8, ...). */
  | 'WIRE_BAD_FRAME'
  /** Decode: a packet that carries no frame at all (RFC 9000 §12.4). */
  | 'WIRE_EMPTY_PACKET'
  /** Encode: the output buffer has too little room. */
  | 'WIRE_BUFFER_TOO_SMALL'
  /** Encode: an invalid value (wrong fixed length, bad address text, unsorted ack ranges, ...). */
  | 'WIRE_BAD_VALUE';

export class WireError extends Error {
  /** Stable machine-readable code. */
  readonly code: WireErrorCode;

  constructor(code: WireErrorCode, message: string) {
    // Bad input, not a bug: its code says what, and a stack would say
    // nothing more. Capturing one is most of what refusing a junk
    // datagram costs (any sender can make the server decode one).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${code}: ${message}`);
    Error.stackTraceLimit = limit;
    this.name = 'WireError';
    this.code = code;
  }
}
