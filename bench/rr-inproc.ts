/**
 * 1 KiB request/response with both ends in one process, over loopback
 * sockets, for two builds taking turns: per round trip the wall time (p50)
 * and the process's CPU time (both ends). One thread runs both ends, so no
 * wake-up of another process is measured: what is left is mpudp's own work
 * per round trip, the figure a loaded shared machine disturbs least.
 *
 *   npx tsx bench/rr-inproc.ts --a BUILD_DIR --b BUILD_DIR [--rounds 6] [--count 2000]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { a: { type: 'string' }, b: { type: 'string' }, rounds: { type: 'string' }, count: { type: 'string' } } });
if (values.a === undefined || values.b === undefined) throw new Error('usage: rr-inproc.ts --a BUILD_DIR --b BUILD_DIR [--rounds 6] [--count 2000]');
const rounds = Number(values.rounds ?? 6);
const count = Number(values.count ?? 2000);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Api = any;
const load = async (dir: string): Promise<Api> => import(pathToFileURL(resolve(dir, 'index.js')).href);
const builds: [string, Api][] = [
  ['A', await load(values.a)],
  ['B', await load(values.b)],
];

async function run(api: Api): Promise<{ p50: number; cpuUs: number }> {
  const server = api.createServer((s: Api) => s.on('data', (d: Buffer) => s.write(d)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = server.addresses()[0].port;
  const sock = api.connect({ host: '127.0.0.1', port, localAddresses: ['127.0.0.1'] });
  await new Promise<void>((r) => sock.once('connect', r));
  const request = Buffer.alloc(1024, 0x72);
  const rtts: number[] = [];
  let cpu0 = process.cpuUsage();
  await new Promise<void>((done) => {
    let got = 0;
    let sentAt = 0;
    let n = 0;
    const warmup = 300;
    sock.on('data', (d: Buffer) => {
      got += d.length;
      if (got < 1024) return;
      got -= 1024;
      n++;
      if (n === warmup) cpu0 = process.cpuUsage();
      if (n > warmup) rtts.push(performance.now() - sentAt);
      if (rtts.length >= count) return done();
      sentAt = performance.now();
      sock.write(request);
    });
    sentAt = performance.now();
    sock.write(request);
  });
  const cpu = process.cpuUsage(cpu0);
  sock.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  rtts.sort((x, y) => x - y);
  return { p50: rtts[Math.floor(rtts.length / 2)]! * 1000, cpuUs: (cpu.user + cpu.system) / count };
}

const res: Record<string, { p50: number[]; cpu: number[] }> = { A: { p50: [], cpu: [] }, B: { p50: [], cpu: [] } };
for (let r = 0; r < rounds; r++) {
  for (const [label, api] of r % 2 === 0 ? builds : [...builds].reverse()) {
    const { p50, cpuUs } = await run(api);
    res[label]!.p50.push(p50);
    res[label]!.cpu.push(cpuUs);
    console.log(`round ${r + 1} ${label}: p50 ${p50.toFixed(1)} µs, CPU ${cpuUs.toFixed(1)} µs per round trip (both ends)`);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const l of ['A', 'B']) console.log(`${l}: median p50 ${median(res[l]!.p50).toFixed(1)} µs, median CPU ${median(res[l]!.cpu).toFixed(1)} µs per round trip`);
process.exit(0);
