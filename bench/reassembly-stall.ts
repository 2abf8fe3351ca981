/**
 * The longest event-loop block of a real server under the reassembly
 * fragmentation attack (issue 9: "no event-loop stall over 50 ms"), over
 * loopback sockets. The attacker is a client that completed the handshake
 * (it holds the keys), driven sans-IO on its own dgram socket in this
 * process; once connected it stops answering and sends prebuilt, sealed
 * datagrams in bursts of 16 per turn of the event loop:
 *
 * - `fragments`: 160 one-byte DATA frames per datagram at every other
 *   offset, in descending order (the original attack), until the chunk cap
 *   ends the connection or `--count` fragments were sent;
 * - `run`: 512-byte pieces (too large to coalesce) filling the window
 *   beyond a gap, two per datagram, then one datagram that fills the gap
 *   and moves every chunk into order at once (the costliest datagram).
 *
 * perf_hooks' monitorEventLoopDelay (1 ms resolution) gives the longest
 * block. The same bursts sent to a socket nobody reads give the attacker's
 * own share in the same run (baseline), and so does an idle second. The
 * machine is shared: repeat, and compare within one run. The longest
 * single call of the server's core (handleDatagram) and of its io flush
 * (events to the socket, which reads what became readable, then sends)
 * are timed too, to say where a long block was spent, in wall time and
 * in CPU time (process.cpuUsage: a process descheduled by a loaded
 * machine blocks its loop without spending CPU, so the CPU time is the
 * number that says what the code costs).
 *
 *   npx tsx --expose-gc bench/reassembly-stall.ts [--window 4] [--count 100000] [--rounds 3]
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Connection } from '../src/core/connection.js';
import { EndpointCore } from '../src/core/endpoint.js';
import { sealedPacket } from '../src/core/packet-writer.js';
import type { SocketAddress } from '../src/core/types.js';
import type { Frame } from '../src/wire/types.js';
import { createServer, type MultipathSocket } from '../src/index.js';

const MiB = 1024 * 1024;
const HOST = '127.0.0.1';
const BURST = 16;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A client core connected to `server` over its own socket; returns once the server announced it. */
async function attacker(server: SocketAddress, announced: () => boolean): Promise<{ conn: Connection; socket: Socket; stop: () => void }> {
  const socket = createSocket('udp4');
  socket.bind(0, HOST);
  await once(socket, 'listening');
  const local = { address: HOST, port: socket.address().port };
  const core = new EndpointCore({ random: (n) => new Uint8Array(randomBytes(n)), server: false });
  const t0 = performance.now();
  const conn = core.connect({ localAddresses: [local], remoteAddresses: [server] }, 0);
  let running = true;
  const pump = (): void => {
    if (!running) return;
    const now = performance.now() - t0;
    core.handleTimeout(now);
    for (let t = core.pollTransmit(now); t !== null; t = core.pollTransmit(now)) socket.send(t.data, t.remote.port, t.remote.address);
    while (core.pollEvent() !== null);
  };
  socket.on('message', (msg) => {
    if (!running) return;
    core.handleDatagram(new Uint8Array(msg), local, server, performance.now() - t0);
    pump();
  });
  const timer = setInterval(pump, 2);
  pump();
  while (!(conn.isEstablished && announced())) await sleep(5);
  return {
    conn,
    socket,
    stop: () => {
      running = false;
      clearInterval(timer);
    },
  };
}

/** The attack's datagrams, sealed now (so that sending them costs the loop almost nothing). */
function build(conn: Connection, kind: 'fragments' | 'run', window: number, count: number): Uint8Array[] {
  const path = conn.pathsById.get(0)!;
  const out: Uint8Array[] = [];
  if (kind === 'fragments') {
    const one = new Uint8Array([0x61]);
    for (let i = Math.min(count, window / 2 - 1); i > 0; ) {
      const frames: Frame[] = [];
      for (let j = 0; j < 160 && i > 0; j++, i--) frames.push({ type: 'data', offset: 2 * i, fin: false, data: one });
      out.push(sealedPacket(conn, path, frames, 1500)!);
    }
  } else {
    const piece = new Uint8Array(512).fill(0x62);
    for (let i = window / 512 - 1; i > 0; i -= 2) {
      const frames: Frame[] = [{ type: 'data', offset: i * 512, fin: false, data: piece }];
      if (i > 1) frames.push({ type: 'data', offset: (i - 1) * 512, fin: false, data: piece });
      out.push(sealedPacket(conn, path, frames, 1500)!);
    }
    out.push(sealedPacket(conn, path, [{ type: 'data', offset: 0, fin: false, data: piece }], 1500)!);
  }
  return out;
}

