/**
 * The packet protection's parts: X25519 through JWK import (RFC 7748 §6.1
 * vectors), the AEAD with its nonce from path ID and packet number, the key
 * schedule, and key phases across an update with late and reordered packets.
 */
import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CIPHER_NAMES, MAX_PATH_ID, PacketKey, TAG_LENGTH } from '../../src/core/crypto/aead.js';
import { hkdfSha256 } from '../../src/core/crypto/hkdf.js';
import { KeyPhases } from '../../src/core/crypto/key-phases.js';
import { fingerprint, x25519, x25519KeyPair } from '../../src/core/crypto/keys.js';
import { HandshakeSide, clientSecrets, serverSecrets } from '../../src/core/handshake.js';
import { DEFAULT_OPTIONS } from '../../src/core/options.js';
import { Rng } from '../../lab/random.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('X25519 through JWK', () => {
  // RFC 7748 §6.1.
  const alicePrivate = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const alicePublic = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
  const bobPrivate = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  const bobPublic = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
  const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';

  it('derives the RFC 7748 public keys and shared secret', () => {
    const alice = x25519KeyPair(alicePrivate);
    const bob = x25519KeyPair(bobPrivate);
    expect(toHex(alice.publicKey)).toBe(alicePublic);
    expect(toHex(bob.publicKey)).toBe(bobPublic);
    expect(toHex(x25519(alice.privateKey, bob.publicKey)!)).toBe(shared);
    expect(toHex(x25519(bob.privateKey, alice.publicKey)!)).toBe(shared);
  });

  it('refuses a low-order or malformed peer key', () => {
    const alice = x25519KeyPair(alicePrivate);
    expect(x25519(alice.privateKey, new Uint8Array(32))).toBeNull();
    expect(x25519(alice.privateKey, new Uint8Array(31))).toBeNull();
  });

  it('prints a fingerprint of the public key', () => {
    const fp = fingerprint(hex(alicePublic));
    expect(fp).toMatch(/^SHA256:[A-Za-z0-9_-]{43}$/);
    expect(fingerprint(hex(bobPublic))).not.toBe(fp);
  });
});

describe('AEAD packet key', () => {
  for (const cipher of CIPHER_NAMES) {
    it(`${cipher}: seals in place, opens, and refuses any change`, () => {
      const rng = new Rng(5);
      const key = new PacketKey(cipher, rng.bytes(cipher === 'aes-128-gcm' ? 16 : 32), rng.bytes(12));
      const headerEnd = 12;
      const plain = rng.bytes(1100);
      const buf = new Uint8Array(headerEnd + plain.length + TAG_LENGTH);
      buf.set(rng.bytes(headerEnd));
      buf.set(plain, headerEnd);
      const size = key.seal(buf, headerEnd, headerEnd + plain.length, 3, 1000);
      expect(size).toBe(buf.length);
      expect(toHex(buf.subarray(headerEnd, headerEnd + plain.length))).not.toBe(toHex(plain));
      expect(toHex(key.open(buf, headerEnd, 3, 1000)!)).toBe(toHex(plain));
      // Another path or packet number is another nonce.
      expect(key.open(buf, headerEnd, 4, 1000)).toBeNull();
      expect(key.open(buf, headerEnd, 3, 1001)).toBeNull();
      // Any bit of the header (associated data), the frames or the tag.
      for (const at of [0, 5, headerEnd, headerEnd + 500, buf.length - 1]) {
        const bad = buf.slice();
        bad[at]! ^= 0x10;
        expect(key.open(bad, headerEnd, 3, 1000), `flip at ${at}`).toBeNull();
      }
      expect(key.open(buf.subarray(0, headerEnd + 3), headerEnd, 3, 1000)).toBeNull();
    });
  }

  it('makes the nonce from path ID and packet number without collisions at the edges', () => {
    const key = new PacketKey('aes-128-gcm', new Uint8Array(16), new Uint8Array(12));
    const headerEnd = 1;
    const seal = (pathId: number, pn: number): string => {
      const buf = new Uint8Array(headerEnd + 16 + TAG_LENGTH);
      key.seal(buf, headerEnd, headerEnd + 16, pathId, pn);
      return toHex(buf);
    };
    const pairs: Array<[number, number]> = [
      [0, 0],
      [1, 0],
      [0, 1],
      [0, 2 ** 32],
      [1, 2 ** 32],
      [MAX_PATH_ID - 1, 0],
      [0, Number.MAX_SAFE_INTEGER],
      [MAX_PATH_ID - 1, Number.MAX_SAFE_INTEGER],
    ];
    const seen = new Set(pairs.map(([p, n]) => seal(p, n)));
    expect(seen.size).toBe(pairs.length);
  });
});

