/**
 * Where a 1 KiB request/response round trip allocates: both ends in one
 * process over loopback (as bench/rr-work.ts), with the built library,
 * under V8's sampling heap profiler (bench/lib/alloc-sampler.ts). What a
 * round trip allocates sets how often each end scavenges, and a scavenge
 * (0.4–0.9 ms here) is the slowest part of the latency section's p99.
 * Bytes per round trip do not depend on the machine's load.
 *
 *   npx tsx bench/rr-alloc.ts --build BUILD_DIR [--count 20000] [--top 30]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { allocationSites, printSites } from './lib/alloc-sampler.js';

const { values } = parseArgs({ options: { build: { type: 'string' }, count: { type: 'string' }, top: { type: 'string' } } });
if (values.build === undefined) throw new Error('usage: rr-alloc.ts --build BUILD_DIR [--count 20000] [--top 30]');
const count = Number(values.count ?? 20000);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Api = any;
const api: Api = await import(pathToFileURL(resolve(values.build, 'index.js')).href);
const server = api.createServer((s: Api) => {
  s.on('error', () => {});
  s.on('data', (d: Buffer) => s.write(d));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const sock = api.connect({ host: '127.0.0.1', port: server.addresses()[0].port, localAddresses: ['127.0.0.1'] });
await new Promise<void>((r) => sock.once('connect', r));
const request = Buffer.alloc(1024, 0x72);

/** `n` round trips, one after the other. */
const roundTrips = (n: number): Promise<void> =>
  new Promise((done) => {
    let got = 0;
    let left = n;
    const onData = (d: Buffer): void => {
      got += d.length;
      if (got < 1024) return;
      got -= 1024;
      if (--left === 0) {
        sock.off('data', onData);
        done();
        return;
      }
      sock.write(request);
    };
    sock.on('data', onData);
    sock.write(request);
  });

await roundTrips(3000); // warm-up
const sites = await allocationSites(() => roundTrips(count));
printSites(sites, count, 'round trip (both ends)', Number(values.top ?? 30));
sock.destroy();
await new Promise<void>((r) => server.close(() => r()));
process.exit(0);
