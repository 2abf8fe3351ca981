/**
 * The CPU floor of one handshake on this machine: each node:crypto
 * operation a handshake makes, timed alone (µs, median of rounds), times
 * how many of it one handshake makes on both sides together. The counts
 * are `npx tsx bench/core-handshakes.ts --inflight 4 --count` (no Retry):
 * 4 X25519 Diffie-Hellmans, 2 ephemeral key pairs (one per side: a JWK
 * import of the private scalar, the public key derived and exported), 2
 * imports of a peer's public key, 20 HMAC-SHA-256 (HKDF and the
 * transcript), 3 SHA-256, 5 seals and 5 opens of short packets. The
 * figure is a floor: the io layer's sockets, events and streams come on
 * top (docs/bench.md, "Issue 11 on the Xeon machine").
 *
 *   npx tsx bench/handshake-floor.ts [--rounds 5] [--n 3000]
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, n: { type: 'string' } } });
const ROUNDS = Number(values.rounds ?? 5);
const N = Number(values.n ?? 3000);

const pair = generateKeyPairSync('x25519');
const rawPub = Buffer.from(pair.publicKey.export({ format: 'jwk' }).x!, 'base64url');
const rawPriv = Buffer.from(pair.privateKey.export({ format: 'jwk' }).d!, 'base64url');
const zeroX = Buffer.alloc(32).toString('base64url');
const key16 = randomBytes(16);
const iv = randomBytes(12);
const packet = randomBytes(120);
const sealed = (() => {
  const c = createCipheriv('aes-128-gcm', key16, iv);
  const body = Buffer.concat([c.update(packet), c.final()]);
  return { body, tag: c.getAuthTag() };
})();
const salt = randomBytes(32);

/** Each operation, and how many of it one handshake makes (both sides). */
const ops: Array<[string, number, () => unknown]> = [
  ['X25519 Diffie-Hellman', 4, () => diffieHellman({ privateKey: pair.privateKey, publicKey: pair.publicKey })],
  ['ephemeral key pair (JWK import, derive, export)', 2, () => {
    const k = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: rawPriv.toString('base64url'), x: zeroX }, format: 'jwk' });
    return createPublicKey(k).export({ format: 'jwk' }).x;
  }],
  ["peer public key import (JWK)", 2, () => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: rawPub.toString('base64url') }, format: 'jwk' })],
  ['HMAC-SHA-256 of 32 bytes', 20, () => createHmac('sha256', salt).update(rawPub).digest()],
  ['SHA-256 of 32 bytes', 3, () => createHash('sha256').update(rawPub).digest()],
  ['AES-128-GCM seal, 120 bytes', 5, () => {
    const c = createCipheriv('aes-128-gcm', key16, iv);
    c.update(packet);
    c.final();
    return c.getAuthTag();
  }],
  ['AES-128-GCM open, 120 bytes', 5, () => {
    const d = createDecipheriv('aes-128-gcm', key16, iv);
    d.setAuthTag(sealed.tag);
    d.update(sealed.body);
    return d.final();
  }],
];

function time(fn: () => unknown): number {
  for (let i = 0; i < 200; i++) fn();
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn();
  return Number(process.hrtime.bigint() - t) / 1e3 / N;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
let total = 0;
console.log(`| operation | µs each (median of ${ROUNDS}) | per handshake, both sides | µs per handshake |`);
console.log('|---|---:|---:|---:|');
for (const [name, count, fn] of ops) {
  const us = median(Array.from({ length: ROUNDS }, () => time(fn)));
  total += us * count;
  console.log(`| ${name} | ${us.toFixed(1)} | ${count} | ${(us * count).toFixed(0)} |`);
}
console.log(`| **crypto floor, both sides** | | | **${total.toFixed(0)}** |`);
console.log(`One side's half: ${(total / 2).toFixed(0)} µs, so at most ${Math.floor(1e6 / (total / 2))} handshakes/s for a server with one core to itself, before any socket or stream work.`);
