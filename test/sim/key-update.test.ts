/**
 * Key update (RFC 9001 §6) across several paths: with the update interval
 * set low, a bulk transfer crosses many key phases while its paths lose and
 * reorder packets, and every packet still opens with the right key.
 */
import { describe, expect, it } from 'vitest';
import { Pair, payload, sha256, transfer } from './scenario.js';

const MiB = 1024 * 1024;

describe('key update', () => {
  for (const cipher of ['aes-128-gcm', 'chacha20-poly1305'] as const) {
    it(`${cipher}: 4 MiB over three lossy, reordering paths cross many key phases intact`, () => {
      const rough = { delayMs: 10, jitterMs: 8, reorder: true, reorderRate: 0.05, reorderDelayMs: 15, lossRate: 0.02, rateBps: 40e6 };
      const pair = new Pair({
        seed: cipher === 'aes-128-gcm' ? 301 : 302,
        clientAddresses: ['10.0.1.2', '10.0.2.2', '10.0.3.2'],
        links: [rough, { ...rough, delayMs: 25 }, { ...rough, delayMs: 5, lossRate: 0.05 }],
        options: { keyUpdateInterval: 200, cipher },
      });
      const data = payload(4 * MiB, 301);
      expect(transfer(pair, data, 120_000), 'transfer finished').toBe(true);
      expect(sha256(pair.server.received)).toBe(sha256(data));
      const client = pair.client.connection!.stats();
      const server = pair.server.connection!.stats();
      // ~3,700 data packets at 200 per key: the client started well over ten updates...
      expect(client.keyUpdatesInitiated).toBeGreaterThan(10);
      // ...the server followed each one, and both ended at the same generation.
      expect(server.keyUpdatesFollowed).toBeGreaterThan(10);
      expect(Math.abs(client.keyGeneration - server.keyGeneration)).toBeLessThanOrEqual(1);
      expect(client.paths.filter((p) => p.packetsSent > 100).length).toBe(3);
      // Late and reordered packets opened with the previous key: nothing failed authentication.
      expect(server.drops['auth-failed'] ?? 0).toBe(0);
      expect(client.drops['auth-failed'] ?? 0).toBe(0);
    });
  }

  it('with the default interval, a transfer stays in its first key phase', () => {
    const pair = new Pair({ seed: 303, links: [{ delayMs: 10, rateBps: 50e6 }, { delayMs: 10, rateBps: 50e6 }] });
    const data = payload(2 * MiB, 303);
    expect(transfer(pair, data, 60_000)).toBe(true);
    expect(pair.client.connection!.stats().keyGeneration).toBe(0);
  });
});
