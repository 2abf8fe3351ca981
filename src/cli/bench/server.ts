/**
 * The server role of `mpudp bench`: serves bench tests over mpudp, TCP and
 * raw UDP until stopped (or after one test with `oneOff`).
 *
 * Stdin takes commands, one per line: `stats` prints the connection counts,
 * memory (after a full GC when node runs with --expose-gc) and CPU seconds;
 * `profile-start` and `profile-stop FILE` sample this process's CPU (V8's
 * profiler through node:inspector) over a window and write a .cpuprofile;
 * `quit` stops. The bench runner uses `stats` to measure memory per idle
 * connection, and the profile window for the idle server.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { createServer as createTcpServer, type Server as TcpServer, type Socket as TcpSocket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Duplex } from 'node:stream';
import { createServer, type MultipathServer, type MultipathSocket, type PathInfo } from '../../index.js';
import type { CongestionControlName } from '../../core/options.js';
import type { SchedulerName } from '../../core/sched/index.js';
import {
  LineSplitter,
  TimelineSampler,
  cpuSeconds,
  epochMs,
  formatBps,
  formatBytes,
  memory,
  parseHeader,
  round3,
  type TestHeader,
  type Transport,
} from './common.js';
import { pathEvent, pathSummary } from './paths.js';
import { Pattern, PatternSink, PatternSource } from './pattern.js';
import { pump } from './stream.js';
import { UdpBenchServer, type UdpReceiverResult } from './udp.js';

export interface ServerConfig {
  /** Transports served: mpudp on UDP `port`, TCP on TCP `port`, raw UDP on UDP `port + 1`. */
  transports: Transport[];
  port: number;
  /** Addresses to serve on; empty: mpudp every host address, TCP and UDP the wildcard. */
  addresses: string[];
  scheduler?: SchedulerName;
  congestionControl?: CongestionControlName;
  maxDatagramSize?: number;
  /** mpudp keepAliveInterval (ms). */
  keepAliveInterval?: number;
  /** mpudp: advertise the server's addresses to clients (default true). */
  advertise: boolean;
  /** Exit after the first bulk or rr test. */
  oneOff: boolean;
  json: boolean;
}

/** One line of output: JSON or text. */
type Say = (obj: Record<string, unknown>, text: string) => void;

/** What one served stream reports when its test is over. */
interface StreamReport {
  transport: Transport;
  header: TestHeader;
  remote: string;
  result: Record<string, unknown>;
  /** Resolves when the stream has closed (its last bytes delivered or given up). */
  closed?: Promise<void>;
}

/** Where a served stream's state hangs on its socket (read by the shared listeners below). */
const SERVED = Symbol('served');
type ServedSocket = Duplex & { [SERVED]: ServedStream };

/**
 * One served stream's state. Its listeners are module-level functions that
 * find it on the socket (`this` is the socket in a listener), so an idle
 * connection of the connect and hold tests costs this one object and three
 * listener entries, not a closure context and eight closures (about 1 KB
 * of the idle-memory figure was the bench's own, before).
 */
class ServedStream {
  /** Made when a test starts: a connect or hold test's idle connection keeps no promise and listener for it. */
  closed: Promise<void> | undefined = undefined;
  /** Made on the first bytes. */
  splitter: LineSplitter | null = null;
  header: TestHeader | null = null;
  handle: (d: Buffer) => void = ignore;
  finished = false;

  constructor(
    readonly sock: Duplex,
    readonly transport: Transport,
    readonly remote: string,
    readonly mp: MultipathSocket | null,
    readonly done: (r: StreamReport) => void,
  ) {}

  paths(): unknown {
    return this.mp ? pathSummary(this.mp) : null;
  }

  finish(result: Record<string, unknown>): void {
    if (this.finished || this.header === null) return;
    this.finished = true;
    this.done({ transport: this.transport, header: this.header, remote: this.remote, result, closed: this.closed });
  }

  start(h: TestHeader): void {
    const sock = this.sock;
    const mp = this.mp;
    this.closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    if (h.mode === 'rr') {
      this.handle = (d) => void sock.write(d);
      sock.on('end', () => {
        sock.end();
        this.finish({ type: 'rr' });
      });
      return;
    }
    if (h.dir === 'up') {
      const sink = new PatternSink(h.verify ? new Pattern(h.seed) : null);
      const timeline = h.binMs > 0 ? new TimelineSampler(h.binMs, () => sink.bytes, mp ? () => mp.paths : null, []) : null;
      timeline?.start();
      this.handle = (d) => sink.add(d);
      sock.on('end', () => {
        const result = { ...sink.result(), timeline: timeline?.stop() ?? null };
        sock.end(`${JSON.stringify(result)}\n`);
        this.finish({ ...result, timeline: undefined, paths: this.paths() });
      });
      return;
    }
    // Download: the server sends.
    this.handle = ignore;
    const source = new PatternSource(new Pattern(h.seed), h.bytes, false);
    const t0 = epochMs();
    const cpu0 = cpuSeconds();
    const deadline = h.bytes === null ? t0 + (h.timeMs ?? 10_000) : Infinity;
    pump(sock, source, { deadline }).then(
      () => {
        if (sock.destroyed) return;
        this.finish({ type: 'sender', bytes: source.sent, ms: round3(epochMs() - t0), cpuSeconds: round3(cpuSeconds() - cpu0), paths: this.paths(), sharedBottleneck: mp?.stats()?.sharedBottleneck ?? null });
      },
      () => {}, // the stream's 'error' handler reports it
    );
  }
}

