/**
 * A connection moves off its first-contact address (pm/first-contact.ts):
 * the server's serving addresses are its own port (a cluster worker's),
 * first contact comes to another (the shared port). The client must move
 * every path to the advertised addresses after the first round trips and
 * send nothing more to the first-contact port; and a client given the
 * addresses of several hosts (a DNS name) must end with paths to the one
 * host that answered. Seeded, on the virtual clock.
 */
import { describe, expect, it } from 'vitest';
import { EndpointCore } from '../../src/core/endpoint.js';
import { CidFormat, type QuicLbConfig } from '../../src/core/cid/format.js';
import { BlockCipher, UNROUTABLE_CONFIG, configIdOf, decodeCid } from '../../src/core/cid/quic-lb.js';
import { peekDcid, peekPacketType } from '../../src/wire/header.js';
import { PacketType } from '../../src/wire/types.js';
import type { Connection } from '../../src/core/connection.js';
import type { SocketAddress } from '../../src/core/types.js';
import { World } from '../../lab/sim/world.js';
import { payload, sha256 } from './scenario.js';

const SHARED = 4433;
const OWN = 4434;
const CLIENT_PORT = 50000;

interface Host {
  endpoint: EndpointCore;
  connection: Connection | null;
  received: Uint8Array[];
  /** Datagrams that arrived, by destination port. */
  byPort: Map<number, Array<{ time: number }>>;
  /** Type and destination CID of every datagram that arrived. */
  arrived: Array<{ type: PacketType | null; dcid: Uint8Array | null }>;
}

function host(world: World, serving: SocketAddress[] | null, addresses: string[], cidFormat?: CidFormat): Host {
  const h: Host = {
    endpoint: new EndpointCore({
      random: world.random(),
      server: serving !== null,
      ...(serving !== null ? { localAddresses: serving } : {}),
      ...(cidFormat !== undefined ? { cidFormat } : {}),
    }),
    connection: null,
    received: [],
    byPort: new Map(),
    arrived: [],
  };
  world.addNode(
    {
      handleDatagram: (d: Uint8Array, l: SocketAddress, r: SocketAddress, now: number) => {
        const list = h.byPort.get(l.port) ?? [];
        list.push({ time: now });
        h.byPort.set(l.port, list);
        h.arrived.push({ type: peekPacketType(d), dcid: peekDcid(d)?.slice() ?? null });
        h.endpoint.handleDatagram(d, l, r, now);
        pump(h);
      },
      handleTimeout: (now: number) => {
        h.endpoint.handleTimeout(now);
        pump(h);
      },
      pollTransmit: (now: number) => h.endpoint.pollTransmit(now),
      pollTimeout: () => h.endpoint.pollTimeout(),
    },
    ...addresses,
  );
  return h;
}

function pump(h: Host): void {
  for (let e = h.endpoint.pollEvent(); e !== null; e = h.endpoint.pollEvent()) {
    if (e.type === 'accepted') h.connection = e.connection;
  }
  const c = h.connection;
  if (c === null) return;
  let any = false;
  for (let chunk = c.read(); chunk !== null; chunk = c.read()) {
    h.received.push(chunk.slice());
    any = true;
  }
  if (any) h.endpoint.touch(c);
}

function upload(world: World, client: Host, conn: Connection, data: Uint8Array, until: () => boolean, maxMs: number): boolean {
  let offset = 0;
  const feed = (): void => {
    while (offset < data.length) {
      const n = conn.write(data.subarray(offset, Math.min(offset + 65536, data.length)));
      if (n === 0) break;
      offset += n;
    }
    if (offset === data.length) conn.end();
    client.endpoint.touch(conn);
  };
  feed();
  return world.runUntil(() => {
    if (offset < data.length && conn.writableBytes > 0) feed();
    return until();
  }, maxMs);
}

