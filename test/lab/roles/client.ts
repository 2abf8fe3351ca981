/**
 * Lab role: the client. Connects to the server's addresses from the given
 * local addresses, runs one transfer, reports the result, and exits.
 *
 *   node --import tsx test/lab/roles/client.ts --local 10.77.1.2,10.77.2.2 \
 *     --remote 10.77.1.1,10.77.2.1 --port 4433 --mode upload --size 50331648
 *
 * Modes: upload (size bytes to the server), download (size bytes from it),
 * stream (upload until the line `stop` arrives on stdin). The transfer time
 * is measured from the header's write to the server's digest (upload) or the
 * last byte (download). Reports: connected, path-up/path-down, progress,
 * result { ok, bytes, ms, mbit, paths }, error.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { connect, type MultipathSocket } from '../../../src/index.js';
import { MODE_DOWNLOAD, MODE_UPLOAD, STREAM_SIZE, header, pathEvent, pathSummary, report, writeData } from './protocol.js';

const { values } = parseArgs({
  options: {
    local: { type: 'string' },
    remote: { type: 'string' },
    port: { type: 'string', default: '4433' },
    mode: { type: 'string', default: 'upload' },
    size: { type: 'string', default: String(16 << 20) },
    'progress-every': { type: 'string', default: String(1 << 20) },
    'connect-timeout': { type: 'string', default: '15000' },
    'max-datagram': { type: 'string' },
  },
});
if (values.local === undefined || values.remote === undefined) {
  report({ type: 'error', message: '--local and --remote are required' });
  process.exit(2);
}
const mode = values.mode;
if (mode !== 'upload' && mode !== 'download' && mode !== 'stream') {
  report({ type: 'error', message: `unknown mode ${mode}` });
  process.exit(2);
}
const size = Number(values.size);
const progressEvery = Number(values['progress-every']);

/** Set by `stop` on stdin (stream mode). */
let stopRequested = false;
const stdin = createInterface({ input: process.stdin, terminal: false });

const fail = (message: string, extra: Record<string, unknown> = {}): never => {
  report({ type: 'error', message, ...extra });
  process.exit(1);
};

const t0 = performance.now();
const socket = connect({
  port: Number(values.port),
  addresses: values.remote.split(','),
  localAddresses: values.local.split(','),
  ...(values['max-datagram'] ? { maxDatagramSize: Number(values['max-datagram']) } : {}),
});
socket.on('path-up', (p) => report({ ...pathEvent('path-up', p), role: 'client', atMs: Math.round(performance.now() - t0) }));
socket.on('path-down', (p, reason: string) => report({ ...pathEvent('path-down', p, reason), role: 'client', atMs: Math.round(performance.now() - t0) }));
socket.on('error', (err: Error & { code?: string }) => fail(`socket error: ${err.message}`, { code: err.code }));
const connectTimer = setTimeout(() => fail(`no 'connect' within ${values['connect-timeout']} ms`, { paths: pathSummary(socket) }), Number(values['connect-timeout']));
await once(socket, 'connect');
clearTimeout(connectTimer);
report({ type: 'connected', ms: Math.round(performance.now() - t0), paths: pathSummary(socket) });

stdin.on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'stop') stopRequested = true;
  else if (cmd === 'paths') report({ type: 'paths', paths: pathSummary(socket) });
});

/** Reads exactly `n` more bytes (via 'data'), feeding them to `sink`; resolves with the remainder. */
function readBytes(s: MultipathSocket, n: number, sink: (b: Buffer) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let left = n;
    const onData = (d: Buffer): void => {
      const take = Math.min(left, d.length);
      if (take > 0) sink(d.subarray(0, take));
      left -= take;
      if (left === 0) {
        cleanup();
        resolve(d.subarray(take));
      }
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error(`the server ended ${left} bytes early`));
    };
    const cleanup = (): void => {
      s.off('data', onData);
      s.off('end', onEnd);
      s.pause();
    };
    s.on('data', onData);
    s.on('end', onEnd);
    s.resume();
  });
}

let nextProgress = progressEvery;
const progress = (bytes: number): void => {
  if (bytes >= nextProgress) {
    report({ type: 'progress', bytes, ms: Math.round(performance.now() - t0) });
    while (nextProgress <= bytes) nextProgress += progressEvery;
  }
};

const tStart = performance.now();
const cpuStart = process.cpuUsage();
let result: Record<string, unknown>;
if (mode === 'download') {
  socket.end(header(MODE_DOWNLOAD, BigInt(size)));
  const hash = createHash('sha256');
  let got = 0;
  const rest = await readBytes(socket, size, (b) => {
    hash.update(b);
    got += b.length;
    progress(got);
  });
  const ms = performance.now() - tStart;
  let digest = rest;
  if (digest.length < 32) digest = Buffer.concat([digest, ...(await collect(socket, 32 - digest.length))]);
  const ok = hash.digest().equals(digest.subarray(0, 32));
  result = { type: 'result', mode, ok, bytes: got, ms: Math.round(ms), mbit: round((got * 8) / ms / 1000) };
} else {
  socket.write(header(MODE_UPLOAD, mode === 'stream' ? STREAM_SIZE : BigInt(size)));
  const total = mode === 'stream' ? Number.MAX_SAFE_INTEGER : size;
  const replyP = collect(socket, 40);
  const sent = await writeData(socket, total, progress, () => stopRequested);
  socket.end();
  const reply = Buffer.concat(await replyP);
  const ms = performance.now() - tStart;
  const count = Number(reply.readBigUInt64BE(0));
  const ok = count === sent.bytes && reply.subarray(8, 40).equals(sent.hash);
  result = { type: 'result', mode, ok, bytes: sent.bytes, received: count, ms: Math.round(ms), mbit: round((sent.bytes * 8) / ms / 1000) };
}
const cpu = process.cpuUsage(cpuStart);
// CPU used by this process during the transfer, as a share of one core (a starved run shows here).
result.cpuPct = Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - tStart)) * 100);
report({ ...result, paths: pathSummary(socket) });

/** Collects `n` bytes from the socket (rejects if it ends first). */
async function collect(s: MultipathSocket, n: number): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  await readBytes(s, n, (b) => parts.push(Buffer.from(b)));
  return parts;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

// Let the connection close gracefully (bounded), then exit.
socket.resume();
const closed = once(socket, 'close');
socket.end();
await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))]);
stdin.close();
process.exit(result.ok === true ? 0 : 1);
