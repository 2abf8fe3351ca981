/**
 * The datagrams of one handshake and close through the sans-IO core (client
 * and server EndpointCore in one process, no loss): each with its time,
 * direction, size and first byte, then the count. The figure the machine's
 * load does not move, for cuts to what a short connection sends.
 *   npx tsx bench/handshake-trace.ts [--dist DIR]
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EndpointCore as Core } from '../src/core/endpoint.js';

const i = process.argv.indexOf('--dist');
const dist = i >= 0 ? process.argv[i + 1]! : '';
const { EndpointCore } = (await import(dist ? pathToFileURL(resolve(dist, 'core/endpoint.js')).href : '../src/core/endpoint.js')) as { EndpointCore: typeof Core };

const S = { address: '10.0.0.1', port: 4433 };
const C = { address: '10.0.1.2', port: 50000 };
const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const server = new EndpointCore({ random, server: true, localAddresses: [S] });
const client = new EndpointCore({ random, server: false });
let now = 1000;
client.connect({ localAddresses: [C], remoteAddresses: [S] }, now);
let closed = false;
let datagrams = 0;
const show = (dir: string, d: Uint8Array): void => {
  datagrams++;
  console.log(`${(now - 1000).toFixed(2).padStart(8)} ms ${dir} ${String(d.length).padStart(5)} B  first byte 0x${d[0]!.toString(16).padStart(2, '0')}`);
};
for (let step = 0; !closed && step < 100; step++) {
  const toServer: Uint8Array[] = [];
  const toClient: Uint8Array[] = [];
  for (let t = client.pollTransmit(now); t !== null; t = client.pollTransmit(now)) toServer.push(t.data), show('C→S', t.data);
  for (let e = client.pollEvent(); e !== null; e = client.pollEvent()) {
    if (e.type !== 'connection') continue;
    if (e.event.type === 'connected') {
      e.connection.close();
      client.touch(e.connection);
    } else if (e.event.type === 'closed') closed = true;
  }
  for (const d of toServer) server.handleDatagram(d, S, C, now);
  for (let t = server.pollTransmit(now); t !== null; t = server.pollTransmit(now)) toClient.push(t.data), show('S→C', t.data);
  while (server.pollEvent() !== null);
  for (const d of toClient) client.handleDatagram(d, C, S, now);
  if (toServer.length + toClient.length === 0) {
    const next = Math.min(client.pollTimeout() ?? Infinity, server.pollTimeout() ?? Infinity);
    if (next === Infinity) break;
    now = Math.max(now + 0.001, next);
    client.handleTimeout(now);
    server.handleTimeout(now);
  } else now += 0.05;
}
console.log(`${datagrams} datagrams, client ${closed ? 'closed' : 'still open'}`);
