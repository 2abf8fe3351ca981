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
import { coreTransfer } from './lib/core-transfer.js';

const { values } = parseArgs({ options: { mib: { type: 'string' }, rounds: { type: 'string' } } });
const mib = Number(values.mib ?? 32);
const rounds = Number(values.rounds ?? 3);
const data = new Uint8Array(mib * 1024 * 1024).map((_, i) => (i * 131) & 0xff);

/** The path's mtu and packets after one transfer at `maxDatagramSize`. */
function run(seed: number, maxDatagramSize: number): { mtu: number; packets: number } {
  const s = coreTransfer(EndpointCore, seed, maxDatagramSize, data).stats().paths[0]!;
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
