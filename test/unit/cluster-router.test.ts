/**
 * The pieces of a node:cluster worker's routing, without sockets: the
 * scale options and their error codes, the CIDs of a slot, the envelope
 * codec (total), and the router's decisions on a fake host and clock.
 */
import { describe, expect, it } from 'vitest';
import { cidFormatFor, validateScaleOptions } from '../../src/api/cluster-options.js';
import { CidFormat } from '../../src/core/cid/format.js';
import type { SocketAddress } from '../../src/core/types.js';
import { encodeHeader, headerLength } from '../../src/wire/header.js';
import { PacketType } from '../../src/wire/types.js';
import { decodeEnvelope, encodeBeat, encodeForward } from '../../src/io/cluster-envelope.js';
import { ClusterRouter, LIVE_WINDOW, type ClusterHost } from '../../src/io/cluster-router.js';
import { Rng } from '../../lab/random.js';

function expectCode(fn: () => unknown, code: string): void {
  let thrown: unknown = null;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect((thrown as { code?: string } | null)?.code).toBe(code);
}

describe('scale options', () => {
  it('cluster mode is on in a worker unless cluster: false, and off elsewhere', () => {
    expect(validateScaleOptions({}, true).cluster).not.toBeNull();
    expect(validateScaleOptions({ cluster: false }, true).cluster).toBeNull();
    expect(validateScaleOptions({ cluster: { workers: 3, ownPort: 9000 } }, true).cluster).toEqual({ workers: 3, ownPort: 9000 });
    expect(validateScaleOptions({ cluster: { workers: 3 } }, false).cluster).toBeNull();
  });

  it('bad values throw with stable codes', () => {
    expectCode(() => validateScaleOptions({ cluster: 'yes' }, true), 'ERR_INVALID_ARG_TYPE');
    expectCode(() => validateScaleOptions({ cluster: { workers: 0 } }, true), 'ERR_OUT_OF_RANGE');
    expectCode(() => validateScaleOptions({ cluster: { workers: 257 } }, true), 'ERR_OUT_OF_RANGE');
    expectCode(() => validateScaleOptions({ cluster: { ownPort: 70000 } }, true), 'ERR_SOCKET_BAD_PORT');
    expectCode(() => validateScaleOptions({ quicLb: { serverId: 'ab' } }, false), 'ERR_INVALID_ARG_TYPE');
    expectCode(() => validateScaleOptions({ quicLb: { serverId: new Uint8Array(1), configId: 7 } }, false), 'ERR_OUT_OF_RANGE');
    expectCode(() => validateScaleOptions({ quicLb: { serverId: new Uint8Array(1), key: new Uint8Array(3) } }, false), 'ERR_INVALID_ARG_VALUE');
    // 8-byte CIDs: at most 3 bytes of server ID alone, 2 beside a worker slot.
    expect(validateScaleOptions({ quicLb: { serverId: new Uint8Array(3) } }, false).quicLb!.nonceLength).toBe(4);
    expectCode(() => validateScaleOptions({ quicLb: { serverId: new Uint8Array(3) } }, true), 'ERR_INVALID_ARG_VALUE');
    expectCode(() => validateScaleOptions({ quicLb: { serverId: new Uint8Array(0) } }, false), 'ERR_INVALID_ARG_VALUE');
  });

  it('every CID a worker issues is 8 bytes and reads back to its server ID and slot, plaintext and encrypted', () => {
    const rng = new Rng(5);
    for (const key of [null, Uint8Array.from({ length: 16 }, (_, i) => i * 7)]) {
      const scale = validateScaleOptions({ cluster: { workers: 4 }, quicLb: { configId: 2, serverId: Uint8Array.of(0xab, 0xcd), key } }, true);
      for (let slot = 0; slot < 4; slot++) {
        const format = cidFormatFor(scale, slot);
        const reader = cidFormatFor(scale, (slot + 1) % 4);
        for (let i = 0; i < 50; i++) {
          const cid = format.issue((n) => rng.bytes(n));
          expect(cid.length).toBe(8);
          expect(cid[0]! >>> 5).toBe(2);
          expect(reader.slotOf(cid)).toBe(slot);
          expect([...reader.parse(cid)!.serverId]).toEqual([0xab, 0xcd]);
        }
      }
    }
  });
});

describe('cluster envelopes', () => {
  it('round-trip a forwarded datagram with its IPv4 or IPv6 client address, and beats', () => {
    const datagram = Uint8Array.of(0x42, 1, 2, 3);
    for (const remote of [{ address: '192.0.2.7', port: 50000 }, { address: '2001:db8::9', port: 1 }]) {
      const e = decodeEnvelope(encodeForward(remote, datagram));
      expect(e).toEqual({ kind: 'forward', remote, datagram });
    }
    expect(decodeEnvelope(encodeBeat(3))).toEqual({ kind: 'beat', slot: 3 });
  });

  it('decoding random bytes never throws', () => {
    const rng = new Rng(11);
    for (let i = 0; i < 5000; i++) {
      const bytes = rng.bytes(rng.int(0, 40));
      if (rng.chance(0.5) && bytes.length > 0) bytes[0] = 0xc5;
      if (rng.chance(0.5) && bytes.length > 1) bytes[1] = rng.int(1, 2);
      const e = decodeEnvelope(bytes);
      expect(e === null || e.kind === 'forward' || e.kind === 'beat').toBe(true);
    }
  });
});

