/**
 * Whole connections in the simulator: bulk transfers over two paths with
 * loss and blackholes; every byte must arrive, in order, exactly once.
 */
import { describe, expect, it } from 'vitest';
import { Pair, payload, sha256, transfer } from './scenario.js';

const MiB = 1024 * 1024;
const fast = { delayMs: 10, rateBps: 50e6 };

function pathBytes(pair: Pair): number[] {
  return pair.client.connection!.stats().paths.map((p) => p.dataBytesSent + p.dataBytesRetransmitted);
}

describe('simulated transfer', () => {
  it('handshakes and moves 1 MiB over two clean paths', () => {
    const pair = new Pair({ seed: 1 });
    const data = payload(MiB);
    const done = transfer(pair, data, 30_000);
    expect(done, `seed 1: transfer did not finish`).toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(data));
  });

  for (const loss of [0, 0.01, 0.05]) {
    it(`16 MiB arrive intact with ${loss * 100} % loss on one of two paths`, () => {
      const seed = 100 + loss * 1000;
      const pair = new Pair({ seed, links: [fast, { ...fast, lossRate: loss }] });
      const data = payload(16 * MiB, seed);
      const done = transfer(pair, data, 120_000);
      expect(done, `seed ${seed}: did not finish by t=${pair.world.now}`).toBe(true);
      expect(pair.server.receivedBytes).toBe(data.length);
      expect(sha256(pair.server.received), `seed ${seed}`).toBe(sha256(data));
      // Both paths carried bytes; the lossy one less as its window shrinks.
      const shares = pathBytes(pair);
      expect(shares.length).toBe(2);
      expect(shares[0]!, `seed ${seed}: shares ${shares}`).toBeGreaterThan(4 * MiB);
      expect(shares[1]!, `seed ${seed}: shares ${shares}`).toBeGreaterThan(loss > 0.02 ? 100_000 : 2 * MiB);
    });
  }

  it('loses nothing when a path is blackholed mid-transfer, and keeps delivering on the other', () => {
    const seed = 7;
    const pair = new Pair({ seed, links: [fast, fast] });
    const data = payload(16 * MiB, seed);
    const cutAt = pair.world.now + 800;
    let deliveredAtCut = -1;
    pair.world.at(cutAt, () => {
      deliveredAtCut = pair.server.receivedBytes;
      pair.world.network.getLink('10.0.1.2', '10.0.0.1')!.set({ blackhole: true });
      pair.world.network.getLink('10.0.0.1', '10.0.1.2')!.set({ blackhole: true });
    });
    const done = transfer(pair, data, 120_000);
    expect(done, `seed ${seed}: did not finish`).toBe(true);
    expect(deliveredAtCut).toBeGreaterThan(0);
    expect(deliveredAtCut).toBeLessThan(data.length);
    expect(sha256(pair.server.received), `seed ${seed}`).toBe(sha256(data));
    const client = pair.client.connection!;
    const path0 = client.stats().paths.find((p) => p.id === 0)!;
    expect(path0.state).toBe('failed');
    expect(pair.client.events.some((e) => e.event.type === 'path-down')).toBe(true);
    expect(client.stats().paths.find((p) => p.id === 0)!.dataBytesReinjected).toBeGreaterThan(0);
  });

  it('works over a single path', () => {
    const seed = 11;
    const pair = new Pair({ seed, clientAddresses: ['10.0.1.2'], links: [{ ...fast, lossRate: 0.02 }] });
    const data = payload(4 * MiB, seed);
    expect(transfer(pair, data, 120_000), `seed ${seed}`).toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(data));
  });
});
