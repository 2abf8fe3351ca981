/**
 * How the endpoint finds a datagram's connection (src/core/endpoint.ts): by
 * its CID in a Map, and for a datagram to the same connection as the last
 * one, by comparing the CID's bytes in place. The shortcut must never
 * outlive the connection it points to, nor send one connection's
 * datagrams to another.
 */
import { describe, expect, it } from 'vitest';
import { encodePacket } from '../../src/wire/packet.js';
import { PacketType } from '../../src/wire/types.js';
import { Pair, SERVER_PORT, payload, transfer } from '../sim/scenario.js';

const link = { delayMs: 5, rateBps: 50e6 };
const CLIENT = { address: '10.0.1.2', port: 50000 };
const SERVER = { address: '10.0.0.1', port: SERVER_PORT };

describe('endpoint lookup by connection ID', () => {
  it('a datagram to a connection the endpoint forgot reaches nothing, even right after one reached it', () => {
    const pair = new Pair({ seed: 61, clientAddresses: ['10.0.1.2'], links: [link] });
    expect(transfer(pair, payload(200_000), 10_000)).toBe(true);
    const server = pair.server.connection!;
    const serverCid = server.localCid;
    // The server's last datagram came for this connection; it ends and is forgotten.
    pair.client.connection!.close(0, 'done');
    expect(pair.world.runUntil(() => pair.server.endpoint.stats().connections === 0, 10_000)).toBe(true);
    const before = pair.server.endpoint.stats().drops['unknown-connection'] ?? 0;
    const stray = encodePacket({ type: PacketType.Short, dcid: serverCid, pathId: 0, packetNumber: 1_000, keyPhase: false }, [{ type: 'ping' }]);
    const padded = new Uint8Array(Math.max(stray.length, 64));
    padded.set(stray);
    pair.server.endpoint.handleDatagram(padded, SERVER, CLIENT, pair.world.now);
    expect(pair.server.endpoint.stats().drops['unknown-connection']).toBe(before + 1);
    expect(server.stats().drops.decode ?? 0).toBe(0);
  });

  it('datagrams of two connections in turn each reach their own', () => {
    const pair = new Pair({ seed: 62, clientAddresses: ['10.0.1.2'], links: [link] });
    const a = pair.connect();
    expect(pair.world.runUntil(() => a.isEstablished, 2_000)).toBe(true);
    const b = pair.client.endpoint.connect({ localAddresses: [{ address: '10.0.1.2', port: 50000 }], remoteAddresses: [SERVER] }, pair.world.now);
    expect(pair.world.runUntil(() => b.isEstablished, 2_000)).toBe(true);
    // Both write in turn, so the server's datagrams alternate between the two.
    for (let i = 0; i < 20; i++) {
      a.write(payload(3_000, 2 * i));
      b.write(payload(5_000, 2 * i + 1));
      pair.client.endpoint.touch(a);
      pair.client.endpoint.touch(b);
      pair.world.runUntil(() => false, 20);
    }
    // A datagram handed to the other connection would not open there (other
    // keys): its bytes would never be acknowledged.
    expect(pair.world.runUntil(() => a.sendBuffer.ackedBelow === 60_000 && b.sendBuffer.ackedBelow === 100_000, 5_000)).toBe(true);
    expect(pair.server.endpoint.stats().accepted).toBe(2);
    expect(pair.server.endpoint.stats().drops).toEqual({});
  });
});
