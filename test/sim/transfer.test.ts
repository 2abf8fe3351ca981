import { describe, expect, it } from 'vitest';
import { Pair, payload, sha256, transfer } from './scenario.js';

describe('simulated transfer', () => {
  it('handshakes and moves 1 MiB over two clean paths', () => {
    const pair = new Pair({ seed: 1 });
    const data = payload(1024 * 1024);
    const done = transfer(pair, data, 30_000);
    expect(done, `seed 1: transfer did not finish; client ${JSON.stringify(pair.client.connection?.stats())}`).toBe(true);
    expect(pair.server.receivedBytes).toBe(data.length);
    expect(sha256(pair.server.received)).toBe(sha256(data));
  });
});
