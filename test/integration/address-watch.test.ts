/**
 * The io layer follows the host's addresses (issue #4): an address that
 * vanishes mid-transfer takes its paths down without losing a byte, and when
 * it comes back it is bound again and carries a path again. The host's
 * address list is injected (`addressSource`), so no root is needed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { connect, createServer, type MultipathSocket } from '../../src/index.js';
import { until } from '../support/loopback.js';
import type { PathInfo } from '../../src/core/types.js';

const MiB = 1024 * 1024;

describe('address watch', () => {
  it('a client address that vanishes and returns: nothing lost, its path comes back', async () => {
    const server = createServer({ addressWatchInterval: 0 }, (socket) => {
      const hash = createHash('sha256');
      socket.on('data', (d: Buffer) => hash.update(d));
      socket.on('end', () => socket.end(hash.digest('hex')));
    });
    server.listen({ port: 0, addresses: ['127.0.0.1'] });
    await once(server, 'listening');
    const hostAddresses = ['127.0.0.1', '127.0.0.2'];
    const client: MultipathSocket = connect({
      port: server.address()!.port,
      addresses: ['127.0.0.1'],
      localAddresses: ['127.0.0.1', '127.0.0.2'],
      addressWatchInterval: 20,
      addressSource: () => hostAddresses,
    });
    await once(client, 'connect');
    const downs: PathInfo[] = [];
    const ups: PathInfo[] = [];
    client.on('path-down', (p: PathInfo) => downs.push(p));
    client.on('path-up', (p: PathInfo) => ups.push(p));
    let reply = '';
    client.on('data', (d: Buffer) => (reply += d.toString()));
    const sent = createHash('sha256');
    const total = 48 * MiB;
    let written = 0;
    let phase = 0;
    while (written < total) {
      const chunk = randomBytes(256 * 1024);
      sent.update(chunk);
      written += chunk.length;
      if (!client.write(chunk)) await once(client, 'drain');
      if (phase === 0 && written > total / 4) {
        phase = 1;
        hostAddresses.splice(1, 1); // 127.0.0.2 vanishes
      } else if (phase === 1 && written > total / 2) {
        phase = 2;
        hostAddresses.push('127.0.0.2'); // and comes back
      }
    }
    // The path from 127.0.0.2 comes back while the connection is open: a new
    // path, active. Asked before the FINs: once both ends have closed, a
    // path that a loaded host left suspect (its last packets overdue) is
    // never looked at again, and waiting for it after the reply timed out
    // in one run of eight of the integration tests.
    const goneId = (): number | undefined => downs.find((d) => d.localAddress === '127.0.0.2')?.id;
    const returned = (): boolean => goneId() !== undefined && client.paths.some((p) => p.localAddress === '127.0.0.2' && p.state === 'active' && p.id !== goneId());
    await until(returned, 10_000, 'a new path from 127.0.0.2 to be active');
    client.end();
    await once(client, 'end');
    expect(reply).toBe(sent.digest('hex'));
    expect(downs.some((p) => p.localAddress === '127.0.0.2')).toBe(true);
    // After it came back, a path from 127.0.0.2 validated again.
    const back = ups.filter((p) => p.localAddress === '127.0.0.2');
    expect(back.length).toBeGreaterThan(0);
    // It carried data.
    const again = client.paths.filter((p) => p.localAddress === '127.0.0.2' && p.id !== goneId());
    expect(again.some((p) => p.bytesSent > 0)).toBe(true);
    client.destroy();
    server.close();
  }, 60_000);
});
