/**
 * Bulk tests of the `mpudp bench` client: one or `parallel` transfers, up
 * (client sends) or down (`reverse`), for a time or a byte count (or until
 * stdin says `stop`), of the seeded pattern (./pattern.ts), optionally
 * verified end to end by the receiver, with a receiver timeline on request
 * (on whichever side receives); and the raw UDP blast (no reliability, up
 * only). With one connection over mpudp, path events are reported and
 * stdin `paths` reports the paths.
 */
import { createInterface } from 'node:readline';
import { TimelineSampler, cpuSeconds, encodeHeader, epochMs, round3, type Timeline } from './common.js';
import { pathSummary, reportPathEvents, type PathSummary } from './paths.js';
import { Pattern, PatternSink, PatternSource, type ReceiverResult } from './pattern.js';
import { closeStream, ioStats, openStream, pathIntervals, pump, readAll, type ClientConfig, type Interval, type Reporter, type Stream } from './stream.js';
import { udpBlast } from './udp.js';

/** One transfer's outcome. */
interface TransferResult {
  /** What the receiver (the server in an upload) measured, with its timeline if one was asked for. */
  receiver: ReceiverResult & { timeline?: Timeline | null };
  /** Bytes the sender handed to the transport. */
  sentBytes: number;
  /** Verified: every byte arrived as sent (null without verify). */
  intact: boolean | null;
  paths: PathSummary[] | null;
  timeline: Timeline | null;
}

/** What stdin may say during a bulk test: `stop` ends the sending now, `paths` reports the paths. */
function readCommands(onStop: () => void, onPaths: () => void): () => void {
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => {
    const cmd = line.trim();
    if (cmd === 'stop') onStop();
    else if (cmd === 'paths') onPaths();
  });
  return () => {
    rl.close();
    process.stdin.pause();
  };
}

/**
 * What one transfer has moved so far: `bytes` once it is done or on the
 * receiving side, `live()` while an upload runs, read only when the interval
 * reporter asks (polling every connection's stats() on a timer cost the
 * client 18 % of its CPU at 1,000 connections).
 */
interface Progress {
  bytes: number;
  live: (() => number) | null;
}

async function runTransfer(c: ClientConfig, s: Stream, progress: Progress, first: boolean, stop: () => boolean): Promise<TransferResult> {
  const dir = c.reverse ? 'down' : 'up';
  const binMs = first ? c.binMs : 0;
  s.sock.write(encodeHeader({ mode: 'bulk', dir, bytes: c.bytes, timeMs: c.bytes === null ? c.timeMs : null, verify: c.verify, seed: c.seed, binMs: dir === 'up' ? binMs : 0, size: 0 }));
  const pattern = new Pattern(c.seed);
  if (dir === 'up') {
    const source = new PatternSource(pattern, c.bytes, false);
    const replyP = readAll(s.sock);
    const deadline = c.bytes === null ? epochMs() + c.timeMs : Infinity;
    progress.live = () => sentEstimate(s, source.sent);
    try {
      await pump(s.sock, source, { deadline, stop });
      const reply = (await replyP).toString('utf8').trim();
      const receiver = JSON.parse(reply) as TransferResult['receiver'];
      return {
        receiver,
        sentBytes: source.sent,
        intact: c.verify ? receiver.intact === true && receiver.bytes === source.sent : null,
        paths: s.mp ? pathSummary(s.mp) : null,
        timeline: receiver.timeline ?? null,
      };
    } finally {
      progress.live = null;
      progress.bytes = source.sent;
    }
  }
  // Download: this side receives.
  const sink = new PatternSink(c.verify ? pattern : null);
  const timeline = binMs > 0 ? new TimelineSampler(binMs, () => sink.bytes, s.mp ? () => s.mp!.paths : null, c.ifaces) : null;
  timeline?.start();
  await new Promise<void>((resolve, reject) => {
    s.sock.on('data', (d: Buffer) => {
      sink.add(d);
      progress.bytes = sink.bytes;
    });
    s.sock.once('end', resolve);
    s.sock.once('error', reject);
  });
  const tl = timeline?.stop() ?? null;
  const receiver = sink.result();
  return { receiver, sentBytes: receiver.bytes, intact: receiver.intact, paths: s.mp ? pathSummary(s.mp) : null, timeline: tl };
}

/** Bytes the peer has (mpudp: acknowledged; TCP: handed to the kernel). */
function sentEstimate(s: Stream, handedOut: number): number {
  if (s.mp) {
    const st = s.mp.stats();
    return st ? Math.max(0, st.bytesWritten - st.sendBufferBytes) : 0;
  }
  return Math.max(0, handedOut - s.sock.writableLength);
}

/**
 * Waits until every mpudp connection has left its first-contact path (a
 * cluster worker moved it to its own port) or `ms` passed; how many moved
 * and how long it took.
 */
async function settle(streams: Stream[], ms: number): Promise<{ moved: number; ms: number }> {
  const t0 = epochMs();
  const moved = (): number => streams.filter((s) => (s.mp?.stats()?.firstContactPathsRetired ?? 0) > 0).length;
  while (epochMs() - t0 < ms && moved() < streams.length) await new Promise((resolve) => setTimeout(resolve, 5));
  return { moved: moved(), ms: round3(epochMs() - t0) };
}

