/**
 * Spoofed and junk Initials against a real server on loopback (issue 9).
 * Before the fix, 'connection' fired on the first Initial: a server that
 * writes on connect grew by megabytes per Initial, and a socket without an
 * 'error' handler crashed the process when the never-completed handshake
 * timed out. Now nothing reaches the application before a handshake
 * completes, and a real client still gets through.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { expectEchoIntact } from '../support/loopback.js';
import { EndpointCore } from '../../src/core/endpoint.js';
import { connect, createServer, type MultipathSocket } from '../../src/index.js';
import { heapAfterGc } from './gc.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

/** A well-formed Initial nobody will ever complete. */
function initial(port: number): Uint8Array {
  const client = new EndpointCore({ random: (n) => new Uint8Array(randomBytes(n)), server: false });
  client.connect({ localAddresses: [{ address: '127.0.0.1', port: 1 }], remoteAddresses: [{ address: '127.0.0.1', port }] }, 0);
  return client.pollTransmit(0)!.data;
}

describe('Initials that never complete, over sockets', () => {
  it('283 Initials and 1000 junk datagrams: no connection, no crash, little memory; a real client still connects', async () => {
    let connections = 0;
    // No 'error' handler on the sockets: an error event on one would crash the process.
    const server = createServer((socket: MultipathSocket) => {
      connections++;
      socket.on('data', (d: Buffer) => socket.write(d));
      socket.on('end', () => socket.end());
    });
    server.listen({ port: 0, addresses: ['127.0.0.1'] });
    await once(server, 'listening');
    cleanup.push(() => server.close());
    const port = server.address()!.port;
    const attacker = createSocket('udp4');
    cleanup.push(() => attacker.close());
    const before = heapAfterGc();
    const initials = Array.from({ length: 283 }, () => initial(port));
    for (const d of initials) attacker.send(d, port, '127.0.0.1');
    const junk = Buffer.alloc(1200);
    for (let i = 0; i < 1000; i++) {
      randomBytes(1200).copy(junk);
      junk[0] = 0x40;
      attacker.send(junk, port, '127.0.0.1');
    }
    await new Promise((r) => setTimeout(r, 1_000));
    const grown = heapAfterGc() - before;
    const core = server.stats()!.core;
    expect(connections).toBe(0);
    expect(core.accepted).toBe(0);
    // One source: a few half-open handshakes, Retries for the rest.
    expect(core.halfOpen).toBeLessThanOrEqual(8);
    expect(core.retriesSent).toBeGreaterThanOrEqual(283 - 8);
    expect(core.drops['bad-initial']).toBe(1000);
    console.log(`heap after 283 Initials and 1000 junk datagrams: +${(grown / 1024).toFixed(0)} KiB`);
    expect(grown).toBeLessThan(8 * 1024 * 1024);
    // A real client connects (the flood's junk puts the server in retry mode) and its bytes come back intact.
    const socket = connect({ host: '127.0.0.1', port, localAddresses: ['127.0.0.1'], serverKey: server.fingerprint });
    cleanup.push(() => socket.destroy());
    await expectEchoIntact(socket, 200_000);
    expect(connections).toBe(1);
  });
});
