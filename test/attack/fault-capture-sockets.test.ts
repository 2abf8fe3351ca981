/**
 * Fault capture at every entry from io into the core (issue 9), over real
 * sockets on loopback. A fault is injected by making one core method throw
 * once, as a bug there would:
 *
 * - inside one connection, from each call the socket makes for the
 *   application (write, also from the core's 'writable' event; read, from
 *   its 'readable' event; end; close; setBackup; stats): that connection
 *   alone ends with ERR_MPUDP_INTERNAL, counted in `internalErrors`, and
 *   another connection of the same server goes on intact. Before, each of
 *   these threw into the application or out of a flush (an uncaught
 *   exception), or ended the socket with an error without a code;
 * - inside the endpoint core itself (a datagram, a timer, connect): the
 *   endpoint stops, counted in `coreExceptions`; a server emits 'error'
 *   ERR_MPUDP_INTERNAL and 'close', and so does each of its sockets; a
 *   client socket emits ERR_MPUDP_INTERNAL. Before, io swallowed it (a
 *   warning) and the half-updated endpoint ran on.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { expectEchoIntact } from '../support/loopback.js';
import type { Connection } from '../../src/core/connection.js';
import { EndpointCore } from '../../src/core/endpoint.js';
import { connect, createServer, type MpudpError, type MultipathServer, type MultipathSocket } from '../../src/index.js';

const HOST = '127.0.0.1';

/** The core connection behind a socket (a private field). */
function connectionOf(socket: MultipathSocket): Connection {
  return (socket as unknown as { connection: Connection }).connection;
}

/** Makes `target[method]` throw once, on its `at`-th call (1 = the next one). */
function breakOnce(target: object, method: string, at = 1): void {
  const record = target as Record<string, (...args: unknown[]) => unknown>;
  const original = record[method]!;
  let calls = 0;
  record[method] = function (this: unknown, ...args: unknown[]) {
    if (++calls === at) throw new Error(`injected fault in ${method}`);
    return original.apply(this, args);
  };
}

