/**
 * The request/response test of the `mpudp bench` client: `size` bytes out,
 * the server echoes them, the next request once all are back; latency
 * percentiles over the run and per interval. Over the raw udp transport it
 * is the dgram floor's ping-pong (udp-rr.ts), optionally sealed.
 */
import { cpuSeconds, encodeHeader, epochMs, percentile, round3 } from './common.js';
import { pathSummary } from './paths.js';
import { closeStream, ioStats, openStream, type ClientConfig, type Interval, type Reporter } from './stream.js';
import { udpPingPong } from './udp-rr.js';

export async function runRr(c: ClientConfig, r: Reporter): Promise<Record<string, unknown>> {
  if (c.transport === 'udp') return runUdpRr(c);
  const s = await openStream(c);
  s.sock.write(encodeHeader({ mode: 'rr', dir: 'up', bytes: null, timeMs: null, verify: false, size: c.size }));
  const request = Buffer.alloc(c.size, 0x72);
  const rtts: number[] = [];
  const total = c.count ?? Infinity;
  const cpu0 = cpuSeconds();
  const start = epochMs();
  const deadline = start + c.timeMs;
  let windowRtts: number[] = [];
  let lastAt = start;
  const intervals: Interval[] = [];
  const ticker =
    c.intervalMs > 0
      ? setInterval(() => {
          const now = epochMs();
          const sorted = windowRtts.sort((a, b) => a - b);
          const i: Interval = {
            type: 'interval',
            fromMs: round3(lastAt - start),
            toMs: round3(now - start),
            bytes: sorted.length * c.size * 2,
            bps: 0,
            count: sorted.length,
            p50Ms: round3(percentile(sorted, 50)),
            p99Ms: round3(percentile(sorted, 99)),
          };
          intervals.push(i);
          r.interval(i);
          windowRtts = [];
          lastAt = now;
        }, c.intervalMs)
      : null;
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    let got = 0;
    let sentAt = 0;
    const send = (): void => {
      sentAt = performance.now();
      s.sock.write(request);
    };
    s.sock.on('data', (d: Buffer) => {
      got += d.length;
      while (got >= c.size) {
        got -= c.size;
        const rtt = performance.now() - sentAt;
        done++;
        if (done > c.warmup) {
          rtts.push(rtt);
          windowRtts.push(rtt);
        }
        if (rtts.length >= total || epochMs() >= deadline) {
          resolve();
          return;
        }
        send();
      }
    });
    s.sock.once('error', reject);
    s.sock.once('end', () => reject(new Error('the server ended the rr test early')));
    send();
  });
  if (ticker) clearInterval(ticker);
  const ms = epochMs() - start;
  const paths = s.mp ? pathSummary(s.mp) : null;
  const io = ioStats(s);
  await closeStream(s);
  return { ...rrResult(c, rtts, ms, cpuSeconds() - cpu0), paths, io, intervals };
}

/** The raw dgram floor: ping-pong of `size`-byte datagrams (sealed with `--seal`). */
async function runUdpRr(c: ClientConfig): Promise<Record<string, unknown>> {
  const res = await udpPingPong({
    host: c.hosts[0]!,
    port: c.port + 1,
    ...(c.locals[0] ? { local: c.locals[0] } : {}),
    size: c.size,
    ...(c.seal ? { seal: c.seal } : {}),
    warmup: c.warmup,
    count: c.count ?? Infinity,
    timeMs: c.timeMs,
  });
  return { ...rrResult(c, res.rtts, res.ms, res.cpuSeconds), seal: c.seal ?? null, resent: res.resent, intervals: [] };
}

/** The percentiles of a run's round-trip times. */
function rrResult(c: ClientConfig, rtts: number[], ms: number, cpu: number): Record<string, unknown> {
  const sorted = [...rtts].sort((a, b) => a - b);
  return {
    type: 'result',
    transport: c.transport,
    mode: 'rr',
    size: c.size,
    count: sorted.length,
    ms: round3(ms),
    p50Ms: round3(percentile(sorted, 50)),
    p90Ms: round3(percentile(sorted, 90)),
    p99Ms: round3(percentile(sorted, 99)),
    maxMs: round3(sorted[sorted.length - 1] ?? NaN),
    meanMs: round3(sorted.reduce((a, x) => a + x, 0) / Math.max(1, sorted.length)),
    cpuSeconds: round3(cpu),
  };
}
