/**
 * The on-path attacks of issue 9 against a live server on loopback, as
 * they were first found: a UDP relay between client and server (the only
 * path: the server advertises no address) flips bits and forges frames
 * while a transfer runs, and the SHA-256 of what arrived is checked. Before
 * packet protection, a forged CLOSE(0) ended the stream early with a clean
 * 'end' and corrupted copies were delivered as data.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type MultipathSocket } from '../../src/index.js';
import type { Frame } from '../../src/wire/types.js';
import { Rng } from '../../lab/random.js';
import { flipBit, forgeShort, observe } from './injector.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

type Attack = (toClient: boolean, data: Buffer, send: (d: Uint8Array) => void) => void;

/** A relay on 127.0.0.1 in front of `serverPort`, for one client; `attack` decides what crosses it. */
async function relay(serverPort: number, attack: Attack): Promise<number> {
  const front = createSocket('udp4');
  const back: Socket = createSocket('udp4');
  cleanup.push(() => {
    front.close();
    back.close();
  });
  front.bind(0, '127.0.0.1');
  back.bind(0, '127.0.0.1');
  await Promise.all([once(front, 'listening'), once(back, 'listening')]);
  let client: { port: number } | null = null;
  front.on('message', (msg, rinfo) => {
    client = { port: rinfo.port };
    attack(false, msg, (d) => back.send(d, serverPort, '127.0.0.1'));
  });
  back.on('message', (msg) => {
    if (client !== null) attack(true, msg, (d) => front.send(d, client!.port, '127.0.0.1'));
  });
  return front.address().port;
}

/** Sends `size` random bytes through the relay to the server; resolves with the hashes of what was sent and what arrived. */
async function transfer(attack: Attack, size: number): Promise<{ sent: string; received: string; serverSocket: MultipathSocket; error: Error | null }> {
  const data = randomBytes(size);
  let serverSocket: MultipathSocket | null = null;
  const hash = createHash('sha256');
  let finished!: (err: Error | null) => void;
  const done = new Promise<Error | null>((resolve) => (finished = resolve));
  const server = createServer({ advertiseAddresses: false }, (socket) => {
    serverSocket = socket;
    socket.on('data', (d: Buffer) => hash.update(d));
    socket.on('end', () => {
      socket.end();
      finished(null);
    });
    socket.on('error', (err) => finished(err));
  });
  server.listen({ port: 0, addresses: ['127.0.0.1'] });
  cleanup.push(() => server.close());
  await once(server, 'listening');
  const port = await relay(server.address()!.port, attack);
  const client = connect({ host: '127.0.0.1', port, localAddresses: ['127.0.0.1'], serverKey: server.fingerprint });
  cleanup.push(() => client.destroy());
  client.on('error', (err) => finished(err));
  client.on('data', () => undefined);
  client.end(data);
  const error = await done;
  return { sent: createHash('sha256').update(data).digest('hex'), received: hash.digest('hex'), serverSocket: serverSocket!, error };
}

describe('on-path attacks against a live server on loopback', () => {
  it('bits flipped in 1 % of datagrams and forged CLOSE(0)/DATA/PING copies: the stream arrives intact, forgeries counted', async () => {
    const rng = new Rng(77);
    let forged = 0;
    let flipped = 0;
    const attack: Attack = (toClient, data, send) => {
      const seen = observe(data);
      if (!toClient && seen !== null && rng.next() < 0.02) {
        // Towards the server, ahead of the real packet: end the stream, or overwrite its bytes.
        const frames: Frame[][] = [
          [{ type: 'close', errorCode: 0, reason: '' }],
          [{ type: 'data', offset: 0, fin: true, data: new Uint8Array(100) }],
          [{ type: 'ping' }],
        ];
        send(forgeShort(seen, seen.packetNumber + (forged % 3 === 2 ? 1_000_000 : 0), frames[forged % 3]!));
        forged++;
      }
      if (rng.next() < 0.01) {
        flipped++;
        send(flipBit(data, rng));
        return;
      }
      send(data);
    };
    const r = await transfer(attack, 3 * 1024 * 1024);
    expect(r.error).toBeNull();
    expect(r.received).toBe(r.sent);
    expect(forged).toBeGreaterThan(10);
    expect(flipped).toBeGreaterThan(10);
    const drops = r.serverSocket.stats()!.drops;
    expect(drops['auth-failed'] ?? 0).toBeGreaterThanOrEqual(forged);
  }, 30_000);
});
