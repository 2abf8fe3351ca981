/**
 * Stateless parts of the protocol (issue 9): a Retry counts only with its
 * integrity tag, and only the peer that lost a connection, holding the
 * token, can end it with a stateless reset.
 */
import { describe, expect, it } from 'vitest';
import { EndpointCore } from '../../src/core/endpoint.js';
import { encodePacket } from '../../src/wire/packet.js';
import { PacketType } from '../../src/wire/types.js';
import { Pair, SERVER_PORT, payload, transfer } from '../sim/scenario.js';

const fast = { delayMs: 10, rateBps: 50e6 };

describe('Retry', () => {
  it('a forged Retry (no valid integrity tag) is refused; the handshake goes on', () => {
    const pair = new Pair({ seed: 41, clientAddresses: ['10.0.1.2'], links: [fast] });
    const client = pair.connect();
    // An attacker who saw the client's CID answers first with a Retry of its own.
    const forged = encodePacket({ type: PacketType.Retry, dcid: client.localCid, pathId: 0, packetNumber: 0, keyPhase: false }, [
      { type: 'retry', cookie: new Uint8Array(20).fill(1) },
    ]);
    const withTag = new Uint8Array(forged.length + 16);
    withTag.set(forged);
    pair.client.endpoint.handleDatagram(withTag, { address: '10.0.1.2', port: 50000 }, { address: '10.0.0.1', port: SERVER_PORT }, pair.world.now);
    expect(client.stats().drops['bad-retry-tag']).toBe(1);
    expect(client.cookie.length).toBe(0);
    expect(pair.world.runUntil(() => client.isEstablished, 2_000)).toBe(true);
  });

  it('a real Retry (retry: always) is taken and the client connects with its cookie', () => {
    const pair = new Pair({ seed: 42, clientAddresses: ['10.0.1.2'], links: [fast], serverConfig: { retry: 'always' } });
    const data = payload(100_000);
    expect(transfer(pair, data, 10_000)).toBe(true);
    expect(pair.server.endpoint.stats().retriesSent).toBe(1);
    expect(pair.client.connection!.cookie.length).toBe(20);
  });
});

describe('stateless reset', () => {
  it('a server restarted with the same key ends its lost connections at once', () => {
    const key = new Uint8Array(32).fill(5);
    const pair = new Pair({ seed: 43, links: [fast, fast], serverConfig: { staticKey: key }, options: { idleTimeout: 30_000 } });
    const client = pair.connect();
    expect(pair.world.runUntil(() => pair.server.connection !== null && client.peerResetToken !== null, 2_000)).toBe(true);
    // The server process restarts: same key and address, no connection state.
    const fresh = new EndpointCore({ random: pair.world.random(), server: true, localAddresses: [{ address: '10.0.0.1', port: SERVER_PORT }], staticKey: key });
    pair.world.removeNode(pair.serverNode);
    pair.world.addNode(fresh, '10.0.0.1');
    const restartedAt = pair.world.now;
    client.write(payload(10_000));
    pair.client.endpoint.touch(client);
    expect(pair.world.runUntil(() => pair.has(pair.client, 'closed'), 5_000)).toBe(true);
    const closed = pair.client.events.find((e) => e.event.type === 'closed')!;
    expect(closed.event).toMatchObject({ code: 'ERR_MPUDP_STATELESS_RESET', remote: true });
    // One round trip, not the 30 s idle timeout.
    expect(closed.time - restartedAt).toBeLessThan(200);
    expect(fresh.stats().statelessResetsSent).toBeGreaterThanOrEqual(1);
  });

  it('a datagram without the token cannot end a connection', () => {
    const pair = new Pair({ seed: 44, links: [fast, fast] });
    const client = pair.connect();
    expect(pair.world.runUntil(() => client.peerResetToken !== null, 2_000)).toBe(true);
    for (let i = 0; i < 100; i++) {
      const fake = new Uint8Array(40);
      fake[0] = 0x42;
      fake.fill(i, 1);
      pair.client.endpoint.handleDatagram(fake, { address: '10.0.1.2', port: 50000 }, { address: '10.0.0.1', port: SERVER_PORT }, pair.world.now);
    }
    expect(client.isClosed).toBe(false);
    expect(transfer(pair, payload(200_000), 10_000)).toBe(true);
  });
});
