/**
 * A paced sender sleeps between bursts instead of spinning the event loop
 * (src/io/core-timer.ts, CoreTimer.arm). Through a 20 Mbit/s relay (the ISP
 * emulator, in this process) the pacer's next packet is due every 0.6 ms
 * or so; a deadline less than 1 ms away once ran on the next turn of the
 * event loop, so the endpoint's timer ran ~6 times per datagram sent (a
 * loopback run through a 50 Mbit/s relay: 138,412 timer runs for 21,297
 * datagrams in 4 s; 1,386 after; here, at 20 Mbit/s, 840 runs for 1,793
 * datagrams before and 93 after). The timer may run at most once per
 * eight datagrams.
 */
import { afterEach, expect, it } from 'vitest';
import { relayedUpload } from './relayed-upload.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const BYTES = 2 * 1024 * 1024;

it('a sender paced by a 20 Mbit/s relay runs its timer at most once per eight datagrams sent, and delivers every byte', async () => {
  const { client, server, received } = await relayedUpload(Buffer.alloc(BYTES, 7), { delayMs: 5, rateBps: 20e6 }, cleanup, 20_000);
  const st = client._endpoint()!.stats();
  console.log(`paced upload of ${BYTES} B: ${st.datagramsSent} datagrams sent, ${st.timeouts} timer runs, ${st.flushes} flushes`);
  expect(received).toBe(BYTES);
  expect(st.datagramsSent).toBeGreaterThan(BYTES / 1500);
  expect(st.timeouts).toBeLessThan(st.datagramsSent / 8);
  // Close while the relay still carries the client's CLOSE: the server's
  // close() completes once its connection has ended (without the relay,
  // it would wait out the idle timeout).
  client.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}, 30_000);
