/**
 * The byte stream over real UDP on loopback: two client addresses
 * (127.0.0.1, 127.0.0.2) to one server address, so two paths exist on any
 * Linux machine without setup. Every test waits for events (or for a state
 * it polls with a deadline), never for a fixed time.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { connect } from '../../src/index.js';
import { READ_TURN_BUDGET } from '../../src/api/socket.js';

import { CLIENT_ADDRESSES, MiB, cleanup, closed, dial, listen, readAll, until, useLoopback, writeRandom } from '../support/loopback.js';

useLoopback();

describe('multipath stream over loopback UDP', () => {
  it('carries 64 MiB each way at once over two paths, SHA-256 verified on both sides', async () => {
    const { port, next } = await listen({ allowHalfOpen: true });
    const client = await dial(port, { allowHalfOpen: true });
    const server = await next();
    const size = 64 * MiB;
    const [clientGot, serverGot, clientSent, serverSent] = await Promise.all([
      readAll(client),
      readAll(server),
      writeRandom(client, size).then((h) => (client.end(), h)),
      writeRandom(server, size).then((h) => (server.end(), h)),
    ]);
    expect(serverGot.bytes).toBe(size);
    expect(clientGot.bytes).toBe(size);
    expect(serverGot.sha256).toBe(clientSent);
    expect(clientGot.sha256).toBe(serverSent);
    for (const socket of [client, server]) {
      const stats = socket.stats()!;
      const carrying = stats.paths.filter((p) => p.dataBytesSent > 0);
      expect(carrying.length, JSON.stringify(stats.paths)).toBeGreaterThanOrEqual(2);
    }
    expect(client.bytesWritten).toBe(size);
    expect(client.bytesRead).toBe(size);
    await Promise.all([closed(client), closed(server)]);
    // Counters survive destroy().
    expect(client.bytesWritten).toBe(size);
    expect(server.bytesRead).toBe(size);
  });

  it('half-close, client first: the server keeps writing after the client ended', async () => {
    const { port, next } = await listen({ allowHalfOpen: true });
    const client = await dial(port, { allowHalfOpen: true });
    const server = await next();
    const serverGot = readAll(server);
    const clientSent = await writeRandom(client, 1 * MiB);
    client.end();
    const got = await serverGot;
    expect(got.sha256).toBe(clientSent);
    expect(server.readyState).toBe('writeOnly');
    // Data written after the peer's half-close still arrives.
    const clientGot = readAll(client);
    const serverSent = await writeRandom(server, 2 * MiB);
    server.end();
    expect((await clientGot).sha256).toBe(serverSent);
    await Promise.all([closed(client), closed(server)]);
  });

  it('half-close, server first: the client keeps writing after the server ended', async () => {
    const { port, next } = await listen({ allowHalfOpen: true });
    const client = await dial(port, { allowHalfOpen: true });
    const server = await next();
    const clientGot = readAll(client);
    const serverSent = await writeRandom(server, 1 * MiB);
    server.end();
    expect((await clientGot).sha256).toBe(serverSent);
    expect(client.readyState).toBe('writeOnly');
    const serverGot = readAll(server);
    const clientSent = await writeRandom(client, 2 * MiB);
    client.end();
    expect((await serverGot).sha256).toBe(clientSent);
    await Promise.all([closed(client), closed(server)]);
  });

  it('without allowHalfOpen, the end of one side ends the other (like net)', async () => {
    const { port, next } = await listen();
    const client = await dial(port);
    const server = await next();
    server.resume();
    const clientGot = readAll(client);
    client.end('bye');
    await clientGot;
    await Promise.all([closed(client), closed(server)]);
    expect(server.bytesRead).toBe(3);
  });

  it('writes and end() before connect are held, then delivered', async () => {
    const { port, next } = await listen();
    const client = connect({ port, host: '127.0.0.1', localAddresses: CLIENT_ADDRESSES });
    cleanup.push(() => client.destroy());
    expect(client.connecting).toBe(true);
    expect(client.readyState).toBe('opening');
    client.resume();
    client.write('early ');
    client.end('bytes');
    const server = await next();
    expect((await readAll(server)).bytes).toBe('early bytes'.length);
    expect(server.bytesRead).toBe(11);
    await new Promise((resolve) => client.once('close', resolve));
  });

  it('destroy() while connecting, or after, leaves no socket behind', async () => {
    const early = connect({ port: 9, host: '127.0.0.1', localAddresses: CLIENT_ADDRESSES });
    let connected = false;
    early.on('connect', () => (connected = true));
    early.destroy();
    await new Promise((resolve) => early.once('close', resolve));
    expect(connected).toBe(false);
    expect(early._endpoint()).toBe(null);
    const { port, next } = await listen();
    const late = await dial(port);
    (await next()).resume();
    const endpoint = late._endpoint()!;
    expect(endpoint.localAddresses().map((a) => a.address)).toEqual(CLIENT_ADDRESSES);
    late.destroy();
    // The endpoint lingers while the connection ends in the background, then closes its sockets.
    await until(() => endpoint.isClosed, 5_000, 'the client endpoint to close');
    expect(endpoint.localAddresses()).toEqual([]);
  });

  it('destroy(err) aborts: the peer gets ECONNRESET with the error code and reason, then close', async () => {
    const { port, next } = await listen();
    const client = await dial(port);
    const server = await next();
    server.resume();
    client.write(randomBytes(256 * 1024));
    const serverError = once(server, 'error');
    const serverClose = new Promise((resolve) => server.once('close', resolve));
    client.on('error', () => undefined); // its own error comes back to it, as with net
    client.destroy(Object.assign(new Error('changed my mind'), { errorCode: 42 }));
    const [err] = (await serverError) as [{ code: string; errorCode: number; message: string }];
    expect(err.code).toBe('ECONNRESET');
    expect(err.errorCode).toBe(42);
    expect(err.message).toContain('changed my mind');
    await serverClose;
    expect(client.destroyed).toBe(true);
  });

  it('resetAndDestroy() aborts with error code 1; this side closes without an error', async () => {
    const { port, next } = await listen();
    const client = await dial(port);
    const server = await next();
    const clientError = once(client, 'error');
    const serverClose = once(server, 'close');
    server.resetAndDestroy();
    const [err] = (await clientError) as [{ code: string; errorCode: number }];
    expect(err.code).toBe('ECONNRESET');
    expect(err.errorCode).toBe(1);
    expect(await serverClose).toEqual([false]);
  });

  it('a paused reader bounds the sender: write() returns false and memory stays within the buffers', async () => {
    const window = 256 * 1024;
    const { port, next } = await listen({ receiveWindow: window, sendBufferSize: window });
    const client = await dial(port, { receiveWindow: window, sendBufferSize: window });
    const server = await next();
    server.pause();
    const total = 8 * MiB;
    const chunkSize = 64 * 1024;
    const hash = createHash('sha256');
    let written = 0;
    let refused = false;
    const writer = (async () => {
      while (written < total) {
        const chunk = randomBytes(Math.min(chunkSize, total - written));
        hash.update(chunk);
        written += chunk.length;
        if (!client.write(chunk)) {
          refused = true;
          await once(client, 'drain');
        }
      }
      client.end();
      return hash.digest('hex');
    })();
    // Stalled: the core's send buffer is full and the stream waits for 'drain'.
    await until(() => refused && client.writableNeedDrain && client.stats()!.sendBufferBytes === window, 10_000, 'the sender to stall');
    const stats = client.stats()!;
    expect(stats.sendBufferBytes).toBeLessThanOrEqual(stats.sendBufferSize);
    // Everything the application handed over sits in: the peer's window, our send buffer, the stream's buffer.
    expect(client.bytesWritten).toBeLessThanOrEqual(window + window);
    expect(client.writableLength).toBeLessThanOrEqual(client.writableHighWaterMark + chunkSize);
    expect(written).toBeLessThan(total);
    expect(server.bytesRead).toBeLessThanOrEqual(server.readableHighWaterMark + 64 * 1024);
    const serverGot = readAll(server);
    server.resume(); // after an explicit pause(), a 'data' listener alone does not resume
    const [sent, got] = await Promise.all([writer, serverGot]);
    expect(got.bytes).toBe(total);
    expect(got.sha256).toBe(sent);
  });

  it('closing one client address mid-transfer loses nothing', async () => {
    const { port, next } = await listen();
    const client = await dial(port);
    const server = await next();
    const downs: string[] = [];
    client.on('path-down', (p: { localAddress: string }) => downs.push(p.localAddress));
    // Wait until both paths are up before cutting one.
    await until(() => client.paths.filter((p) => p.state === 'active').length >= 2, 5_000, 'two active paths');
    const total = 32 * MiB;
    let received = 0;
    let cut = false;
    const hash = createHash('sha256');
    const serverGot = new Promise<string>((resolve, reject) => {
      server.on('data', (d: Buffer) => {
        hash.update(d);
        received += d.length;
        if (!cut && received >= total / 4) {
          cut = true;
          expect(client._endpoint()!.closeLocalAddress('127.0.0.2')).toBe(true);
        }
      });
      server.once('end', () => resolve(hash.digest('hex')));
      server.once('error', reject);
    });
    const sent = await writeRandom(client, total);
    client.end();
    expect(await serverGot).toBe(sent);
    expect(cut).toBe(true);
    expect(downs).toContain('127.0.0.2');
    const path2 = client.paths.find((p) => p.localAddress === '127.0.0.2');
    expect(path2 === undefined || path2.state === 'failed' || path2.state === 'closed').toBe(true);
  });

  it('connect to a port nobody answers fails with ETIMEDOUT after connectTimeout', async () => {
    const { createSocket } = await import('node:dgram');
    const silent = createSocket('udp4');
    cleanup.push(() => silent.close());
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    const started = performance.now();
    const socket = connect({ port: silent.address().port, host: '127.0.0.1', connectTimeout: 300 });
    const [err] = (await once(socket, 'error')) as [{ code: string; message: string }];
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.message).toMatch(/^connect ETIMEDOUT/);
    // The handshake gave up at connectTimeout, not at a fixed 10 s (a bound, not a timing claim).
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(socket.connecting).toBe(false);
  });

  it('a silent peer ends the connection with ETIMEDOUT', async () => {
    const { server, port, next } = await listen();
    const client = await dial(port, { idleTimeout: 500, keepAliveInterval: 100 });
    const peer = await next();
    peer.on('error', () => undefined);
    // The server loses its only address: it can no longer answer.
    expect(server._endpoint()!.closeLocalAddress('127.0.0.1')).toBe(true);
    const [err] = (await once(client, 'error')) as [{ code: string; closeCode: string }];
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.closeCode).toBe('ERR_MPUDP_IDLE_TIMEOUT');
  });
});

describe('reading', () => {
  it('what the core holds goes up in one push per 64 KiB, not one per datagram, every byte in order', async () => {
    const { port, next } = await listen();
    const client = await dial(port, { localAddresses: ['127.0.0.1'] });
    const server = await next();
    const total = 256 * 1024;
    const data = randomBytes(total);
    server.write(data);
    // The client does not read: the bytes wait in its core (the receive window is larger).
    await until(() => client.stats()!.bytesReceived >= total, 20_000, 'the bytes to arrive');
    const chunks: Buffer[] = [];
    client.on('data', (d: Buffer) => chunks.push(d));
    await until(() => chunks.reduce((n, c) => n + c.length, 0) >= total, 20_000, 'the bytes to be read');
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    // About 190 datagrams of data; what was held came up 64 KiB at a time.
    expect(chunks.length).toBeLessThan(20);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(64 * 1024);
  });

  it('a flowing reader gets at most READ_TURN_BUDGET per turn of the event loop, then the rest, every byte in order', async () => {
    const { port, next } = await listen();
    const client = await dial(port, { localAddresses: ['127.0.0.1'] });
    const server = await next();
    const total = 3 * MiB;
    const data = randomBytes(total);
    server.write(data);
    // The client does not read: 3 MiB wait in its core (the window is 4 MiB).
    await until(() => client.stats()!.bytesReceived >= total, 30_000, 'the bytes to arrive');
    const chunks: Buffer[] = [];
    let firstTurn = -1;
    client.on('data', (d: Buffer) => chunks.push(d));
    // Queued now, so it runs at the end of the turn that starts the flow:
    // without the budget, 'data' would hand all 3 MiB up before it.
    setImmediate(() => (firstTurn = chunks.reduce((n, c) => n + c.length, 0)));
    await until(() => chunks.reduce((n, c) => n + c.length, 0) >= total, 30_000, 'the bytes to be read');
    expect(firstTurn).toBeGreaterThan(0);
    expect(firstTurn).toBeLessThan(2 * MiB); // without a budget: nearly all 3 MiB in the first turn
    expect(firstTurn).toBeLessThanOrEqual(READ_TURN_BUDGET + 64 * 1024);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('a reader already flowing when much becomes readable at once (a gap filled) also gets at most READ_TURN_BUDGET per turn', async () => {
    const { port, next } = await listen();
    const client = await dial(port, { localAddresses: ['127.0.0.1'] });
    const server = await next();
    const chunks: Buffer[] = [];
    client.on('data', (d: Buffer) => chunks.push(d));
    // Hold what arrives in the core, as out-of-order data waits for a gap:
    // the connection's read() finds nothing until the gap is "filled".
    const connection = (client as unknown as { connection: { read: (n?: number) => Uint8Array | null } }).connection;
    const read = connection.read;
    connection.read = () => null;
    const total = 3 * MiB;
    const data = randomBytes(total);
    server.write(data);
    await until(() => client.stats()!.bytesReceived >= total, 30_000, 'the bytes to arrive');
    connection.read = read;
    // The core's 'readable' (edge-triggered, so already spent here) calls
    // pull(): it finds 3 MiB in order, in flowing mode, where push() hands
    // each piece to 'data' at once and never says stop.
    const sum = (): number => chunks.reduce((n, c) => n + c.length, 0);
    (client as unknown as { reader: { pull: () => void } }).reader.pull();
    const firstTurn = sum();
    await until(() => sum() >= total, 30_000, 'the bytes to be read');
    expect(firstTurn).toBeGreaterThan(0);
    expect(firstTurn).toBeLessThan(2 * MiB); // without the budget in pull()'s loop: all of it
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('a loop blocked past the PTO while the answer waits unread in the socket: the ACK is read before the timer acts, no spurious PTO', async () => {
    const { port, next } = await listen();
    const client = await dial(port, { localAddresses: ['127.0.0.1'] });
    const server = await next();
    server.on('data', (d: Buffer) => server.write(d));
    const roundTrip = async (): Promise<void> => {
      const echoed = once(client, 'data');
      client.write(Buffer.alloc(1024, 0x72));
      await echoed;
    };
    for (let i = 0; i < 20; i++) await roundTrip(); // the RTT estimate settles
    const pathOf = () => client.stats()!.paths[0]!;
    const before = { ptos: pathOf().ptoCount, blackHoles: pathOf().mtuBlackHoles };
    // The server's flush that sends the next echo then blocks the event loop
    // for 300 ms, as a descheduled process or a long GC would: the client's
    // PTO expires while the echo, which acknowledges the request, waits
    // unread in the client's socket. Timers run before the poll phase reads
    // sockets, so handling the timeout at once fired a spurious PTO.
    const endpoint = server._endpoint()!;
    const flush = endpoint.flush.bind(endpoint);
    let blocked = false;
    endpoint.flush = () => {
      const sent = endpoint.stats().datagramsSent;
      flush();
      if (blocked || endpoint.stats().datagramsSent === sent) return;
      blocked = true;
      const until = performance.now() + 300;
      while (performance.now() < until);
    };
    await roundTrip();
    expect(blocked).toBe(true);
    expect(pathOf().ptoCount).toBe(before.ptos);
    expect(pathOf().mtuBlackHoles).toBe(before.blackHoles);
  });
});
