/**
 * The raw `node:dgram` baseline of `mpudp bench`: no protocol at all. The
 * client blasts fixed-size datagrams at the server for a time, as fast as
 * one process can send them; the server counts what arrives. This is what
 * a Node process can move over UDP with no reliability, ordering or
 * congestion control, the ceiling an in-process UDP transport is held to.
 *
 * With `seal`, every datagram is sealed by the sender and opened by the
 * receiver with the AEAD mpudp protects its packets with (src/core/crypto),
 * in a new buffer each time as a transport's packets are: the ceiling for a
 * protected transport doing the same per-datagram work (issues #9, #11).
 * The key is derived from the test id: it protects nothing, it costs the
 * same.
 *
 * Datagrams: byte 0 is the type, bytes 1..4 the test id (u32).
 *   'D' data   (the rest is padding up to the datagram size)
 *   'S', 'C' sealed data (AES-128-GCM, ChaCha20-Poly1305): bytes 5..12
 *              the datagram number (u64); the header [0, 13) authenticated,
 *              the rest sealed, its 16-byte tag last
 *   'E' end    bytes 5..12: datagrams sent (u64); repeated until answered
 *   'R' result bytes 5..: the server's ReceiverResult as JSON, plus `datagrams`
 *   'P', 'q', 'c' the request/response floor's pings, echoed (udp-rr.ts)
 * Both sockets ask for 4 MiB kernel buffers.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { IV_LENGTH, KEY_LENGTH, PacketKey, TAG_LENGTH, type CipherName } from '../../core/crypto/aead.js';
import { cpuSeconds, epochMs, round3 } from './common.js';
import { PatternSink, type ReceiverResult } from './pattern.js';
import { PingEcho } from './udp-rr.js';

const TYPE_DATA = 0x44;
/** The type byte of a sealed datagram names its cipher. */
const SEALED_TYPE: Record<CipherName, number> = { 'aes-128-gcm': 0x53, 'chacha20-poly1305': 0x43 };
const SEALED_CIPHER = new Map<number, CipherName>(Object.entries(SEALED_TYPE).map(([c, t]) => [t, c as CipherName]));
/** Type, test id, datagram number: the sealed datagram's authenticated header. */
const SEALED_HEADER = 13;
const TYPE_END = 0x45;
const TYPE_RESULT = 0x52;
/** Kernel buffer size asked for on both ends. */
export const UDP_BUFFER = 4 * 1024 * 1024;
/** Sends in flight (not yet completed by libuv) before the sender waits. */
const MAX_OUTSTANDING = 1024;
/** Sends per turn of the event loop. */
const BATCH = 256;
/** A test the server has not heard of for this long is forgotten. */
const TEST_TTL_MS = 60_000;

/** What the server answers to 'E'. */
export interface UdpReceiverResult extends ReceiverResult {
  datagrams: number;
  /** Sealed datagrams that did not open (counted apart, not received). */
  authFailures: number;
}

/** The bench key of a test: from its id, the same on both ends. */
function benchKey(cipher: CipherName, id: number): PacketKey {
  const h = createHash('sha512').update(`mpudp bench seal ${cipher} ${id}`).digest();
  return new PacketKey(cipher, h.subarray(0, KEY_LENGTH[cipher]), h.subarray(32, 32 + IV_LENGTH));
}

