/**
 * MultipathServer and connect() over real UDP on loopback: listening on
 * several addresses with one port, a multihomed server reached at two
 * addresses, close() waiting for open connections, bind errors.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type MultipathServer, type MultipathSocket } from '../../src/index.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

/** Closes `x` after the test; a socket's errors from that teardown are expected. */
function track<T extends MultipathServer | MultipathSocket>(x: T): T {
  if (!('listening' in x)) x.on('error', () => undefined);
  cleanup.push(() => ('listening' in x ? (x.listening ? x.close() : undefined) : x.destroy()));
  return x;
}

describe('MultipathServer', () => {
  it('listens on several addresses with one ephemeral port', async () => {
    const server = track(createServer());
    server.listen({ port: 0, addresses: ['127.0.0.1', '127.0.0.3', '::1'] });
    await once(server, 'listening');
    const addresses = server.addresses();
    expect(addresses.map((a) => a.address)).toEqual(['127.0.0.1', '127.0.0.3', '::1']);
    expect(addresses.map((a) => a.family)).toEqual(['IPv4', 'IPv4', 'IPv6']);
    expect(new Set(addresses.map((a) => a.port)).size).toBe(1);
    expect(addresses[0]!.port).toBeGreaterThan(0);
    expect(server.listening).toBe(true);
  });

  it('listens on every host address by default', async () => {
    const server = track(createServer());
    server.listen(0);
    await once(server, 'listening');
    const addresses = server.addresses();
    expect(addresses.map((a) => a.address)).toContain('127.0.0.1');
    expect(new Set(addresses.map((a) => a.port)).size).toBe(1);
  });

  it('emits the bind error for an address the host does not have', async () => {
    const server = createServer();
    server.listen({ port: 0, addresses: ['127.0.0.1', '192.0.2.254'] });
    const [err] = (await once(server, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('EADDRNOTAVAIL');
    expect(server.listening).toBe(false);
    expect(server.addresses()).toEqual([]);
  });

  it('a multihomed server: the client learns the second server address and uses it', async () => {
    const server = track(createServer());
    const hash = createHash('sha256');
    const got = new Promise<string>((resolve) => {
      server.on('connection', (socket: MultipathSocket) => {
        track(socket);
        socket.on('data', (d: Buffer) => hash.update(d));
        socket.on('end', () => resolve(hash.digest('hex')));
      });
    });
    server.listen({ port: 0, addresses: ['127.0.0.1', '127.0.0.3'] });
    await once(server, 'listening');
    const port = server.address()!.port;
    // The client is told one server address only.
    const client = track(connect({ addresses: [{ address: '127.0.0.1', port }], localAddresses: ['127.0.0.1', '127.0.0.2'] }));
    client.resume();
    const viaSecond = new Promise<void>((resolve) => {
      client.on('path-up', (p: { remoteAddress: string }) => {
        if (p.remoteAddress === '127.0.0.3') resolve();
      });
    });
    await once(client, 'connect');
    expect(client.remotePort).toBe(port);
    expect(client.readyState).toBe('open');
    await viaSecond;
    const data = randomBytes(4 * 1024 * 1024);
    client.end(data);
    expect(await got).toBe(createHash('sha256').update(data).digest('hex'));
    const remotes = new Set(client.paths.map((p) => p.remoteAddress));
    expect(remotes).toEqual(new Set(['127.0.0.1', '127.0.0.3']));
  });

  it('connect() races first contact over several server addresses, one of them dead', async () => {
    const server = track(createServer((s) => track(s).end('hello')));
    server.listen({ port: 0, addresses: ['127.0.0.3'] });
    await once(server, 'listening');
    const port = server.address()!.port;
    // 127.0.0.4 has no server: the handshake completes through 127.0.0.3.
    const client = track(connect({ addresses: ['127.0.0.4', '127.0.0.3'], port, localAddresses: ['127.0.0.1'] }));
    const [chunk] = (await once(client, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('hello');
  });

  it('close() stops accepting and emits close only after the open connection ends', async () => {
    const server = createServer({ allowHalfOpen: true });
    server.listen({ port: 0, addresses: ['127.0.0.1'] });
    await once(server, 'listening');
    const accepted = once(server, 'connection');
    const client = track(connect({ port: server.address()!.port, host: '127.0.0.1', allowHalfOpen: true }));
    await once(client, 'connect');
    const [socket] = (await accepted) as [MultipathSocket];
    let closed = false;
    const serverClosed = new Promise<void>((resolve) => server.close(() => ((closed = true), resolve())));
    expect(server.listening).toBe(false);
    // The connection still works after close().
    const reply = once(client, 'data');
    socket.write('still here');
    expect(String((await reply)[0])).toBe('still here');
    expect(closed).toBe(false);
    const counted = await new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)));
    expect(counted).toBe(1);
    // A new client is refused at once (not left to its connectTimeout).
    const late = connect({ port: server.address()?.port ?? 9, host: '127.0.0.1', connectTimeout: 60_000 });
    const [lateError] = (await once(late, 'error')) as [{ code: string; closeCode: string }];
    expect(lateError.code).toBe('ECONNREFUSED');
    expect(lateError.closeCode).toBe('ERR_MPUDP_REFUSED');
    expect(server.stats()!.core.refusalsSent).toBeGreaterThan(0);
    // Ending both sides ends the connection, and then the server closes.
    socket.resume();
    client.resume();
    socket.end();
    client.end();
    await serverClosed;
    expect(closed).toBe(true);
  });

  it('emits path-up for each path with its PathInfo', async () => {
    const server = track(createServer((s) => track(s).resume()));
    server.listen({ port: 0, addresses: ['127.0.0.1'] });
    await once(server, 'listening');
    const client = track(connect({ port: server.address()!.port, host: '127.0.0.1', localAddresses: ['127.0.0.1', '127.0.0.2'] }));
    const ups: { id: number; localAddress: string; state: string }[] = [];
    const two = new Promise<void>((resolve) => {
      client.on('path-up', (p: { id: number; localAddress: string; state: string }) => {
        ups.push(p);
        if (ups.length === 2) resolve();
      });
    });
    await two;
    expect(new Set(ups.map((p) => p.localAddress))).toEqual(new Set(['127.0.0.1', '127.0.0.2']));
    for (const p of client.paths) {
      expect(p).toMatchObject({ remoteAddress: '127.0.0.1', remotePort: server.address()!.port });
      expect(typeof p.smoothedRtt).toBe('number');
    }
  });
});
