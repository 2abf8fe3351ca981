/**
 * The many-connections tests of the `mpudp bench` client: `connect`
 * (handshakes per second: connect, wait for it, destroy, with `concurrency`
 * in flight) and `hold` (open `connections` idle connections and hold them;
 * stdin `stats` prints this process's memory, `stop` ends the hold).
 */
import { createInterface } from 'node:readline';
import { cpuSeconds, epochMs, memory, percentile, round3 } from './common.js';
import { openStream, type ClientConfig, type Interval, type Reporter, type Stream } from './stream.js';

export async function runConnect(c: ClientConfig, r: Reporter): Promise<Record<string, unknown>> {
  const start = epochMs();
  const cpu0 = cpuSeconds();
  const deadline = start + c.timeMs;
  const times: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let windowCount = 0;
  let lastAt = start;
  const intervals: Interval[] = [];
  const ticker =
    c.intervalMs > 0
      ? setInterval(() => {
          const now = epochMs();
          const i: Interval = { type: 'interval', fromMs: round3(lastAt - start), toMs: round3(now - start), bytes: 0, bps: 0, handshakes: windowCount };
          intervals.push(i);
          r.interval(i);
          windowCount = 0;
          lastAt = now;
        }, c.intervalMs)
      : null;
  const limit = c.count ?? Infinity;
  let started = 0;
  await Promise.all(
    Array.from({ length: c.concurrency }, async () => {
      while (epochMs() < deadline && started < limit) {
        const index = started++;
        const t = performance.now();
        try {
          const s = await openStream(c, index);
          times.push(performance.now() - t);
          windowCount++;
          s.sock.on('error', () => {});
          s.sock.destroy();
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  if (ticker) clearInterval(ticker);
  const ms = epochMs() - start;
  const sorted = times.sort((a, b) => a - b);
  return {
    type: 'result',
    transport: c.transport,
    mode: 'connect',
    concurrency: c.concurrency,
    handshakes: sorted.length,
    errors,
    firstError,
    ms: round3(ms),
    perSecond: round3(sorted.length / (ms / 1000)),
    p50Ms: round3(percentile(sorted, 50)),
    p99Ms: round3(percentile(sorted, 99)),
    cpuSeconds: round3(cpuSeconds() - cpu0),
    intervals,
  };
}

export async function runHold(c: ClientConfig, r: Reporter): Promise<Record<string, unknown>> {
  const before = memory();
  const start = epochMs();
  const held: Stream[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let next = 0;
  let lastCount = 0;
  let lastAt = start;
  const ticker =
    c.intervalMs > 0
      ? setInterval(() => {
          const now = epochMs();
          r.interval({ type: 'interval', fromMs: round3(lastAt - start), toMs: round3(now - start), bytes: 0, bps: 0, handshakes: held.length - lastCount });
          lastCount = held.length;
          lastAt = now;
        }, c.intervalMs)
      : null;
  const openUntil = start + c.timeMs;
  await Promise.all(
    Array.from({ length: Math.min(c.concurrency, c.connections) }, async () => {
      while (next < c.connections && epochMs() < openUntil) {
        const index = next++;
        try {
          const s = await openStream(c, index);
          s.sock.on('error', () => {});
          s.sock.resume();
          held.push(s);
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  if (ticker) clearInterval(ticker);
  const openMs = epochMs() - start;
  const after = memory();
  r.event({
    type: 'held',
    connections: held.length,
    wanted: c.connections,
    errors,
    firstError,
    ms: round3(openMs),
    perSecond: round3(held.length / (openMs / 1000)),
    clientHeapPerConnection: held.length > 0 ? Math.round((after.heapUsed - before.heapUsed) / held.length) : null,
    clientRssPerConnection: held.length > 0 ? Math.round((after.rss - before.rss) / held.length) : null,
  });
  // Hold until the time is up, or stdin says stop (or ends).
  await new Promise<void>((resolve) => {
    const rl = createInterface({ input: process.stdin, terminal: false });
    const finish = (): void => {
      rl.close();
      process.stdin.pause();
      if (timer) clearTimeout(timer);
      resolve();
    };
    const timer = c.holdMs !== null ? setTimeout(finish, c.holdMs) : null;
    rl.on('line', (line) => {
      const cmd = line.trim();
      if (cmd === 'stop') finish();
      else if (cmd === 'stats') {
        const alive = held.filter((s) => !s.sock.destroyed).length;
        const cpu = cpuSeconds();
        r.event({ type: 'stats', alive, memory: memory(), cpuSeconds: round3(cpu) });
      }
    });
    if (c.holdMs === null) rl.once('close', finish);
  });
  const alive = held.filter((s) => !s.sock.destroyed).length;
  for (const s of held) s.sock.destroy();
  return {
    type: 'result',
    transport: c.transport,
    mode: 'hold',
    connections: held.length,
    aliveAtEnd: alive,
    errors,
    firstError,
    openMs: round3(openMs),
  };
}
