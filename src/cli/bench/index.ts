/**
 * `mpudp bench`: measures mpudp, and Node's TCP and raw UDP beside it, like
 * iperf3: a server role and a client role, an interval table while a test
 * runs, `--json` for machines. Runs on one host (loopback) or between two.
 *
 *   mpudp bench server [--port 5201] [--address IP]...
 *   mpudp bench client 127.0.0.1 [--time 10] [--reverse] [--transport tcp]
 *
 * See USAGE below and docs/bench.md.
 */
import { CIPHER_NAMES, type CipherName } from '../../core/crypto/aead.js';
import { UsageError, addresses, int, list, parse, parseBytes, seconds } from '../args.js';
import type { CliCommand } from '../command.js';
import { CONGESTION_CONTROLLERS } from '../../api/validate.js';
import type { CongestionControlName } from '../../core/options.js';
import { SCHEDULER_NAMES, type SchedulerName } from '../../core/sched/index.js';
import { runClient, type ClientConfig, type ClientMode } from './client.js';
import { DEFAULT_PORT, type Transport } from './common.js';
import { jsonReporter, tableReporter } from './format.js';
import { runServer, type ServerConfig } from './server.js';

export const USAGE = `usage: mpudp bench server [options]
       mpudp bench client HOST[,HOST...] [options]

Server options:
  --port N            port (default ${DEFAULT_PORT}): mpudp on UDP N, TCP on TCP N,
                      raw UDP on UDP N+1
  --address IP        address to serve on; repeatable or comma-separated
                      (default: every host address for mpudp, the wildcard otherwise)
  --transport T       mpudp, tcp, udp or all (default all)
  --no-advertise      mpudp: do not advertise the server's addresses to clients
  --one-off           exit after one test
Client options:
  --transport T       mpudp (default), tcp, or udp (raw datagrams, no reliability)
  --port N            server port (default ${DEFAULT_PORT}; udp goes to N+1)
  --local IP          local address; repeatable or comma-separated (mpudp: one path each)
  --paired            mpudp: local address i pairs with server address i only
  --rotate-local      connect, hold: connection n uses only local address
                      n mod count (many one-address clients)
  --mode M            bulk (default), rr (request/response latency), connect
                      (handshakes per second), hold (idle connections)
  --time S            seconds to send (bulk) or to run (rr, connect); default 10
  --bytes N           bulk: bytes to send instead (K, M, G suffixes)
  --reverse           bulk: the server sends
  --parallel N        bulk: N connections at once (default 1)
  --verify            bulk: the receiver checks every byte against the seeded
                      pattern (and reports its SHA-256); stdin 'stop' ends a
                      bulk test early, 'paths' reports the paths
  --seed N            bulk: seed of the pattern sent (default: a random one)
  --size N            rr: bytes per request and response (default 1024)
  --count N           rr, connect: stop after N round trips or handshakes
  --warmup N          rr: round trips not measured (default 20)
  --concurrency N     connect, hold, parallel bulk: handshakes in flight (default 64)
  --connections N     hold: connections to open (default 1000; stops opening after --time)
  --hold S            hold: seconds to hold them (default: until stdin says stop or ends)
  --interval S        seconds between interval lines (default 1; 0 = none)
  --settle-ms MS      bulk: once every connection is open, wait until each has left
                      its first-contact path (a cluster moved it), at most MS, then send
  --bin-ms MS         bulk: sample the receiver's timeline every MS (the
                      server's in an upload, reported back)
  --ifaces A,B        with --bin-ms, download: also sample these interfaces' rx bytes
  --datagram N        udp: datagram size (default 1200)
  --seal CIPHER       udp: seal each datagram with mpudp's AEAD (aes-128-gcm or
                      chacha20-poly1305), opened by the server: the ceiling of
                      a protected transport
  --connect-timeout S handshake timeout (default 15)
Both:
  --scheduler S       mpudp scheduler (${SCHEDULER_NAMES.join(', ')})
  --cc C              mpudp congestion control (${CONGESTION_CONTROLLERS.join(', ')})
  --max-datagram N    mpudp maxDatagramSize, the ceiling of path MTU discovery
                      (default 1472; 1200 = no discovery)
  --keepalive S       mpudp keepAliveInterval in seconds (default 1)
  --json              JSON lines instead of tables
  -h, --help          this text
`;

