/**
 * Client connections of one process share their sockets (src/io/client-endpoints.ts):
 * many connections to one server hold one socket per local address and one
 * connected socket beside each, not two per connection; closing one
 * connection leaves the others' sockets alone; the last one to end closes them.
 */
import { existsSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { connect, type MultipathSocket } from '../../src/index.js';
import { sharedClientEndpoints } from '../../src/io/client-endpoints.js';
import { CLIENT_ADDRESSES, cleanup, closed, listen, until, useLoopback } from '../support/loopback.js';

useLoopback();

const N = 24;
const FD_DIR = '/proc/self/fd';

/** Open file descriptors of this process (Linux), or null where /proc is missing. */
function openFds(): number | null {
  return existsSync(FD_DIR) ? readdirSync(FD_DIR).length : null;
}

/** Writes `text`, reads the echo back. */
async function echo(socket: MultipathSocket, text: string): Promise<string> {
  let got = '';
  const done = new Promise<void>((resolve) => {
    const onData = (d: Buffer): void => {
      got += d.toString();
      if (got.length >= text.length) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
  });
  socket.write(text);
  await done;
  return got;
}

describe('client connections share their sockets', () => {
  it(`${N} connections hold one socket per local address and one connected socket beside it; closing one leaves the others working; the last closes them`, async () => {
    const { port, next } = await listen();
    // An echo server.
    void (async () => {
      for (;;) {
        const s = await next();
        s.pipe(s);
      }
    })();
    const before = openFds();
    const sockets = await Promise.all(
      Array.from({ length: N }, async () => {
        const socket = connect({ port, host: '127.0.0.1', localAddresses: CLIENT_ADDRESSES });
        socket.on('error', () => undefined);
        cleanup.push(() => socket.destroy());
        await once(socket, 'connect');
        return socket;
      }),
    );
    const endpoint = sockets[0]!._endpoint()!;
    for (const s of sockets) expect(s._endpoint()).toBe(endpoint);
    expect(sharedClientEndpoints()).toEqual([endpoint]);
    // One socket per local address, each with its own port, and one socket
    // connected to the server beside each: 4 in all, not 4 per connection.
    // Address and port (each also carries its interface's MTU where it is known).
    const locals = endpoint.localAddresses().map((a) => ({ address: a.address, port: a.port }));
    expect(locals.map((a) => a.address).sort()).toEqual([...CLIENT_ADDRESSES].sort());
    expect(endpoint.stats().connectedSockets).toBe(CLIENT_ADDRESSES.length);
    const fds = openFds();
    if (before !== null && fds !== null) expect(fds - before).toBeLessThanOrEqual(2 * CLIENT_ADDRESSES.length + 4);
    // What each connection shows is its own, on the shared ports.
    for (const s of sockets) {
      expect(s.remotePort).toBe(port);
      expect(locals).toContainEqual({ address: s.localAddress, port: s.localPort });
      await until(() => s.paths.filter((p) => p.state === 'active').length === CLIENT_ADDRESSES.length, 5_000, 'both paths');
      for (const p of s.paths) expect(locals).toContainEqual({ address: p.localAddress, port: p.localPort });
    }
    // Every connection's paths run from the same two (address, port) pairs.
    expect(new Set(sockets.flatMap((s) => s.paths.map((p) => `${p.localAddress}:${p.localPort}`))).size).toBe(CLIENT_ADDRESSES.length);

    // Closing one connection closes none of the sockets the others use.
    const [first, ...rest] = sockets;
    first!.destroy();
    await closed(first!);
    await until(() => endpoint.stats().core.connections === N - 1, 5_000, 'the first connection to be forgotten');
    expect(endpoint.isClosed).toBe(false);
    expect(endpoint.localAddresses().map((a) => ({ address: a.address, port: a.port }))).toEqual(locals);
    expect(endpoint.stats().connectedSockets).toBe(CLIENT_ADDRESSES.length);
    const replies = await Promise.all(rest.map((s, i) => echo(s, `hello ${i}`)));
    expect(replies).toEqual(rest.map((_, i) => `hello ${i}`));
    for (const s of rest) expect(s.stats()!.state).toBe('established');

    // The last connection to end closes the shared sockets.
    for (const s of rest) s.destroy();
    await until(() => endpoint.isClosed, 10_000, 'the shared endpoint to close');
    expect(endpoint.localAddresses()).toEqual([]);
    expect(sharedClientEndpoints()).toEqual([]);
    const after = openFds();
    if (before !== null && after !== null) await until(() => openFds()! <= before, 5_000, 'the descriptors to be given back');
  });

  it('a connected socket no connection counts on any more is closed; the next connection to that server opens it again', async () => {
    const a = await listen();
    const b = await listen();
    void a.next().then((s) => s.resume());
    let atB = '';
    void b.next().then((s) => s.on('data', (d: Buffer) => (atB += d.toString())));
    const toA = connect({ port: a.port, host: '127.0.0.1', localAddresses: ['127.0.0.1'] });
    const toB = connect({ port: b.port, host: '127.0.0.1', localAddresses: ['127.0.0.1'] });
    for (const s of [toA, toB]) {
      s.on('error', () => undefined);
      cleanup.push(() => s.destroy());
    }
    await Promise.all([once(toA, 'connect'), once(toB, 'connect')]);
    const endpoint = toA._endpoint()!;
    expect(toB._endpoint()).toBe(endpoint);
    expect(endpoint.stats().connectedSockets).toBe(2);
    toA.destroy();
    await until(() => endpoint.stats().connectedSockets === 1, 5_000, 'the socket connected to A to close');
    // B's connection goes on over its own.
    toB.write('still here');
    await until(() => atB === 'still here', 5_000, 'B to receive');
    expect(toB.stats()!.state).toBe('established');
    // A new connection to A opens its connected socket again.
    void a.next().then((s) => s.resume());
    const again = connect({ port: a.port, host: '127.0.0.1', localAddresses: ['127.0.0.1'] });
    again.on('error', () => undefined);
    cleanup.push(() => again.destroy());
    await once(again, 'connect');
    expect(again._endpoint()).toBe(endpoint);
    expect(endpoint.stats().connectedSockets).toBe(2);
    again.destroy();
    toB.destroy();
    await until(() => endpoint.isClosed, 10_000, 'the shared endpoint to close');
  });
});
