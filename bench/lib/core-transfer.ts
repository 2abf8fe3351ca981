/**
 * One bulk transfer through the sans-IO core alone: a client EndpointCore
 * sends `data` to a server EndpointCore over one 5 ms link of the seeded
 * simulator, both ends' AEAD included, no sockets. The CPU benches of the
 * core (bench/pmtu-cpu.ts, bench/core-ab.ts) time this.
 */
import type { EndpointCore } from '../../src/core/endpoint.js';
import type { Connection } from '../../src/core/connection.js';
import { World } from '../../lab/sim/world.js';

type Address = { address: string; port: number };

/**
 * Runs the transfer with `Core` (the source's EndpointCore or a build's)
 * and returns the client's connection once the server has read every byte;
 * throws if it does not finish within 600 s of virtual time.
 */
export function coreTransfer(Core: typeof EndpointCore, seed: number, maxDatagramSize: number, data: Uint8Array): Connection {
  const world = new World({ seed });
  const server = new Core({ random: world.random(), server: true, localAddresses: [{ address: '10.0.0.1', port: 4433 }], connectionDefaults: { maxDatagramSize } });
  const client = new Core({ random: world.random(), server: false });
  let accepted: Connection | null = null;
  let received = 0;
  const node = (ep: EndpointCore, isServer: boolean) => {
    const pump = (): void => {
      for (let e = ep.pollEvent(); e !== null; e = ep.pollEvent()) if (e.type === 'accepted') accepted = e.connection;
      if (isServer && accepted !== null) {
        for (let c = accepted.read(); c !== null; c = accepted.read()) received += c.length;
        ep.touch(accepted);
      }
    };
    return {
      handleDatagram: (d: Uint8Array, l: Address, r: Address, now: number) => {
        ep.handleDatagram(d, l, r, now);
        pump();
      },
      handleTimeout: (now: number) => {
        ep.handleTimeout(now);
        pump();
      },
      pollTransmit: (now: number) => ep.pollTransmit(now),
      pollTimeout: () => ep.pollTimeout(),
    };
  };
  world.addNode(node(server, true), '10.0.0.1');
  world.addNode(node(client, false), '10.0.1.2');
  world.network.path('10.0.1.2', '10.0.0.1', { delayMs: 5 });
  const conn = client.connect({ localAddresses: [{ address: '10.0.1.2', port: 50000 }], remoteAddresses: [{ address: '10.0.0.1', port: 4433 }], maxDatagramSize }, world.now);
  let offset = 0;
  const ok = world.runUntil(() => {
    while (offset < data.length && conn.writableBytes > 0) {
      const n = conn.write(data.subarray(offset, Math.min(offset + 256 * 1024, data.length)));
      if (n === 0) break;
      offset += n;
      client.touch(conn);
    }
    return received === data.length;
  }, 600_000);
  if (!ok) throw new Error(`transfer at ${maxDatagramSize} did not finish`);
  return conn;
}
