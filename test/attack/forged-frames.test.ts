/**
 * An on-path attacker on one of two paths (issue 9), in the simulator: it
 * forges every kind of control and data frame into that path, in both
 * directions, during a bulk transfer. Each forgery must be refused and
 * counted before it touches any state, and the stream must arrive intact.
 */
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/wire/types.js';
import { Rng } from '../../lab/random.js';
import { Pair, payload, sha256, transfer, type Tap } from '../sim/scenario.js';
import { flipBit, forgeShort, observe, type Observed } from './injector.js';

const MiB = 1024 * 1024;
const fast = { delayMs: 10, rateBps: 50e6 };
/** The client address whose path the attacker sits on. */
const ATTACKED = '10.0.1.2';
/** An address of the attacker's that forged advertisements try to plant. */
const EVIL = '10.66.6.6';

function authFailures(pair: Pair, side: 'client' | 'server'): number {
  const conn = (side === 'client' ? pair.client : pair.server).connection;
  return conn?.stats().drops['auth-failed'] ?? 0;
}

/**
 * A tap on the attacked path that, every `every` datagrams towards `to`,
 * delivers `forge(seen)` before the real datagram.
 */
function injector(to: 'client' | 'server', every: number, forge: (seen: Observed, pair: Pair) => Frame[] | null, pairRef: { pair: Pair | null }): Tap & { injected: number } {
  let count = 0;
  const tap = ((dir, data, local, remote, _now, deliver) => {
    const onPath = dir === 'server' ? remote.address === ATTACKED : local.address === ATTACKED;
    if (dir === to && onPath && ++count % every === 0) {
      const seen = observe(data);
      const frames = seen === null || pairRef.pair === null ? null : forge(seen, pairRef.pair);
      if (seen !== null && frames !== null) {
        tap.injected++;
        deliver(forgeShort(seen, seen.packetNumber + 1, frames));
      }
    }
    deliver(data);
  }) as Tap & { injected: number };
  tap.injected = 0;
  return tap;
}

