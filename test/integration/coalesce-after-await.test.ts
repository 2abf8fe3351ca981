/**
 * An application that acts after an `await` of an event (the usual way
 * now) gets what it does into the datagrams of that same flush: the io
 * loop hands out the events one setImmediate callback ahead of the
 * transmits, and Node runs the microtasks in between (src/io/udp-endpoint.ts,
 * requestFlush). The bench's handshake test (connect → await 'connect' →
 * destroy) then sends 5 datagrams per connection, both ways together:
 * Initial, Handshake, the client's confirmation with its FIN, the server's
 * ACK with its FIN, the client's CLOSE (7.9 when the FIN went alone).
 */
import { Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/index.js';
import { closed, listen, useLoopback } from '../support/loopback.js';

useLoopback();

const send = Socket.prototype.send;
afterEach(() => {
  Socket.prototype.send = send;
});

describe('events before transmits', () => {
  it('a FIN written after `await once(socket, "connect")` rides in the handshake confirmation', async () => {
    let sent = 0;
    Socket.prototype.send = function (this: Socket, ...args: unknown[]) {
      sent++;
      return (send as (...a: unknown[]) => void).apply(this, args);
    } as typeof Socket.prototype.send;
    const { port, next } = await listen();
    const N = 20;
    const serverSockets = [];
    for (let i = 0; i < N; i++) {
      const sock = connect({ host: '127.0.0.1', port, localAddresses: ['127.0.0.1'] });
      sock.on('error', () => undefined);
      await once(sock, 'connect');
      sock.destroy();
      const accepted = await next();
      accepted.resume();
      serverSockets.push(accepted);
    }
    // The server's side closes once the client's CLOSE, the last datagram of each connection, arrived.
    await Promise.all(serverSockets.map(closed));
    expect(sent / N).toBeGreaterThanOrEqual(4);
    expect(sent / N).toBeLessThanOrEqual(5.5);
  });
});
