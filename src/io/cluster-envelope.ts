/**
 * What cluster workers of one host send each other, worker port to worker
 * port. Never on the wire between hosts, and not part of the protocol:
 *
 *   FORWARD  c5 01 family(1: 4|6) address(4|16) port(2) datagram...
 *            a client's datagram that reached the shared port and belongs
 *            to another worker, with the client's address; the owner takes
 *            the envelope's source (our address, the shared port) as the
 *            datagram's local address.
 *   BEAT     c5 02 slot(1)
 *            "the worker of this slot is alive": the slots live in the last
 *            second share the handshakes (cluster-router.ts).
 *
 * The first byte can never start a packet of ours (those start 0b01).
 * Envelopes are believed only from the host's own address and the shared
 * port (cluster-router.ts says why nobody else can send from there).
 */
import { formatIpv4, formatIpv6, parseIpInto } from '../wire/ip.js';
import type { SocketAddress } from '../core/types.js';

/** First byte of every envelope. */
export const ENVELOPE_MAGIC = 0xc5;
const FORWARD = 0x01;
const BEAT = 0x02;

export type Envelope =
  | { kind: 'forward'; remote: SocketAddress; datagram: Uint8Array }
  | { kind: 'beat'; slot: number };

/** Wraps a client's datagram for the worker that owns its connection. */
export function encodeForward(remote: SocketAddress, datagram: Uint8Array): Uint8Array {
  const ip = new Uint8Array(16);
  const ipLength = parseIpInto(remote.address, ip, 0);
  if (ipLength === 0) throw new RangeError(`not an IP address: ${remote.address}`);
  const out = new Uint8Array(3 + ipLength + 2 + datagram.length);
  out[0] = ENVELOPE_MAGIC;
  out[1] = FORWARD;
  out[2] = ipLength === 4 ? 4 : 6;
  out.set(ip.subarray(0, ipLength), 3);
  out[3 + ipLength] = remote.port >>> 8;
  out[4 + ipLength] = remote.port & 0xff;
  out.set(datagram, 5 + ipLength);
  return out;
}

export function encodeBeat(slot: number): Uint8Array {
  return Uint8Array.of(ENVELOPE_MAGIC, BEAT, slot & 0xff);
}

/** Reads an envelope; null for anything else (total: never throws). */
export function decodeEnvelope(bytes: Uint8Array): Envelope | null {
  if (bytes.length < 3 || bytes[0] !== ENVELOPE_MAGIC) return null;
  if (bytes[1] === BEAT) return bytes.length === 3 ? { kind: 'beat', slot: bytes[2]! } : null;
  if (bytes[1] !== FORWARD) return null;
  const ipLength = bytes[2] === 4 ? 4 : bytes[2] === 6 ? 16 : 0;
  if (ipLength === 0 || bytes.length < 5 + ipLength) return null;
  const address = ipLength === 4 ? formatIpv4(bytes, 3) : formatIpv6(bytes, 3);
  const port = (bytes[3 + ipLength]! << 8) | bytes[4 + ipLength]!;
  return { kind: 'forward', remote: { address, port }, datagram: bytes.subarray(5 + ipLength) };
}