/** A router on a fake host: what it delivered and what it sent, and when. */
function setup(slot: number, slots = 2) {
  let now = 0;
  const delivered: { msg: Uint8Array; local: SocketAddress; remote: SocketAddress }[] = [];
  const sent: { data: Uint8Array; from: string; to: SocketAddress }[] = [];
  const host: ClusterHost = {
    deliver: (msg, local, remote) => delivered.push({ msg, local, remote }),
    sendShared: (data, from, to) => (sent.push({ data, from, to }), true),
  };
  const format = new CidFormat({ quicLb: null, slot });
  const router = new ClusterRouter({ sharedPort: 4433, slot, slots, firstPort: 5000, format, clock: { now: () => now } });
  router.addAddress('127.0.0.1');
  router.start(host);
  return {
    router,
    delivered,
    sent,
    format,
    advance: (ms: number) => (now += ms),
    beatFrom: (s: number) => router.fromHost(encodeBeat(s), { address: '127.0.0.1', port: 4433 }),
  };
}

function packet(type: PacketType, dcid: Uint8Array): Uint8Array {
  const header = { type, dcid, pathId: 0, packetNumber: 0, keyPhase: false };
  const out = new Uint8Array(headerLength(header) + 4);
  encodeHeader(header, out, 0);
  return out;
}

const LOCAL = { address: '127.0.0.1', port: 4433 };
const CLIENT = { address: '127.0.0.9', port: 40000 };

describe('ClusterRouter', () => {
  it('keeps every Initial while no other worker is heard; shares them by DCID once one is, the same DCID always to one worker', () => {
    const a = setup(0);
    const rng = new Rng(3);
    const dcids = Array.from({ length: 64 }, () => rng.bytes(8));
    for (const d of dcids) a.router.fromShared(packet(PacketType.Initial, d), LOCAL, CLIENT);
    expect(a.delivered.length).toBe(64);
    a.beatFrom(1);
    expect(a.router.liveSlots()).toEqual([0, 1]);
    const b = setup(1);
    b.beatFrom(0);
    let kept = 0;
    for (const d of dcids) {
      const ownerA = a.router.initialOwner(d);
      expect(b.router.initialOwner(d)).toBe(ownerA);
      if (ownerA === 0) kept++;
    }
    // Both workers get a share (binomial 64, 1/2).
    expect(kept).toBeGreaterThan(10);
    expect(kept).toBeLessThan(54);
    a.delivered.length = 0;
    for (const d of dcids) a.router.fromShared(packet(PacketType.Initial, d), LOCAL, CLIENT);
    expect(a.delivered.length).toBe(kept);
    expect(a.router.stats().forwardedOut.initial).toBe(64 - kept);
    // Forwarded once, to slot 1's port on the address it came to, with the client's address inside.
    const f = a.sent.filter((s) => s.to.port === 5001 && decodeEnvelope(s.data)?.kind === 'forward');
    expect(f.length).toBe(64 - kept);
    const e = decodeEnvelope(f[0]!.data);
    expect(e?.kind === 'forward' && e.remote).toEqual(CLIENT);
    a.router.stop();
    b.router.stop();
  });

  it('a slot not heard for the live window takes no more Initials', () => {
    const a = setup(0);
    a.beatFrom(1);
    a.advance(LIVE_WINDOW + 1);
    expect(a.router.liveSlots()).toEqual([0]);
    const rng = new Rng(4);
    for (let i = 0; i < 32; i++) expect(a.router.initialOwner(rng.bytes(8))).toBe(0);
    a.router.stop();
  });

  it('routes other packets by the slot in their CID, and keeps what names no slot', () => {
    const a = setup(0);
    const other = new CidFormat({ quicLb: null, slot: 1 });
    const rng = new Rng(6);
    a.router.fromShared(packet(PacketType.Short, other.issue((n) => rng.bytes(n))), LOCAL, CLIENT);
    a.router.fromShared(packet(PacketType.Short, a.format.issue((n) => rng.bytes(n))), LOCAL, CLIENT);
    a.router.fromShared(Uint8Array.of(0x99, 1, 2), LOCAL, CLIENT);
    const s = a.router.stats();
    expect(s.forwardedOut.other).toBe(1);
    expect(s.sharedKept).toBe(2);
    expect(a.delivered.length).toBe(2);
    a.router.stop();
  });

  it('believes envelopes only from a host address and the shared port', () => {
    const a = setup(0);
    const env = encodeForward(CLIENT, packet(PacketType.Short, new Uint8Array(8)));
    expect(a.router.fromHost(env, { address: '127.0.0.2', port: 4433 })).toBe(false);
    expect(a.router.fromHost(env, { address: '127.0.0.1', port: 4434 })).toBe(false);
    expect(a.router.fromHost(env, { address: '127.0.0.1', port: 4433 })).toBe(true);
    expect(a.delivered).toHaveLength(1);
    expect(a.delivered[0]!.remote).toEqual(CLIENT);
    expect(a.delivered[0]!.local).toEqual(LOCAL);
    expect(a.router.fromHost(Uint8Array.of(1, 2, 3), { address: '127.0.0.1', port: 4433 })).toBe(true);
    expect(a.router.stats().drops['bad-envelope']).toBe(1);
    a.router.stop();
  });
});
