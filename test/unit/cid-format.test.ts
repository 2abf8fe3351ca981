/**
 * The connection ID formats (src/core/cid): the QUIC-LB draft's test
 * vectors and worked example, byte for byte; property tests that every
 * issued CID reads back to its server ID and worker slot under every
 * encoding and length; and totality of the reader on random bytes.
 * Set CID_SEED to replay another seed.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/random.js';
import { AesBlock } from '../../src/core/cid/aes-block.js';
import { expand, feistelDecrypt, feistelEncrypt } from '../../src/core/cid/feistel.js';
import { CidFormat, DEFAULT_CID_LENGTH, quicLbProblem, type QuicLbConfig } from '../../src/core/cid/format.js';
import { BlockCipher, UNROUTABLE_CONFIG, configIdOf, decodeCid, encodeCid } from '../../src/core/cid/quic-lb.js';

const SEED = Number(process.env.CID_SEED ?? 0xc1d5);
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const randomOf = (rng: Rng) => (n: number): Uint8Array => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(0, 255);
  return out;
};

describe('QUIC-LB test vectors (draft-ietf-quic-load-balancers, appendix B)', () => {
  it('plaintext: config 0, server ID c4605e, nonce 4504cc4f', () => {
    // The appendix's second plaintext vector is malformed in the draft (a
    // 4.5-byte nonce); only the first is checked.
    expect(toHex(encodeCid(0, new BlockCipher(null), hex('c4605e4504cc4f')))).toBe('07c4605e4504cc4f');
    expect(toHex(decodeCid(0, new BlockCipher(null), 7, hex('07c4605e4504cc4f'))!)).toBe('c4605e4504cc4f');
  });

  const key = hex('8f95f09245765f80256934e50c66207f');
  // [config rotation bits, server ID, nonce, CID]. The last vector's first
  // octet in the draft is 0x12 (codepoint 0, 18 bytes) although its row says
  // codepoint 3; its ciphertext is checked under codepoint 0.
  const encrypted: Array<[number, string, string, string, string]> = [
    [0, 'ed793a', 'ee080dbf', '0720b1d07b359d3c', 'four passes, odd length (7)'],
    [1, 'ed793a51d49b8f5fab65', 'ee080dbf48', '2fcc381bc74cb4fbad2823a3d1f8fed2', 'four passes, server ID longer than the nonce'],
    [2, 'ed793a51d49b8f5f', 'ee080dbf48c0d1e5', '504dd2d05a7b0de9b2b9907afb5ecf8cc3', 'single pass (16 bytes)'],
    [0, 'ed793a51d49b8f5fab', 'ee080dbf48c0d1e55d', '125779c9cc86beb3a3a4a3ca96fce4bfe0cdbc', 'four passes, even length (18)'],
  ];
  for (const [cr, sid, nonce, cid, what] of encrypted) {
    it(`encrypted, ${what}`, () => {
      const cipher = new BlockCipher(key);
      expect(toHex(encodeCid(cr, cipher, hex(sid + nonce)))).toBe(cid);
      expect(toHex(decodeCid(cr, cipher, (sid.length + nonce.length) / 2, hex(cid))!)).toBe(sid + nonce);
      const format = new CidFormat({ quicLb: { configId: cr, serverId: hex(sid), nonceLength: nonce.length / 2, key }, slot: null });
      expect(format.length).toBe(cid.length / 2);
      expect(toHex(format.parse(hex(cid))!.serverId)).toBe(sid);
    });
  }

  it('the four-pass worked example, step by step', () => {
    const aes = new AesBlock(hex('fdf726a9893ec05c0632d3956680baf0'));
    expect(toHex(expand(6, 2, hex('aaba3c')))).toBe('aaba3c00000000000000000000000602');
    expect(toHex(aes.encrypt(expand(7, 1, hex('31441a90'))))).toBe('a255dd8cdacf01948d3a848c3c7fee23');
    expect(toHex(feistelEncrypt(aes, hex('31441a9c69c275')))).toBe('67947d29be054a');
    expect(toHex(feistelDecrypt(aes, hex('67947d29be054a')))).toBe('31441a9c69c275');
  });
});

describe('CID formats: properties', () => {
  const rng = new Rng(SEED);
  const random = randomOf(rng);

  it('the four passes invert for every length from 5 to 19 but 16', () => {
    const aes = new AesBlock(random(16));
    for (let n = 5; n <= 19; n++) {
      if (n === 16) continue;
      for (let i = 0; i < 50; i++) {
        const pt = random(n);
        const ct = feistelEncrypt(aes, pt);
        expect(ct.length).toBe(n);
        expect(toHex(feistelDecrypt(aes, ct))).toBe(toHex(pt));
      }
    }
  });

  it('every issued CID reads back to its server ID and slot, plaintext and encrypted, in and out of a cluster', () => {
    let checked = 0;
    for (let round = 0; round < 400; round++) {
      const cluster = rng.chance(0.5);
      const encrypted = rng.chance(0.5);
      const sidLength = rng.int(1, 8);
      const config: QuicLbConfig = {
        configId: rng.int(0, 6),
        serverId: random(sidLength),
        nonceLength: rng.int(4, 19 - sidLength - (cluster ? 1 : 0)),
        key: encrypted ? random(16) : null,
      };
      if (quicLbProblem(config, cluster) !== null) continue;
      const slot = cluster ? rng.int(0, 255) : null;
      const format = new CidFormat({ quicLb: config, slot });
      // Another worker of the same host reads the same CIDs.
      const peer = new CidFormat({ quicLb: config, slot: cluster ? (slot! + 1) % 256 : null });
      for (let i = 0; i < 5; i++) {
        const cid = format.issue(random);
        expect(cid.length).toBe(format.length);
        expect(configIdOf(cid)).toBe(config.configId);
        // Length self-description: the low five bits are the bytes after the first.
        expect(cid[0]! & 0x1f).toBe(cid.length - 1);
        const parsed = peer.parse(cid);
        expect(parsed, toHex(cid)).not.toBeNull();
        expect(toHex(parsed!.serverId)).toBe(toHex(config.serverId));
        expect(parsed!.slot).toBe(slot);
        expect(peer.slotOf(cid)).toBe(slot);
        if (!encrypted) expect(toHex(cid.subarray(1, 1 + sidLength))).toBe(toHex(config.serverId));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('without a configuration: 8 bytes, codepoint 0b111 (unroutable), the slot after the first octet', () => {
    const plain = new CidFormat({ quicLb: null, slot: null });
    const worker = new CidFormat({ quicLb: null, slot: 42 });
    for (let i = 0; i < 100; i++) {
      const a = plain.issue(random);
      const b = worker.issue(random);
      expect([a.length, b.length]).toEqual([DEFAULT_CID_LENGTH, DEFAULT_CID_LENGTH]);
      expect([configIdOf(a), configIdOf(b)]).toEqual([UNROUTABLE_CONFIG, UNROUTABLE_CONFIG]);
      expect(b[1]).toBe(42);
      expect(plain.slotOf(a)).toBeNull();
      expect(worker.slotOf(b)).toBe(42);
    }
  });

  it('reading is total: random bytes of any length give a parse or null, never an exception', () => {
    const formats = [
      new CidFormat({ quicLb: null, slot: 3 }),
      new CidFormat({ quicLb: { configId: 1, serverId: hex('0a0b'), nonceLength: 5, key: random(16) }, slot: 7 }),
      new CidFormat({ quicLb: { configId: 2, serverId: hex('0a'), nonceLength: 14, key: random(16) }, slot: 7 }),
      new CidFormat({ quicLb: { configId: 0, serverId: hex('0c'), nonceLength: 6, key: null }, slot: null }),
    ];
    let some = 0;
    for (let i = 0; i < 2000; i++) {
      const bytes = random(rng.int(0, 24));
      for (const f of formats) {
        const p = f.parse(bytes);
        if (p !== null) {
          some++;
          expect(bytes.length).toBe(f.length);
        }
      }
    }
    // The unconfigured format accepts any 8 bytes starting 0b111.
    expect(some).toBeGreaterThan(0);
  });

  it('a CID of another host (another server ID) or another configuration is not read as ours', () => {
    const key = random(16);
    const ours = new CidFormat({ quicLb: { configId: 1, serverId: hex('01'), nonceLength: 5, key }, slot: 0 });
    const theirs = new CidFormat({ quicLb: { configId: 1, serverId: hex('02'), nonceLength: 5, key }, slot: 0 });
    const rotated = new CidFormat({ quicLb: { configId: 2, serverId: hex('01'), nonceLength: 5, key }, slot: 0 });
    for (let i = 0; i < 100; i++) {
      expect(ours.parse(theirs.issue(random))).toBeNull();
      expect(ours.parse(rotated.issue(random))).toBeNull();
    }
  });

  it('refuses configurations the draft forbids, with the reason', () => {
    const base: QuicLbConfig = { configId: 0, serverId: hex('01'), nonceLength: 6, key: null };
    expect(quicLbProblem(base, true)).toBeNull();
    expect(quicLbProblem({ ...base, configId: 7 }, false)).toMatch(/0b111 is reserved/);
    expect(quicLbProblem({ ...base, serverId: new Uint8Array(0) }, false)).toMatch(/serverId/);
    expect(quicLbProblem({ ...base, nonceLength: 3 }, false)).toMatch(/nonceLength/);
    expect(quicLbProblem({ ...base, key: new Uint8Array(15) }, false)).toMatch(/key/);
    expect(quicLbProblem({ ...base, serverId: new Uint8Array(15), nonceLength: 4 }, false)).toBeNull();
    expect(quicLbProblem({ ...base, serverId: new Uint8Array(15), nonceLength: 4 }, true)).toMatch(/at most 19/);
    expect(quicLbProblem({ ...base, nonceLength: 4 }, false)).toMatch(/at least 8/);
    expect(() => new CidFormat({ quicLb: { ...base, configId: 9 }, slot: null })).toThrow(RangeError);
  });
});
