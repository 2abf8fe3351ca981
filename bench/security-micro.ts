/**
 * What an Initial costs a server (issue 9's closing note), measured on the
 * sans-IO EndpointCore so that only the protocol's own work is timed:
 *
 * - a junk 1200-byte datagram whose first byte says "Initial" (0x40);
 * - a well-formed Initial from a spoofed source that the server accepts
 *   (half-open: a Connection, an ephemeral key, two Diffie-Hellmans);
 * - the same once the server is in retry mode (a stateless Retry).
 *
 * With `--baseline DIR`, the same junk is also fed to the EndpointCore of
 * another checkout (e.g. /work/main) in the same run, so the two numbers
 * share the machine's load. Rounds alternate and the median is printed.
 *
 * The AEAD alone: sealing and opening one 1200-byte packet with each
 * cipher (PacketKey, as every Short packet is), in µs and CPU s/GB.
 *
 * Then a flood over real sockets: a server that writes 4 MiB to every
 * connection it is given gets `--flood N` well-formed Initials, each from
 * its own spoofed source (a socket bound to 127.0.x.y), plus 1000 junk
 * datagrams; its RSS and heap are printed before, 2 s after, and once the
 * half-open handshakes expired (12 s).
 *
 *   npx tsx --expose-gc bench/security-micro.ts [--baseline /work/main] [--rounds 5] [--flood 283]
 *   (--rounds 0: the flood only; --flood-dir /work/main: the flood against
 *   another checkout's server, in a process of its own)
 */
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { PacketKey, type CipherName } from '../src/core/crypto/aead.js';
import { EndpointCore } from '../src/core/endpoint.js';
import { createServer } from '../src/index.js';
import type { SocketAddress } from '../src/core/types.js';

type EndpointCtor = new (config: Record<string, unknown>) => {
  handleDatagram(data: Uint8Array, local: SocketAddress, remote: SocketAddress, now: number): void;
  pollTransmit(now: number): { data: Uint8Array } | null;
  pollEvent(): unknown;
  connect(config: Record<string, unknown>, now: number): unknown;
};

const SERVER: SocketAddress = { address: '10.0.0.1', port: 443 };
const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function spoofed(i: number): SocketAddress {
  return { address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 1024 + (i % 60000) };
}

function junk(count: number): Uint8Array[] {
  return Array.from({ length: count }, () => {
    const d = random(1200);
    d[0] = 0x40;
    return d;
  });
}

function initials(Ctor: EndpointCtor, count: number): Uint8Array[] {
  return Array.from({ length: count }, () => {
    const client = new Ctor({ random, server: false });
    client.connect({ localAddresses: [{ address: '10.9.0.1', port: 1 }], remoteAddresses: [SERVER] }, 0);
    return client.pollTransmit(0)!.data;
  });
}

/** µs per datagram fed to a fresh server endpoint (its answers drained, untimed). */
function perDatagram(Ctor: EndpointCtor, datagrams: Uint8Array[], extra: Record<string, unknown> = {}): number {
  const ep = new Ctor({ random, server: true, localAddresses: [SERVER], ...extra });
  let timed = 0;
  for (let i = 0; i < datagrams.length; i++) {
    const t0 = process.hrtime.bigint();
    ep.handleDatagram(datagrams[i]!, SERVER, spoofed(i), 1000);
    timed += Number(process.hrtime.bigint() - t0);
    while (ep.pollTransmit(1000) !== null);
    while (ep.pollEvent() !== null);
  }
  return timed / 1000 / datagrams.length;
}

/**
 * CPU µs per junk datagram fed to one server endpoint in a tight loop
 * (process.cpuUsage: a loaded machine that deschedules the process
 * stretches the wall time of each datagram, not its CPU time).
 */
function junkCpu(Ctor: EndpointCtor, datagrams: Uint8Array[]): number {
  const ep = new Ctor({ random, server: true, localAddresses: [SERVER] });
  const c0 = process.cpuUsage();
  for (let i = 0; i < datagrams.length; i++) ep.handleDatagram(datagrams[i]!, SERVER, spoofed(i), 1000);
  const cpu = process.cpuUsage(c0);
  return (cpu.user + cpu.system) / datagrams.length;
}