function ignore(): void {}

function onServedError(this: ServedSocket, err: Error & { code?: string }): void {
  // Aborts of header-less connections (connect and hold tests) are the norm.
  const s = this[SERVED];
  if (s.header !== null) s.finish({ type: 'error', code: err.code ?? null, message: err.message });
}

function onServedData(this: ServedSocket, d: Buffer): void {
  const s = this[SERVED];
  if (s.header !== null) {
    s.handle(d);
    return;
  }
  let parsed: { line: string; rest: Buffer } | null;
  try {
    parsed = (s.splitter ??= new LineSplitter()).push(d);
    if (parsed === null) return;
    s.header = parseHeader(parsed.line);
  } catch (err) {
    this.destroy(err as Error);
    return;
  }
  s.splitter = null;
  s.start(s.header);
  if (parsed.rest.length > 0) s.handle(parsed.rest);
}

function onServedEnd(this: ServedSocket): void {
  if (this[SERVED].header === null) this.end();
}

/**
 * Serves one stream (mpudp or TCP; `mp` is the mpudp socket, else null):
 * reads the header line, then runs the test. Calls `done` once with the
 * report of a bulk or rr test; a stream that never sent a header (connect
 * and hold tests) reports nothing.
 */
export function serveStream(sock: Duplex, transport: Transport, remote: string, mp: MultipathSocket | null, done: (r: StreamReport) => void): void {
  (sock as ServedSocket)[SERVED] = new ServedStream(sock, transport, remote, mp, done);
  sock.on('error', onServedError);
  sock.on('data', onServedData);
  sock.on('end', onServedEnd);
}