/** Sends the datagrams in bursts, one burst per turn; returns the longest event-loop block seen (ms). */
async function blast(socket: Socket, datagrams: Uint8Array[], to: SocketAddress): Promise<{ maxMs: number; p99Ms: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  for (let i = 0; i < datagrams.length; i += BURST) {
    for (let j = i; j < Math.min(i + BURST, datagrams.length); j++) socket.send(datagrams[j]!, to.port, to.address);
    await turn();
  }
  await sleep(300);
  h.disable();
  return { maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 };
}

async function idle(ms: number): Promise<number> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await sleep(ms);
  h.disable();
  return h.max / 1e6;
}

async function round(kind: 'fragments' | 'run', window: number, count: number): Promise<void> {
  let serverSocket: MultipathSocket | null = null;
  const server = createServer({ receiveWindow: window }, (s) => {
    serverSocket = s;
    s.on('error', () => undefined);
    s.on('data', () => undefined);
  });
  server.listen({ port: 0, addresses: [HOST] });
  await once(server, 'listening');
  const to = { address: HOST, port: server.address()!.port };
  const endpoint = server._endpoint()!;
  const longest = { datagram: 0, flush: 0, datagramCpu: 0, flushCpu: 0 };
  const timed = (target: Record<string, unknown>, method: string, key: 'datagram' | 'flush'): void => {
    const original = target[method] as (...args: unknown[]) => unknown;
    target[method] = function (this: unknown, ...args: unknown[]) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      try {
        return original.apply(this, args);
      } finally {
        const cpu = process.cpuUsage(c0);
        longest[key] = Math.max(longest[key], performance.now() - t0);
        const cpuKey = key === 'datagram' ? 'datagramCpu' : 'flushCpu';
        longest[cpuKey] = Math.max(longest[cpuKey], (cpu.user + cpu.system) / 1000);
      }
    };
  };
  timed(endpoint.core as unknown as Record<string, unknown>, 'handleDatagram', 'datagram');
  timed(endpoint as unknown as Record<string, unknown>, 'flush', 'flush');
  const a = await attacker(to, () => serverSocket !== null);
  a.stop();
  const datagrams = build(a.conn, kind, window, count);
  // Baseline: the same bursts to a socket nobody reads.
  const sink = createSocket('udp4');
  sink.bind(0, HOST);
  await once(sink, 'listening');
  const base = await blast(a.socket, datagrams, { address: HOST, port: sink.address().port });
  const quiet = await idle(500);
  longest.datagram = longest.flush = longest.datagramCpu = longest.flushCpu = 0;
  const attack = await blast(a.socket, datagrams, to);
  const stats = (serverSocket as MultipathSocket | null)?.stats();
  const ended = stats?.state ?? 'gone';
  console.log(
    `${kind}, ${window / MiB} MiB window, ${datagrams.length} datagrams: longest block ${attack.maxMs.toFixed(1)} ms (p99 ${attack.p99Ms.toFixed(1)} ms); ` +
      `longest server datagram ${longest.datagram.toFixed(1)} ms (CPU ${longest.datagramCpu.toFixed(1)} ms), flush ${longest.flush.toFixed(1)} ms (CPU ${longest.flushCpu.toFixed(1)} ms); same bursts to a sink ${base.maxMs.toFixed(1)} ms; idle ${quiet.toFixed(1)} ms; server connection ${ended}` +
      (stats ? `, drops ${JSON.stringify(stats.drops)}` : ''),
  );
  sink.close();
  a.socket.close();
  server.close();
  (serverSocket as MultipathSocket | null)?.destroy();
  await sleep(200);
}

const window = Number(arg('--window') ?? 4) * MiB;
const count = Number(arg('--count') ?? 100_000);
const rounds = Number(arg('--rounds') ?? 3);
const kinds = (arg('--kind') ?? 'fragments,run').split(',') as ('fragments' | 'run')[];
for (let r = 0; r < rounds; r++) for (const kind of kinds) await round(kind, window, count);
