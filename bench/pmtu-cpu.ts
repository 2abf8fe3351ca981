/**
 * CPU per GB of the sans-IO core (both ends, AEAD included, no sockets) for
 * a one-path transfer in the simulator at a fixed datagram size; the sizes
 * alternate within one process so the machine's load hits them alike. What
 * path MTU discovery saves per byte, apart from the syscalls:
 *
 *   npx tsx bench/pmtu-cpu.ts [--mib 32] [--rounds 3]
 */
import { parseArgs } from 'node:util';
import { EndpointCore } from '../src/core/endpoint.js';
import type { Connection } from '../src/core/connection.js';
import { World } from '../lab/sim/world.js';

const { values } = parseArgs({ options: { mib: { type: 'string' }, rounds: { type: 'string' } } });
const mib = Number(values.mib ?? 32);
const rounds = Number(values.rounds ?? 3);
const data = new Uint8Array(mib * 1024 * 1024).map((_, i) => (i * 131) & 0xff);

/** Sends `data` from a client to a server over one 5 ms link of the simulator; returns the path's mtu and packets. */
function run(seed: number, maxDatagramSize: number): { mtu: number; packets: number } {
  const world = new World({ seed });
  const server = new EndpointCore({ random: world.random(), server: true, localAddresses: [{ address: '10.0.0.1', port: 4433 }], connectionDefaults: { maxDatagramSize } });
  const client = new EndpointCore({ random: world.random(), server: false });
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
      handleDatagram: (d: Uint8Array, l: { address: string; port: number }, r: { address: string; port: number }, now: number) => {
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
  const s = conn.stats().paths[0]!;
  return { mtu: s.mtu, packets: s.packetsSent };
}

const results = new Map<number, number[]>([[1200, []], [1472, []]]);
for (let r = 0; r < rounds; r++) {
  for (const size of results.keys()) {
    const t0 = process.cpuUsage();
    const { mtu, packets } = run(100 + r, size);
    const t = process.cpuUsage(t0);
    const perGb = (t.user + t.system) / 1e6 / (data.length / 1e9);
    results.get(size)!.push(perGb);
    console.log(`round ${r + 1}, maxDatagramSize ${size}: ${perGb.toFixed(1)} CPU s/GB (path mtu ${mtu}, ${packets} packets)`);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const m1200 = median(results.get(1200)!);
const m1472 = median(results.get(1472)!);
console.log(`median CPU s/GB: 1200 → ${m1200.toFixed(1)}, 1472 → ${m1472.toFixed(1)} (ratio ${(m1472 / m1200).toFixed(3)})`);
