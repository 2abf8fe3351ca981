/**
 * The stateless reset oracle (RFC 9000 §21.11) in a cluster (issue #13):
 * every worker holds the service's key, so any of them can compute the
 * reset token of any connection ID. A short packet carried to a worker
 * that does not own its connection (an attacker changing the port, or the
 * client probing a wrong address) must not draw a reset there: the reset
 * would end the connection that lives at its owner. The owner's slot
 * (a restarted worker) still answers for the connections it lost.
 */
import { describe, expect, it } from 'vitest';
import { CidFormat } from '../../src/core/cid/format.js';
import type { Connection } from '../../src/core/connection.js';
import { EndpointCore } from '../../src/core/endpoint.js';
import type { SocketAddress, Transmit } from '../../src/core/types.js';
import { PacketType } from '../../src/wire/types.js';
import { Pair, SERVER_PORT, payload, transfer } from '../sim/scenario.js';

const fast = { delayMs: 10, rateBps: 50e6 };
const KEY = new Uint8Array(32).fill(7);
const SERVER: SocketAddress = { address: '10.0.0.1', port: SERVER_PORT };
const worker = (pair: Pair, slot: number): EndpointCore =>
  new EndpointCore({ random: pair.world.random(), server: true, staticKey: KEY, cidFormat: new CidFormat({ quicLb: null, slot }), localAddresses: [{ address: '10.0.0.1', port: SERVER_PORT + 1 + slot }] });

/** A connection owned by worker slot 1, established, and the last short packet the client sent it (what an on-path attacker sees). */
function established(seed: number): { pair: Pair; client: Connection; packet: { data: Uint8Array; from: SocketAddress } } {
  let last: { data: Uint8Array; from: SocketAddress } | null = null;
  const pair = new Pair({
    seed,
    clientAddresses: ['10.0.1.2'],
    links: [fast],
    serverConfig: { staticKey: KEY, cidFormat: new CidFormat({ quicLb: null, slot: 1 }) },
    options: { idleTimeout: 30_000 },
    tap: (to, data, _local, remote, _now, deliver) => {
      if (to === 'server' && (data[0]! & 0x03) === PacketType.Short) last = { data: data.slice(), from: { ...remote } };
      deliver(data);
    },
  });
  const client = pair.connect();
  expect(pair.world.runUntil(() => pair.server.connection !== null && client.peerResetToken !== null && last !== null, 2_000)).toBe(true);
  return { pair, client, packet: last! };
}

/** The attacker hands `packet` to `target` as if it came from the client, then hands whatever the target answers to the client. */
function replay(pair: Pair, target: EndpointCore, packet: { data: Uint8Array; from: SocketAddress }): Transmit[] {
  target.handleDatagram(packet.data, { address: '10.0.0.1', port: SERVER_PORT + 1 }, packet.from, pair.world.now);
  const out: Transmit[] = [];
  for (let t = target.pollTransmit(pair.world.now); t !== null; t = target.pollTransmit(pair.world.now)) out.push(t);
  for (const a of out) pair.client.endpoint.handleDatagram(a.data, { address: '10.0.1.2', port: 50000 }, SERVER, pair.world.now);
  pair.pump(pair.client);
  return out;
}

describe('stateless reset oracle across cluster workers', () => {
  it("a worker does not reset another worker's connection; the connection goes on", () => {
    const { pair, client, packet } = established(131);
    // Carried to worker 0 (same key, another slot).
    const other = worker(pair, 0);
    expect(replay(pair, other, packet)).toEqual([]);
    expect(other.stats().statelessResetsSent).toBe(0);
    expect(other.stats().drops['reset-not-ours']).toBe(1);
    expect(client.isClosed).toBe(false);
    expect(transfer(pair, payload(100_000), 10_000)).toBe(true);
  });

  it('the restarted worker of the same slot still ends the connections it lost', () => {
    const { pair, client, packet } = established(132);
    expect(replay(pair, worker(pair, 1), packet).length).toBe(1);
    expect(client.isClosed).toBe(true);
    expect(pair.client.events.find((e) => e.event.type === 'closed')?.event).toMatchObject({ code: 'ERR_MPUDP_STATELESS_RESET' });
  });
});
