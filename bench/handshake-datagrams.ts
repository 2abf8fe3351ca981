/**
 * Datagrams per short connection over real loopback sockets: `connect()` →
 * 'connect' → `destroy()`, one connection after another, both ends in one
 * process, every `dgram` send counted by its first byte and size. The
 * figure no load moves, for cuts to what a handshake sends (docs/bench.md,
 * "Issue 11: datagrams per handshake"); bench/handshake-trace.ts shows the
 * same through the sans-IO core alone.
 *
 *   npx tsx bench/handshake-datagrams.ts [--dist DIR] [--n 300]
 */
import { Socket } from 'node:dgram';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { dist: { type: 'string' }, n: { type: 'string' } } });
const N = Number(values.n ?? 300);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Api = any;
const api: Api = await import(values.dist ? pathToFileURL(resolve(values.dist, 'index.js')).href : '../src/index.js');

const kinds = new Map<string, number>();
const send = Socket.prototype.send as (...args: unknown[]) => void;
Socket.prototype.send = function (this: Socket, ...args: unknown[]): void {
  const msg = args[0] as Uint8Array | Uint8Array[];
  const first = Array.isArray(msg) ? msg[0]! : msg;
  const size = Array.isArray(msg) ? msg.reduce((a, b) => a + b.length, 0) : msg.length;
  const kind = `first byte 0x${first[0]!.toString(16).padStart(2, '0')}, ${size >= 1000 ? '≥ 1000' : size} B`;
  kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  send.apply(this, args);
} as typeof Socket.prototype.send;

const server = api.createServer((s: Api) => {
  s.on('error', () => {});
  s.resume();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = server.addresses()[0].port;
for (let i = 0; i < N; i++) {
  const sock = api.connect({ host: '127.0.0.1', port, localAddresses: ['127.0.0.1'] });
  sock.on('error', () => {});
  await new Promise((r) => sock.once('connect', r));
  sock.destroy();
}
// Let the last connection's FINs and CLOSE go out.
await new Promise((r) => setTimeout(r, 500));
let total = 0;
for (const [kind, n] of [...kinds].sort()) {
  console.log(`${(n / N).toFixed(2).padStart(6)}  ${kind}`);
  total += n;
}
console.log(`${(total / N).toFixed(2)} datagrams per connection, both directions (${N} connections${values.dist ? `, ${values.dist}` : ''})`);
await new Promise<void>((r) => server.close(() => r()));
process.exit(0);
