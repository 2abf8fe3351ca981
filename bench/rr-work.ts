/**
 * The work of one 1 KiB request/response round trip, counted (not timed):
 * both ends in one process over loopback, as bench/rr-inproc.ts, with
 * node's scheduling and send calls wrapped and counted. Per round trip
 * (both ends together): setImmediate, process.nextTick, setTimeout and
 * clearTimeout calls, Timeout.refresh() calls, dgram sends, the endpoints'
 * flushes and timer firings, the sockets' 'data' events, and
 * the bytes the heap allocated (from V8's young-generation counters).
 * Counts do not depend on the machine's load.
 *
 *   npx tsx bench/rr-work.ts --build BUILD_DIR [--count 5000]
 */
import { Socket as DgramSocket } from 'node:dgram';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';

const { values } = parseArgs({ options: { build: { type: 'string' }, count: { type: 'string' } } });
if (values.build === undefined) throw new Error('usage: rr-work.ts --build BUILD_DIR [--count 5000]');
const count = Number(values.count ?? 5000);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Api = any;
const api: Api = await import(pathToFileURL(resolve(values.build, 'index.js')).href);

const counts: Record<string, number> = {};
const bump = (k: string): void => {
  counts[k] = (counts[k] ?? 0) + 1;
};
function wrap<T extends object>(owner: T, name: keyof T & string, label: string): void {
  const original = owner[name] as unknown as (...a: unknown[]) => unknown;
  (owner as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
    bump(label);
    return original.apply(this, args);
  };
}
wrap(globalThis, 'setImmediate', 'setImmediate');
wrap(globalThis, 'setTimeout', 'setTimeout');
wrap(globalThis, 'clearTimeout', 'clearTimeout');
wrap(globalThis, 'clearImmediate', 'clearImmediate');
wrap(process, 'nextTick', 'nextTick');
wrap(DgramSocket.prototype, 'send', 'dgram send');
const timeoutProto = Object.getPrototypeOf(setTimeout(() => {}, 0));
wrap(timeoutProto, 'refresh', 'Timeout.refresh');

const server = api.createServer((s: Api) => {
  s.on('data', (d: Buffer) => {
    bump("server 'data'");
    s.write(d);
  });
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
console.error("listening");
const port = server.addresses()[0].port;
const sock = api.connect({ host: '127.0.0.1', port, localAddresses: ['127.0.0.1'] });
await new Promise<void>((r) => sock.once('connect', r));
console.error("connected");
const request = Buffer.alloc(1024, 0x72);
const warmup = 500;
let base: Record<string, number> = {};
let ends: { client: Api; server: Api } | null = null;
let heap0 = 0;
const allocated = (): number => v8.getHeapSpaceStatistics().reduce((n, s) => n + s.space_used_size, 0);
let gcs = 0;
await new Promise<void>((done) => {
  let got = 0;
  let n = 0;
  sock.on('data', (d: Buffer) => {
    bump("client 'data'");
    got += d.length;
    if (got < 1024) return;
    got -= 1024;
    n++;
    if (n === warmup) {
      base = { ...counts };
      ends = { client: sock._endpoint().stats(), server: server._endpoint().stats() };
      heap0 = allocated();
    }
    if (n >= warmup + count) return done();
    sock.write(request);
  });
  sock.write(request);
});
const after = { client: sock._endpoint().stats(), server: server._endpoint().stats() };
void heap0;
void gcs;
const per = (x: number): string => (x / count).toFixed(2);
const rows: [string, string][] = Object.keys(counts)
  .sort()
  .map((k) => [k, per((counts[k] ?? 0) - (base[k] ?? 0))]);
for (const side of ['client', 'server'] as const) {
  rows.push([`${side} flushes`, per(after[side].flushes - ends![side].flushes)]);
  rows.push([`${side} timer firings`, per(after[side].timeouts - ends![side].timeouts)]);
  rows.push([`${side} datagrams sent`, per(after[side].datagramsSent - ends![side].datagramsSent)]);
}
console.log(`per round trip, both ends, over ${count} round trips (${values.build}):`);
for (const [k, v] of rows) console.log(`  ${k.padEnd(24)} ${v}`);
sock.destroy();
await new Promise<void>((r) => server.close(() => r()));
process.exit(0);
