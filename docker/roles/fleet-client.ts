/**
 * A client container of the Docker fleet demo (docker/fleet.sh): opens
 * MPUDP_CONNECTIONS connections at once to the DNS name MPUDP_HOST, each a
 * verified `mpudp bench` upload of MPUDP_SIZE_KIB KiB paced at
 * MPUDP_RATE_MBPS (the bench's sender and pattern; the server's receiver
 * report comes back with its SHA-256).
 *
 * The name is a Compose network alias shared by the fleet's servers:
 * Docker's embedded DNS answers it with one A record per server, and
 * connect({ host }) resolves every record and races first contact over all
 * of them. Each connection then lives on the server that answered first,
 * over that server's own addresses at both networks.
 *
 * Prints, per connection, the server it reached (`conn N on ADDRESS`), then
 * `all N connected`, and at the end one JSON line (type
 * mpudp-fleet-summary) with every connection's server, result and error;
 * fleet.sh checks them. Exits 0 when it printed the summary: whether a
 * failed connection was expected (its server was killed) is the script's
 * judgment.
 *
 *   MPUDP_HOST          the fleet's DNS name (default fleet)
 *   MPUDP_PORT          its UDP port (default 4433)
 *   MPUDP_CONNECTIONS   connections to open (default 10)
 *   MPUDP_SIZE_KIB      KiB each uploads (default 2048)
 *   MPUDP_RATE_MBPS     pace of each upload (Mbit/s; default 2)
 *   MPUDP_IDLE_TIMEOUT  the connections' idle timeout (ms; default 5000)
 *   MPUDP_TIMEOUT_S     give up after this long (default 120)
 */
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { randomInt } from 'node:crypto';
import { encodeHeader, epochMs } from '../../src/cli/bench/common.js';
import { Pattern, PatternSource, type ReceiverResult } from '../../src/cli/bench/pattern.js';
import { pump, readAll } from '../../src/cli/bench/stream.js';
import { connect, type MultipathSocket } from '../../src/index.js';
import { env, envNumber, exitOnSignals, logger } from './common.js';

const log = logger(`fleet-client ${hostname()}`);
exitOnSignals(log);
const host = env('MPUDP_HOST', 'fleet');
const port = envNumber('MPUDP_PORT', 4433, 1);
const count = envNumber('MPUDP_CONNECTIONS', 10, 1);
const size = Math.round(envNumber('MPUDP_SIZE_KIB', 2048, 1) * 1024);
const rateMbps = envNumber('MPUDP_RATE_MBPS', 2);
const idleTimeout = envNumber('MPUDP_IDLE_TIMEOUT', 5000, 100);
const timeoutMs = envNumber('MPUDP_TIMEOUT_S', 120, 1) * 1000;

/** What became of one connection. */
interface ConnectionResult {
  index: number;
  /** The server address that answered first contact (the host the connection lives on). */
  server: string | null;
  /** Every server address a path of this connection carried stream data to. */
  remotes: string[];
  /** Server addresses of paths that carried no stream data (first contact raced to the other servers). */
  contactOnly: string[];
  bytesSent: number;
  bytesReceived: number;
  sha256Sent: string | null;
  sha256Received: string | null;
  /** Every byte arrived and the hashes match. */
  match: boolean;
  /** The error's stable code, or null. */
  errorCode: string | null;
  errorMessage: string | null;
  /** Epoch ms of the error. */
  errorAt: number | null;
  connectedAt: number | null;
  endedAt: number;
}

/** One connection: connect, upload, read the receiver's report. */
function run(index: number, connected: (server: string) => void): Promise<ConnectionResult> {
  const socket: MultipathSocket = connect({ host, port, idleTimeout });
  const result: ConnectionResult = {
    index,
    server: null,
    remotes: [],
    contactOnly: [],
    bytesSent: 0,
    bytesReceived: 0,
    sha256Sent: null,
    sha256Received: null,
    match: false,
    errorCode: null,
    errorMessage: null,
    errorAt: null,
    connectedAt: null,
    endedAt: 0,
  };
  socket.on('error', (err: Error & { code?: string }) => {
    if (result.errorAt !== null) return;
    result.errorAt = epochMs();
    result.errorCode = err.code ?? null;
    result.errorMessage = err.message;
    log(`conn ${index} error ${err.code ?? '?'}: ${err.message}`);
  });
  const deadline = setTimeout(() => socket.destroy(Object.assign(new Error(`not done after ${timeoutMs / 1000} s`), { code: 'DEMO_TIMEOUT' })), timeoutMs);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return new Promise<void>((resolve) => {
    socket.once('connect', () => {
      result.connectedAt = epochMs();
      result.server = socket.remoteAddress ?? null;
      connected(result.server ?? '?');
      resolve();
    });
    socket.once('close', () => resolve());
  })
    .then(async () => {
      if (result.connectedAt === null) return;
      const reply = readAll(socket).then(
        (b) => b.toString('utf8'),
        () => '',
      );
      const seed = randomInt(2 ** 32);
      const source = new PatternSource(new Pattern(seed), size, true);
      socket.write(encodeHeader({ mode: 'bulk', dir: 'up', bytes: size, timeMs: null, verify: true, seed, size: 0 }));
      await pump(socket, source, { paceBps: rateMbps * 1e6 }).catch(() => {});
      result.bytesSent = source.sent;
      result.sha256Sent = source.digest();
      const text = await reply;
      try {
        const report = JSON.parse(text.trim()) as ReceiverResult;
        result.bytesReceived = report.bytes;
        result.sha256Received = report.sha256;
        result.match = report.intact === true && report.sha256 === result.sha256Sent && report.bytes === size && source.sent === size;
      } catch {
        // No report: the error says why.
      }
    })
    .then(() => closed)
    .then(() => {
      clearTimeout(deadline);
      result.endedAt = epochMs();
      const remotes = new Set<string>();
      const contactOnly = new Set<string>();
      const dataById = new Map((socket.stats()?.paths ?? []).map((p) => [p.id, p.dataBytesSent + p.dataBytesRetransmitted]));
      for (const p of socket.paths) ((dataById.get(p.id) ?? 0) > 0 ? remotes : contactOnly).add(p.remoteAddress);
      result.remotes = [...remotes].sort();
      result.contactOnly = [...contactOnly].filter((a) => !remotes.has(a)).sort();
      log(`conn ${index} on ${result.server ?? '-'} ${result.match ? 'intact' : `NOT intact (${result.errorCode ?? 'no error'})`}`);
      return result;
    });
}

async function main(): Promise<number> {
  const records = await lookup(host, { all: true });
  log(`${host} resolves to ${records.map((r) => r.address).join(', ')}`);
  let up = 0;
  const runs: Promise<ConnectionResult>[] = [];
  for (let i = 0; i < count; i++) {
    runs.push(
      run(i, (server) => {
        up++;
        log(`conn ${i} on ${server}`);
        if (up === count) log(`all ${count} connected`);
      }),
    );
  }
  const results = await Promise.all(runs);
  process.stdout.write(`${JSON.stringify({ type: 'mpudp-fleet-summary', client: hostname(), resolved: records.map((r) => r.address), idleTimeout, size, connections: results })}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`failed: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(2);
  },
);
