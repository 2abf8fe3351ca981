/**
 * Path-churn soak (issue 9): a malicious client that holds the keys opens
 * and abandons a path in every packet (PATH_JOIN(k) + PATH_CHALLENGE +
 * PATH_ABANDON(k), k = 1, 2, ...) against a server connection in the
 * simulator, for a given wall time. Every 10 s the server's heap (after a
 * full GC), its path count and the paths freed are printed; the heap must
 * stay flat (closed paths are freed, path IDs are remembered in a fixed
 * window).
 *
 *   npx tsx --expose-gc bench/path-churn-soak.ts [--seconds 600]
 */
import type { Connection } from '../src/core/connection.js';
import { EndpointCore } from '../src/core/endpoint.js';
import { sealedPacket } from '../src/core/packet-writer.js';
import type { PathState } from '../src/core/path/path-state.js';
import { World } from '../lab/sim/world.js';

const i = process.argv.indexOf('--seconds');
const seconds = i >= 0 ? Number(process.argv[i + 1]) : 600;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

function heapMiB(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 2 ** 20;
}

const SERVER = { address: '10.0.0.1', port: 443 };
const world = new World({ seed: 5 });
const serverEp = new EndpointCore({ random: world.random(), server: true, localAddresses: [SERVER] });
const clientEp = new EndpointCore({ random: world.random(), server: false });
world.addNode(serverEp, SERVER.address);
world.addNode(clientEp, '10.0.1.2');
world.network.path('10.0.1.2', SERVER.address, { delayMs: 5, rateBps: 100e6 });
const client = clientEp.connect({ localAddresses: [{ address: '10.0.1.2', port: 5000 }], remoteAddresses: [SERVER] }, world.now);
let accepted: Connection | null = null;
/** Drains both endpoints' events (the server's connection is announced once confirmed). */
function drainEvents(): void {
  for (let e = serverEp.pollEvent(); e !== null; e = serverEp.pollEvent()) if (e.type === 'accepted') accepted = e.connection;
  while (clientEp.pollEvent() !== null);
}
world.runUntil(() => (drainEvents(), accepted !== null && accepted.isEstablished && client.isEstablished), 2_000);
const server = accepted!;
const real = client.pathsById.get(0)!;

/** A stand-in PathState for a path ID the client never opened (only id and packet numbers are read). */
function fakePath(id: number): PathState {
  return Object.assign(Object.create(Object.getPrototypeOf(real) as object) as PathState, { ...real, id, nextPacketNumber: 0, skippedPacketNumbers: [], nextSkip: Infinity });
}

const start = Date.now();
let nextReport = start;
let k = 0;
let most = 0;
const samples: number[] = [];
while (Date.now() - start < seconds * 1000) {
  for (let j = 0; j < 200; j++) {
    k++;
    const p = fakePath(k);
    const packet = sealedPacket(client, p, [{ type: 'path_join', pathId: k }, { type: 'path_challenge', pathId: k, data: new Uint8Array(8) }, { type: 'path_abandon', pathId: k, errorCode: 0 }], 65_000)!;
    // The attacker's own key bookkeeping for a path it never opened goes too (only the server is measured).
    client.protection!.forgetPath(k);
    serverEp.handleDatagram(packet, real.remote, real.local, world.now);
    drainEvents();
    most = Math.max(most, server.pathList.length);
  }
  world.runFor(5);
  if (Date.now() >= nextReport) {
    const h = heapMiB();
    samples.push(h);
    const maps = (c: typeof server): string => {
      const kp = c.protection as unknown as { sendStart: Map<number, number>; recvStart: Map<number, number> } | null;
      return `${kp?.sendStart.size}/${kp?.recvStart.size}`;
    };
    console.log(`   key-phase maps send/recv: server ${maps(server)}, client ${maps(client)}; pathsById ${server.pathsById.size}`);
    console.log(`${((Date.now() - start) / 1000).toFixed(0).padStart(4)} s: ${k} paths churned, ${server.stats().pathsFreed} freed, ${server.pathList.length} held (most ${most}), established ${server.isEstablished}, heap ${h.toFixed(2)} MiB`);
    nextReport += 10_000;
  }
}
const first = samples[1] ?? samples[0]!;
const last = samples[samples.length - 1]!;
console.log(`heap from the 10 s sample to the end: ${first.toFixed(2)} → ${last.toFixed(2)} MiB (${(last - first).toFixed(2)} MiB) over ${k} paths; most paths held ${most} (maxPaths ${server.options.maxPaths})`);
