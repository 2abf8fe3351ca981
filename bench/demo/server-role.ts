/**
 * The demo's receiving side, in its own process (so sender, receiver and the
 * emulated ISPs do not share one core): listens on 127.0.0.1, hashes what
 * arrives, counts received bytes in 50 ms bins on the shared wall clock, and
 * reports to the parent over IPC.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type MultipathSocket } from '../../src/index.js';

import { BIN_MS, wallNow, type ServerReport } from './report.js';

async function main(): Promise<void> {
  const server = createServer({ advertiseAddresses: false, addressWatchInterval: 0 });
  const hash = createHash('sha256');
  let bytes = 0;
  const binStart = wallNow();
  const bins: number[] = [];
  server.on('connection', (socket: MultipathSocket) => {
    socket.on('data', (d: Buffer) => {
      hash.update(d);
      bytes += d.length;
      const bin = Math.floor((wallNow() - binStart) / BIN_MS);
      while (bins.length <= bin) bins.push(0);
      bins[bin]! += d.length;
    });
    socket.on('end', () => {
      const report: ServerReport = { type: 'done', bytes, sha256: hash.digest('hex'), binStart, bins };
      process.send!(report);
      socket.end();
    });
    socket.on('error', (err) => process.send!({ type: 'error', message: err.message }));
    socket.on('close', () => server.close(() => process.exit(0)));
  });
  server.listen({ port: 0, addresses: ['127.0.0.1'] });
  await once(server, 'listening');
  process.send!({ type: 'listening', port: server.address()!.port });
}

void main();