describe('moving off the first-contact address', () => {
  for (const seed of [1, 2, 3]) {
    it(`a server whose serving port is not the one first contact came to: every path moves, the shared port goes quiet (seed ${seed})`, () => {
      const world = new World({ seed });
      const serverAddresses = ['10.0.0.1', '10.0.9.1'];
      const server = host(world, serverAddresses.map((address) => ({ address, port: OWN })), serverAddresses);
      const clientAddresses = ['10.0.1.2', '10.0.2.2'];
      const client = host(world, null, clientAddresses);
      for (const ca of clientAddresses) for (const sa of serverAddresses) world.network.path(ca, sa, { delayMs: 10, rateBps: 50e6 });
      const start = world.now;
      const conn = client.endpoint.connect(
        {
          localAddresses: clientAddresses.map((address) => ({ address, port: CLIENT_PORT })),
          // First contact: the shared port of both addresses, as a client of a cluster knows it.
          remoteAddresses: serverAddresses.map((address) => ({ address, port: SHARED })),
        },
        world.now,
      );
      client.connection = conn;
      const data = payload(2_000_000, seed);
      expect(upload(world, client, conn, data, () => server.connection?.assembler.isFinished ?? false, 20_000)).toBe(true);
      expect(sha256(server.received)).toBe(sha256(data));

      // The mesh is on the server's own port, both addresses, both client addresses.
      const live = conn.paths().filter((p) => p.state === 'active');
      expect(live.length).toBe(4);
      for (const p of live) expect(p.remotePort).toBe(OWN);
      // Path 0 (the handshake's, on the shared port) was retired and the server told (it is closed, or already freed).
      expect(conn.stats().firstContactPathsRetired).toBeGreaterThanOrEqual(1);
      expect(server.connection!.pathsById.get(0)?.state ?? 'closed').toBe('closed');
      // Nothing reached the shared port after the first 100 ms (five round trips).
      const late = (server.byPort.get(SHARED) ?? []).filter((d) => d.time > start + 100);
      expect(late).toEqual([]);
      expect((server.byPort.get(OWN) ?? []).length).toBeGreaterThan(500);
    });
  }

  it('a client given the addresses of three hosts keeps paths to the one that answered, over its own addresses', () => {
    const world = new World({ seed: 7 });
    // Host i has an address at each of two ISPs: 10.0.i.1 and 10.1.i.1.
    const hosts = [0, 1, 2].map((i) => host(world, [`10.0.${i}.1`, `10.1.${i}.1`].map((address) => ({ address, port: SHARED })), [`10.0.${i}.1`, `10.1.${i}.1`]));
    const clientAddresses = ['10.2.0.2', '10.3.0.2'];
    const client = host(world, null, clientAddresses);
    // Host 1 answers first: the others are farther away.
    for (const ca of clientAddresses) {
      for (let i = 0; i < 3; i++) {
        for (const sa of [`10.0.${i}.1`, `10.1.${i}.1`]) world.network.path(ca, sa, { delayMs: i === 1 ? 5 : 25 });
      }
    }
    const start = world.now;
    const conn = client.endpoint.connect(
      {
        localAddresses: clientAddresses.map((address) => ({ address, port: CLIENT_PORT })),
        // DNS: one address per host.
        remoteAddresses: [0, 1, 2].map((i) => ({ address: `10.0.${i}.1`, port: SHARED })),
      },
      world.now,
    );
    client.connection = conn;
    const data = payload(500_000, 7);
    expect(upload(world, client, conn, data, () => hosts[1]!.connection?.assembler.isFinished ?? false, 20_000)).toBe(true);
    expect(sha256(hosts[1]!.received)).toBe(sha256(data));
    const live = conn.paths().filter((p) => p.state !== 'closed');
    // Both client addresses to both of host 1's addresses, nothing else.
    expect(live.map((p) => `${p.localAddress}>${p.remoteAddress}`).sort()).toEqual(
      ['10.2.0.2>10.0.1.1', '10.2.0.2>10.1.1.1', '10.3.0.2>10.0.1.1', '10.3.0.2>10.1.1.1'],
    );
    expect(live.every((p) => p.state === 'active')).toBe(true);
    // The others took part in first contact only.
    for (const i of [0, 2]) {
      const late = [...hosts[i]!.byPort.values()].flat().filter((d) => d.time > start + 200);
      expect(late).toEqual([]);
    }
  });
});

describe('what an ID-routing balancer sees', () => {
  /** A QUIC-LB balancer's view: from its configuration alone, the server ID in a CID, or null (unroutable: 4-tuple fallback). */
  function balancerRoute(config: QuicLbConfig, cid: Uint8Array): string | null {
    if (configIdOf(cid) === UNROUTABLE_CONFIG) return null;
    if (configIdOf(cid) !== config.configId) return 'unknown-config';
    const block = decodeCid(config.configId, new BlockCipher(config.key), cid.length - 1, cid);
    return block === null ? 'undecodable' : Buffer.from(block.subarray(0, config.serverId.length)).toString('hex');
  }

  for (const key of [null, Uint8Array.from({ length: 16 }, (_, i) => 0x30 + i)]) {
    it(`every packet after the client's first flight names the server's ID at byte 1 (${key === null ? 'plaintext' : 'encrypted'}); Initials are unroutable`, () => {
      const world = new World({ seed: 21 });
      const serverAddresses = ['10.0.0.1', '10.0.9.1'];
      const config: QuicLbConfig = { configId: 1, serverId: Uint8Array.of(0x5a, 0xa5), nonceLength: 4, key };
      const server = host(world, serverAddresses.map((address) => ({ address, port: SHARED })), serverAddresses, new CidFormat({ quicLb: config, slot: 3 }));
      const clientAddresses = ['10.0.1.2', '10.0.2.2'];
      const client = host(world, null, clientAddresses);
      for (const ca of clientAddresses) for (const sa of serverAddresses) world.network.path(ca, sa, { delayMs: 10, rateBps: 50e6 });
      const conn = client.endpoint.connect(
        { localAddresses: clientAddresses.map((address) => ({ address, port: CLIENT_PORT })), remoteAddresses: [{ address: serverAddresses[0]!, port: SHARED }] },
        world.now,
      );
      client.connection = conn;
      const data = payload(300_000, 21);
      expect(upload(world, client, conn, data, () => server.connection?.assembler.isFinished ?? false, 20_000)).toBe(true);
      expect(sha256(server.received)).toBe(sha256(data));
      // Several paths were used, so several 4-tuples: only the CID keeps them on one host.
      expect(conn.paths().filter((p) => p.state === 'active').length).toBe(4);
      const initials = server.arrived.filter((a) => a.type === PacketType.Initial);
      const rest = server.arrived.filter((a) => a.type !== PacketType.Initial);
      expect(initials.length).toBeGreaterThan(0);
      expect(rest.length).toBeGreaterThan(100);
      for (const a of initials) expect(balancerRoute(config, a.dcid!)).toBeNull();
      for (const a of rest) expect(balancerRoute(config, a.dcid!)).toBe('5aa5');
    });
  }
});