describe('forged frames from an on-path attacker on one path', () => {
  it('a forged CLOSE(NO_ERROR) cannot truncate the stream', () => {
    const ref: { pair: Pair | null } = { pair: null };
    const tap = injector('server', 200, () => [{ type: 'close', errorCode: 0, reason: '' }], ref);
    const pair = new Pair({ seed: 901, links: [fast, fast], tap });
    ref.pair = pair;
    const data = payload(8 * MiB, 901);
    expect(transfer(pair, data, 60_000)).toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(data));
    expect(tap.injected).toBeGreaterThan(5);
    expect(authFailures(pair, 'server')).toBeGreaterThanOrEqual(tap.injected);
    // The server ended by the client's FIN, not by the forged CLOSE.
    const closedAt = pair.server.events.findIndex((e) => e.event.type === 'closed');
    const endAt = pair.server.events.findIndex((e) => e.event.type === 'end');
    expect(endAt).toBeGreaterThanOrEqual(0);
    expect(closedAt === -1 || closedAt > endAt).toBe(true);
  });

  it('forged DATA racing the real packets cannot corrupt the stream', () => {
    const ref: { pair: Pair | null } = { pair: null };
    const tap = injector('server', 7, (_seen, pair) => {
      const at = pair.server.connection?.assembler.contiguousEnd ?? 0;
      return [{ type: 'data', offset: at, fin: false, data: new Uint8Array(1000).fill(0x41) }];
    }, ref);
    const pair = new Pair({ seed: 902, links: [fast, fast], tap });
    ref.pair = pair;
    const data = payload(8 * MiB, 902);
    expect(transfer(pair, data, 60_000)).toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(data));
    expect(tap.injected).toBeGreaterThan(50);
    expect(authFailures(pair, 'server')).toBeGreaterThanOrEqual(tap.injected);
  });

  it('a PING numbered a million ahead does not wedge acknowledgements', () => {
    const ref: { pair: Pair | null } = { pair: null };
    let done = false;
    const tap = ((dir, data, local, remote, now, deliver) => {
      if (!done && dir === 'server' && remote.address === ATTACKED && (ref.pair?.server.receivedBytes ?? 0) > MiB) {
        const seen = observe(data);
        if (seen !== null) {
          done = true;
          deliver(forgeShort({ ...seen }, seen.packetNumber + 1_000_000, [{ type: 'ping' }]));
        }
      }
      deliver(data);
      void local;
      void now;
    }) as Tap;
    const pair = new Pair({ seed: 903, links: [fast, { ...fast, lossRate: 0.01 }], tap });
    ref.pair = pair;
    const data = payload(8 * MiB, 903);
    expect(transfer(pair, data, 60_000)).toBe(true);
    expect(done).toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(data));
    expect(authFailures(pair, 'server')).toBeGreaterThanOrEqual(1);
    expect(pair.client.connection!.stats().drops['ack-of-unsent'] ?? 0).toBe(0);
  });

  const controlForgeries: Array<[string, (seen: Observed, pair: Pair) => Frame[]]> = [
    ['DATA_ACK acknowledging everything sent', (_s, pair) => [{ type: 'data_ack', cumulative: pair.client.connection!.sendBuffer.sendOffset, maxData: 2 ** 40 }]],
    ['PATH_ABANDON of the path it arrives on', (s) => [{ type: 'path_abandon', pathId: s.pathId, errorCode: 0 }]],
    ['PATH_STATUS locking the path as a backup', (s) => [{ type: 'path_status', pathId: s.pathId, seq: Number.MAX_SAFE_INTEGER, backup: true }]],
    ['ACK of packets in flight', (s, pair) => {
      const path = pair.client.connection!.pathsById.get(s.pathId)!;
      const largest = Math.max(0, path.nextPacketNumber - 1);
      return [{ type: 'ack', pathId: s.pathId, ackDelay: 0, ranges: [{ smallest: 0, largest }] }];
    }],
    ['CLOSE with an error', () => [{ type: 'close', errorCode: 0x105, reason: 'forged' }]],
    ['PATH_CHALLENGE', (s) => [{ type: 'path_challenge', pathId: s.pathId, data: new Uint8Array(8) }]],
    ['PATH_RESPONSE', (s) => [{ type: 'path_response', pathId: s.pathId, data: new Uint8Array(8) }]],
    ['ADD_ADDRESS of an address the attacker holds', () => [{ type: 'add_address', addressId: 77, seq: 2 ** 40, address: EVIL, port: 443, backup: false }]],
    ['REMOVE_ADDRESS of every address ID', () => Array.from({ length: 8 }, (_, i) => ({ type: 'remove_address' as const, addressId: i, seq: 2 ** 40 }))],
    ['RESET_TOKEN replacing the peer\'s token', () => [{ type: 'reset_token', token: new Uint8Array(16).fill(7) }]],
  ];

  it.each(controlForgeries)('towards the sender: forged %s is refused and counted', (_name, forge) => {
    const ref: { pair: Pair | null } = { pair: null };
    const tap = injector('client', 20, forge, ref);
    const lossy = { ...fast, lossRate: 0.01 };
    const pair = new Pair({ seed: 910 + _name.length, links: [lossy, lossy], tap });
    ref.pair = pair;
    const data = payload(4 * MiB, 910);
    expect(transfer(pair, data, 60_000), 'transfer finished').toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(data));
    expect(tap.injected).toBeGreaterThan(3);
    expect(authFailures(pair, 'client')).toBeGreaterThanOrEqual(tap.injected);
    // No path was closed or made a backup by the forgeries.
    const client = pair.client.connection!;
    for (const p of client.pathList) {
      expect(p.remoteBackup).toBe(false);
      expect(p.remote.address).not.toBe(EVIL);
    }
    expect(client.stats().pathsFailed).toBe(0);
    // No address, path or reset token of the attacker's was taken.
    expect(client.remoteAddresses.some((a) => a.address === EVIL)).toBe(false);
    expect(client.peerResetToken?.[0]).not.toBe(7);
  });
});

describe('a link that corrupts bits on one path', () => {
  for (const racing of [false, true]) {
    it(`flipping a bit in 1 % of its datagrams ${racing ? '(a corrupted copy racing the original)' : '(instead of the original)'} leaves the stream intact`, () => {
      const rng = new Rng(77);
      let flipped = 0;
      const tap: Tap = (_dir, data, local, remote, _now, deliver) => {
        const onPath = local.address === ATTACKED || remote.address === ATTACKED;
        if (onPath && rng.chance(0.01)) {
          flipped++;
          deliver(flipBit(data, rng));
          if (racing) deliver(data);
          return;
        }
        deliver(data);
      };
      const pair = new Pair({ seed: 930 + (racing ? 1 : 0), links: [fast, fast], tap });
      const data = payload(8 * MiB, 930);
      expect(transfer(pair, data, 60_000), 'transfer finished').toBe(true);
      expect(sha256(pair.server.received)).toBe(sha256(data));
      expect(flipped).toBeGreaterThan(20);
      const refused = authFailures(pair, 'server') + authFailures(pair, 'client');
      // A flip in the clear header can also make a datagram undeliverable (another CID) or undecodable.
      expect(refused).toBeGreaterThan(flipped / 2);
    });
  }
});
