/**
 * The server of the Docker demo. Listens on every non-loopback address of its
 * container (one per network: isp-a, isp-b) on MPUDP_PORT, receives one
 * stream, hashes it, and notes when in-order delivery paused. Once the
 * client's FIN arrives it answers with a one-line JSON report (bytes,
 * SHA-256, delivery pauses) and ends its side. With MPUDP_ONCE (default 1)
 * it exits after the first connection.
 *
 *   MPUDP_PORT    UDP port on every address (default 4433)
 *   MPUDP_LABELS  network names by address prefix ('isp-a=198.18.1.,...')
 *   MPUDP_ONCE    1: exit after one connection; 0: serve forever
 *   MPUDP_LISTEN  addresses to listen on instead (comma-separated; for runs outside Docker)
 */
import { createHash } from 'node:crypto';
import { createServer, hostAddresses, type MultipathSocket } from '../../src/index.js';
import { env, envNumber, exitOnSignals, fmt, labelOf, logger, mbps, MiB, parseLabels, wallMs, type ServerReport } from './common.js';

/** Pauses in delivery shorter than this (ms) are not recorded. */
const GAP_MIN_MS = 10;
/** Pauses kept in the report (the longest ones). */
const GAPS_REPORTED = 32;

const log = logger('server');
exitOnSignals(log);
const port = envNumber('MPUDP_PORT', 4433, 1);
const labels = parseLabels(env('MPUDP_LABELS', ''));
const once = env('MPUDP_ONCE', '1') !== '0';

const addresses = env('MPUDP_LISTEN', '')
  .split(',')
  .map((a) => a.trim())
  .filter((a) => a.length > 0);
if (addresses.length === 0) addresses.push(...hostAddresses({ includeInternal: false }).map((a) => a.address));
if (addresses.length === 0) {
  log('this container has no address but loopback');
  process.exit(2);
}

// Half-open: the report goes back after the client's FIN.
const server = createServer({ allowHalfOpen: true }, (socket) => serve(socket));
server.on('error', (err: Error) => {
  log(`server error: ${err.message}`);
  process.exit(1);
});
server.listen({ port, addresses }, () => {
  const list = server.addresses().map((a) => `${labelOf(labels, a.address)} ${a.address}:${a.port}`);
  log(`listening on ${list.join(', ')}`);
});

/** Receives one stream; answers with the report at its end. */
function serve(socket: MultipathSocket): void {
  log(`connection from ${socket.remoteAddress}:${socket.remotePort}`);
  const hash = createHash('sha256');
  let bytes = 0;
  let firstByteAt = 0;
  let lastByteAt = 0;
  /** Pauses longer than GAP_MIN_MS, oldest first; trimmed to the longest. */
  let gaps: [number, number][] = [];

  socket.on('data', (chunk: Buffer) => {
    const now = wallMs();
    if (bytes === 0) firstByteAt = now;
    else if (now - lastByteAt >= GAP_MIN_MS) {
      gaps.push([lastByteAt, now]);
      if (gaps.length > 4 * GAPS_REPORTED) gaps = longest(gaps);
    }
    lastByteAt = now;
    bytes += chunk.length;
    hash.update(chunk);
  });
  socket.on('path-up', (p: { localAddress: string; remoteAddress: string; id: number }) =>
    log(`path ${p.id} up: ${labelOf(labels, p.localAddress)} ${p.localAddress} <- ${p.remoteAddress}`),
  );
  socket.on('path-down', (p: { localAddress: string; remoteAddress: string; id: number }, reason: string) =>
    log(`path ${p.id} down: ${labelOf(labels, p.localAddress)} ${p.localAddress} <- ${p.remoteAddress} (${reason})`),
  );

  let lastBytes = 0;
  let lastAt = wallMs();
  const ticker = setInterval(() => {
    const now = wallMs();
    log(`received ${fmt(bytes / MiB, 6)} MiB  ${fmt(mbps(bytes - lastBytes, now - lastAt))} Mbit/s`);
    lastBytes = bytes;
    lastAt = now;
  }, 2000);

  socket.once('end', () => {
    const report: ServerReport = {
      type: 'report',
      bytes,
      sha256: hash.digest('hex'),
      firstByteAt,
      lastByteAt,
      gaps: longest(gaps),
    };
    log(`end of stream: ${bytes} bytes, sha256 ${report.sha256}`);
    socket.end(`${JSON.stringify(report)}\n`);
  });
  socket.on('error', (err: Error) => log(`connection error: ${err.message}`));
  socket.once('close', () => {
    clearInterval(ticker);
    log('connection closed');
    if (!once) return;
    server.close(() => process.exit(0));
    // Do not wait forever for a peer that went away.
    setTimeout(() => process.exit(0), 5000).unref();
  });
}

/** The GAPS_REPORTED longest pauses, longest first. */
function longest(list: [number, number][]): [number, number][] {
  return [...list].sort((a, b) => b[1] - b[0] - (a[1] - a[0])).slice(0, GAPS_REPORTED);
}