/** The first 'error' of `emitter`, or a failure after `ms` (the fault was swallowed). */
async function errorOf(emitter: NodeJS.EventEmitter, ms = 5_000): Promise<MpudpError> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no 'error' within ${ms} ms`)), ms);
  });
  try {
    const [err] = (await Promise.race([once(emitter, 'error'), timeout])) as [MpudpError];
    return err;
  } finally {
    clearTimeout(timer);
  }
}

/** The next 'close' of `emitter` (events.once would reject on an 'error' first). */
function closeOf(emitter: NodeJS.EventEmitter): Promise<unknown[]> {
  return new Promise((resolve) => emitter.once('close', (...args: unknown[]) => resolve(args)));
}

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

/** An echo server; `onSocket` sees each server socket first. */
async function echoServer(onSocket: (socket: MultipathSocket) => void = () => undefined): Promise<{ server: MultipathServer; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    onSocket(socket);
    socket.pipe(socket);
  });
  server.on('error', () => undefined);
  server.listen({ port: 0, addresses: [HOST] });
  await once(server, 'listening');
  cleanup.push(() => server.close());
  return { server, port: server.address()!.port };
}

/** A connected client. */
async function client(port: number, options: Record<string, unknown> = {}): Promise<MultipathSocket> {
  const socket = connect({ host: HOST, port, localAddresses: [HOST], ...options });
  cleanup.push(() => socket.destroy());
  await once(socket, 'connect');
  return socket;
}

/** Another client of the same server echoes 200 kB intact. */
async function echoesIntact(port: number): Promise<void> {
  await expectEchoIntact(await client(port), 200_000);
}

describe('a fault inside one connection, from each call the socket makes', () => {
  it('write (the 3rd call, from the core\'s writable event): that client alone gets ERR_MPUDP_INTERNAL, counted', async () => {
    const { port } = await echoServer();
    const socket = await client(port, { sendBufferSize: 64 * 1024 });
    socket.on('data', () => undefined);
    breakOnce(connectionOf(socket), 'write', 3);
    socket.write(randomBytes(1_000_000));
    const err = await errorOf(socket);
    expect(err.code).toBe('ERR_MPUDP_INTERNAL');
    expect(err.message).toContain('injected fault in write');
    expect(socket._endpoint()!.stats().core.internalErrors).toBe(1);
    await echoesIntact(port);
  }, 15_000);

  it('write on the server (echoing, from its readable event): the server socket gets ERR_MPUDP_INTERNAL, the client never sees a clean end', async () => {
    const serverErrors: MpudpError[] = [];
    let first = true;
    const { server, port } = await echoServer((s) => {
      // Only the first connection's core is faulty.
      if (first) breakOnce(connectionOf(s), 'write', 2);
      first = false;
      s.on('error', (e) => serverErrors.push(e as MpudpError));
    });
    const socket = await client(port);
    let ended = false;
    socket.on('data', () => undefined);
    socket.on('end', () => (ended = true));
    const failed = errorOf(socket, 10_000);
    socket.write(randomBytes(300_000));
    const err = await failed;
    // The server forgot the connection: the client's next packet gets a stateless reset.
    expect(err.code).toBe('ERR_MPUDP_STATELESS_RESET');
    expect(ended).toBe(false);
    expect(serverErrors.map((e) => e.code)).toEqual(['ERR_MPUDP_INTERNAL']);
    expect(server.stats()!.core.internalErrors).toBe(1);
    await echoesIntact(port);
  }, 20_000);

  // Every read() the socket makes (the first of a pull, and any it makes after it in the same pull) is captured.
  it.each([1, 2, 3, 5])('read (its call %i, from the readable event): ERR_MPUDP_INTERNAL, never a clean EOF', async (at) => {
    const { port } = await echoServer();
    const socket = await client(port);
    let ended = false;
    socket.on('data', () => undefined);
    socket.on('end', () => (ended = true));
    breakOnce(connectionOf(socket), 'read', at);
    socket.end(randomBytes(300_000));
    const err = await errorOf(socket);
    expect(err.code).toBe('ERR_MPUDP_INTERNAL');
    expect(ended).toBe(false);
    expect(socket._endpoint()!.stats().core.internalErrors).toBe(1);
    await echoesIntact(port);
  }, 15_000);

  it('end: ERR_MPUDP_INTERNAL (before: an error without a code), counted', async () => {
    const { port } = await echoServer();
    const socket = await client(port);
    socket.on('data', () => undefined);
    breakOnce(connectionOf(socket), 'end');
    socket.end(randomBytes(10_000));
    const err = await errorOf(socket);
    expect(err.code).toBe('ERR_MPUDP_INTERNAL');
    expect(socket._endpoint()!.stats().core.internalErrors).toBe(1);
    await echoesIntact(port);
  }, 15_000);

  it('close (destroy with an error): the socket closes with its own error and the fault is counted, nothing thrown', async () => {
    const { port } = await echoServer();
    const socket = await client(port);
    const endpoint = socket._endpoint()!;
    socket.on('error', () => undefined);
    breakOnce(connectionOf(socket), 'close');
    const mine = new Error('mine');
    socket.destroy(mine);
    const [hadError] = (await closeOf(socket)) as [boolean];
    expect(hadError).toBe(true);
    expect(socket.errored).toBe(mine);
    expect(endpoint.stats().core.internalErrors).toBe(1);
    await echoesIntact(port);
  }, 15_000);

  it('setBackup and stats: false / null instead of a throw, then ERR_MPUDP_INTERNAL', async () => {
    const { port } = await echoServer();
    for (const [method, act] of [
      ['setLocalBackup', (s: MultipathSocket) => expect(s.setBackup(HOST)).toBe(false)],
      ['stats', (s: MultipathSocket) => expect(s.stats()).toBe(null)],
    ] as const) {
      const socket = await client(port);
      breakOnce(connectionOf(socket), method);
      act(socket);
      const err = await errorOf(socket);
      expect(err.code).toBe('ERR_MPUDP_INTERNAL');
      expect(socket._endpoint()?.stats().core.internalErrors ?? 1).toBe(1);
    }
    await echoesIntact(port);
  }, 15_000);
});

describe('a fault in the endpoint core itself', () => {
  it('server: every socket and the server emit ERR_MPUDP_INTERNAL, the server closes, counted; nothing runs on half-updated', async () => {
    const serverSockets: MultipathSocket[] = [];
    const { server, port } = await echoServer((s) => serverSockets.push(s));
    const a = await client(port);
    const b = await client(port);
    a.on('error', () => undefined);
    b.on('error', () => undefined);
    // Both announced on the server side ('connection' follows the client's first protected packet).
    while (serverSockets.length < 2) await new Promise((r) => setTimeout(r, 5));
    const endpoint = server._endpoint()!;
    const socketErrors = serverSockets.map((s) => errorOf(s));
    const closed = closeOf(server);
    breakOnce(endpoint.core, 'handleDatagram');
    a.write('x');
    const err = await errorOf(server);
    expect(err.code).toBe('ERR_MPUDP_INTERNAL');
    expect(err.message).toContain('injected fault in handleDatagram');
    expect((await Promise.all(socketErrors)).map((e) => e.code)).toEqual(['ERR_MPUDP_INTERNAL', 'ERR_MPUDP_INTERNAL']);
    await closed;
    expect(server.listening).toBe(false);
    expect(endpoint.isClosed).toBe(true);
    expect(endpoint.stats().coreExceptions).toBe(1);
    expect(endpoint.fault?.message).toBe('injected fault in handleDatagram');
  }, 15_000);

  it('client: a fault in its endpoint core (a timer) ends the socket with ERR_MPUDP_INTERNAL and closes the endpoint', async () => {
    const { port } = await echoServer();
    const socket = await client(port);
    const endpoint = socket._endpoint()!;
    breakOnce(endpoint.core, 'pollTimeout');
    socket.write('x');
    const err = await errorOf(socket);
    expect(err.code).toBe('ERR_MPUDP_INTERNAL');
    expect(endpoint.stats().coreExceptions).toBe(1);
    expect(endpoint.isClosed).toBe(true);
    await echoesIntact(port);
  }, 15_000);

  it('client: a fault while starting the connection ends the socket with ERR_MPUDP_INTERNAL (before: an error without a code)', async () => {
    const { port } = await echoServer();
    const proto = EndpointCore.prototype as unknown as Record<string, unknown>;
    const original = proto.connect;
    cleanup.push(() => (proto.connect = original));
    breakOnce(proto, 'connect');
    const socket = connect({ host: HOST, port, localAddresses: [HOST] });
    cleanup.push(() => socket.destroy());
    const err = await errorOf(socket);
    expect(err.code).toBe('ERR_MPUDP_INTERNAL');
    proto.connect = original;
    await echoesIntact(port);
  }, 15_000);
});
