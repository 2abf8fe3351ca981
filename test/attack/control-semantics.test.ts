/**
 * A malicious peer (it holds the keys, so its packets authenticate) against
 * the control semantics (issue 9): a graceful CLOSE before its FIN, ACKs of
 * packets never sent (optimistic ACKs), address-advert floods and stale
 * adverts, and path churn with JOIN(k)+ABANDON(k). Each is refused or ends
 * the connection with a stable code, and is counted; nothing grows past its
 * cap.
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/core/connection.js';
import { sealedPacket } from '../../src/core/packet-writer.js';
import type { PathState } from '../../src/core/path/path-state.js';
import type { Frame } from '../../src/wire/types.js';
import { Pair, payload } from '../sim/scenario.js';

const fast = { delayMs: 5, rateBps: 100e6 };

function connected(seed: number, opts: ConstructorParameters<typeof Pair>[0] = { seed }): { pair: Pair; client: Connection; server: Connection } {
  const pair = new Pair({ clientAddresses: ['10.0.1.2'], links: [fast], ...opts, seed });
  const client = pair.connect();
  pair.world.runUntil(() => pair.server.connection?.isEstablished === true && client.isEstablished, 2_000);
  pair.world.runFor(50);
  return { pair, client, server: pair.server.connection! };
}

/** `from` sends `frames` to its peer on `path` (sealed with its own keys). */
function inject(pair: Pair, from: Connection, path: PathState, frames: Frame[], toServer: boolean): void {
  const packet = sealedPacket(from, path, frames, 65_000)!;
  const side = toServer ? pair.server : pair.client;
  side.endpoint.handleDatagram(packet, path.remote, path.local, pair.world.now);
  pair.pump(side);
}

/** A stand-in PathState for a path ID the sender never opened (only id and packet numbers are read). */
function fakePath(real: PathState, id: number): PathState {
  return Object.assign(Object.create(Object.getPrototypeOf(real) as object) as PathState, { ...real, id, nextPacketNumber: 0, skippedPacketNumbers: [], nextSkip: Infinity });
}

