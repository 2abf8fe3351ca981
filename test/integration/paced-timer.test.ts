/**
 * A paced sender sleeps between bursts instead of spinning the event loop
 * (src/io/udp-endpoint.ts, armTimer). Through a 20 Mbit/s relay (the ISP
 * emulator, in this process) the pacer's next packet is due every 0.6 ms
 * or so; a deadline less than 1 ms away once ran on the next turn of the
 * event loop, so the endpoint's timer ran ~6 times per datagram sent (a
 * loopback run through a 50 Mbit/s relay: 138,412 timer runs for 21,297
 * datagrams in 4 s; 1,386 after; here, at 20 Mbit/s, 840 runs for 1,793
 * datagrams before and 93 after). The timer may run at most once per
 * eight datagrams.
 */
import { once } from 'node:events';
import { afterEach, expect, it } from 'vitest';
import { IspEmulator } from '../../lab/emulator/isp.js';
import { connect, createServer, type MultipathServer, type MultipathSocket } from '../../src/index.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const BYTES = 2 * 1024 * 1024;

it('a sender paced by a 20 Mbit/s relay runs its timer at most once per eight datagrams sent, and delivers every byte', async () => {
  let received = 0;
  let server: MultipathServer | undefined;
  let client: MultipathSocket | undefined;
  const done = new Promise<void>((resolve) => {
    server = createServer({ advertiseAddresses: false }, (s: MultipathSocket) => {
      s.on('data', (d: Buffer) => {
        received += d.length;
        if (received >= BYTES) resolve();
      });
      s.on('error', () => {});
    });
    cleanup.push(() => new Promise<void>((r) => server!.close(() => r())));
    server.listen(0, '127.0.0.1', () => {
      void (async () => {
        const port = server!.addresses()[0]!.port;
        const isp = await IspEmulator.start({ listen: { address: '127.0.0.11', port: 0 }, target: { address: '127.0.0.1', port }, delayMs: 5, rateBps: 20e6 });
        cleanup.push(() => isp.close());
        const sock = connect({ host: '127.0.0.11', port: isp.address()!.port, localAddresses: ['127.0.0.1'] });
        cleanup.push(() => sock.destroy());
        sock.on('error', () => {});
        await once(sock, 'connect');
        client = sock;
        sock.write(Buffer.alloc(BYTES, 7));
      })();
    });
  });
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${received} of ${BYTES} bytes`)), 20_000).unref());
  await Promise.race([done, timeout]);
  const st = client!._endpoint()!.stats();
  console.log(`paced upload of ${BYTES} B: ${st.datagramsSent} datagrams sent, ${st.timeouts} timer runs, ${st.flushes} flushes`);
  expect(received).toBe(BYTES);
  expect(st.datagramsSent).toBeGreaterThan(BYTES / 1500);
  expect(st.timeouts).toBeLessThan(st.datagramsSent / 8);
  // Close while the relay still carries the client's CLOSE: the server's
  // close() completes once its connection has ended (without the relay,
  // it would wait out the idle timeout).
  client!.destroy();
  await new Promise<void>((resolve) => server!.close(() => resolve()));
}, 30_000);
