/**
 * Server identity over real sockets on loopback: `createServer({ key })`,
 * `server.fingerprint`, and a client's `serverKey` as a public key or a
 * fingerprint. A client pinned to another key gets
 * ERR_MPUDP_SERVER_KEY_MISMATCH and the server never sees a connection.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, generateKeyPair, type MpudpError, type MultipathServer, type MultipathSocket } from '../../src/index.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

async function listening(key?: string): Promise<{ server: MultipathServer; port: number; connections: MultipathSocket[] }> {
  const connections: MultipathSocket[] = [];
  const server = createServer(key === undefined ? {} : { key }, (socket) => {
    connections.push(socket);
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    socket.on('end', () => socket.end());
  });
  server.listen({ port: 0, addresses: ['127.0.0.1'] });
  await once(server, 'listening');
  cleanup.push(() => {
    for (const s of connections) s.destroy();
    server.close();
  });
  return { server, port: server.address()!.port, connections };
}

describe('server identity over sockets', () => {
  it('keygen output works as key and serverKey; server.fingerprint is what the client sees', async () => {
    const pair = generateKeyPair();
    const { server, port } = await listening(pair.privateKey);
    expect(server.fingerprint).toBe(pair.fingerprint);
    expect(server.publicKey).toBe(pair.publicKey);
    for (const serverKey of [pair.publicKey, pair.fingerprint]) {
      const socket = connect({ host: '127.0.0.1', port, localAddresses: ['127.0.0.1'], serverKey });
      socket.on('error', () => undefined);
      cleanup.push(() => socket.destroy());
      await once(socket, 'connect');
      expect(socket.stats()!.serverFingerprint).toBe(pair.fingerprint);
      socket.resume();
      socket.end('x');
      await once(socket, 'close');
    }
  });

  it('a client pinned to another key fails with ERR_MPUDP_SERVER_KEY_MISMATCH, and the server emits no connection', async () => {
    const { port, connections } = await listening(generateKeyPair().privateKey);
    const other = generateKeyPair();
    const socket = connect({ host: '127.0.0.1', port, localAddresses: ['127.0.0.1'], serverKey: other.fingerprint });
    cleanup.push(() => socket.destroy());
    const started = performance.now();
    const [err] = (await once(socket, 'error')) as [MpudpError];
    expect(err.code).toBe('ERR_MPUDP_SERVER_KEY_MISMATCH');
    expect(socket.connecting).toBe(false);
    // One loopback round trip plus the handshake's CPU: far below any retransmission (600 ms).
    expect(performance.now() - started).toBeLessThan(500);
    await new Promise((r) => setTimeout(r, 200));
    expect(connections.length).toBe(0);
  });

  it('refuses malformed keys with stable codes', () => {
    expect(() => createServer({ key: 'short' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => createServer({ key: 42 as unknown as string })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => connect({ host: '127.0.0.1', port: 1, serverKey: 'SHA256:nope' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => connect({ host: '127.0.0.1', port: 1, cipher: 'des' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});
