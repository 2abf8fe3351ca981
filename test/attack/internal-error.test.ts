/**
 * A fault inside one connection's core (issue 9): an exception there used
 * to be swallowed by src/io while the half-updated connection ran on. Now
 * that connection alone ends with ERR_MPUDP_INTERNAL, counted, and the
 * others on the same endpoint go on. The fault is injected through a
 * scheduler (application code the core calls for every data packet) that
 * throws on its 100th call.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { expectEchoIntact } from '../support/loopback.js';
import type { Connection } from '../../src/core/connection.js';
import { EndpointCore } from '../../src/core/endpoint.js';
import type { Scheduler } from '../../src/core/sched/scheduler.js';
import { connect, createServer, type MpudpError } from '../../src/index.js';
import { payload, sha256 } from '../sim/scenario.js';
import { World } from '../../lab/sim/world.js';

/** min-rtt's choice, but the `failAt`-th call throws. */
function faulty(failAt: number): Scheduler {
  let calls = 0;
  return {
    name: 'faulty',
    choose(paths) {
      if (++calls === failAt) throw new Error('injected fault');
      let best: (typeof paths)[number] | null = null;
      for (const p of paths) if (p.ready && p.windowRoom > 0 && (best === null || p.smoothedRtt < best.smoothedRtt)) best = p;
      return best?.id ?? null;
    },
  };
}

const SERVER = { address: '10.0.0.1', port: 443 };

describe('a fault inside one connection', () => {
  it('ends that connection with ERR_MPUDP_INTERNAL; another on the same endpoint completes intact', () => {
    const world = new World({ seed: 81 });
    const server = new EndpointCore({ random: world.random(), server: true, localAddresses: [SERVER] });
    const client = new EndpointCore({ random: world.random(), server: false });
    world.addNode(server, SERVER.address);
    world.addNode(client, '10.0.1.2');
    world.network.path('10.0.1.2', SERVER.address, { delayMs: 5, rateBps: 50e6 });
    const local = [{ address: '10.0.1.2', port: 5000 }];
    const bad = client.connect({ localAddresses: local, remoteAddresses: [SERVER], scheduler: faulty(100) }, world.now);
    const good = client.connect({ localAddresses: local, remoteAddresses: [SERVER] }, world.now);
    const data = payload(2_000_000, 81);
    const sent = new Map<Connection, number>([[bad, 0], [good, 0]]);
    const received = new Map<Connection, Uint8Array[]>();
    const closed = new Map<Connection, string>();
    const pump = (): void => {
      for (const c of [bad, good]) {
        let off = sent.get(c)!;
        while (off < data.length && !c.isClosed) {
          const n = c.write(data.subarray(off, off + 65536));
          if (n === 0) break;
          off += n;
        }
        if (off === data.length && !c.isClosed) c.end();
        sent.set(c, off);
        client.touch(c);
      }
      for (const ep of [client, server]) {
        for (let e = ep.pollEvent(); e !== null; e = ep.pollEvent()) {
          if (e.type === 'accepted') received.set(e.connection, []);
          else if (e.event.type === 'closed') closed.set(e.connection, e.event.code);
        }
      }
      for (const [c, chunks] of received) for (let b = c.read(); b !== null; b = c.read()) chunks.push(b.slice());
      for (const c of received.keys()) server.touch(c);
    };
    world.runUntil(() => (pump(), closed.has(bad) && [...received.keys()].some((c) => c.assembler.isFinished)), 30_000);
    expect(closed.get(bad)).toBe('ERR_MPUDP_INTERNAL');
    expect(client.stats().internalErrors).toBe(1);
    expect(client.stats().drops['internal-error']).toBe(1);
    // The good connection's bytes arrived intact at the server.
    const done = [...received.entries()].find(([c]) => c.assembler.isFinished)!;
    expect(sha256(done[1])).toBe(sha256(data));
    expect(good.isClosed && closed.get(good) !== 'NO_ERROR').toBe(false);
  });

  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const fn of cleanup.splice(0)) fn();
  });

  it('over sockets: the faulty client gets ERR_MPUDP_INTERNAL, the server keeps serving others', async () => {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
    server.listen({ port: 0, addresses: ['127.0.0.1'] });
    await once(server, 'listening');
    cleanup.push(() => server.close());
    const port = server.address()!.port;
    const bad = connect({ host: '127.0.0.1', port, localAddresses: ['127.0.0.1'], scheduler: faulty(20) });
    cleanup.push(() => bad.destroy());
    bad.on('data', () => undefined);
    bad.write(randomBytes(500_000));
    const [err] = (await once(bad, 'error')) as [MpudpError];
    expect(err.code).toBe('ERR_MPUDP_INTERNAL');
    expect(err.message).toContain('injected fault');
    // Another client of the same server: its echo comes back intact.
    const good = connect({ host: '127.0.0.1', port, localAddresses: ['127.0.0.1'] });
    cleanup.push(() => good.destroy());
    await expectEchoIntact(good, 300_000);
  }, 15_000);
});
