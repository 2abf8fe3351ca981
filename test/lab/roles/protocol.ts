/**
 * The little protocol the lab roles speak over one mpudp connection, and
 * what both roles share.
 *
 * The client starts with a 9-byte header: a mode byte and a 64-bit size.
 * - 'U' (upload): the client sends `size` bytes (STREAM_SIZE: until its FIN);
 *   the server answers with the 64-bit count it received and their SHA-256
 *   (40 bytes), then ends.
 * - 'D' (download): the server sends `size` bytes, then their SHA-256 (32
 *   bytes), then ends.
 * Roles report to the test as JSON lines on stdout (one object per line,
 * with a `type`), and read commands from stdin.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { MultipathSocket, PathInfo } from '../../../src/index.js';

/** Upload: client → server. */
export const MODE_UPLOAD = 0x55; // 'U'
/** Download: server → client. */
export const MODE_DOWNLOAD = 0x44; // 'D'
/** Header length. */
export const HEADER_BYTES = 9;
/** Size meaning "until FIN" (uploads only). */
export const STREAM_SIZE = 0xffff_ffff_ffff_ffffn;
/** Bytes per write. */
export const CHUNK = 64 * 1024;

/** Encodes the header. */
export function header(mode: number, size: bigint): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  b[0] = mode;
  b.writeBigUInt64BE(size, 1);
  return b;
}

/** Prints one report line for the test. */
export function report(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

/** 1 MiB of random bytes that chunks are cut from (each chunk stamped with its index, so none repeats). */
const BASE = randomBytes(1 << 20);

/** Chunk number `i` of a transfer, `len` bytes: a fresh buffer (the stream may hold it). */
export function chunk(i: number, len: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  const off = (i * 4099 * 16) % (BASE.length - CHUNK);
  BASE.copy(b, 0, off, off + len);
  if (len >= 8) b.writeDoubleBE(i, 0);
  return b;
}

/** Waits for 'drain', or rejects if the stream closes first (listeners removed either way). */
export function drain(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      stream.off('drain', onDrain);
      reject(new Error('stream closed while waiting for drain'));
    };
    stream.once('drain', onDrain);
    stream.once('close', onClose);
  });
}

/**
 * Writes `total` bytes of generated data (or until `stop()` returns true,
 * checked between chunks) with backpressure; returns the count and SHA-256.
 * `onProgress` is called after each chunk with the bytes written so far.
 */
export async function writeData(
  stream: Writable,
  total: number,
  onProgress: (bytes: number) => void,
  stop: () => boolean = () => false,
): Promise<{ bytes: number; hash: Buffer }> {
  const hash: Hash = createHash('sha256');
  let sent = 0;
  for (let i = 0; sent < total && !stop(); i++) {
    const c = chunk(i, Math.min(CHUNK, total - sent));
    hash.update(c);
    sent += c.length;
    const ok = stream.write(c);
    onProgress(sent);
    if (!ok) await drain(stream);
  }
  return { bytes: sent, hash: hash.digest() };
}

/** A compact view of a socket's paths (addresses from `paths`, counters from `stats()`). */
export function pathSummary(socket: MultipathSocket): Record<string, unknown>[] {
  const stats = socket.stats();
  return socket.paths.map((p) => {
    const s = stats?.paths.find((x) => x.id === p.id);
    return {
      id: p.id,
      local: p.localAddress,
      remote: p.remoteAddress,
      state: p.state,
      bytesSent: p.bytesSent,
      bytesReceived: p.bytesReceived,
      dataBytesSent: s?.dataBytesSent,
      retransmitted: s?.dataBytesRetransmitted,
      lost: s?.packetsLost,
      srttMs: Math.round(p.smoothedRtt * 10) / 10,
    };
  });
}

/** What the roles report of a path event. */
export function pathEvent(type: 'path-up' | 'path-down', p: PathInfo, reason?: string): Record<string, unknown> {
  return { type, id: p.id, local: p.localAddress, remote: p.remoteAddress, state: p.state, ...(reason !== undefined ? { reason } : {}) };
}
