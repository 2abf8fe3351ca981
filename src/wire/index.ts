/** The wire codecs of mpudp: packet header, frames, varints. See docs/protocol.md. */
export * from './types.js';
export { WireError } from './errors.js';
export type { WireErrorCode } from './errors.js';
export { Reader, varintLength, writeVarint, readVarint } from './varint.js';
export { headerLength, encodeHeader, decodeHeader, peekDcid, peekPacketType } from './header.js';
export {
  FrameType,
  PUBLIC_KEY_LENGTH,
  HELLO_NONCE_LENGTH,
  CHALLENGE_LENGTH,
  FINISHED_MAC_LENGTH,
  STATIC_KEY_LENGTH,
  RESET_TOKEN_LENGTH,
  MAX_REASON_LENGTH,
  MAX_COOKIE_LENGTH,
  MAX_ACK_RANGE_COUNT,
  frameLength,
  encodeFrame,
  ackFrameLength,
  dataFrameHeaderLength,
  writeDataFrameHeader,
} from './frames.js';
export { decodeFrame } from './frame-decode.js';
export { decodePacket, encodePacket, packetLength } from './packet.js';
export type { DecodedPacket } from './packet.js';
export { canonicalIp, formatIpv4, formatIpv6 } from './ip.js';