/** Runs the server until `quit`, SIGINT/SIGTERM, or the first test with `oneOff`. Resolves with the exit code. */
export async function runServer(c: ServerConfig, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const say: Say = (obj, text) => out(c.json ? JSON.stringify(obj) : text);
  const counts: Record<Transport, { open: number; accepted: number }> = {
    mpudp: { open: 0, accepted: 0 },
    tcp: { open: 0, accepted: 0 },
    udp: { open: 0, accepted: 0 },
  };
  let stop: () => void = () => {};
  const report = (r: StreamReport): void => {
    const res = r.result;
    let text = `[${r.transport}] ${r.remote} ${r.header.mode} ${r.header.dir}: `;
    if (res.type === 'receiver') text += `received ${formatBytes(res.bytes as number)} at ${formatBps(res.bps as number)}${res.sha256 ? ` sha256 ${(res.sha256 as string).slice(0, 16)}...` : ''}`;
    else if (res.type === 'sender') text += `sent ${formatBytes(res.bytes as number)} in ${((res.ms as number) / 1000).toFixed(2)} s`;
    else if (res.type === 'error') text += `error ${String(res.code)}: ${String(res.message)}`;
    else text += 'done';
    say({ type: 'result', transport: r.transport, remote: r.remote, mode: r.header.mode, dir: r.header.dir, ...res }, text);
    // One-off: stop once the stream has closed (its report delivered), or 5 s at most.
    if (c.oneOff) void Promise.race([r.closed, new Promise((resolve) => setTimeout(resolve, 5000).unref())]).then(() => stop());
  };

  const closers: (() => Promise<void>)[] = [];
  const mpudpServers: MultipathServer[] = [];
  try {
    if (c.transports.includes('mpudp')) {
      const server = createServer({
        allowHalfOpen: true,
        ...(c.scheduler ? { scheduler: c.scheduler } : {}),
        ...(c.congestionControl ? { congestionControl: c.congestionControl } : {}),
        ...(c.maxDatagramSize ? { maxDatagramSize: c.maxDatagramSize } : {}),
        ...(c.keepAliveInterval ? { keepAliveInterval: c.keepAliveInterval } : {}),
        ...(c.advertise ? {} : { advertiseAddresses: false }),
      });
      // One set of listeners for every connection (they find the stream's state on the socket).
      const sayPath = (socket: MultipathSocket, e: Record<string, unknown>): void => {
        const remote = (socket as unknown as ServedSocket)[SERVED].remote;
        say({ ...e, role: 'server', transport: 'mpudp', remote }, `[mpudp] ${remote} ${String(e.type)} ${String(e.id)}: ${String(e.local)} <- ${String(e.remote)}${e.reason ? ` (${String(e.reason)})` : ''}`);
      };
      const onPathUp = function (this: MultipathSocket, p: PathInfo): void {
        sayPath(this, pathEvent('path-up', p));
      };
      const onPathDown = function (this: MultipathSocket, p: PathInfo, reason: string): void {
        sayPath(this, pathEvent('path-down', p, reason));
      };
      const onClose = (): void => {
        counts.mpudp.open--;
      };
      server.on('connection', (socket: MultipathSocket) => {
        counts.mpudp.open++;
        counts.mpudp.accepted++;
        socket.on('close', onClose);
        socket.on('path-up', onPathUp);
        socket.on('path-down', onPathDown);
        serveStream(socket, 'mpudp', `${socket.remoteAddress}:${socket.remotePort}`, socket, report);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: c.port, ...(c.addresses.length > 0 ? { addresses: c.addresses } : {}) }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      mpudpServers.push(server);
      closers.push(() => new Promise<void>((r) => {
        server.close(() => r());
        // Connections still open are not waited for.
        setTimeout(r, 500).unref();
      }));
      say({ type: 'listening', transport: 'mpudp', addresses: server.addresses() }, `mpudp listening on ${server.addresses().map((a) => `${a.address}:${a.port}`).join(', ')} (UDP)`);
    }
    if (c.transports.includes('tcp')) {
      const addrs = c.addresses.length > 0 ? c.addresses : [''];
      for (const address of addrs) {
        const onClose = (): void => {
          counts.tcp.open--;
        };
        const server: TcpServer = createTcpServer({ allowHalfOpen: true }, (sock: TcpSocket) => {
          sock.setNoDelay(true);
          counts.tcp.open++;
          counts.tcp.accepted++;
          sock.on('close', onClose);
          serveStream(sock, 'tcp', `${sock.remoteAddress}:${sock.remotePort}`, null, report);
        });
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port: c.port, backlog: 4096, ...(address ? { host: address } : {}) }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        closers.push(() => new Promise<void>((r) => server.close(() => r())));
        const a = server.address() as { address: string; port: number };
        say({ type: 'listening', transport: 'tcp', addresses: [{ address: a.address, port: a.port }] }, `tcp listening on ${a.address}:${a.port}`);
      }
    }
    if (c.transports.includes('udp')) {
      const udpPort = c.port === 0 ? 0 : c.port + 1;
      const udp = new UdpBenchServer((r: UdpReceiverResult, from: string) => {
        report({ transport: 'udp', header: { mpudpBench: 1, mode: 'bulk', dir: 'up', bytes: null, timeMs: null, verify: false, seed: 0, binMs: 0, size: 0 }, remote: from, result: { ...r } });
      });
      const bound = await udp.listen(c.addresses.length > 0 ? c.addresses : ['0.0.0.0'], udpPort);
      closers.push(() => udp.close());
      say({ type: 'listening', transport: 'udp', addresses: bound }, `raw udp listening on ${bound.map((a) => `${a.address}:${a.port}`).join(', ')}`);
    }
  } catch (err) {
    process.stderr.write(`mpudp bench server: ${(err as Error).message}\n`);
    for (const close of closers) await close();
    return 1;
  }

  return new Promise<number>((resolve) => {
    const rl = createInterface({ input: process.stdin, terminal: false });
    let stopped = false;
    let profiler: Session | null = null;
    stop = () => {
      if (stopped) return;
      stopped = true;
      rl.close();
      process.stdin.pause();
      void Promise.all(closers.map((f) => f())).then(() => resolve(0));
    };
    rl.on('line', (line) => {
      const cmd = line.trim();
      if (cmd === 'quit') stop();
      else if (cmd === 'profile-start') {
        profiler ??= new Session();
        profiler.connect();
        profiler.post('Profiler.enable', () => profiler!.post('Profiler.start', () => say({ type: 'profiling' }, 'profiling')));
      } else if (cmd.startsWith('profile-stop ')) {
        const file = cmd.slice('profile-stop '.length).trim();
        const session = profiler;
        if (session === null) say({ type: 'error', message: 'profile-stop before profile-start' }, 'profile-stop before profile-start');
        else
          session.post('Profiler.stop', (err, res) => {
            if (err) say({ type: 'error', message: err.message }, `profile: ${err.message}`);
            else {
              writeFileSync(file, JSON.stringify(res.profile));
              say({ type: 'profiled', file }, `profile written to ${file}`);
            }
            session.disconnect();
            profiler = null;
          });
      } else if (cmd === 'stats') {
        // CPU first: the full GC that memory() runs is not the server's work.
        const cpu = cpuSeconds();
        const mem = memory();
        const core = mpudpServers[0]?.stats()?.core;
        say(
          { type: 'stats', atMs: round3(epochMs()), counts, memory: mem, cpuSeconds: round3(cpu), mpudpCore: core ?? null },
          `connections: mpudp ${counts.mpudp.open} tcp ${counts.tcp.open}; heap ${formatBytes(mem.heapUsed)} rss ${formatBytes(mem.rss)}; cpu ${cpu.toFixed(2)} s`,
        );
      } else if (cmd !== '') say({ type: 'error', message: `unknown command '${cmd}' (stats, profile-start, profile-stop FILE, quit)` }, `unknown command '${cmd}' (stats, profile-start, profile-stop FILE, quit)`);
    });
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
