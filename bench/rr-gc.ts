/**
 * Which slow 1 KiB round trips had a garbage collection in either process:
 * the server in a child process, the client here, both ends of the built
 * library over loopback (as the latency section runs them, without the
 * bench CLI). Every collection of both processes is timed on the epoch
 * clock (PerformanceObserver), so a round trip is "touched" when one ran
 * in either process while it was under way. Prints p50/p90/p99, the
 * collections, how many of the slowest 1 % each process's collections
 * touched, and the p99 of the round trips no collection touched.
 *
 *   npx tsx bench/rr-gc.ts --build BUILD_DIR [--count 20000] [--warmup 3000]
 *
 * Node flags given to this process (`node --import tsx --max-semi-space-size=16
 * bench/rr-gc.ts ...`) pass to the server too.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { build: { type: 'string' }, count: { type: 'string' }, warmup: { type: 'string' }, serve: { type: 'boolean' } } });
if (values.build === undefined) throw new Error('usage: rr-gc.ts --build BUILD_DIR [--count 20000] [--warmup 3000]');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Api = any;
const api: Api = await import(pathToFileURL(resolve(values.build, 'index.js')).href);
interface Gc {
  at: number;
  ms: number;
}
const gcs: Gc[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ at: performance.timeOrigin + e.startTime, ms: e.duration });
}).observe({ entryTypes: ['gc'] });

if (values.serve === true) {
  const server = api.createServer((s: Api) => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => s.write(d));
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.addresses()[0].port }) + '\n'));
  process.stdin.once('data', () => {
    process.stdout.write(JSON.stringify({ gcs }) + '\n');
    setTimeout(() => process.exit(0), 50);
  });
} else {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [...process.execArgv, self, '--serve', '--build', values.build], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let partial = '';
  let wake: (() => void) | null = null;
  child.stdout.on('data', (d: Buffer) => {
    partial += d.toString();
    for (let i = partial.indexOf('\n'); i >= 0; i = partial.indexOf('\n')) {
      lines.push(partial.slice(0, i));
      partial = partial.slice(i + 1);
      wake?.();
    }
  });
  const next = async (): Promise<Api> => {
    while (lines.length === 0) await new Promise<void>((r) => (wake = r));
    wake = null;
    return JSON.parse(lines.shift()!);
  };
  const { port } = await next();
  const sock = api.connect({ host: '127.0.0.1', port, localAddresses: ['127.0.0.1'] });
  await new Promise<void>((r) => sock.once('connect', r));
  const request = Buffer.alloc(1024, 0x72);
  const warmup = Number(values.warmup ?? 3000);
  const count = Number(values.count ?? 20000);
  const rtts: { at: number; us: number }[] = [];
  await new Promise<void>((done) => {
    let got = 0;
    let n = 0;
    let at = performance.now();
    sock.on('data', (d: Buffer) => {
      got += d.length;
      if (got < 1024) return;
      got -= 1024;
      n++;
      if (n > warmup) rtts.push({ at: performance.timeOrigin + at, us: (performance.now() - at) * 1000 });
      if (n >= warmup + count) return done();
      at = performance.now();
      sock.write(request);
    });
    sock.write(request);
  });
  child.stdin.write('x\n');
  const serverGcs: Gc[] = (await next()).gcs;
  const pct = (xs: number[], p: number): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
  };
  const all = rtts.map((r) => r.us);
  const p99 = pct(all, 99);
  const touches = (list: Gc[], r: { at: number; us: number }): boolean => list.some((g) => g.at + g.ms >= r.at && g.at <= r.at + r.us / 1000);
  const first = rtts[0]!.at;
  const last = rtts[rtts.length - 1]!.at;
  const during = (list: Gc[]): Gc[] => list.filter((g) => g.at >= first && g.at <= last);
  const median = (list: Gc[]): string => pct(list.map((g) => g.ms), 50).toFixed(2);
  const slow = rtts.filter((r) => r.us >= p99);
  const untouched = rtts.filter((r) => !touches(gcs, r) && !touches(serverGcs, r)).map((r) => r.us);
  const f = (x: number): string => x.toFixed(1);
  console.log(`${count} round trips: p50 ${f(pct(all, 50))} µs, p90 ${f(pct(all, 90))}, p99 ${f(p99)}`);
  console.log(`collections: client ${during(gcs).length} (median ${median(during(gcs))} ms), server ${during(serverGcs).length} (median ${median(during(serverGcs))} ms)`);
  console.log(`slowest 1 % (${slow.length}): a client collection in ${slow.filter((r) => touches(gcs, r)).length}, a server one in ${slow.filter((r) => touches(serverGcs, r)).length}`);
  console.log(`round trips no collection touched: ${untouched.length} of ${rtts.length}, p99 ${f(pct(untouched, 99))} µs`);
  sock.destroy();
  child.kill();
  process.exit(0);
}