function udpSocket(address: string): Socket {
  return createSocket(isIP(address) === 6 ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
}

function sizeBuffers(s: Socket): void {
  try {
    s.setRecvBufferSize(UDP_BUFFER);
    s.setSendBufferSize(UDP_BUFFER);
  } catch {
    // The kernel refused; the socket keeps its default buffers.
  }
}

/** One test as the server sees it. */
interface UdpTest {
  sink: PatternSink;
  datagrams: number;
  lastSeen: number;
  /** The answer, once 'E' arrived (sent again for every repeated 'E'). */
  answer: Buffer | null;
  /** Sealed tests: the key, from the first sealed datagram's cipher. */
  key: PacketKey | null;
  authFailures: number;
}

function newTest(): UdpTest {
  return { sink: new PatternSink(null), datagrams: 0, lastSeen: 0, answer: null, key: null, authFailures: 0 };
}

/** The server side: counts datagrams per test on every address; `onResult` once per finished test. */
export class UdpBenchServer {
  private readonly sockets: Socket[] = [];
  private readonly tests = new Map<number, UdpTest>();
  private sweep: NodeJS.Timeout | null = null;
  /** Answers the request/response floor's pings. */
  private readonly echo = new PingEcho();

  constructor(private readonly onResult: (r: UdpReceiverResult, from: string) => void) {}

  async listen(addresses: string[], port: number): Promise<{ address: string; port: number }[]> {
    const out: { address: string; port: number }[] = [];
    for (const address of addresses) {
      const s = udpSocket(address);
      s.bind({ address, port, exclusive: true });
      await once(s, 'listening');
      sizeBuffers(s);
      s.on('message', (msg, rinfo) => this.onMessage(s, msg, rinfo.address, rinfo.port));
      this.sockets.push(s);
      out.push({ address, port: s.address().port });
    }
    this.sweep = setInterval(() => {
      const now = epochMs();
      for (const [id, t] of this.tests) if (now - t.lastSeen > TEST_TTL_MS) this.tests.delete(id);
    }, TEST_TTL_MS / 4);
    this.sweep.unref();
    return out;
  }

  private onMessage(s: Socket, msg: Buffer, address: string, port: number): void {
    if (msg.length < 5) return;
    const echo = this.echo.answer(msg);
    if (echo !== undefined) {
      if (echo !== null) s.send(echo, port, address);
      return;
    }
    const id = msg.readUInt32BE(1);
    let t = this.tests.get(id);
    const cipher = SEALED_CIPHER.get(msg[0]!);
    if (msg[0] === TYPE_DATA || cipher !== undefined) {
      if (t === undefined) {
        t = newTest();
        this.tests.set(id, t);
      }
      if (t.answer !== null) return; // late data after the end: not counted
      if (cipher !== undefined) {
        t.key ??= benchKey(cipher, id);
        const plain = msg.length >= SEALED_HEADER + TAG_LENGTH ? t.key.open(msg, SEALED_HEADER, 0, Number(msg.readBigUInt64BE(5))) : null;
        if (plain === null) {
          t.authFailures++;
          return;
        }
      }
      t.datagrams++;
      t.sink.add(msg);
      return;
    }
    if (msg[0] !== TYPE_END) return;
    if (t === undefined) {
      t = newTest();
      this.tests.set(id, t);
    }
    t.lastSeen = epochMs();
    if (t.answer === null) {
      const result: UdpReceiverResult = { ...t.sink.result(), datagrams: t.datagrams, authFailures: t.authFailures };
      const json = Buffer.from(JSON.stringify(result));
      t.answer = Buffer.concat([Buffer.from([TYPE_RESULT, 0, 0, 0, 0]), json]);
      t.answer.writeUInt32BE(id, 1);
      this.onResult(result, `${address}:${port}`);
    }
    s.send(t.answer, port, address);
  }

  async close(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    await Promise.all(this.sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.sockets.length = 0;
  }
}

/** What the client reports of a blast. */
export interface UdpBlastResult {
  /** Datagrams and bytes handed to the socket. */
  datagramsSent: number;
  bytesSent: number;
  /** Send time (ms). */
  sendMs: number;
  /** CPU seconds of the sending process while sending. */
  cpuSeconds: number;
  /** The server's count. */
  receiver: UdpReceiverResult;
}

export interface UdpBlastOptions {
  host: string;
  port: number;
  /** Local address to bind (default: the wildcard). */
  local?: string;
  /** Datagram payload size (bytes). */
  datagramSize: number;
  /** Seal every datagram with this AEAD (the receiver opens it). */
  seal?: CipherName;
  timeMs: number;
  /** Called every `intervalMs` with the datagrams sent so far. */
  onInterval?: (sent: number, atMs: number) => void;
  intervalMs?: number;
}

/** Blasts datagrams at a UdpBenchServer for `timeMs`, then asks for its count. */
export async function udpBlast(o: UdpBlastOptions): Promise<UdpBlastResult> {
  const s = udpSocket(o.host);
  s.bind({ address: o.local ?? (isIP(o.host) === 6 ? '::' : '0.0.0.0'), port: 0 });
  await once(s, 'listening');
  sizeBuffers(s);
  s.connect(o.port, o.host);
  await once(s, 'connect');
  const id = (Math.random() * 0xffff_ffff) >>> 0;
  const data = Buffer.alloc(Math.max(o.seal ? SEALED_HEADER + TAG_LENGTH : 5, o.datagramSize), 0x61);
  data[0] = o.seal ? SEALED_TYPE[o.seal] : TYPE_DATA;
  data.writeUInt32BE(id, 1);
  const key = o.seal ? benchKey(o.seal, id) : null;
  /** The next datagram: the same buffer, or a new sealed one (as a transport's packet). */
  const next = (n: number): Buffer => {
    if (key === null) return data;
    const b = Buffer.allocUnsafe(data.length);
    data.copy(b, 0, 0, data.length - TAG_LENGTH);
    b.writeBigUInt64BE(BigInt(n), 5);
    key.seal(b, SEALED_HEADER, data.length - TAG_LENGTH, 0, n);
    return b;
  };

  let sent = 0;
  let outstanding = 0;
  let waiting = false;
  const start = epochMs();
  const cpu0 = cpuSeconds();
  const deadline = start + o.timeMs;
  const interval = o.onInterval && o.intervalMs ? setInterval(() => o.onInterval!(sent, epochMs() - start), o.intervalMs) : null;

  await new Promise<void>((resolve) => {
    const onSent = (): void => {
      outstanding--;
      if (waiting && outstanding < MAX_OUTSTANDING / 2) {
        waiting = false;
        setImmediate(pump);
      }
    };
    const pump = (): void => {
      for (let i = 0; i < BATCH; i++) {
        if (outstanding >= MAX_OUTSTANDING) {
          waiting = true;
          return;
        }
        outstanding++;
        s.send(next(sent), onSent);
        sent++;
      }
      if (epochMs() >= deadline) resolve();
      else setImmediate(pump);
    };
    pump();
  });
  const sendMs = epochMs() - start;
  const cpu = cpuSeconds() - cpu0;
  if (interval) clearInterval(interval);

  // The end marker, repeated until the server answers (it drains its socket buffer first).
  const end = Buffer.alloc(13);
  end[0] = TYPE_END;
  end.writeUInt32BE(id, 1);
  end.writeBigUInt64BE(BigInt(sent), 5);
  const receiver = await new Promise<UdpReceiverResult>((resolve, reject) => {
    const timer = setInterval(() => s.send(end), 20);
    const giveUp = setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`no answer from the udp bench server at ${o.host}:${o.port} within 5 s`));
    }, 5000);
    s.on('message', (msg) => {
      if (msg.length < 5 || msg[0] !== TYPE_RESULT || msg.readUInt32BE(1) !== id) return;
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve(JSON.parse(msg.subarray(5).toString('utf8')) as UdpReceiverResult);
    });
    s.send(end);
  });
  s.close();
  return { datagramsSent: sent, bytesSent: sent * data.length, sendMs: round3(sendMs), cpuSeconds: round3(cpu), receiver };
}
