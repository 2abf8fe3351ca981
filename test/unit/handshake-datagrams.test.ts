/**
 * What a handshake sends after the HELLOs, through the sans-IO core: the
 * client's confirmation and the server's answer to it are one datagram
 * each, carrying the control frames that used to wait for packets of
 * their own (the reset tokens, the server's address adverts).
 * Every datagram of a handshake costs both ends a seal, a send and an open
 * (bench/handshake-trace.ts; docs/bench.md, "Issue 11: datagrams per
 * handshake").
 */
import { describe, expect, it } from 'vitest';
import { EndpointCore } from '../../src/core/endpoint.js';
import type { Connection } from '../../src/core/connection.js';
import type { Transmit } from '../../src/core/types.js';
import { Rng } from '../../lab/random.js';

const S = { address: '10.0.0.1', port: 4433 };
const C = { address: '10.0.1.2', port: 50000 };

function drain(core: EndpointCore, now: number): Transmit[] {
  const out: Transmit[] = [];
  for (let t = core.pollTransmit(now); t !== null; t = core.pollTransmit(now)) out.push({ ...t, data: t.data.slice() });
  return out;
}

/** A client and a server that have exchanged the HELLOs: the client is established, the server waits for its confirmation. */
function afterHellos() {
  const rng = new Rng(7);
  const random = (n: number): Uint8Array => rng.bytes(n);
  const server = new EndpointCore({ random, server: true, localAddresses: [S] });
  const client = new EndpointCore({ random, server: false });
  const now = 1000;
  const conn = client.connect({ localAddresses: [C], remoteAddresses: [S] }, now);
  const initial = drain(client, now);
  expect(initial).toHaveLength(1);
  server.handleDatagram(initial[0]!.data, S, C, now);
  const hello = drain(server, now);
  expect(hello).toHaveLength(1);
  client.handleDatagram(hello[0]!.data, C, S, now + 1);
  expect(conn.isEstablished).toBe(true);
  return { server, client, conn };
}

function accepted(server: EndpointCore): Connection | null {
  for (let e = server.pollEvent(); e !== null; e = server.pollEvent()) if (e.type === 'accepted') return e.connection;
  return null;
}

describe('datagrams of a handshake', () => {
  it('the client confirms in one datagram that carries its reset token', () => {
    const { server, client } = afterHellos();
    const confirm = drain(client, 1001);
    // Before: a PING to confirm, then the reset token in a packet of its own.
    expect(confirm).toHaveLength(1);
    server.handleDatagram(confirm[0]!.data, S, C, 1002);
    const conn = accepted(server);
    expect(conn).not.toBeNull();
    // The server holds the client's token: the one datagram carried it.
    expect(conn!.peerResetToken).not.toBeNull();
  });

  it("the server answers in one datagram that acknowledges the confirmation and carries its token and adverts", () => {
    const { server, client, conn } = afterHellos();
    for (const t of drain(client, 1001)) server.handleDatagram(t.data, S, C, 1002);
    expect(accepted(server)).not.toBeNull();
    const answer = drain(server, 1002);
    // Before: an ACK, then the token and adverts in a second packet.
    expect(answer).toHaveLength(1);
    client.handleDatagram(answer[0]!.data, C, S, 1003);
    expect(conn.peerResetToken).not.toBeNull();
    // Nothing of the client's is in flight any more: the ACK was in it.
    expect(conn.pathList[0]!.sent.bytesInFlight).toBe(0);
  });
});
