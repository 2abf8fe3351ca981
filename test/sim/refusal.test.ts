/**
 * Refused first contact and late CLOSEs in the simulator: a closing server
 * refuses Initials at once; ICMP unreachable for every first-contact pair
 * (handlePathError) fails the handshake at once, for some pairs it does
 * not, and after the handshake it changes nothing; a CLOSE the io loop sends
 * late still reaches the peer.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_PORT, Pair, SERVER_PORT, payload, sha256, transfer } from './scenario.js';

const link = { delayMs: 10, rateBps: 50e6 };
const pairAt = (i: number, pair: Pair) => ({
  local: { address: pair.clientAddresses[i]!, port: CLIENT_PORT },
  remote: { address: pair.serverAddresses[0]!, port: SERVER_PORT },
});

describe('refused first contact', () => {
  it('a server that stopped accepting refuses the handshake in one round trip', () => {
    const pair = new Pair({ seed: 61, links: [link, link] });
    pair.server.endpoint.stopAccepting();
    const start = pair.world.now;
    const client = pair.connect();
    expect(pair.world.runUntil(() => client.isClosed, 5_000)).toBe(true);
    const closed = pair.client.events.find((e) => e.event.type === 'closed')!;
    expect(closed.event).toMatchObject({ code: 'ERR_MPUDP_REFUSED', remote: true });
    expect(closed.event.type === 'closed' && closed.event.reason).toMatch(/closing/);
    // One round trip on a 10 ms link, both pairs refused.
    expect(closed.time - start).toBeLessThanOrEqual(2 * 10 + 5);
    expect(client.stats().refusals).toBe(2);
    expect(pair.server.endpoint.stats().refusalsSent).toBe(2);
    expect(pair.server.endpoint.connectionCount).toBe(0);
  });

  it('unreachable reported for every first-contact pair fails the handshake at once', () => {
    const pair = new Pair({ seed: 62, links: [link, link] });
    for (const l of pair.world.network.links()) l.set({ blackhole: true });
    const client = pair.connect();
    pair.world.runFor(5);
    const first = pairAt(0, pair);
    client.handlePathError(first.local, first.remote, 'ECONNREFUSED', pair.world.now);
    expect(client.isClosed).toBe(false);
    // The same pair again changes nothing; the other one ends it.
    client.handlePathError(first.local, first.remote, 'ECONNREFUSED', pair.world.now);
    expect(client.isClosed).toBe(false);
    const second = pairAt(1, pair);
    client.handlePathError(second.local, second.remote, 'ECONNREFUSED', pair.world.now);
    expect(client.isClosed).toBe(true);
    expect(client.pollEvent()).toMatchObject({ type: 'closed', code: 'ERR_MPUDP_REFUSED', remote: false });
    expect(client.stats()).toMatchObject({ pathErrors: 3, refusals: 2 });
  });

  it('one unreachable pair of two: the other still connects and carries the stream', () => {
    const pair = new Pair({ seed: 63, links: [link, link] });
    const client = pair.connect();
    const first = pairAt(0, pair);
    client.handlePathError(first.local, first.remote, 'ECONNREFUSED', pair.world.now);
    const data = payload(200_000, 9);
    expect(transfer(pair, data, 10_000)).toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(data));
  });

  it('after the handshake a path error is counted and changes nothing (ICMP is not authenticated)', () => {
    const pair = new Pair({ seed: 64, links: [link, link] });
    const client = pair.connect();
    pair.world.runUntil(() => pair.has(pair.client, 'connected'), 5_000);
    for (const i of [0, 1]) {
      const p = pairAt(i, pair);
      client.handlePathError(p.local, p.remote, 'ECONNREFUSED', pair.world.now);
    }
    const data = payload(200_000, 10);
    expect(transfer(pair, data, 10_000)).toBe(true);
    expect(client.stats()).toMatchObject({ pathErrors: 2, refusals: 0 });
    expect(client.isClosed).toBe(false);
  });
});

describe('a late CLOSE', () => {
  it('reaches the peer although the io loop polls it long after close()', () => {
    const pair = new Pair({ seed: 65, links: [link, link] });
    const client = pair.connect();
    pair.world.runUntil(() => pair.has(pair.client, 'connected') && pair.server.connection !== null, 5_000);
    pair.world.runFor(200);
    client.close(9, 'late');
    // The io loop stalls: its timer fires long after every closing period would have passed.
    client.handleTimeout(pair.world.now + 10_000);
    expect(client.isClosed).toBe(false);
    pair.client.endpoint.touch(client);
    expect(pair.world.runUntil(() => pair.has(pair.server, 'closed'), 5_000)).toBe(true);
    expect(pair.server.events.find((e) => e.event.type === 'closed')!.event).toMatchObject({ code: 'ERR_MPUDP_PEER_ABORTED', errorCode: 9 });
  });
});
