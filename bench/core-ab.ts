/**
 * A/B of two builds' sans-IO core: CPU per GB, both ends, AEAD included, no
 * sockets, for a one-path transfer over one 5 ms link of the simulator at
 * 1472-byte datagrams. The builds alternate within one process, so the
 * machine's load (shared with other work) hits them alike: read the ratio.
 *
 *   npm run build && cp -r dist /tmp/b
 *   npx tsx bench/core-ab.ts --a /tmp/a --b /tmp/b [--mib 32] [--rounds 5]
 *
 * (`--a`/`--b` are build directories: their core/endpoint.js is loaded.)
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PerformanceObserver } from 'node:perf_hooks';
import type { EndpointCore as Core } from '../src/core/endpoint.js';
import { coreTransfer } from './lib/core-transfer.js';

const { values } = parseArgs({ options: { a: { type: 'string' }, b: { type: 'string' }, mib: { type: 'string' }, rounds: { type: 'string' } } });
if (values.a === undefined || values.b === undefined) throw new Error('usage: core-ab.ts --a BUILD_DIR --b BUILD_DIR [--mib 32] [--rounds 5]');
const mib = Number(values.mib ?? 32);
const rounds = Number(values.rounds ?? 5);
const data = new Uint8Array(mib * 1024 * 1024).map((_, i) => (i * 131) & 0xff);
type CoreCtor = typeof Core;
const load = async (dir: string): Promise<CoreCtor> =>
  ((await import(pathToFileURL(resolve(dir, 'core/endpoint.js')).href)) as { EndpointCore: CoreCtor }).EndpointCore;
const builds: [string, CoreCtor][] = [
  ['A', await load(values.a)],
  ['B', await load(values.b)],
];

/** Garbage collections seen (young-generation scavenges and the rest): how much the core allocates, a figure the machine's load does not move. */
const gcs = { minor: 0, major: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    // 1 = minor (scavenge); anything else (mark-compact, incremental, weak callbacks) counts as major.
    if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === 1) gcs.minor++;
    else gcs.major++;
  }
}).observe({ entryTypes: ['gc'] });
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

/** CPU s per GB of one transfer at 1472-byte datagrams with `Core`. */
function run(Core: CoreCtor, seed: number): number {
  const t0 = process.cpuUsage();
  coreTransfer(Core, seed, 1472, data);
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1e6 / (data.length / 1e9);
}

const results: Record<string, number[]> = { A: [], B: [] };
const scavenges: Record<string, number[]> = { A: [], B: [] };
run(builds[0]![1], 1); // warm-up of both
run(builds[1]![1], 1);
for (let r = 0; r < rounds; r++) {
  for (const [label, ctor] of r % 2 === 0 ? builds : [...builds].reverse()) {
    await tick(); // deliver the GC entries of the run before
    const minor0 = gcs.minor;
    const perGb = run(ctor, 100 + r);
    await tick();
    const perMib = (gcs.minor - minor0) / mib;
    results[label]!.push(perGb);
    scavenges[label]!.push(perMib);
    console.log(`round ${r + 1} ${label}: ${perGb.toFixed(1)} CPU s/GB, ${perMib.toFixed(2)} scavenges per MiB`);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ratios = results.A!.map((a, i) => results.B![i]! / a);
console.log(`median scavenges per MiB: A ${median(scavenges.A!).toFixed(2)}, B ${median(scavenges.B!).toFixed(2)}`);
console.log(`median CPU s/GB: A ${median(results.A!).toFixed(1)}, B ${median(results.B!).toFixed(1)}; B ÷ A per round median ${median(ratios).toFixed(3)} (${ratios.map((x) => x.toFixed(2)).join(' ')})`);
