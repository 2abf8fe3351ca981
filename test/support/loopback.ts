/**
 * Helpers of the tests over real UDP on loopback: a listening server whose
 * sockets come out of `next()`, a client dialled from 127.0.0.1 and
 * 127.0.0.2, writers and readers that hash what they move, and `until()`.
 * Everything a test opens is torn down after it (`useLoopback()` registers
 * the afterEach).
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, expect } from 'vitest';
import { connect, createServer, type MultipathServer, type MultipathSocket } from '../../src/index.js';
import type { ConnectOptions, ServerOptions } from '../../src/api/validate.js';

export const MiB = 1024 * 1024;
export const CLIENT_ADDRESSES = ['127.0.0.1', '127.0.0.2'];

/** Servers and sockets to tear down after each test. */
export const cleanup: (() => void)[] = [];

/** Registers the teardown of everything the helpers opened (call once per test file). */
export function useLoopback(): void {
  afterEach(() => {
    for (const fn of cleanup.splice(0)) fn();
  });
}

/** A listening server on 127.0.0.1, port 0, whose sockets come out of `next()`. */
export async function listen(options: ServerOptions = {}): Promise<{ server: MultipathServer; port: number; next: () => Promise<MultipathSocket> }> {
  const queue: MultipathSocket[] = [];
  const waiters: ((s: MultipathSocket) => void)[] = [];
  const server = createServer(options, (socket) => {
    // Tests that expect an error listen for it themselves; others may see the peer's teardown.
    socket.on('error', () => undefined);
    cleanup.push(() => socket.destroy());
    const w = waiters.shift();
    if (w) w(socket);
    else queue.push(socket);
  });
  cleanup.push(() => server.close());
  server.listen({ port: 0, addresses: ['127.0.0.1'] });
  await once(server, 'listening');
  const next = (): Promise<MultipathSocket> => {
    const s = queue.shift();
    return s ? Promise.resolve(s) : new Promise((resolve) => waiters.push(resolve));
  };
  return { server, port: server.address()!.port, next };
}

/** A connected client from both loopback addresses. */
export async function dial(port: number, options: Partial<ConnectOptions> = {}): Promise<MultipathSocket> {
  const socket = connect({ port, host: '127.0.0.1', localAddresses: CLIENT_ADDRESSES, ...options });
  cleanup.push(() => {
    socket.on('error', () => undefined);
    socket.destroy();
  });
  await once(socket, 'connect');
  return socket;
}

/** Writes `total` random bytes with backpressure; resolves with their SHA-256 (does not end). */
export async function writeRandom(socket: MultipathSocket, total: number, chunkSize = 64 * 1024, hash: Hash = createHash('sha256')): Promise<string> {
  let sent = 0;
  while (sent < total) {
    const chunk = randomBytes(Math.min(chunkSize, total - sent));
    hash.update(chunk);
    sent += chunk.length;
    if (!socket.write(chunk)) await once(socket, 'drain');
  }
  return hash.digest('hex');
}

/** Resolves once the socket has emitted 'close' (at once if it already has). */
export function closed(socket: MultipathSocket): Promise<unknown> {
  return socket.closed ? Promise.resolve() : once(socket, 'close');
}

/** Reads until 'end'; resolves with the byte count and SHA-256. */
export function readAll(socket: MultipathSocket): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    socket.on('data', (d: Buffer) => {
      hash.update(d);
      bytes += d.length;
    });
    socket.once('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
    socket.once('error', reject);
  });
}

/** Sends `bytes` random bytes and ends; expects the peer (an echo server) to send exactly them back before its 'end'. */
export async function expectEchoIntact(socket: MultipathSocket, bytes: number): Promise<void> {
  const data = randomBytes(bytes);
  const hash = createHash('sha256');
  socket.on('data', (d: Buffer) => hash.update(d));
  socket.end(data);
  await once(socket, 'end');
  expect(hash.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
}

/** Resolves once `condition()` holds (checked every 5 ms), rejects after `ms`. */
export async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
