/**
 * The raw `node:dgram` floor of the request/response test: one datagram out,
 * the server echoes it, the next once the echo is back, between two
 * processes. No reliability, ordering or stream: what a Node process pays
 * per round trip for two sends, two wake-ups and two 'message' events, the
 * floor an in-process UDP transport's latency is held to (issue #11).
 *
 * With `seal`, the client seals each request and opens each echo, and the
 * server opens each request and seals its echo in a new buffer, with the
 * AEAD mpudp protects its packets with (as the sealed blast of udp.ts): the
 * floor for a protected transport doing the same per-datagram work.
 *
 * Datagrams (to the udp bench server's port, beside its blast types):
 *   'P' ping         bytes 1..4 the test id, 5..12 the ping number (u64),
 *                    then `size` bytes of payload; echoed as it is
 *   'q', 'c' sealed  the same header (authenticated), the payload sealed
 *                    (AES-128-GCM, ChaCha20-Poly1305), its 16-byte tag last;
 *                    the echo is sealed as path 1, the request as path 0
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { IV_LENGTH, KEY_LENGTH, PacketKey, TAG_LENGTH, type CipherName } from '../../core/crypto/aead.js';
import { cpuSeconds, epochMs } from './common.js';

export const TYPE_PING = 0x50;
const SEALED_PING_TYPE: Record<CipherName, number> = { 'aes-128-gcm': 0x71, 'chacha20-poly1305': 0x63 };
const SEALED_PING_CIPHER = new Map<number, CipherName>(Object.entries(SEALED_PING_TYPE).map(([c, t]) => [t, c as CipherName]));
/** Type, test id, ping number. */
const PING_HEADER = 13;
/** A request unanswered this long is sent again (loopback seldom drops one). */
const RESEND_MS = 500;

/** The key of a sealed ping test: from its id, the same on both ends; it protects nothing, it costs the same. */
function pingKey(cipher: CipherName, id: number): PacketKey {
  const h = createHash('sha512').update(`mpudp bench ping ${cipher} ${id}`).digest();
  return new PacketKey(cipher, h.subarray(0, KEY_LENGTH[cipher]), h.subarray(32, 32 + IV_LENGTH));
}

/** Seals `plain` (a header, then the payload) into a new datagram as `path`. */
function sealPing(key: PacketKey, header: Uint8Array, payload: Uint8Array, path: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(PING_HEADER + payload.length + TAG_LENGTH);
  b.set(header.subarray(0, PING_HEADER), 0);
  b.set(payload, PING_HEADER);
  key.seal(b, PING_HEADER, PING_HEADER + payload.length, path, n);
  return b;
}

/** The server side: the echo of a ping datagram, or undefined if `msg` is no ping (null: a sealed one that did not open). */
export class PingEcho {
  /** Sealed tests' keys by test id (a few at a time: one per client run). */
  private readonly keys = new Map<number, PacketKey>();

  answer(msg: Buffer): Buffer | null | undefined {
    if (msg[0] === TYPE_PING) return msg;
    const cipher = SEALED_PING_CIPHER.get(msg[0]!);
    if (cipher === undefined || msg.length < PING_HEADER + TAG_LENGTH) return undefined;
    const id = msg.readUInt32BE(1);
    let key = this.keys.get(id);
    if (key === undefined) {
      if (this.keys.size >= 64) this.keys.clear();
      key = pingKey(cipher, id);
      this.keys.set(id, key);
    }
    const n = Number(msg.readBigUInt64BE(5));
    const plain = key.open(msg, PING_HEADER, 0, n);
    return plain === null ? null : sealPing(key, msg, plain, 1, n);
  }
}

export interface PingPongOptions {
  host: string;
  port: number;
  local?: string;
  /** Payload bytes per request and echo. */
  size: number;
  seal?: CipherName;
  /** Round trips not measured. */
  warmup: number;
  /** Stop after this many measured round trips, or at timeMs. */
  count: number;
  timeMs: number;
}

export interface PingPongResult {
  /** Round-trip times (ms), in order. */
  rtts: number[];
  /** Requests sent again after RESEND_MS. */
  resent: number;
  ms: number;
  cpuSeconds: number;
}

/** Ping-pong with a UdpBenchServer until `count` round trips or `timeMs`. */
export async function udpPingPong(o: PingPongOptions): Promise<PingPongResult> {
  const s: Socket = createSocket(isIP(o.host) === 6 ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
  s.bind({ address: o.local ?? (isIP(o.host) === 6 ? '::' : '0.0.0.0'), port: 0 });
  await once(s, 'listening');
  s.connect(o.port, o.host);
  await once(s, 'connect');
  const id = (Math.random() * 0xffff_ffff) >>> 0;
  const key = o.seal ? pingKey(o.seal, id) : null;
  const plain = Buffer.alloc(PING_HEADER + o.size, 0x72);
  plain[0] = o.seal ? SEALED_PING_TYPE[o.seal] : TYPE_PING;
  plain.writeUInt32BE(id, 1);
  const payload = plain.subarray(PING_HEADER);
  const rtts: number[] = [];
  let resent = 0;
  let n = 0;
  let sentAt = 0;
  let current: Buffer = plain;
  const start = epochMs();
  const cpu0 = cpuSeconds();
  const send = (): void => {
    n++;
    plain.writeBigUInt64BE(BigInt(n), 5);
    current = key === null ? plain : sealPing(key, plain, payload, 0, n);
    sentAt = performance.now();
    s.send(current);
  };
  await new Promise<void>((resolve) => {
    const watchdog = setInterval(() => {
      if (performance.now() - sentAt < RESEND_MS) return;
      resent++;
      sentAt = performance.now();
      s.send(current);
    }, RESEND_MS / 2);
    s.on('message', (msg: Buffer) => {
      if (msg.length < PING_HEADER || msg[0] !== plain[0] || msg.readUInt32BE(1) !== id || Number(msg.readBigUInt64BE(5)) !== n) return;
      if (key !== null && key.open(msg, PING_HEADER, 1, n) === null) return;
      const rtt = performance.now() - sentAt;
      if (n > o.warmup) rtts.push(rtt);
      if (rtts.length >= o.count || epochMs() - start >= o.timeMs) {
        clearInterval(watchdog);
        resolve();
        return;
      }
      send();
    });
    send();
  });
  const result = { rtts, resent, ms: epochMs() - start, cpuSeconds: cpuSeconds() - cpu0 };
  s.close();
  return result;
}