/** µs to seal and to open one `size`-byte packet (a 20-byte header as associated data). */
function aeadCost(cipher: CipherName, size: number, count: number): { seal: number; open: number } {
  const key = new PacketKey(cipher, random(cipher === 'aes-128-gcm' ? 16 : 32), random(12));
  const buf = random(size);
  const headerEnd = 20;
  const payloadEnd = size - 16;
  const packets: Uint8Array[] = [];
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    key.seal(buf, headerEnd, payloadEnd, 1, i);
    if (i < 1000) packets.push(buf.slice());
  }
  const seal = Number(process.hrtime.bigint() - t0) / 1000 / count;
  t0 = process.hrtime.bigint();
  let ok = 0;
  for (let i = 0; i < count; i++) if (key.open(packets[i % 1000]!, headerEnd, 1, i % 1000) !== null) ok++;
  const open = Number(process.hrtime.bigint() - t0) / 1000 / count;
  if (ok !== count) throw new Error(`only ${ok} of ${count} packets opened`);
  return { seal, open };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const rounds = Number(arg('--rounds') ?? 5);
  const baselineDir = arg('--baseline');
  const Ours = EndpointCore as unknown as EndpointCtor;
  const Base = baselineDir
    ? ((await import(pathToFileURL(`${baselineDir}/src/core/endpoint.ts`).href)) as { EndpointCore: EndpointCtor }).EndpointCore
    : null;
  const results: Record<string, number[]> = {};
  const note = (k: string, v: number): void => void (results[k] ??= []).push(v);
  // Warm up both code paths once.
  perDatagram(Ours, junk(500));
  perDatagram(Ours, initials(Ours, 100), { retry: 'never', maxHalfOpenPerSource: 1e9 });
  if (Base) perDatagram(Base, junk(200));
  for (let r = 0; r < rounds; r++) {
    const j = junk(5000);
    note('junk Initial (0x40 + 1199 random bytes)', perDatagram(Ours, j));
    note('junk Initial, CPU time in a tight loop', junkCpu(Ours, j));
    if (Base) note(`junk Initial, ${baselineDir}`, perDatagram(Base, j.slice(0, 1000)));
    const good = initials(Ours, 1000);
    note('well-formed spoofed Initial, accepted half-open', perDatagram(Ours, good, { retry: 'never', maxHalfOpenPerSource: 1e9, retryThreshold: 1e6 }));
    note('well-formed spoofed Initial, answered with Retry', perDatagram(Ours, good, { retry: 'always' }));
    for (const cipher of ['aes-128-gcm', 'chacha20-poly1305'] as const) {
      const c = aeadCost(cipher, 1200, 20_000);
      note(`${cipher}: seal one 1200-byte packet`, c.seal);
      note(`${cipher}: open one 1200-byte packet`, c.open);
    }
  }
  console.log(`median of ${rounds} rounds (µs per datagram, sans-IO core only; wall time unless it says CPU):`);
  for (const [k, v] of Object.entries(results)) console.log(`  ${k}: ${median(v).toFixed(1)} µs  (rounds: ${v.map((x) => x.toFixed(1)).join(', ')})`);
  for (const cipher of ['aes-128-gcm', 'chacha20-poly1305']) {
    const both = median(results[`${cipher}: seal one 1200-byte packet`]!) + median(results[`${cipher}: open one 1200-byte packet`]!);
    console.log(`  ${cipher}: seal + open = ${both.toFixed(1)} µs per 1200 bytes = ${((both * 1e-6 * 1e9) / 1200).toFixed(2)} CPU s/GB (sender + receiver)`);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function memory(): string {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return `RSS ${(m.rss / 2 ** 20).toFixed(1)} MiB, heap ${(m.heapUsed / 2 ** 20).toFixed(1)} MiB, buffers ${(m.arrayBuffers / 2 ** 20).toFixed(1)} MiB`;
}

async function flood(count: number, dir: string | undefined): Promise<void> {
  let connections = 0;
  const create = dir ? ((await import(pathToFileURL(`${dir}/src/index.ts`).href)) as { createServer: typeof createServer }).createServer : createServer;
  console.log(`flood against ${dir ?? 'this checkout'}:`);
  const server = create((socket) => {
    connections++;
    socket.on('error', () => undefined);
    socket.write(Buffer.alloc(4 * 2 ** 20));
  });
  server.listen({ port: 0, addresses: ['127.0.0.1'] });
  await once(server, 'listening');
  const port = server.address()!.port;
  // Initials of the same checkout's protocol, so its server takes them.
  const Client = dir
    ? ((await import(pathToFileURL(`${dir}/src/core/endpoint.ts`).href)) as { EndpointCore: EndpointCtor }).EndpointCore
    : (EndpointCore as unknown as EndpointCtor);
  const datagrams = Array.from({ length: count }, () => {
    const client = new Client({ random, server: false });
    client.connect({ localAddresses: [{ address: '127.0.0.1', port: 1 }], remoteAddresses: [{ address: '127.0.0.1', port }] }, 0);
    return client.pollTransmit(0)!.data;
  });
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const s = createSocket('udp4');
    s.bind(0, `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`);
    await once(s, 'listening');
    sockets.push(s);
  }
  await sleep(200);
  console.log(`flood: before           ${memory()}`);
  for (let i = 0; i < count; i++) sockets[i]!.send(datagrams[i]!, port, '127.0.0.1');
  const j = junk(1000);
  for (const d of j) sockets[0]!.send(d, port, '127.0.0.1');
  await sleep(2000);
  const core = server.stats()!.core;
  console.log(`flood: 2 s after ${count} Initials (${((count * 1200) / 1024).toFixed(0)} KiB) + 1000 junk: ${memory()}`);
  console.log(`       connections announced ${connections}, half-open ${core.halfOpen ?? 'n/a'}, retries sent ${core.retriesSent}, drops ${JSON.stringify(core.drops)}`);
  await sleep(10_000);
  console.log(`flood: 12 s after       ${memory()}; half-open ${server.stats()!.core.halfOpen}`);
  for (const s of sockets) s.close();
  server.close();
}

if (Number(arg('--rounds') ?? 5) > 0) await main();
const n = Number(arg('--flood') ?? 0);
if (n > 0) await flood(n, arg('--flood-dir'));
