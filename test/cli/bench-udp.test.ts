/**
 * The raw dgram baseline of `mpudp bench`, plain and sealed: the sealed
 * blast's datagrams really are sealed (the server opens every one, and
 * refuses a datagram whose ciphertext was changed), so its cost is the
 * AEAD's and not a pretence.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { UdpBenchServer, udpBlast, type UdpReceiverResult } from '../../src/cli/bench/udp.js';

const servers: UdpBenchServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function server(): Promise<{ port: number; results: UdpReceiverResult[] }> {
  const results: UdpReceiverResult[] = [];
  const s = new UdpBenchServer((r) => results.push(r));
  servers.push(s);
  const [a] = await s.listen(['127.0.0.1'], 0);
  return { port: a!.port, results };
}

describe('raw dgram bench baseline', () => {
  for (const seal of [undefined, 'aes-128-gcm', 'chacha20-poly1305'] as const) {
    it(`blasts ${seal ?? 'plain'} datagrams the server counts${seal ? ' and opens' : ''}`, async () => {
      const { port } = await server();
      const r = await udpBlast({ host: '127.0.0.1', port, local: '127.0.0.1', datagramSize: 1200, timeMs: 100, ...(seal ? { seal } : {}) });
      expect(r.datagramsSent).toBeGreaterThan(0);
      expect(r.receiver.datagrams).toBeGreaterThan(0);
      expect(r.receiver.datagrams).toBeLessThanOrEqual(r.datagramsSent);
      expect(r.receiver.authFailures).toBe(0);
    });
  }

  it('a sealed datagram with one bit changed does not open, and is counted apart', async () => {
    const { port, results } = await server();
    const c = createSocket('udp4');
    c.bind(0, '127.0.0.1');
    await once(c, 'listening');
    // An 'S' (AES-128-GCM) datagram of test 7 whose tag cannot match.
    const forged = Buffer.alloc(1200, 0x61);
    forged[0] = 0x53;
    forged.writeUInt32BE(7, 1);
    forged.writeBigUInt64BE(0n, 5);
    const end = Buffer.alloc(13);
    end[0] = 0x45;
    end.writeUInt32BE(7, 1);
    c.send(forged, port, '127.0.0.1');
    c.send(end, port, '127.0.0.1');
    await once(c, 'message');
    c.close();
    expect(results).toHaveLength(1);
    expect(results[0]!.authFailures).toBe(1);
    expect(results[0]!.datagrams).toBe(0);
  });
});
