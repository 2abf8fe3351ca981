/**
 * The work of one 1 KiB request/response round trip, counted (not timed):
 * both ends in one process over loopback, as bench/rr-inproc.ts, with
 * node's scheduling and send calls wrapped and counted. Per round trip
 * (both ends together): setImmediate, process.nextTick, setTimeout and
 * clearTimeout calls, Timeout.refresh() calls, dgram sends, the endpoints'
 * flushes and timer firings, the sockets' 'data' events. Counts do not
 * depend on the machine's load. Last, whether the slowest round trips are
 * those during which an endpoint timer fired, and those a garbage
 * collection ran in (and how much of the round trip it took).
 *
 *   npx tsx bench/rr-work.ts --build BUILD_DIR [--count 5000]
 */
import { Socket as DgramSocket } from 'node:dgram';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PerformanceObserver } from 'node:perf_hooks';

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

let serverSocket: Api = null;
const server = api.createServer((s: Api) => {
  serverSocket = s;
  s.on('error', () => {});
  s.on('data', (d: Buffer) => {
    bump("server 'data'");
    s.write(d);
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = server.addresses()[0].port;
const sock = api.connect({ host: '127.0.0.1', port, localAddresses: ['127.0.0.1'] });
await new Promise<void>((r) => sock.once('connect', r));
const request = Buffer.alloc(1024, 0x72);
const warmup = 500;
let base: Record<string, number> = {};
let ends: { client: Api; server: Api } | null = null;
/** Round-trip times (µs), when each began (performance.now(), ms), and whether an endpoint timer fired during each. */
const rtts: { us: number; at: number; timer: boolean }[] = [];
/** Garbage collections: start (ms, performance.now()'s clock) and duration (ms). */
const gcs: { start: number; ms: number; minor: boolean }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ start: e.startTime, ms: e.duration, minor: (e as unknown as { detail?: { kind?: number } }).detail?.kind === 1 });
}).observe({ entryTypes: ['gc'] });
const timerFirings = (): number => sock._endpoint().stats().timeouts + server._endpoint().stats().timeouts;
await new Promise<void>((done) => {
  let got = 0;
  let n = 0;
  let sentAt = performance.now();
  let firings = timerFirings();
  sock.on('data', (d: Buffer) => {
    bump("client 'data'");
    got += d.length;
    if (got < 1024) return;
    got -= 1024;
    n++;
    const now = timerFirings();
    if (n > warmup) rtts.push({ us: (performance.now() - sentAt) * 1000, at: sentAt, timer: now !== firings });
    if (n === warmup) {
      base = { ...counts };
      ends = { client: sock._endpoint().stats(), server: server._endpoint().stats() };
    }
    if (n >= warmup + count) return done();
    firings = now;
    sentAt = performance.now();
    sock.write(request);
  });
  sock.write(request);
});
const after = { client: sock._endpoint().stats(), server: server._endpoint().stats() };
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
// Wall times are the machine's; what matters is whether the slow round trips are those a timer fired in.
const pct = (xs: number[], p: number): string => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? '-' : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(1);
};
const all = rtts.map((r) => r.us);
const fired = rtts.filter((r) => r.timer).map((r) => r.us);
const p99 = Number(pct(all, 99));
const slow = rtts.filter((r) => r.us >= p99);
const pathStats = (x: Api): string => {
  const st = x.stats();
  const p = st.paths[0];
  return `packets lost ${p.packetsLost} (spurious ${p.packetsSpuriouslyLost}), PTOs ${p.ptoCount}, data retransmitted ${p.dataBytesRetransmitted} B, congestion events ${p.congestionEvents}, cwnd ${p.congestionWindow}, srtt ${p.smoothedRtt} ms, mtu probes ${p.mtuProbesSent} (lost ${p.mtuProbesLost}, black holes ${p.mtuBlackHoles}), liveness pings ${st.livenessPings}, drops ${JSON.stringify(st.drops)}`;
};
console.log(`client path: ${pathStats(sock)}`);
console.log(`server path: ${pathStats(serverSocket)}`);
console.log(`round trips: p50 ${pct(all, 50)} µs, p99 ${pct(all, 99)} µs; ${fired.length} had a timer firing (p50 ${pct(fired, 50)} µs); of the slowest 1 %, ${slow.filter((r) => r.timer).length} of ${slow.length} had one`);
// The collections that began inside a round trip.
const gcIn = (r: { us: number; at: number }): { start: number; ms: number; minor: boolean }[] => gcs.filter((g) => g.start >= r.at && g.start < r.at + r.us / 1000);
const withGc = rtts.filter((r) => gcIn(r).length > 0);
const slowGc = slow.filter((r) => gcIn(r).length > 0);
const gcShare = slowGc.map((r) => (gcIn(r).reduce((a, g) => a + g.ms, 0) * 1000) / r.us);
const first = rtts[0]?.at ?? 0;
const last = rtts.length > 0 ? rtts[rtts.length - 1]!.at : 0;
const inRun = gcs.filter((g) => g.start >= first && g.start <= last);
console.log(
  `garbage collections during the measured round trips: ${inRun.length} (${inRun.filter((g) => g.minor).length} scavenges; p50 ${pct(inRun.map((g) => g.ms * 1000), 50)} µs each), one per ${(rtts.length / Math.max(1, inRun.length)).toFixed(0)} round trips; ` +
    `${withGc.length} round trips had one began in them (p50 ${pct(withGc.map((r) => r.us), 50)} µs); of the slowest 1 %, ${slowGc.length} of ${slow.length} had one, taking ${pct(gcShare.map((x) => 100 * x), 50)} % of that round trip (median)`,
);
sock.destroy();
await new Promise<void>((r) => server.close(() => r()));
process.exit(0);
