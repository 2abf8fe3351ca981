/**
 * Where the sans-IO core allocates during a one-path bulk transfer
 * (bench/lib/core-transfer.ts, AEAD included, no sockets): V8's sampling
 * heap profiler, keeping samples of objects the young and old generation
 * collections freed, so short-lived garbage counts. Prints the top
 * allocation sites by bytes, per datagram sent.
 *
 *   npx tsx bench/alloc-sites.ts [--dist DIR] [--mib 16] [--top 30]
 */
import { Session } from 'node:inspector';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { EndpointCore as Core } from '../src/core/endpoint.js';
import { coreTransfer } from './lib/core-transfer.js';

const { values } = parseArgs({ options: { dist: { type: 'string' }, mib: { type: 'string' }, top: { type: 'string' } } });
const Ctor = values.dist
  ? ((await import(pathToFileURL(resolve(values.dist, 'core/endpoint.js')).href)) as { EndpointCore: typeof Core }).EndpointCore
  : (await import('../src/core/endpoint.js')).EndpointCore;
const data = new Uint8Array(Number(values.mib ?? 16) * 1024 * 1024).map((_, i) => (i * 131) & 0xff);
coreTransfer(Ctor, 1, 1472, data.subarray(0, 1 << 20)); // warm-up

interface ProfileNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: ProfileNode[] }
const session = new Session();
session.connect();
const post = <T>(method: string, params?: object): Promise<T> =>
  new Promise((ok, fail) => session.post(method, params ?? {}, (err, res) => (err ? fail(err) : ok(res as T))));
await post('HeapProfiler.enable');
await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
const conn = coreTransfer(Ctor, 1, 1472, data);
const { profile } = await post<{ profile: { head: ProfileNode } }>('HeapProfiler.stopSampling');
const packets = conn.stats().paths.reduce((n, p) => n + (p as { packetsSent?: number }).packetsSent!, 0) || data.length / 1430;
const sites = new Map<string, number>();
const walk = (n: ProfileNode, stack: string): void => {
  const here = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\/(src|dist|node:)/, '$1')}:${n.callFrame.lineNumber + 1}`;
  if (n.selfSize > 0) sites.set(`${here}  <  ${stack}`, (sites.get(`${here}  <  ${stack}`) ?? 0) + n.selfSize);
  for (const c of n.children) walk(c, here);
};
walk(profile.head, '');
const total = [...sites.values()].reduce((a, b) => a + b, 0);
console.log(`${(total / packets).toFixed(0)} bytes allocated per datagram sent (${packets.toFixed(0)} datagrams, both ends)`);
for (const [k, v] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top ?? 30))) console.log(`${(v / packets).toFixed(1).padStart(8)} B  ${k}`);