describe('a malicious peer', () => {
  it('CLOSE(NO_ERROR) before its FIN is a protocol violation, never a clean end', () => {
    const { pair, client, server } = connected(71);
    client.write(payload(50_000));
    pair.client.endpoint.touch(client);
    pair.world.runUntil(() => pair.server.receivedBytes >= 50_000, 2_000);
    inject(pair, client, client.pathsById.get(0)!, [{ type: 'close', errorCode: 0, reason: '' }], true);
    const closed = pair.server.events.find((e) => e.event.type === 'closed')?.event;
    expect(closed).toMatchObject({ code: 'ERR_MPUDP_PROTOCOL_VIOLATION', remote: true });
    expect(pair.has(pair.server, 'end')).toBe(false);
    expect(server.stats().drops['close-before-fin']).toBe(1);
  });

  it('an ACK of a packet number the sender skipped (optimistic ACK) closes the connection', () => {
    const { pair, client, server } = connected(72);
    client.write(payload(3_000_000));
    pair.client.endpoint.touch(client);
    const path = client.pathsById.get(0)!;
    pair.world.runUntil(() => path.skippedPacketNumbers.length > 0, 10_000);
    const skipped = path.skippedPacketNumbers[0]!;
    // The receiver claims everything up to the newest packet, the skipped one included.
    inject(pair, server, server.pathsById.get(0)!, [{ type: 'ack', pathId: 0, ackDelay: 0, ranges: [{ smallest: 0, largest: path.nextPacketNumber - 1 }] }], false);
    expect(skipped).toBeLessThan(path.nextPacketNumber);
    expect(client.stats().drops['optimistic-ack']).toBe(1);
    const closed = pair.client.events.find((e) => e.event.type === 'closed')?.event;
    expect(closed).toMatchObject({ code: 'ERR_MPUDP_PROTOCOL_VIOLATION' });
  });

  it('an ACK of a packet never sent closes the connection', () => {
    const { pair, client, server } = connected(73);
    const path = client.pathsById.get(0)!;
    inject(pair, server, server.pathsById.get(0)!, [{ type: 'ack', pathId: 0, ackDelay: 0, ranges: [{ smallest: 0, largest: path.nextPacketNumber + 1_000_000 }] }], false);
    expect(client.stats().drops['ack-of-unsent']).toBe(1);
    expect(pair.client.events.find((e) => e.event.type === 'closed')?.event).toMatchObject({ code: 'ERR_MPUDP_PROTOCOL_VIOLATION' });
  });

  it('20,000 ADD_ADDRESS from a server: at most maxPeerAddresses kept, quickly, no more paths than maxPaths', () => {
    const { pair, client, server } = connected(74);
    const path = server.pathsById.get(0)!;
    const t0 = performance.now();
    for (let i = 0; i < 20_000; i += 100) {
      const frames: Frame[] = [];
      for (let j = i; j < i + 100; j++) {
        frames.push({ type: 'add_address', addressId: 1000 + j, seq: 1000 + j, address: `10.${(j >> 16) & 255}.${(j >> 8) & 255}.${j & 255}`, port: 443, backup: false });
      }
      inject(pair, server, path, frames, false);
    }
    const ms = performance.now() - t0;
    console.log(`20,000 ADD_ADDRESS: ${ms.toFixed(0)} ms of client CPU`);
    expect(client.remoteAddresses.length).toBeLessThanOrEqual(16);
    expect(client.advertisedByPeer.size).toBeLessThanOrEqual(32);
    expect(client.pathList.length).toBeLessThanOrEqual(client.options.maxPaths);
    expect(client.stats().drops['too-many-addresses']).toBeGreaterThan(19_900);
    // The same address under many IDs is stored once.
    expect(new Set(client.remoteAddresses.map((a) => `${a.address}|${a.port}`)).size).toBe(client.remoteAddresses.length);
  });

  it('a stale ADD_ADDRESS cannot bring back a withdrawn address', () => {
    const { pair, client, server } = connected(75);
    const path = server.pathsById.get(0)!;
    const addr = { address: '10.0.9.9', port: 443 };
    inject(pair, server, path, [{ type: 'add_address', addressId: 77, seq: 100, ...addr, backup: false }], false);
    expect(client.remoteAddresses).toContainEqual(addr);
    inject(pair, server, path, [{ type: 'remove_address', addressId: 77, seq: 101 }], false);
    expect(client.remoteAddresses).not.toContainEqual(addr);
    // A retransmission of the old ADD_ADDRESS arrives late.
    inject(pair, server, path, [{ type: 'add_address', addressId: 77, seq: 100, ...addr, backup: false }], false);
    expect(client.remoteAddresses).not.toContainEqual(addr);
    expect(client.stats().drops['stale-address']).toBe(1);
  });

  it('JOIN(k)+ABANDON(k) churn never holds more than maxPaths paths, frees the closed ones, and refuses reused IDs', () => {
    const { pair, client, server } = connected(76);
    const real = client.pathsById.get(0)!;
    let most = 0;
    for (let k = 1; k <= 5_000; k++) {
      const p = fakePath(real, k);
      inject(pair, client, p, [{ type: 'path_join', pathId: k }, { type: 'path_challenge', pathId: k, data: new Uint8Array(8) }, { type: 'path_abandon', pathId: k, errorCode: 0 }], true);
      most = Math.max(most, server.pathList.length);
    }
    // A replay of an old JOIN (a new packet, same path ID) opens nothing.
    inject(pair, client, fakePath(real, 3), [{ type: 'path_join', pathId: 3 }], true);
    expect(most).toBeLessThanOrEqual(server.options.maxPaths);
    expect(server.pathList.length).toBe(1);
    expect(server.stats().pathsFreed).toBe(5_000);
    expect(server.stats().drops['path-id-reused']).toBe(1);
    expect(server.isEstablished).toBe(true);
  });

  it('packets on 5,000 path IDs it never joins leave no per-path key state behind', () => {
    const { pair, client, server } = connected(77);
    const real = client.pathsById.get(0)!;
    for (let k = 1; k <= 5_000; k++) {
      inject(pair, client, fakePath(real, k), [{ type: 'ping' }], true);
      client.protection!.forgetPath(k); // the attacker's own bookkeeping (only the server is under test)
    }
    expect(server.stats().drops['unknown-path']).toBe(5_000);
    expect(server.protection!.pathsTracked).toBeLessThanOrEqual(server.pathList.length);
    expect(server.isEstablished).toBe(true);
  });
});
