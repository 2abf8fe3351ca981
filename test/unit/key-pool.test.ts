/**
 * The handshake's key pairs made ahead of time (src/io/key-pool.ts): every
 * pair is handed out once, an empty pool says so instead of blocking, and
 * a pair from the pool works in a handshake like one the core makes.
 */
import { describe, expect, it } from 'vitest';
import { KeyPairPool } from '../../src/io/key-pool.js';
import { x25519, x25519KeyPair } from '../../src/core/crypto/keys.js';
import { HandshakeSide, clientSecrets, serverSecrets } from '../../src/core/handshake.js';
import { DEFAULT_OPTIONS } from '../../src/core/options.js';
import { Rng } from '../../lab/random.js';

/** Waits until the pool holds `n` pairs (its generations run on the thread pool). */
async function filled(pool: KeyPairPool, n: number): Promise<void> {
  for (let i = 0; i < 2000 && pool.available < n; i++) await new Promise((r) => setTimeout(r, 5));
  expect(pool.available).toBe(n);
}

describe('KeyPairPool', () => {
  it('is empty until first asked, then fills to its size', async () => {
    const pool = new KeyPairPool(8);
    expect(pool.available).toBe(0);
    expect(pool.take()).toBeNull();
    expect(pool.stats.empty).toBe(1);
    await filled(pool, 8);
    pool.close();
  });

  it('never hands out the same pair twice, across refills', async () => {
    const pool = new KeyPairPool(8);
    pool.take();
    const seen = new Set<string>();
    const privates = new Set<unknown>();
    for (let round = 0; round < 5; round++) {
      await filled(pool, 8);
      for (let i = 0; i < 8; i++) {
        const pair = pool.take()!;
        expect(pair).not.toBeNull();
        const pub = Buffer.from(pair.publicKey).toString('hex');
        expect(seen.has(pub)).toBe(false);
        expect(privates.has(pair.privateKey)).toBe(false);
        seen.add(pub);
        privates.add(pair.privateKey);
      }
    }
    expect(seen.size).toBe(40);
    expect(pool.stats.taken).toBe(40);
    pool.close();
  });

  it('holds nothing after close, and makes no more', async () => {
    const pool = new KeyPairPool(4);
    pool.take();
    await filled(pool, 4);
    pool.close();
    expect(pool.available).toBe(0);
    expect(pool.take()).toBeNull();
    await new Promise((r) => setTimeout(r, 50));
    expect(pool.available).toBe(0);
  });

  it('gives pairs whose public key matches the private one', async () => {
    const pool = new KeyPairPool(2);
    pool.take();
    await filled(pool, 2);
    const a = pool.take()!;
    const b = x25519KeyPair(new Rng(3).bytes(32));
    expect(Buffer.from(x25519(a.privateKey, b.publicKey)!).toString('hex')).toBe(Buffer.from(x25519(b.privateKey, a.publicKey)!).toString('hex'));
    pool.close();
  });

  it('a pooled pair serves a handshake like a made one', async () => {
    const pool = new KeyPairPool(2);
    pool.take();
    await filled(pool, 2);
    const rng = new Rng(9);
    const random = (n: number): Uint8Array => rng.bytes(n);
    const staticKey = x25519KeyPair(random(32));
    const client = new HandshakeSide(random, random(8), DEFAULT_OPTIONS, 'aes-128-gcm', pool.take());
    const server = new HandshakeSide(random, random(8), DEFAULT_OPTIONS, 'aes-128-gcm', pool.take());
    expect(Buffer.from(client.key.publicKey).equals(Buffer.from(server.key.publicKey))).toBe(false);
    const proof = serverSecrets(server, staticKey, client.hello)!;
    const secrets = clientSecrets(client, server.hello, proof.identity, proof.finished)!;
    expect(secrets).not.toBeNull();
    expect(Buffer.from(secrets.clientSecret).equals(Buffer.from(proof.secrets.clientSecret))).toBe(true);
    pool.close();
  });
});