export async function runBulk(c: ClientConfig, r: Reporter): Promise<Record<string, unknown>> {
  const cpu0 = cpuSeconds();
  const t0 = epochMs();
  const n = Math.max(1, c.parallel);
  // Open every connection first (with `concurrency` handshakes in flight), then start every transfer.
  const streams: Stream[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, c.concurrency) }, async () => {
      while (next < n) {
        const i = next++;
        streams[i] = await openStream(c);
      }
    }),
  );
  const connectMs = epochMs() - t0;
  const single = n === 1 ? streams[0]!.mp : null;
  r.event({ type: 'connected', connections: n, ms: round3(connectMs), paths: streams[0]!.mp ? pathSummary(streams[0]!.mp) : null });
  if (single) reportPathEvents(single, (e) => r.event(e), { role: 'client' });
  if ((c.settleMs ?? 0) > 0) r.event({ type: 'settled', ...(await settle(streams, c.settleMs!)) });
  let stopped = false;
  const closeCommands = readCommands(
    () => (stopped = true),
    () => r.event({ type: 'paths', paths: single ? pathSummary(single) : null }),
  );
  const progress: Progress[] = streams.map(() => ({ bytes: 0, live: null }));
  const start = epochMs();
  const dir = c.reverse ? 'down' : 'up';
  let lastBytes = 0;
  let lastAt = start;
  const prevPaths = new Map<number, number>();
  const intervals: Interval[] = [];
  const ticker =
    c.intervalMs > 0
      ? setInterval(() => {
          const now = epochMs();
          const bytes = progress.reduce((a, p) => a + (p.live ? p.live() : p.bytes), 0);
          const ms = now - lastAt;
          const mp = n === 1 ? streams[0]!.mp : null;
          const i: Interval = {
            type: 'interval',
            fromMs: round3(lastAt - start),
            toMs: round3(now - start),
            bytes: bytes - lastBytes,
            bps: ms > 0 ? Math.round(((bytes - lastBytes) * 8) / (ms / 1000)) : 0,
            totalBytes: bytes,
            ...(mp ? { paths: pathIntervals(prevPaths, mp.paths, dir, ms) } : {}),
          };
          intervals.push(i);
          r.interval(i);
          lastBytes = bytes;
          lastAt = now;
        }, c.intervalMs)
      : null;
  let results: TransferResult[];
  try {
    results = await Promise.all(streams.map((s, i) => runTransfer(c, s, progress[i]!, i === 0, () => stopped)));
  } finally {
    if (ticker) clearInterval(ticker);
    closeCommands();
  }
  const sendMs = epochMs() - start;
  const io = n === 1 ? ioStats(streams[0]!) : null;
  await Promise.all(streams.map((s) => closeStream(s)));
  const first = Math.min(...results.map((x) => x.receiver.firstMs));
  const last = Math.max(...results.map((x) => x.receiver.lastMs));
  const bytes = results.reduce((a, x) => a + x.receiver.bytes, 0);
  const ms = last - first;
  const intact = c.verify ? results.filter((x) => x.intact === true).length : null;
  return {
    type: 'result',
    transport: c.transport,
    mode: 'bulk',
    dir,
    parallel: n,
    connectMs: round3(connectMs),
    bytes,
    sentBytes: results.reduce((a, x) => a + x.sentBytes, 0),
    ms: round3(ms),
    sendMs: round3(sendMs),
    bps: ms > 0 ? Math.round((bytes * 8) / (ms / 1000)) : 0,
    firstMs: round3(first),
    lastMs: round3(last),
    cpuSeconds: round3(cpuSeconds() - cpu0),
    /** The receiving side's CPU (the server's in an upload). */
    receiverCpuSeconds: dir === 'up' ? round3(results.reduce((a, x) => Math.max(a, x.receiver.cpuSeconds), 0)) : null,
    intact,
    failed: c.verify ? results.filter((x) => x.intact !== true).length : null,
    paths: n === 1 ? results[0]!.paths : null,
    /** With one transfer: what its receiver reported (delivery gaps, first mismatch, SHA-256). */
    receiver: n === 1 ? { ...results[0]!.receiver, timeline: undefined } : null,
    io,
    timeline: results[0]!.timeline,
    intervals,
  };
}

export async function runUdp(c: ClientConfig, r: Reporter): Promise<Record<string, unknown>> {
  if (c.reverse) throw new Error('the raw udp test sends from the client only (no --reverse)');
  let lastSent = 0;
  let lastAt = 0;
  const intervals: Interval[] = [];
  const res = await udpBlast({
    host: c.hosts[0]!,
    port: c.port + 1,
    ...(c.locals[0] ? { local: c.locals[0] } : {}),
    datagramSize: c.datagramSize,
    ...(c.seal ? { seal: c.seal } : {}),
    timeMs: c.timeMs,
    intervalMs: c.intervalMs,
    onInterval: (sent, atMs) => {
      const bytes = (sent - lastSent) * c.datagramSize;
      const ms = atMs - lastAt;
      const i: Interval = { type: 'interval', fromMs: round3(lastAt), toMs: round3(atMs), bytes, bps: ms > 0 ? Math.round((bytes * 8) / (ms / 1000)) : 0 };
      intervals.push(i);
      r.interval(i);
      lastSent = sent;
      lastAt = atMs;
    },
  });
  const rec = res.receiver;
  return {
    type: 'result',
    transport: 'udp',
    mode: 'bulk',
    dir: 'up',
    parallel: 1,
    bytes: rec.bytes,
    sentBytes: res.bytesSent,
    datagramsSent: res.datagramsSent,
    datagramsReceived: rec.datagrams,
    ...(c.seal ? { seal: c.seal, authFailures: rec.authFailures } : {}),
    lossRate: res.datagramsSent > 0 ? round3(1 - rec.datagrams / res.datagramsSent) : 0,
    ms: round3(rec.lastMs - rec.firstMs),
    sendMs: res.sendMs,
    bps: rec.bps,
    firstMs: rec.firstMs,
    lastMs: rec.lastMs,
    cpuSeconds: res.cpuSeconds,
    receiverCpuSeconds: rec.cpuSeconds,
    intervals,
  };
}
