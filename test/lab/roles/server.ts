/**
 * Lab role: the server. Listens on the given addresses and serves the
 * protocol of ./protocol.ts to every connection until killed.
 *
 *   node --import tsx test/lab/roles/server.ts --addresses 10.77.1.1,10.77.2.1 --port 4433
 *
 * Reports: listening, connection, path-up/path-down, served, conn-error, error.
 * An upload's 'served' report carries `gaps`: every stretch of more than
 * GAP_MS between two deliveries of stream bytes, as { at (epoch ms of the
 * delivery before it), ms }: the receiver's delivery timeline, for the
 * stall checks of the flapping test.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createServer, type MultipathSocket } from '../../../src/index.js';
import { HEADER_BYTES, MODE_DOWNLOAD, MODE_UPLOAD, STREAM_SIZE, pathEvent, pathSummary, report, writeData } from './protocol.js';

const { values } = parseArgs({
  options: {
    addresses: { type: 'string' },
    port: { type: 'string', default: '4433' },
    'max-datagram': { type: 'string' },
  },
});
if (values.addresses === undefined) {
  report({ type: 'error', message: '--addresses is required' });
  process.exit(2);
}
const addresses = values.addresses.split(',');
const port = Number(values.port);

/** Delivery gaps longer than this are reported (ms). */
const GAP_MS = 20;
/** Most gaps kept per connection. */
const MAX_GAPS = 2000;
/** Wall-clock epoch ms with sub-millisecond resolution (comparable across the lab's processes). */
const epochNow = (): number => performance.timeOrigin + performance.now();

let connections = 0;
const server = createServer(
  { allowHalfOpen: true, ...(values['max-datagram'] ? { maxDatagramSize: Number(values['max-datagram']) } : {}) },
  (socket) => serve(socket, ++connections),
);
server.on('error', (err: Error) => {
  report({ type: 'error', message: err.message });
  process.exit(1);
});
server.listen({ port, addresses }, () => report({ type: 'listening', addresses: server.addresses() }));

/** One connection: header, then upload or download. */
function serve(socket: MultipathSocket, n: number): void {
  report({ type: 'connection', n, remote: socket.remoteAddress, paths: pathSummary(socket) });
  socket.on('path-up', (p) => report({ ...pathEvent('path-up', p), n, role: 'server' }));
  socket.on('path-down', (p, reason: string) => report({ ...pathEvent('path-down', p, reason), n, role: 'server' }));
  socket.on('error', (err: Error & { code?: string }) => report({ type: 'conn-error', n, code: err.code, message: err.message }));
  let head = Buffer.alloc(0);
  let mode = -1;
  let size = 0n;
  let count = 0n;
  const hash = createHash('sha256');
  let done = false;
  /** When stream bytes were last delivered, and the long gaps between deliveries. */
  let lastDataAt = -1;
  const gaps: Array<{ at: number; ms: number }> = [];
  const finishUpload = (): void => {
    if (done) return;
    done = true;
    const reply = Buffer.alloc(40);
    reply.writeBigUInt64BE(count, 0);
    hash.digest().copy(reply, 8);
    socket.end(reply);
    report({ type: 'served', n, mode: 'upload', bytes: Number(count), paths: pathSummary(socket), gaps });
  };
  const onData = (data: Buffer): void => {
    if (mode === -1) {
      head = Buffer.concat([head, data]);
      if (head.length < HEADER_BYTES) return;
      mode = head[0]!;
      size = head.readBigUInt64BE(1);
      data = head.subarray(HEADER_BYTES);
      if (mode === MODE_DOWNLOAD) {
        socket.off('data', onData);
        socket.resume();
        void download(socket, n, Number(size));
        return;
      }
      if (mode !== MODE_UPLOAD) {
        report({ type: 'conn-error', n, message: `unknown mode ${mode}` });
        socket.destroy();
        return;
      }
    }
    if (data.length === 0) return;
    const now = epochNow();
    if (lastDataAt >= 0 && now - lastDataAt > GAP_MS && gaps.length < MAX_GAPS) gaps.push({ at: Math.round(lastDataAt), ms: Math.round(now - lastDataAt) });
    lastDataAt = now;
    hash.update(data);
    count += BigInt(data.length);
    if (size !== STREAM_SIZE && count >= size) finishUpload();
  };
  socket.on('data', onData);
  socket.on('end', () => {
    if (mode === MODE_UPLOAD) finishUpload();
  });
}

/** Sends `size` bytes, then their SHA-256, then FIN. */
async function download(socket: MultipathSocket, n: number, size: number): Promise<void> {
  try {
    const { bytes, hash } = await writeData(socket, size, () => {});
    socket.end(hash);
    report({ type: 'served', n, mode: 'download', bytes, paths: pathSummary(socket) });
  } catch (err) {
    report({ type: 'conn-error', n, message: (err as Error).message });
  }
}

process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
