/**
 * Handshakes through the sans-IO core alone: a client EndpointCore and a
 * server EndpointCore in one process, datagrams handed across at once (no
 * sockets, no loss), `inflight` handshakes at a time from one source
 * address (as `mpudp bench client --mode connect` does, so the server's
 * per-source cap sends Retries), each closed by the client once
 * established. Reports CPU µs per handshake for each side (every call into
 * that side's core, timed with process.cpuUsage) and the Retries sent.
 *   npx tsx bench/core-handshakes.ts [--n 2000] [--inflight 64] [--rounds 3] [--dist DIR] [--count]
 * --dist DIR times a build's core (DIR/core/endpoint.js) instead of src.
 * --count also counts node:crypto calls per handshake (both sides), a
 * figure the machine's load does not move. --alloc prints the allocation
 * sites of the last round per handshake (both sides; bench/lib/alloc-sampler.ts).
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { EndpointCore as Core } from '../src/core/endpoint.js';
import type { Connection } from '../src/core/connection.js';
import { allocationSites, printSites } from './lib/alloc-sampler.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const N = Number(arg('n', '2000'));
const INFLIGHT = Number(arg('inflight', '64'));
const ROUNDS = Number(arg('rounds', '3'));
const DIST = arg('dist', '');
const COUNT = process.argv.includes('--count');
const ALLOC = process.argv.includes('--alloc');

const calls: Record<string, number> = {};
if (COUNT) {
  // Wrap node:crypto's functions before the core imports them (ES imports of built-ins follow syncBuiltinESMExports).
  const crypto = createRequire(import.meta.url)('node:crypto') as Record<string, unknown>;
  for (const name of ['createPrivateKey', 'createPublicKey', 'diffieHellman', 'generateKeyPairSync', 'hkdfSync', 'createHmac', 'createHash', 'createSecretKey', 'createCipheriv', 'createDecipheriv', 'randomBytes', 'timingSafeEqual']) {
    const fn = crypto[name] as (...a: unknown[]) => unknown;
    crypto[name] = function (this: unknown, ...a: unknown[]) {
      calls[name] = (calls[name] ?? 0) + 1;
      return fn.apply(this, a);
    };
  }
  syncBuiltinESMExports();
}

const mod = (await import(DIST ? pathToFileURL(resolve(DIST, 'core/endpoint.js')).href : '../src/core/endpoint.js')) as { EndpointCore: typeof Core };
const EndpointCore = mod.EndpointCore;

const S = { address: '10.0.0.1', port: 4433 };
const C = { address: '10.0.1.2', port: 50000 };
const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

function cpu(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function round(): { client: number; server: number; retries: number; done: number } {
  const server = new EndpointCore({ random, server: true, localAddresses: [S] });
  const client = new EndpointCore({ random, server: false });
  let tClient = 0;
  let tServer = 0;
  let now = 1000;
  let started = 0;
  let done = 0;
  const open = new Set<Connection>();
  const side = (which: 'c' | 's', fn: () => void): void => {
    const t = cpu();
    fn();
    if (which === 'c') tClient += cpu() - t;
    else tServer += cpu() - t;
  };
  while (done < N) {
    while (open.size < INFLIGHT && started < N) {
      started++;
      side('c', () => {
        open.add(client.connect({ localAddresses: [C], remoteAddresses: [S] }, now));
      });
    }
    const toServer: Uint8Array[] = [];
    const toClient: Uint8Array[] = [];
    side('c', () => {
      for (let t = client.pollTransmit(now); t !== null; t = client.pollTransmit(now)) toServer.push(t.data);
      for (let e = client.pollEvent(); e !== null; e = client.pollEvent()) {
        if (e.type !== 'connection') continue;
        if (e.event.type === 'connected') {
          e.connection.close();
          client.touch(e.connection);
        } else if (e.event.type === 'closed' && open.delete(e.connection)) done++;
      }
    });
    side('s', () => {
      for (const d of toServer) server.handleDatagram(d, S, C, now);
      for (let t = server.pollTransmit(now); t !== null; t = server.pollTransmit(now)) toClient.push(t.data);
      for (let e = server.pollEvent(); e !== null; e = server.pollEvent());
    });
    side('c', () => {
      for (const d of toClient) client.handleDatagram(d, C, S, now);
    });
    const moved = toServer.length + toClient.length > 0;
    if (!moved) {
      // Nothing in flight: let the clock run to the next deadline (drain timers, PTOs).
      const next = Math.min(client.pollTimeout() ?? Infinity, server.pollTimeout() ?? Infinity);
      if (next === Infinity) throw new Error(`stalled with ${open.size} open`);
      now = Math.max(now + 0.001, next);
      side('c', () => client.handleTimeout(now));
      side('s', () => server.handleTimeout(now));
    }
  }
  return { client: tClient / N, server: tServer / N, retries: server.stats().retriesSent, done };
}

for (let r = 0; r < ROUNDS; r++) {
  for (const k of Object.keys(calls)) delete calls[k];
  let x = { client: 0, server: 0, retries: 0, done: 0 };
  if (ALLOC && r === ROUNDS - 1) printSites(await allocationSites(() => (x = round())), N, 'handshake (both sides)', 30);
  else x = round();
  if (COUNT) console.log('node:crypto calls per handshake (both sides):', Object.entries(calls).map(([k, v]) => `${k} ${(v / x.done).toFixed(2)}`).join(', '));
  console.log(`round ${r + 1}: ${x.done} handshakes, client ${x.client.toFixed(0)} µs, server ${x.server.toFixed(0)} µs CPU per handshake; ${x.retries} retries sent; load ${(await import('node:os')).loadavg()[0]!.toFixed(2)}`);
}