describe('handshake secrets', () => {
  it('client and server agree; another identity key or a changed HELLO breaks FINISHED', () => {
    const rng = new Rng(9);
    const client = new HandshakeSide(rng.source(), rng.bytes(8), DEFAULT_OPTIONS, 'aes-128-gcm');
    const server = new HandshakeSide(rng.source(), rng.bytes(8), DEFAULT_OPTIONS, 'aes-128-gcm');
    const staticKey = x25519KeyPair(rng.bytes(32));
    const proof = serverSecrets(server, staticKey, client.hello)!;
    const got = clientSecrets(client, server.hello, proof.identity, proof.finished)!;
    expect(got).not.toBeNull();
    expect(toHex(got.clientSecret)).toBe(toHex(proof.secrets.clientSecret));
    expect(toHex(got.serverSecret)).toBe(toHex(proof.secrets.serverSecret));
    expect(toHex(got.clientSecret)).not.toBe(toHex(got.serverSecret));
    const other = x25519KeyPair(rng.bytes(32));
    expect(clientSecrets(client, server.hello, { type: 'identity', staticKey: other.publicKey }, proof.finished)).toBeNull();
    expect(clientSecrets(client, { ...server.hello, params: { ...server.hello.params, maxPaths: 64 } }, proof.identity, proof.finished)).toBeNull();
    // The cookie is left out of the transcript: a retried Initial keeps its FINISHED.
    const withCookie = { ...client.hello, cookie: new Uint8Array(20) };
    expect(toHex(serverSecrets(server, staticKey, withCookie)!.finished)).toBe(toHex(proof.finished));
  });
});

/** A sealed packet as the wire carries it: 1-byte header (the key phase), 8 payload bytes, tag. */
function packet(k: KeyPhases, pathId: number, pn: number, body: number): { data: Uint8Array; phase: boolean } {
  const buf = new Uint8Array(1 + 8 + TAG_LENGTH);
  const phase = k.keyPhase;
  buf[0] = phase ? 1 : 0;
  buf.fill(body, 1, 9);
  k.seal(buf, 1, 9, pathId, pn);
  return { data: buf, phase };
}

