/**
 * The members net.Socket has and MultipathSocket has with the same meaning:
 * setTimeout and 'timeout', setKeepAlive (mapped onto path probing),
 * setNoDelay, pending, readyState, bufferSize, bytesRead/bytesWritten,
 * localFamily/remoteFamily, destroySoon; and typed events (a misspelt event
 * does not compile: `npm run typecheck` checks the @ts-expect-error lines).
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { connect, createServer, type MultipathServer, type MultipathSocket } from '../../src/index.js';
import { dial, listen, readAll, useLoopback } from '../support/loopback.js';

useLoopback();

describe('net.Socket members', () => {
  it("setTimeout() emits 'timeout' after the idle interval, not while bytes move, and keeps the socket open", async () => {
    const { port, next } = await listen();
    const client = await dial(port);
    const server = await next();
    server.resume();
    let timeouts = 0;
    client.setTimeout(1_000, () => timeouts++);
    expect(client.timeout).toBe(1_000);
    // A write every 20 ms for 0.4 s: no timeout (it would take a 1 s stall of the machine).
    for (let i = 0; i < 20; i++) {
      client.write('x');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(timeouts).toBe(0);
    await once(client, 'timeout');
    expect(client.destroyed).toBe(false);
    client.setTimeout(0);
    expect(client.timeout).toBe(undefined);
  });

  it('setKeepAlive() probes idle paths more often, never less; setKeepAlive(false) restores the option', async () => {
    const { port, next } = await listen();
    const client = await dial(port, { keepAliveInterval: 1_000 });
    await next();
    const packetsIn = (ms: number): Promise<number> => {
      const before = client.stats()!.packetsSent;
      return new Promise((resolve) => setTimeout(() => resolve(client.stats()!.packetsSent - before), ms));
    };
    expect(client.setKeepAlive(true, 50)).toBe(client);
    const fast = await packetsIn(600);
    client.setKeepAlive(true, 60_000); // longer than the option: the option's 1 s stays
    client.setKeepAlive(false);
    const slow = await packetsIn(600);
    // Two paths probed every 50 ms for 0.6 s is about 24 probes; at 1 s, at most a few.
    expect(fast).toBeGreaterThan(8);
    expect(slow).toBeLessThan(fast / 2);
  });

  it('pending, readyState, bufferSize, byte counters and families read as net.Socket', async () => {
    const { port, next } = await listen();
    const client = connect({ port, host: '127.0.0.1', localAddresses: ['127.0.0.1'] });
    expect(client.pending).toBe(true);
    expect(client.readyState).toBe('opening');
    client.write('held');
    expect(client.bufferSize).toBe(4);
    await once(client, 'connect');
    expect(client.pending).toBe(false);
    expect(client.readyState).toBe('open');
    expect(client.setNoDelay(true)).toBe(client);
    expect([client.localFamily, client.remoteFamily]).toEqual(['IPv4', 'IPv4']);
    const server = await next();
    const got = readAll(server);
    client.end(' and more');
    expect((await got).bytes).toBe(13);
    expect(client.readyState).toBe('readOnly');
    expect(client.bytesWritten).toBe(13);
    expect(server.bytesRead).toBe(13);
    expect(client.bufferSize).toBe(0);
  });

  it('destroySoon() ends, then destroys once everything was handed over: the peer gets it all', async () => {
    const { port, next } = await listen();
    const client = await dial(port);
    const server = await next();
    const got = readAll(server);
    client.write(Buffer.alloc(300_000, 7));
    client.destroySoon();
    const [hadError] = (await once(client, 'close')) as [boolean];
    expect(hadError).toBe(false);
    expect((await got).bytes).toBe(300_000);
  });

  it('events are typed', () => {
    const check = (socket: MultipathSocket, server: MultipathServer): void => {
      socket.on('path-up', (path) => path.localAddress.toUpperCase());
      socket.on('path-down', (path, reason) => `${path.id} ${reason.length}`);
      socket.on('close', (hadError) => hadError === true);
      socket.on('data', (chunk) => chunk.readUInt8(0)); // a Buffer...
      socket.on('data', (text: string) => text.length); // ...or a string after setEncoding()
      server.on('connection', (s) => s.paths);
      // @ts-expect-error a misspelt event does not compile
      socket.on('path-dwon', () => undefined);
      // @ts-expect-error a listener of the wrong shape does not compile
      socket.on('close', (hadError: string) => hadError);
      // @ts-expect-error the server has no 'data' event
      server.on('data', () => undefined);
    };
    expect(typeof check).toBe('function');
    expect(createServer).toBeTypeOf('function');
  });
});
