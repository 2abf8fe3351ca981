/**
 * Backup paths set at run time through the socket, and IPv4 and IPv6 paths
 * in one connection, over real UDP on loopback.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { connect, createServer, type MultipathSocket } from '../../src/index.js';

const MiB = 1024 * 1024;

async function echoHashServer(addresses: string[]) {
  const server = createServer({ addressWatchInterval: 0 }, (socket) => {
    const hash = createHash('sha256');
    socket.on('data', (d: Buffer) => hash.update(d));
    socket.on('end', () => socket.end(hash.digest('hex')));
    socket.on('error', () => undefined);
  });
  server.listen({ port: 0, addresses });
  await once(server, 'listening');
  return server;
}

async function send(client: MultipathSocket, total: number): Promise<string> {
  const hash = createHash('sha256');
  for (let sent = 0; sent < total; ) {
    const chunk = randomBytes(256 * 1024);
    hash.update(chunk);
    sent += chunk.length;
    if (!client.write(chunk)) await once(client, 'drain');
  }
  return hash.digest('hex');
}

function dataBytes(client: MultipathSocket, local: string): number {
  const ids = client.paths.filter((p) => p.localAddress === local).map((p) => p.id);
  return client.stats()!.paths.filter((p) => ids.includes(p.id)).reduce((s, p) => s + p.dataBytesSent + p.dataBytesRetransmitted, 0);
}

/** Times any path was suspected (early, or after a PTO). */
function suspicions(client: MultipathSocket): number {
  const st = client.stats()!;
  return st.earlySuspicions + st.paths.reduce((s, p) => s + p.ptoCount, 0);
}

describe('backup paths and address families over loopback', () => {
  it('setBackup() at run time: the backup address carries nothing new, the peer is told', async () => {
    const server = await echoHashServer(['127.0.0.1']);
    const client = connect({ port: server.address()!.port, addresses: ['127.0.0.1'], localAddresses: ['127.0.0.1', '127.0.0.2'], addressWatchInterval: 0 });
    await once(client, 'connect');
    while (client.paths.filter((p) => p.state === 'active').length < 2) await once(client, 'path-up');
    expect(client.setBackup('127.0.0.2', true)).toBe(true);
    const before = dataBytes(client, '127.0.0.2');
    const suspicionsBefore = suspicions(client);
    let reply = '';
    client.on('data', (d: Buffer) => (reply += d.toString()));
    const digest = await send(client, 16 * MiB);
    client.end();
    await once(client, 'end');
    expect(reply).toBe(digest);
    // The backup carries data only while the active path is suspect. On a
    // loaded machine an event-loop stall can make it so (the liveness rules
    // then use the backup, as they must); the backup then carries a little.
    const onBackup = dataBytes(client, '127.0.0.2') - before;
    if (suspicions(client) === suspicionsBefore) expect(onBackup).toBe(0);
    else expect(onBackup, 'bytes on the backup after the active path was suspected').toBeLessThan(2 * MiB);
    expect(client.paths.find((p) => p.localAddress === '127.0.0.2')!.backup).toBe(true);
    expect(() => client.setBackup('not an address')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    client.destroy();
    server.close();
  }, 30_000);

  it('IPv4 and IPv6 paths in one connection', async () => {
    const server = await echoHashServer(['127.0.0.1', '::1']);
    const port = server.address()!.port;
    const client = connect({ port, addresses: ['127.0.0.1', '::1'], localAddresses: ['127.0.0.1', '::1'], addressWatchInterval: 0 });
    await once(client, 'connect');
    let reply = '';
    client.on('data', (d: Buffer) => (reply += d.toString()));
    const digest = await send(client, 16 * MiB);
    client.end();
    await once(client, 'end');
    expect(reply).toBe(digest);
    const families = new Set(client.paths.filter((p) => p.state === 'active').map((p) => (p.localAddress.includes(':') ? 6 : 4)));
    expect([...families].sort()).toEqual([4, 6]);
    expect(dataBytes(client, '::1')).toBeGreaterThan(0);
    expect(dataBytes(client, '127.0.0.1')).toBeGreaterThan(0);
    client.destroy();
    server.close();
  }, 30_000);
});
