/**
 * How a connection ends, as net has it, over real UDP on loopback:
 * - end() then destroy() is graceful: the peer gets every byte, 'end' and a
 *   'close' without error, although this side's 'close' came at once;
 * - only destroy(err), resetAndDestroy() or bytes that never reached the
 *   connection abort it (the peer gets ECONNRESET);
 * - a write after end() fails here only;
 * - 'close' carries hadError; stats().state reads 'closed' after it;
 * - nothing listening (ICMP port unreachable) fails connect() with
 *   ECONNREFUSED in about a round trip, and so does a closing server.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { connect, createServer, type MultipathSocket } from '../../src/index.js';
import { CLIENT_ADDRESSES, MiB, cleanup, dial, listen, readAll, until, useLoopback, writeRandom } from '../support/loopback.js';

useLoopback();

/** Records what a socket emits at its end: errors and the 'close' argument. */
function watchEnd(socket: MultipathSocket): { errors: string[]; closed: Promise<boolean> } {
  const errors: string[] = [];
  socket.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message));
  const closed = new Promise<boolean>((resolve) => socket.once('close', resolve));
  return { errors, closed };
}

/** A UDP port on 127.0.0.1 where nothing listens now. */
async function deadPort(): Promise<number> {
  const probe = createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
  const port = probe.address().port;
  await new Promise<void>((r) => probe.close(r));
  return port;
}

describe('closing like net', () => {
  it('end() then destroy() at once: the peer still gets every byte, then end and close without error', async () => {
    const { port, next } = await listen();
    const client = await dial(port);
    const server = await next();
    const clientEnd = watchEnd(client);
    const serverEnd = watchEnd(server);
    const got = readAll(server);
    const sent = await writeRandom(client, 4 * MiB);
    client.end();
    client.destroy();
    // This side closes at once, without an error, and reads 'closed'.
    expect(await clientEnd.closed).toBe(false);
    expect(client.stats()!.state).toBe('closed');
    const result = await got;
    expect(result.bytes).toBe(4 * MiB);
    expect(result.sha256).toBe(sent);
    expect(await serverEnd.closed).toBe(false);
    expect(serverEnd.errors).toEqual([]);
    expect(clientEnd.errors).toEqual([]);
    expect(server.stats()!.state).toBe('closed');
  });

  it('destroy() without end(): the peer sees a graceful end too (close(2) on a TCP socket)', async () => {
    const { port, next } = await listen();
    const client = await dial(port);
    const server = await next();
    const serverEnd = watchEnd(server);
    const got = readAll(server);
    client.write('last words');
    await until(() => client.writableLength === 0, 5_000, 'the write to reach the connection');
    client.destroy();
    expect((await got).bytes).toBe('last words'.length);
    expect(await serverEnd.closed).toBe(false);
    expect(serverEnd.errors).toEqual([]);
  });

  it('destroy() with bytes that never reached the connection aborts: the peer gets ECONNRESET', async () => {
    const window = 64 * 1024;
    const { port, next } = await listen({ receiveWindow: window });
    const client = await dial(port, { sendBufferSize: window });
    const server = await next();
    server.pause(); // nothing is read: the send buffer fills, the rest waits in the stream
    const serverEnd = watchEnd(server);
    const clientEnd = watchEnd(client);
    for (let i = 0; i < 16; i++) client.write(Buffer.alloc(64 * 1024, i));
    await until(() => client.writableLength > 0 && client.stats()!.sendBufferBytes === window, 5_000, 'bytes to wait above the connection');
    client.destroy();
    expect(await clientEnd.closed).toBe(false);
    await serverEnd.closed;
    expect(serverEnd.errors).toEqual(['ECONNRESET']);
  });

  it('a write after end() fails locally; the peer gets every byte before it, end and close without error', async () => {
    const { port, next } = await listen();
    const client = await dial(port);
    const server = await next();
    const serverEnd = watchEnd(server);
    const clientEnd = watchEnd(client);
    const got = readAll(server);
    client.end('before end');
    client.write('after end');
    expect(await clientEnd.closed).toBe(true);
    expect(clientEnd.errors).toEqual(['ERR_STREAM_WRITE_AFTER_END']);
    expect((await got).bytes).toBe('before end'.length);
    expect(await serverEnd.closed).toBe(false);
    expect(serverEnd.errors).toEqual([]);
  });

  it("'close' says whether the socket was destroyed with an error", async () => {
    const { port, next } = await listen();
    const client = await dial(port);
    const server = await next();
    const serverEnd = watchEnd(server);
    const clientEnd = watchEnd(client);
    client.destroy(new Error('giving up'));
    expect(await clientEnd.closed).toBe(true);
    expect(clientEnd.errors).toEqual(['giving up']);
    expect(await serverEnd.closed).toBe(true);
    expect(serverEnd.errors).toEqual(['ECONNRESET']);
    expect(server.stats()!.state).toBe('closed');
  });

  it('both ends end(): both close without error and read closed', async () => {
    const { port, next } = await listen();
    const client = await dial(port);
    const server = await next();
    const serverEnd = watchEnd(server);
    const clientEnd = watchEnd(client);
    server.resume();
    client.resume();
    client.end('x');
    server.end('y');
    expect(await clientEnd.closed).toBe(false);
    expect(await serverEnd.closed).toBe(false);
    expect([clientEnd.errors, serverEnd.errors]).toEqual([[], []]);
    expect([client.stats()!.state, server.stats()!.state]).toEqual(['closed', 'closed']);
    expect(client.readyState).toBe('closed');
  });
});

describe('failing fast where nothing listens', () => {
  it('connect() to a port where nothing listens fails with ECONNREFUSED in about one round trip', async () => {
    const port = await deadPort();
    const started = performance.now();
    const socket = connect({ port, host: '127.0.0.1', localAddresses: CLIENT_ADDRESSES });
    const end = watchEnd(socket);
    const [err] = (await once(socket, 'error')) as [{ code: string; closeCode: string; message: string }];
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.closeCode).toBe('ERR_MPUDP_REFUSED');
    expect(err.message).toMatch(/^connect ECONNREFUSED/);
    expect(await end.closed).toBe(true);
    // Far below the 10 s connectTimeout (a bound that cannot flake, not a timing claim).
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(socket.stats()!.refusals).toBe(CLIENT_ADDRESSES.length);
    expect(socket._endpoint()!.stats().pathErrors.ECONNREFUSED).toBeGreaterThanOrEqual(CLIENT_ADDRESSES.length);
  });

  it('one refused server address does not fail a connection another address answers', async () => {
    const { server, port, next } = await listen();
    void server;
    // 127.0.0.3 has nothing on this port: its first contact is refused.
    const socket = connect({ port, addresses: ['127.0.0.3', '127.0.0.1'], localAddresses: ['127.0.0.1'] });
    cleanup.push(() => socket.destroy());
    await once(socket, 'connect');
    const peer = await next();
    peer.end('hello');
    expect((await readAll(socket)).bytes).toBe(5);
    expect(socket._endpoint()!.stats().pathErrors.ECONNREFUSED ?? 0).toBeGreaterThanOrEqual(1);
  });

  it('a closing server refuses new handshakes at once', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = server.address()!.port;
    const closed = once(server, 'close');
    server.close();
    const socket = connect(port, '127.0.0.1');
    const [err] = (await once(socket, 'error')) as [{ code: string; closeCode: string }];
    expect(err.code).toBe('ECONNREFUSED');
    await closed;
  });
});
