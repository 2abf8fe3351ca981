/**
 * Where the sans-IO core allocates during a one-path bulk transfer
 * (bench/lib/core-transfer.ts, AEAD included, no sockets): V8's sampling
 * heap profiler, keeping samples of objects the young and old generation
 * collections freed, so short-lived garbage counts. Prints the top
 * allocation sites by bytes, per datagram sent.
 *
 *   npx tsx bench/alloc-sites.ts [--dist DIR] [--mib 16] [--top 30]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { EndpointCore as Core } from '../src/core/endpoint.js';
import { coreTransfer } from './lib/core-transfer.js';
import { allocationSites, printSites } from './lib/alloc-sampler.js';
import type { Connection } from '../src/core/connection.js';

const { values } = parseArgs({ options: { dist: { type: 'string' }, mib: { type: 'string' }, top: { type: 'string' } } });
const Ctor = values.dist
  ? ((await import(pathToFileURL(resolve(values.dist, 'core/endpoint.js')).href)) as { EndpointCore: typeof Core }).EndpointCore
  : (await import('../src/core/endpoint.js')).EndpointCore;
const data = new Uint8Array(Number(values.mib ?? 16) * 1024 * 1024).map((_, i) => (i * 131) & 0xff);
coreTransfer(Ctor, 1, 1472, data.subarray(0, 1 << 20)); // warm-up
let conn: Connection | undefined;

const sites = await allocationSites(() => {
  conn = coreTransfer(Ctor, 1, 1472, data);
});
const packets = conn!.stats().paths.reduce((n, p) => n + (p as { packetsSent?: number }).packetsSent!, 0) || data.length / 1430;
printSites(sites, packets, 'datagram sent (both ends)', Number(values.top ?? 30));
