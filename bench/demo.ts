/**
 * `npm start`: one multipath transfer on this machine, no root needed.
 *
 * A server listens on 127.0.0.1 (port 0); a client with the local addresses
 * 127.0.0.1 and 127.0.0.2 (two paths over loopback) sends `--size` MiB of
 * random bytes. Once a second a line shows each path's throughput and the
 * total; the summary gives the SHA-256 of what was sent and received, each
 * path's share, the duration and the goodput. Exits non-zero if the hashes
 * differ or the transfer fails.
 *
 *   npm start -- [--size MiB] [--json]
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { connect, createServer, type MultipathSocket } from '../src/index.js';

const MiB = 1024 * 1024;
const CHUNK = 256 * 1024;
/** Give up when no byte arrives for this long (ms). */
const STALL_LIMIT = 30_000;

interface PathSummary {
  id: number;
  local: string;
  remote: string;
  state: string;
  /** Stream bytes first sent on this path. */
  dataBytesSent: number;
  /** Stream bytes re-sent on this path. */
  dataBytesRetransmitted: number;
  /** Share of all stream bytes first sent (0..1). */
  share: number;
  packetsLost: number;
  smoothedRttMs: number;
}

function parse(): { size: number; json: boolean } {
  const { values } = parseArgs({
    options: { size: { type: 'string', default: '256' }, json: { type: 'boolean', default: false } },
  });
  const size = Number(values.size);
  if (!Number.isFinite(size) || size <= 0) {
    console.error(`--size must be a positive number of MiB, got '${values.size}'`);
    process.exit(2);
  }
  return { size: Math.round(size * MiB), json: values.json === true };
}

const mbps = (bytes: number, ms: number): number => (ms > 0 ? (bytes * 8) / (ms * 1000) : 0);
const fmt = (n: number): string => n.toFixed(1).padStart(7);

async function main(): Promise<number> {
  const { size, json } = parse();
  const log = json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => console.log(line);

  // Receiver: hashes everything, resolves on 'end'.
  let received = 0;
  const receivedHash = createHash('sha256');
  let serverSocket: MultipathSocket | null = null;
  const server = createServer();
  const receivedAll = new Promise<void>((resolve, reject) => {
    server.on('connection', (socket: MultipathSocket) => {
      serverSocket = socket;
      socket.on('data', (d: Buffer) => {
        receivedHash.update(d);
        received += d.length;
      });
      socket.once('end', resolve);
      socket.once('error', reject);
    });
  });
  server.listen({ port: 0, addresses: ['127.0.0.1'] });
  await once(server, 'listening');
  const port = server.address()!.port;

  const client = connect({ port, host: '127.0.0.1', localAddresses: ['127.0.0.1', '127.0.0.2'] });
  const failed = new Promise<never>((_, reject) => client.once('error', reject));
  // The server sends nothing, but its end of stream must be read for the socket to close (as with net).
  client.resume();
  await Promise.race([once(client, 'connect'), failed]);
  const start = performance.now();
  log(`mpudp demo: ${size / MiB} MiB from 127.0.0.1 + 127.0.0.2 to 127.0.0.1:${port}`);

  // Sender: random chunks with backpressure, hashed as they go.
  const sentHash = createHash('sha256');
  const sending = (async () => {
    let sent = 0;
    while (sent < size) {
      const chunk = randomBytes(Math.min(CHUNK, size - sent));
      sentHash.update(chunk);
      sent += chunk.length;
      if (!client.write(chunk)) await Promise.race([once(client, 'drain'), failed]);
    }
    client.end();
  })();

  // One line per second.
  let lastAt = start;
  let lastReceived = 0;
  let lastProgressAt = start;
  const lastPathBytes = new Map<number, number>();
  let stalled: (err: Error) => void = () => undefined;
  const stall = new Promise<never>((_, reject) => (stalled = reject));
  const ticker = setInterval(() => {
    const now = performance.now();
    const stats = client.stats();
    if (stats === null) return;
    const parts = stats.paths.map((p) => {
      const bytes = p.dataBytesSent + p.dataBytesRetransmitted;
      const rate = mbps(bytes - (lastPathBytes.get(p.id) ?? 0), now - lastAt);
      lastPathBytes.set(p.id, bytes);
      const info = client.paths.find((i) => i.id === p.id);
      return `path ${p.id} ${info?.localAddress ?? '?'} ${fmt(rate)} Mbit/s`;
    });
    const total = mbps(received - lastReceived, now - lastAt);
    log(`${((now - start) / 1000).toFixed(0).padStart(4)} s  ${parts.join('  ')}  total ${fmt(total)} Mbit/s  ${(received / MiB).toFixed(0)}/${size / MiB} MiB`);
    if (received > lastReceived) lastProgressAt = now;
    else if (now - lastProgressAt > STALL_LIMIT) stalled(new Error(`no progress for ${STALL_LIMIT / 1000} s`));
    lastAt = now;
    lastReceived = received;
  }, 1000);

  try {
    await Promise.race([Promise.all([sending, receivedAll]), failed, stall]);
  } finally {
    clearInterval(ticker);
  }
  const durationMs = performance.now() - start;
  const sent = sentHash.digest('hex');
  const got = receivedHash.digest('hex');
  const stats = client.stats()!;
  const firstSent = stats.paths.reduce((s, p) => s + p.dataBytesSent, 0);
  const paths: PathSummary[] = stats.paths.map((p) => {
    const info = client.paths.find((i) => i.id === p.id);
    return {
      id: p.id,
      local: `${info?.localAddress}:${info?.localPort}`,
      remote: `${info?.remoteAddress}:${info?.remotePort}`,
      state: p.state,
      dataBytesSent: p.dataBytesSent,
      dataBytesRetransmitted: p.dataBytesRetransmitted,
      share: firstSent > 0 ? p.dataBytesSent / firstSent : 0,
      packetsLost: p.packetsLost,
      smoothedRttMs: p.smoothedRtt,
    };
  });
  const summary = {
    bytesSent: client.bytesWritten,
    bytesReceived: received,
    sha256Sent: sent,
    sha256Received: got,
    match: sent === got && received === size,
    durationMs: Math.round(durationMs),
    goodputMbps: Number(mbps(received, durationMs).toFixed(1)),
    paths,
  };

  await Promise.all([once(client, 'close'), serverSocket === null ? undefined : once(serverSocket, 'close')]).catch(() => undefined);
  await new Promise((resolve) => server.close(resolve));

  if (json) {
    console.log(JSON.stringify(summary, null, 2));
  } else {
    console.log('');
    console.log(`bytes        sent ${summary.bytesSent}, received ${summary.bytesReceived}`);
    console.log(`sha256 sent     ${sent}`);
    console.log(`sha256 received ${got}`);
    console.log(`match        ${summary.match ? 'yes' : 'NO'}`);
    for (const p of paths) {
      console.log(
        `path ${p.id}       ${p.local} -> ${p.remote}  ${(p.share * 100).toFixed(1)}% of bytes` +
          `  (${p.dataBytesRetransmitted} re-sent, ${p.packetsLost} packets lost, srtt ${p.smoothedRttMs.toFixed(2)} ms, ${p.state})`,
      );
    }
    console.log(`duration     ${(durationMs / 1000).toFixed(2)} s`);
    console.log(`goodput      ${summary.goodputMbps} Mbit/s`);
  }
  return summary.match ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('mpudp demo failed:', err);
    process.exit(2);
  },
);
