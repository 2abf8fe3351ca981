/**
 * Server identity (issue 9): an attacker on the first-contact path answers
 * the client's Initial with its own HELLO, IDENTITY and FINISHED. A client
 * pinned to the real server's key refuses it within one round trip with a
 * stable code; an unpinned client cannot tell (as SSH on first use), but
 * sees which key it got.
 */
import { describe, expect, it } from 'vitest';
import { EndpointCore } from '../../src/core/endpoint.js';
import { fingerprint, x25519KeyPair } from '../../src/core/crypto/keys.js';
import { World } from '../../lab/sim/world.js';

const SERVER = { address: '10.0.0.1', port: 443 };
const CLIENT = { address: '10.0.1.2', port: 5000 };

/** A world where whoever owns 10.0.0.1 answers; `key` is that endpoint's long-term key. */
function setup(seed: number, key: Uint8Array, pin?: string) {
  const world = new World({ seed });
  const server = new EndpointCore({ random: world.random(), server: true, localAddresses: [SERVER], staticKey: key });
  const client = new EndpointCore({ random: world.random(), server: false });
  world.addNode(server, SERVER.address);
  world.addNode(client, CLIENT.address);
  world.network.path(CLIENT.address, SERVER.address, { delayMs: 10 });
  const conn = client.connect({ localAddresses: [CLIENT], remoteAddresses: [SERVER], ...(pin !== undefined ? { serverFingerprint: pin } : {}) }, world.now);
  const events: Array<{ time: number; type: string; code?: string }> = [];
  const drain = (): void => {
    for (let e = client.pollEvent(); e !== null; e = client.pollEvent()) {
      if (e.type === 'connection') events.push({ time: world.now, type: e.event.type, ...(e.event.type === 'closed' ? { code: e.event.code } : {}) });
    }
  };
  return { world, server, client, conn, events, drain, start: world.now };
}

describe('server identity', () => {
  const realKey = new Uint8Array(32).fill(7);
  const attackerKey = new Uint8Array(32).fill(9);
  const realPin = fingerprint(x25519KeyPair(realKey).publicKey);

  it('a client pinned to the real key completes the handshake with it', () => {
    const s = setup(1, realKey, realPin);
    s.world.runUntil(() => (s.drain(), s.conn.isEstablished), 1_000);
    expect(s.conn.isEstablished).toBe(true);
    expect(s.conn.stats().serverFingerprint).toBe(realPin);
  });

  it('a pinned client refuses another key holder within one round trip, with ERR_MPUDP_SERVER_KEY_MISMATCH', () => {
    // The box answering at the server's address holds another key.
    const s = setup(2, attackerKey, realPin);
    s.world.runUntil(() => (s.drain(), s.conn.isClosed), 5_000);
    s.drain();
    expect(s.events.map((e) => e.type)).toEqual(['closed']);
    expect(s.events[0]!.code).toBe('ERR_MPUDP_SERVER_KEY_MISMATCH');
    // One round trip is 20 ms here; nothing else was waited for.
    expect(s.events[0]!.time - s.start).toBeLessThanOrEqual(20 + 1e-6);
    expect(s.conn.stats().drops['server-key-mismatch']).toBe(1);
    // The impostor never hears a protected packet from the client.
    s.world.runFor(2_000);
    expect(s.server.stats().drops['auth-failed'] ?? 0).toBe(0);
  });

  it('an unpinned client connects to whoever answers, and its stats name the key it got', () => {
    const s = setup(3, attackerKey);
    s.world.runUntil(() => (s.drain(), s.conn.isEstablished), 1_000);
    expect(s.conn.isEstablished).toBe(true);
    expect(s.conn.stats().serverFingerprint).toBe(fingerprint(x25519KeyPair(attackerKey).publicKey));
    expect(s.conn.stats().serverFingerprint).not.toBe(realPin);
  });
});
