/**
 * Request/response traffic is answered inside the read of the request: a
 * turn of the event loop that read one datagram hands its events to the
 * application at once, and sends what it wrote once the microtasks after
 * the read have run, without waiting for the turn's check phase
 * (src/io/udp-endpoint.ts, onDatagram). A burst (several datagrams read in
 * one turn) is still handled as one: one flush for the turn.
 *
 * "Inside the read" is observed from outside: when a datagram reaches the
 * server's socket, the test queues a setImmediate of its own, ahead of any
 * the endpoint could queue; a response sent before that immediate ran left
 * within the read.
 */
import { Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { MultipathSocket } from '../../src/index.js';
import { connect } from '../../src/index.js';
import { cleanup, listen, useLoopback } from '../support/loopback.js';

useLoopback();

const { emit, send } = Socket.prototype;
afterEach(() => {
  Socket.prototype.emit = emit;
  Socket.prototype.send = send;
});

/**
 * Watches the datagrams of the socket bound to `port`: per send, whether
 * it left before the marker immediate queued at the last datagram's arrival.
 */
function watchServerSocket(port: number): boolean[] {
  const sentWithinRead: boolean[] = [];
  let markerPending = false;
  Socket.prototype.emit = function (this: Socket, event: string | symbol, ...args: unknown[]) {
    if (event === 'message' && this.address().port === port) {
      markerPending = true;
      setImmediate(() => {
        markerPending = false;
      });
    }
    return (emit as (...a: unknown[]) => boolean).call(this, event, ...args);
  } as typeof Socket.prototype.emit;
  Socket.prototype.send = function (this: Socket, ...args: unknown[]) {
    if (this.address().port === port) sentWithinRead.push(markerPending);
    return (send as (...a: unknown[]) => void).apply(this, args);
  } as typeof Socket.prototype.send;
  return sentWithinRead;
}

/** `n` request/response round trips of 1 KiB: write, wait for the whole echo. */
async function roundTrips(client: MultipathSocket, n: number): Promise<void> {
  const request = Buffer.alloc(1024, 0x61);
  for (let i = 0; i < n; i++) {
    let got = 0;
    const done = new Promise<void>((resolve) => {
      const onData = (d: Buffer): void => {
        got += d.length;
        if (got < request.length) return;
        client.off('data', onData);
        resolve();
      };
      client.on('data', onData);
    });
    client.write(request);
    await done;
  }
}

async function echoPair(answer: (s: MultipathSocket, d: Buffer) => void): Promise<{ client: MultipathSocket; server: MultipathSocket; port: number }> {
  const { port, next } = await listen();
  const client = connect({ host: '127.0.0.1', port, localAddresses: ['127.0.0.1'] });
  cleanup.push(() => client.destroy());
  client.on('error', () => undefined);
  await once(client, 'connect');
  client.write('hello');
  const server = await next();
  server.once('data', () => server.on('data', (d: Buffer) => answer(server, d)));
  return { client, server, port };
}

/** 100 round trips to a server answering with `answer`: the last 50 answers all leave inside their requests' reads. */
async function expectAnsweredInsideRead(answer: (s: MultipathSocket, d: Buffer) => void): Promise<void> {
  const { client, port } = await echoPair(answer);
  // The first round trips settle the path (its MTU probes share turns with requests).
  await roundTrips(client, 50);
  const sentWithinRead = watchServerSocket(port);
  await roundTrips(client, 50);
  expect(sentWithinRead.length).toBeGreaterThanOrEqual(50);
  expect(sentWithinRead.filter((x) => x).length).toBe(sentWithinRead.length);
}

describe('inline flush', () => {
  it('answers a request written at once in "data" inside the read of the request', async () => {
    await expectAnsweredInsideRead((s, d) => s.write(d));
  });

  it('also when the answer comes after one `await` in the handler', async () => {
    await expectAnsweredInsideRead((s, d) => {
      void (async () => {
        await null;
        s.write(d);
      })();
    });
  });

  it('handles a burst read in one turn with one flush, not one per datagram', async () => {
    const { client, server } = await echoPair(() => undefined);
    const endpoint = server._endpoint()!;
    const before = endpoint.stats();
    let got = 0;
    const all = new Promise<void>((resolve) => {
      server.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= 512 * 1024) resolve();
      });
    });
    client.write(Buffer.alloc(512 * 1024, 0x62));
    await all;
    const after = endpoint.stats();
    const datagrams = after.datagramsReceived - before.datagramsReceived;
    const flushes = after.flushes - before.flushes;
    expect(datagrams).toBeGreaterThan(300);
    // Client and server share this process: each of the client's flushes
    // lands as one burst, read by the server in one turn.
    expect(flushes).toBeLessThanOrEqual(datagrams / 2);
  });
});
