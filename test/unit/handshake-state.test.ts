/**
 * What a connection keeps of its handshake: nothing once established (an
 * idle connection holds neither keys nor HELLOs of it), and a late copy of
 * the client's Initial after that is counted and answered no more, without
 * leaving the server with something it believes it must send.
 */
import { describe, expect, it } from 'vitest';
import { EndpointCore } from '../../src/core/endpoint.js';
import type { Connection } from '../../src/core/connection.js';
import { Rng } from '../../lab/random.js';
import { peekPacketType } from '../../src/wire/header.js';
import { PacketType } from '../../src/wire/types.js';

const S = { address: '10.0.0.1', port: 4433 };
const C = { address: '10.0.1.2', port: 50000 };

function pair(keyPairs?: () => null) {
  const rng = new Rng(21);
  const random = (n: number): Uint8Array => rng.bytes(n);
  const server = new EndpointCore({ random, server: true, localAddresses: [S], ...(keyPairs ? { keyPairs } : {}) });
  const client = new EndpointCore({ random, server: false });
  let now = 1000;
  let accepted: Connection | null = null;
  const initials: Uint8Array[] = [];
  const step = (): void => {
    for (let t = client.pollTransmit(now); t !== null; t = client.pollTransmit(now)) {
      if (peekPacketType(t.data) === PacketType.Initial && initials.length === 0) initials.push(t.data.slice());
      server.handleDatagram(t.data, S, C, now);
    }
    for (let t = server.pollTransmit(now); t !== null; t = server.pollTransmit(now)) client.handleDatagram(t.data, C, S, now);
    for (let e = server.pollEvent(); e !== null; e = server.pollEvent()) if (e.type === 'accepted') accepted = e.connection;
    for (let e = client.pollEvent(); e !== null; e = client.pollEvent());
    now += 1;
  };
  return { server, client, step, initials, accepted: () => accepted, now: () => now };
}

describe('handshake state', () => {
  it('is dropped by both ends once established', () => {
    const p = pair();
    const conn = p.client.connect({ localAddresses: [C], remoteAddresses: [S] }, 1000);
    expect(conn.handshake).not.toBeNull();
    for (let i = 0; i < 20 && p.accepted() === null; i++) p.step();
    const server = p.accepted()!;
    expect(server).not.toBeNull();
    expect(conn.isEstablished && server.isEstablished).toBe(true);
    expect(conn.handshake).toBeNull();
    expect(server.handshake).toBeNull();
    expect(server.handshakeProof).toBeNull();
  });

  it('a late copy of the Initial after confirmation is counted, not answered', () => {
    const p = pair();
    p.client.connect({ localAddresses: [C], remoteAddresses: [S] }, 1000);
    for (let i = 0; i < 20 && p.accepted() === null; i++) p.step();
    const server = p.accepted()!;
    expect(p.initials.length).toBe(1);
    const before = server.stats().drops['initial-duplicate'] ?? 0;
    p.server.handleDatagram(p.initials[0]!, S, C, p.now());
    expect(server.stats().drops['initial-duplicate'] ?? 0).toBe(before + 1);
    expect(server.handshakeResponsePending).toBe(false);
    // Nothing to send for it, and no deadline pinned at "now".
    const t = p.server.pollTransmit(p.now());
    expect(t === null || peekPacketType(t.data) === PacketType.Short).toBe(true);
    expect(p.server.pollTimeout() ?? Infinity).toBeGreaterThan(p.now());
  });

  it('an empty key-pair source leaves the core to make its own keys', () => {
    let asked = 0;
    const p = pair(() => {
      asked++;
      return null;
    });
    p.client.connect({ localAddresses: [C], remoteAddresses: [S] }, 1000);
    for (let i = 0; i < 20 && p.accepted() === null; i++) p.step();
    expect(p.accepted()).not.toBeNull();
    expect(asked).toBe(1);
  });
});