describe('key phases', () => {
  const secrets = (): [Uint8Array, Uint8Array] => [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];

  it('updates after packetsPerKey once the current phase was acknowledged, and the peer follows', () => {
    const [c2s, s2c] = secrets();
    const client = new KeyPhases('aes-128-gcm', c2s, s2c, 4);
    const server = new KeyPhases('aes-128-gcm', s2c, c2s, 4);
    const sent = [0, 1, 2, 3].map((pn) => packet(client, 0, pn, pn));
    expect(client.updateDue).toBe(false); // nothing acknowledged yet
    for (const p of sent) expect(server.open(p.data, 1, p.phase, 0, sent.indexOf(p), 0, 100)).not.toBeNull();
    client.onAcked(0, 3);
    expect(client.updateDue).toBe(true);
    client.initiateUpdate();
    expect(client.keyPhase).toBe(true);
    // Not again before the peer answered in the new phase.
    const next = packet(client, 0, 4, 4);
    expect(next.phase).toBe(true);
    expect(server.keyPhase).toBe(false);
    expect(server.open(next.data, 1, next.phase, 0, 4, 10, 100)).not.toBeNull();
    expect(server.keyPhase).toBe(true);
    expect(server.updatesFollowed).toBe(1);
    const answer = packet(server, 0, 0, 9);
    expect(client.open(answer.data, 1, answer.phase, 0, 0, 20, 100)).not.toBeNull();
    expect(client.generation).toBe(1);
    expect(server.generation).toBe(1);
  });

  it('opens late packets of the previous phase on any path, for three PTOs', () => {
    const [c2s, s2c] = secrets();
    const client = new KeyPhases('chacha20-poly1305', c2s, s2c, 1_000_000);
    const server = new KeyPhases('chacha20-poly1305', s2c, c2s, 1_000_000);
    const old1 = packet(client, 1, 10, 1);
    const old2 = packet(client, 2, 20, 2);
    expect(server.open(packet(client, 1, 9, 0).data, 1, false, 1, 9, 0, 100)).not.toBeNull();
    client.initiateUpdate();
    const new1 = packet(client, 1, 11, 3);
    const new3 = packet(client, 3, 0, 4);
    // The new phase arrives first on path 1, then late old packets on paths 1 and 2.
    expect(server.open(new1.data, 1, new1.phase, 1, 11, 1000, 100)).not.toBeNull();
    expect(server.open(old1.data, 1, old1.phase, 1, 10, 1001, 100)).not.toBeNull();
    expect(server.open(old2.data, 1, old2.phase, 2, 20, 1002, 100)).not.toBeNull();
    expect(server.open(new3.data, 1, new3.phase, 3, 0, 1003, 100)).not.toBeNull();
    expect(server.authFailures).toBe(0);
    // After three PTOs the old key is gone.
    const late = packet(new KeyPhases('chacha20-poly1305', c2s, s2c), 2, 21, 5);
    expect(server.open(late.data, 1, late.phase, 2, 21, 1000 + 301, 100)).toBeNull();
    expect(server.authFailures).toBe(1);
  });

  it('a forgery with the other phase changes nothing', () => {
    const [c2s, s2c] = secrets();
    const server = new KeyPhases('aes-128-gcm', s2c, c2s, 4);
    const forged = new Uint8Array(1 + 8 + TAG_LENGTH);
    forged[0] = 1;
    expect(server.open(forged, 1, true, 0, 5, 0, 100)).toBeNull();
    expect(server.keyPhase).toBe(false);
    expect(server.generation).toBe(0);
    const client = new KeyPhases('aes-128-gcm', c2s, s2c, 4);
    const p = packet(client, 0, 6, 1);
    expect(server.open(p.data, 1, p.phase, 0, 6, 0, 100)).not.toBeNull();
  });

  it('must stop past twice packetsPerKey when no update was possible', () => {
    const [c2s, s2c] = secrets();
    const k = new KeyPhases('aes-128-gcm', c2s, s2c, 3);
    for (let pn = 0; pn < 6; pn++) packet(k, 0, pn, 0);
    expect(k.updateDue).toBe(false);
    expect(k.sendLimitReached).toBe(true);
  });
});

describe('HKDF-SHA256 from HMAC', () => {
  // RFC 5869 Appendix A, test cases 1 and 3.
  const ikm = new Uint8Array(22).fill(0x0b);
  it('gives the RFC 5869 test vectors', () => {
    expect(toHex(hkdfSha256(ikm, hex('000102030405060708090a0b0c'), hex('f0f1f2f3f4f5f6f7f8f9'), 42))).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
    expect(toHex(hkdfSha256(ikm, new Uint8Array(0), new Uint8Array(0), 42))).toBe(
      '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    );
  });

  it("matches node's hkdfSync at every length the schedule uses", () => {
    const rng = new Rng(11);
    for (const length of [1, 28, 32, 44, 64, 96, 255]) {
      const secret = rng.bytes(64);
      const salt = length % 2 === 0 ? rng.bytes(32) : new Uint8Array(0);
      const info = rng.bytes(12);
      expect(toHex(hkdfSha256(secret, salt, info, length))).toBe(Buffer.from(hkdfSync('sha256', secret, salt, info, length)).toString('hex'));
    }
  });
});
