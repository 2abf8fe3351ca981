/**
 * The client role of `mpudp bench`. Tests:
 * - bulk: one or `parallel` transfers, up or down, for a time or a byte
 *   count, optionally verified (bench-bulk.ts); raw UDP is a blast with no
 *   reliability, up only;
 * - rr: request/response round trips, latency percentiles (bench-rr.ts);
 *   raw UDP is a datagram ping-pong, the floor (udp-rr.ts);
 * - connect: handshakes per second; hold: idle connections held
 *   (bench-conns.ts).
 * Every test reports intervals while it runs and a result at the end,
 * through the `Reporter` (text tables or JSON lines, see bench-format.ts).
 */
import { epochMs, round3 } from './common.js';
import { runBulk, runUdp } from './bulk.js';
import { runConnect, runHold } from './conns.js';
import { runRr } from './rr.js';
import type { ClientConfig, Reporter } from './stream.js';

export type { ClientConfig, ClientMode, Interval, PathInterval, Reporter } from './stream.js';

/** Runs the configured test; resolves with its result (also given to the reporter). */
export async function runClient(c: ClientConfig, r: Reporter): Promise<Record<string, unknown>> {
  r.start({
    type: 'start',
    transport: c.transport,
    mode: c.mode,
    hosts: c.hosts,
    port: c.port,
    locals: c.locals,
    dir: c.reverse ? 'down' : 'up',
    timeMs: c.timeMs,
    bytes: c.bytes,
    parallel: c.parallel,
    t0: round3(epochMs()),
  });
  let result: Record<string, unknown>;
  if (c.mode === 'bulk') result = c.transport === 'udp' ? await runUdp(c, r) : await runBulk(c, r);
  else if (c.mode === 'rr') result = await runRr(c, r);
  else if (c.transport === 'udp') throw new Error(`the raw udp transport only runs bulk and rr tests, not ${c.mode}`);
  else if (c.mode === 'connect') result = await runConnect(c, r);
  else result = await runHold(c, r);
  r.result(result);
  return result;
}