const OPTIONS = {
  port: { type: 'string' },
  address: { type: 'string', multiple: true },
  transport: { type: 'string' },
  'no-advertise': { type: 'boolean' },
  'one-off': { type: 'boolean' },
  local: { type: 'string', multiple: true },
  paired: { type: 'boolean' },
  'rotate-local': { type: 'boolean' },
  mode: { type: 'string' },
  time: { type: 'string' },
  bytes: { type: 'string' },
  reverse: { type: 'boolean' },
  parallel: { type: 'string' },
  verify: { type: 'boolean' },
  seed: { type: 'string' },
  size: { type: 'string' },
  count: { type: 'string' },
  warmup: { type: 'string' },
  concurrency: { type: 'string' },
  connections: { type: 'string' },
  hold: { type: 'string' },
  interval: { type: 'string' },
  'bin-ms': { type: 'string' },
  'settle-ms': { type: 'string' },
  ifaces: { type: 'string' },
  datagram: { type: 'string' },
  seal: { type: 'string' },
  'connect-timeout': { type: 'string' },
  scheduler: { type: 'string' },
  cc: { type: 'string' },
  'max-datagram': { type: 'string' },
  keepalive: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function transport(text: string | undefined, allowAll: boolean): Transport[] {
  const t = text ?? (allowAll ? 'all' : 'mpudp');
  if (t === 'all' && allowAll) return ['mpudp', 'tcp', 'udp'];
  if (t === 'mpudp' || t === 'tcp' || t === 'udp') return [t];
  throw new UsageError(`--transport must be mpudp, tcp, udp${allowAll ? ' or all' : ''}, got '${t}'`);
}

function scheduler(text: string | undefined): SchedulerName | undefined {
  if (text === undefined) return undefined;
  if (!(SCHEDULER_NAMES as readonly string[]).includes(text)) throw new UsageError(`--scheduler must be one of ${SCHEDULER_NAMES.join(', ')}, got '${text}'`);
  return text as SchedulerName;
}

function cc(text: string | undefined): CongestionControlName | undefined {
  if (text === undefined) return undefined;
  if (!(CONGESTION_CONTROLLERS as readonly string[]).includes(text)) throw new UsageError(`--cc must be one of ${CONGESTION_CONTROLLERS.join(', ')}, got '${text}'`);
  return text as CongestionControlName;
}

export type Command = { role: 'help' } | { role: 'server'; config: ServerConfig } | { role: 'client'; config: ClientConfig; json: boolean };

/** Parses `server ...` / `client ...` (the words after `mpudp bench`). */
export function parseCommand(argv: string[]): Command {
  const { values: v, positionals } = parse(argv, OPTIONS);
  if (v.help) return { role: 'help' };
  const [role, host, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const maxDatagramSize = v['max-datagram'] !== undefined ? int(v['max-datagram'], 'max-datagram', 1200, 1200, 65507) : undefined;
  const keepAlive = v.keepalive !== undefined ? seconds(v.keepalive, 'keepalive', 1000) : undefined;
  if (keepAlive !== undefined && (keepAlive < 10 || keepAlive > 3_600_000)) throw new UsageError(`--keepalive must be from 0.01 to 3600 seconds, got '${v.keepalive}'`);
  const common = {
    ...(keepAlive !== undefined ? { keepAliveInterval: keepAlive } : {}),
    ...(scheduler(v.scheduler) ? { scheduler: scheduler(v.scheduler)! } : {}),
    ...(cc(v.cc) ? { congestionControl: cc(v.cc)! } : {}),
    ...(maxDatagramSize !== undefined ? { maxDatagramSize } : {}),
  };
  if (role === 'server') {
    if (host !== undefined) throw new UsageError(`the server takes no host (use --address), got '${host}'`);
    return {
      role: 'server',
      config: {
        transports: transport(v.transport, true),
        port: int(v.port, 'port', DEFAULT_PORT, 0, 65535),
        addresses: addresses(list(v.address), 'address'),
        advertise: v['no-advertise'] !== true,
        oneOff: v['one-off'] === true,
        json: v.json === true,
        ...common,
      },
    };
  }
  if (role === 'client') {
    if (host === undefined) throw new UsageError('the client needs the server address: mpudp bench client HOST');
    const hosts = addresses(list(host), 'host');
    const mode = (v.mode ?? 'bulk') as ClientMode;
    if (!['bulk', 'rr', 'connect', 'hold'].includes(mode)) throw new UsageError(`--mode must be bulk, rr, connect or hold, got '${mode}'`);
    const [t] = transport(v.transport, false);
    const holdMs = v.hold !== undefined ? seconds(v.hold, 'hold', 0) : null;
    return {
      role: 'client',
      json: v.json === true,
      config: {
        transport: t!,
        mode,
        hosts,
        port: int(v.port, 'port', DEFAULT_PORT, 1, 65535),
        locals: addresses(list(v.local), 'local'),
        paired: v.paired === true,
        rotateLocal: v['rotate-local'] === true,
        bytes: v.bytes !== undefined ? parseBytes(v.bytes) : null,
        timeMs: seconds(v.time, 'time', 10_000),
        reverse: v.reverse === true,
        parallel: int(v.parallel, 'parallel', 1, 1, 100_000),
        verify: v.verify === true,
        seed: v.seed !== undefined ? int(v.seed, 'seed', 0, 0, 2 ** 32 - 1) : Math.floor(Math.random() * 2 ** 32),
        size: v.size !== undefined ? parseBytes(v.size) : 1024,
        count: v.count !== undefined ? int(v.count, 'count', 1) : null,
        warmup: int(v.warmup, 'warmup', 20, 0),
        concurrency: int(v.concurrency, 'concurrency', 64, 1, 100_000),
        connections: int(v.connections, 'connections', 1000, 1, 1_000_000),
        holdMs,
        intervalMs: seconds(v.interval, 'interval', 1000),
        binMs: int(v['bin-ms'], 'bin-ms', 0, 0, 60_000),
        settleMs: int(v['settle-ms'], 'settle-ms', 0, 0, 60_000),
        ifaces: list(v.ifaces),
        datagramSize: int(v.datagram, 'datagram', 1200, 5, 65507),
        ...(v.seal !== undefined ? { seal: sealCipher(v.seal) } : {}),
        connectTimeoutMs: seconds(v['connect-timeout'], 'connect-timeout', 15_000),
        ...common,
      },
    };
  }
  throw new UsageError(role === undefined ? 'say server or client' : `unknown role '${role}' (server or client)`);
}

function sealCipher(name: string): CipherName {
  if (!(CIPHER_NAMES as readonly string[]).includes(name)) throw new UsageError(`--seal must be ${CIPHER_NAMES.join(' or ')}, got '${name}'`);
  return name as CipherName;
}

export { UsageError, parseBytes };

/** Runs `mpudp bench ARGS`; resolves with the exit code. */
async function run(argv: string[]): Promise<number> {
  const cmd = parseCommand(argv);
  if (cmd.role === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cmd.role === 'server') return runServer(cmd.config);
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const reporter = cmd.json ? jsonReporter(out) : tableReporter(out);
  try {
    const result = await runClient(cmd.config, reporter);
    if (result.intact !== null && result.intact !== undefined && result.failed !== 0) return 1;
    if (result.mode === 'connect' && result.handshakes === 0) return 1;
    return 0;
  } catch (err) {
    if (cmd.json) out(JSON.stringify({ type: 'error', message: (err as Error).message }));
    process.stderr.write(`mpudp bench: ${(err as Error).message}\n`);
    return 1;
  }
}

export const bench: CliCommand = {
  name: 'bench',
  summary: 'measure mpudp beside TCP and raw UDP, like iperf3 (server and client roles)',
  usage: USAGE,
  run,
};
