/**
 * The ISP emulator over real UDP on loopback, with plain dgram sockets: a
 * client socket sends through the relay to an echo (or sink) socket. Every
 * wait is for an event or a count, bounded by a timeout; tolerances cover
 * timer slop (Node timers have 1 ms granularity, and the machine is shared).
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCli, runCommand } from '../../lab/emulator/cli.js';
import { DeliveryQueue } from '../../lab/emulator/delivery-queue.js';
import { IspEmulator, type IspOptions } from '../../lab/emulator/isp.js';
import { Link } from '../../lab/link/index.js';
import { Rng } from '../../lab/random.js';
import { parseDuration, parseHostPort, parseProbability, parseRate, parseSize } from '../../lab/emulator/units.js';

/** Things to close after each test. */
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** Rejects after `ms` with a message naming what was awaited. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

/** A UDP socket bound on `address`, closed after the test. */
async function udp(address = '127.0.0.1'): Promise<Socket> {
  const s = createSocket('udp4');
  s.bind(0, address);
  await once(s, 'listening');
  cleanup.push(() => new Promise<void>((r) => s.close(() => r())));
  return s;
}

/** A socket that echoes every datagram back to its sender; records senders. */
async function echoServer(): Promise<{ socket: Socket; port: number; sources: Set<string> }> {
  const socket = await udp();
  const sources = new Set<string>();
  socket.on('message', (msg, rinfo) => {
    sources.add(`${rinfo.address}:${rinfo.port}`);
    socket.send(msg, rinfo.port, rinfo.address);
  });
  return { socket, port: socket.address().port, sources };
}

/** A relay to `targetPort` on 127.0.0.11 (ephemeral port), closed after the test. */
async function relay(targetPort: number, params: Partial<IspOptions> = {}): Promise<{ isp: IspEmulator; port: number }> {
  const isp = await IspEmulator.start({
    listen: { address: '127.0.0.11', port: 0 },
    target: { address: '127.0.0.1', port: targetPort },
    ...params,
  });
  cleanup.push(() => isp.close());
  return { isp, port: isp.address()!.port };
}

/** Collects datagrams on `socket` until `n` arrived; rejects after `ms`. */
function collect(socket: Socket, n: number, ms: number): Promise<{ data: Buffer; at: number }[]> {
  const got: { data: Buffer; at: number }[] = [];
  return new Promise((resolve, reject) => {
    const onMessage = (data: Buffer): void => {
      got.push({ data, at: performance.now() });
      if (got.length >= n) finish();
    };
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      reject(new Error(`timed out after ${ms} ms: ${got.length} of ${n} datagrams arrived`));
    }, ms);
    const finish = (): void => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(got);
    };
    socket.on('message', onMessage);
  });
}

/**
 * Collects until `n` datagrams arrived or none arrived for `quietMs` (a
 * loaded machine may drop some before the relay); rejects after `ms`.
 */
function collectUntilQuiet(socket: Socket, n: number, quietMs: number, ms: number): Promise<{ data: Buffer; at: number }[]> {
  const got: { data: Buffer; at: number }[] = [];
  return new Promise((resolve, reject) => {
    let quiet: NodeJS.Timeout | null = null;
    const finish = (): void => {
      clearTimeout(timer);
      if (quiet !== null) clearTimeout(quiet);
      socket.off('message', onMessage);
      resolve(got);
    };
    const onMessage = (data: Buffer): void => {
      got.push({ data, at: performance.now() });
      if (got.length >= n) return finish();
      if (quiet !== null) clearTimeout(quiet);
      quiet = setTimeout(finish, quietMs);
    };
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      reject(new Error(`timed out after ${ms} ms: ${got.length} of ${n} datagrams arrived`));
    }, ms);
    socket.on('message', onMessage);
  });
}

/** Polls `cond` every 5 ms until it holds; rejects after `ms` naming `what`. */
async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A datagram of `size` bytes carrying `seq` in its first 4 bytes. */
function numbered(seq: number, size = 100): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32BE(seq, 0);
  return b;
}

/** Sends `count` numbered datagrams, `burst` per event-loop turn (so socket buffers keep up). */
async function sendMany(socket: Socket, port: number, count: number, size = 100, burst = 20): Promise<void> {
  for (let i = 0; i < count; i++) {
    socket.send(numbered(i, size), port, '127.0.0.11');
    if (i % burst === burst - 1) await new Promise((r) => setImmediate(r));
  }
}

/** Median of a list of numbers. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

describe('units', () => {
  it('parses rates, sizes, durations, probabilities and addresses like tc', () => {
    expect(parseRate('100mbit')).toBe(100e6);
    expect(parseRate('1.5gbit')).toBe(1.5e9);
    expect(parseRate('800kbit')).toBe(800e3);
    expect(parseRate('1mbps')).toBe(8e6);
    expect(parseSize('64kb')).toBe(65536);
    expect(parseSize('1mb')).toBe(1 << 20);
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('10')).toBe(10);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseProbability('1%')).toBeCloseTo(0.01);
    expect(parseProbability('0.2')).toBe(0.2);
    expect(parseHostPort('127.0.0.11:7000')).toEqual({ address: '127.0.0.11', port: 7000 });
    expect(parseHostPort('[::1]:7000')).toEqual({ address: '::1', port: 7000 });
    expect(() => parseRate('fast')).toThrow(/invalid rate/);
    expect(() => parseRate('10furlong')).toThrow(/units/);
    expect(() => parseProbability('1.5')).toThrow(/out of/);
    expect(() => parseHostPort('localhost:1')).toThrow(/not an IP/);
  });
});

describe('DeliveryQueue', () => {
  it('delivers in time order, FIFO among equal times, behind one timer', async () => {
    const out: number[] = [];
    let t = 0;
    const done = new Promise<void>((resolve) => {
      const q = new DeliveryQueue<number>((n) => {
        out.push(n);
        if (out.length === 6) resolve();
      }, () => performance.now());
      t = performance.now();
      q.push(t + 20, 3);
      q.push(t + 5, 1);
      q.push(t + 20, 4);
      q.push(t + 5, 2);
      q.push(t + 30, 6);
      q.push(t + 25, 5);
    });
    await within(done, 2000, 'six deliveries');
    expect(out).toEqual([1, 2, 3, 4, 5, 6]);
    expect(performance.now() - t).toBeGreaterThanOrEqual(29);
  });
});

describe('Link (the model the relay runs, no I/O)', () => {
  it('serializes at the rate, counting the overhead, and tail-drops past the queue size', () => {
    // 972 bytes + 28 of overhead at 1 MB/s take 1 ms each; 10 fit in the queue.
    const link = new Link('a', 'b', new Rng(1), { rateBps: 8e6, queueBytes: 10_000, overheadBytes: 28 });
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = link.admit(972, 0);
      if (r >= 0) times.push(r);
    }
    expect(times).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(link.counters.drops['queue-full']).toBe(10);
    expect(link.queuedBytes(5)).toBe(5000);
    // Once drained, the link takes datagrams again.
    expect(link.admit(972, 10)).toBe(11);
  });

  it('jitter adds [0, jitterMs) to the delay and never reorders unless asked', () => {
    const fifo = new Link('a', 'b', new Rng(1), { delayMs: 20, jitterMs: 10 });
    const free = new Link('a', 'b', new Rng(2), { delayMs: 20, jitterMs: 10, reorder: true });
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < 200; i++) {
      a.push(fifo.admit(100, i * 0.1) - i * 0.1);
      b.push(free.admit(100, i * 0.1) - i * 0.1);
    }
    for (let i = 1; i < a.length; i++) expect(a[i]! + i * 0.1).toBeGreaterThanOrEqual(a[i - 1]! + (i - 1) * 0.1);
    expect(b.some((t, i) => i > 0 && t + i * 0.1 < b[i - 1]! + (i - 1) * 0.1)).toBe(true);
    // The delay is the floor; with reorder the extra is the draw itself, in [0, 10).
    for (const t of [...a, ...b]) expect(t).toBeGreaterThanOrEqual(20);
    for (const t of b) expect(t).toBeLessThan(30);
    const mean = b.reduce((s, t) => s + t, 0) / b.length;
    expect(mean, 'mean one-way delay = delay + jitter / 2').toBeGreaterThan(24);
    expect(mean).toBeLessThan(26);
  });
});

describe('IspEmulator over loopback', () => {
  it('relays both ways like a NAT: one upstream source per client source', async () => {
    const echo = await echoServer();
    const { isp, port } = await relay(echo.port);
    const c1 = await udp();
    const c2 = await udp();
    const r1 = collect(c1, 1, 2000);
    const r2 = collect(c2, 1, 2000);
    c1.send('one', port, '127.0.0.11');
    c2.send('two', port, '127.0.0.11');
    expect((await r1)[0]!.data.toString()).toBe('one');
    expect((await r2)[0]!.data.toString()).toBe('two');
    expect(echo.sources.size).toBe(2);
    for (const s of echo.sources) expect(s.startsWith('127.0.0.11:')).toBe(true);
    const st = isp.stats();
    expect(st.mappings).toBe(2);
    expect(st.forward.delivered).toBe(2);
    expect(st.reverse.delivered).toBe(2);
  });

  it('drops datagrams reaching an upstream socket from anyone but the target', async () => {
    const echo = await echoServer();
    const { isp, port } = await relay(echo.port);
    const client = await udp();
    const r = collect(client, 1, 2000);
    client.send('hi', port, '127.0.0.11');
    await r;
    const [upstream] = [...echo.sources];
    const intruder = await udp('127.0.0.1');
    const first = collect(client, 1, 2000);
    intruder.send('spoof', Number(upstream!.split(':')[1]), '127.0.0.11');
    await waitFor(() => isp.stats().droppedForeign === 1, 1000, 'the foreign datagram to be dropped');
    client.send('real', port, '127.0.0.11');
    expect((await first)[0]!.data.toString()).toBe('real');
  });

  it('ingress filter: relays only datagrams from allowed client addresses', async () => {
    const sink = await udp();
    const { isp, port } = await relay(sink.address().port, { allowSources: ['127.0.0.2'] });
    const stranger = await udp('127.0.0.1');
    const customer = await udp('127.0.0.2');
    const first = collect(sink, 1, 2000);
    stranger.send('spoofed', port, '127.0.0.11');
    await waitFor(() => isp.stats().droppedFiltered === 1, 1000, 'the filtered datagram');
    customer.send('ok', port, '127.0.0.11');
    expect((await first)[0]!.data.toString()).toBe('ok');
    expect(isp.stats().mappings).toBe(1);
  });

  it('adds the configured one-way delay in each direction', async () => {
    const echo = await echoServer();
    const { port } = await relay(echo.port, { forward: { delayMs: 30 }, reverse: { delayMs: 10 } });
    const client = await udp();
    const rtts: number[] = [];
    for (let i = 0; i < 15; i++) {
      const r = collect(client, 1, 2000);
      const t0 = performance.now();
      client.send(numbered(i), port, '127.0.0.11');
      rtts.push((await r)[0]!.at - t0);
    }
    // 30 + 10 ms; timers are late by up to ~1-2 ms, more on a loaded machine.
    expect(Math.min(...rtts)).toBeGreaterThanOrEqual(39);
    expect(median(rtts)).toBeLessThan(40 + 8);
  });

  it('jitter spreads arrivals without reordering', async () => {
    const sink = await udp();
    const { port } = await relay(sink.address().port, { delayMs: 20, jitterMs: 15, seed: 7 });
    const client = await udp();
    const r = collect(sink, 200, 5000);
    await sendMany(client, port, 200);
    const got = await r;
    const seqs = got.map((g) => g.data.readUInt32BE(0));
    expect(seqs).toEqual([...Array(200).keys()]);
  });

  it('drops at the configured random loss rate', async () => {
    const sink = await udp();
    let arrived = 0;
    sink.on('message', () => arrived++);
    const n = 2000;
    const { isp, port } = await relay(sink.address().port, { lossRate: 0.2, seed: 42 });
    const client = await udp();
    await sendMany(client, port, n);
    await waitFor(() => isp.stats().forward.sent === n, 3000, `the relay to see ${n} datagrams`);
    const st = isp.stats().forward;
    await waitFor(() => arrived === st.delivered, 3000, `${st.delivered} datagrams to arrive (got ${arrived})`);
    expect(st.drops.loss + st.delivered).toBe(n);
    const rate = st.drops.loss / n;
    // 3 standard deviations of a binomial(2000, 0.2) are ±0.027.
    expect(rate, `loss rate ${rate} (seed 42)`).toBeGreaterThan(0.17);
    expect(rate).toBeLessThan(0.23);
  });

  it('limits the rate within 10 %', async () => {
    const sink = await udp();
    const rateBps = 20e6;
    const { isp, port } = await relay(sink.address().port, { rateBps, queueBytes: 4 << 20 });
    // The relay's own record of each send: when its link made the datagram
    // due, and when the real clock let it go.
    const sends: { due: number; at: number }[] = [];
    isp.trace = (kind, direction, now, _data, due) => {
      if (kind !== 'offer' && direction === 'forward') sends.push({ due, at: now });
    };
    const client = await udp();
    const n = 1000;
    const size = 1000;
    const r = collectUntilQuiet(sink, n, 1000, 12_000);
    await sendMany(client, port, n, size);
    const got = await r;
    // A loaded machine may drop a few before the relay; the relay's pace is
    // what is measured, over what it sent.
    expect(got.length, `${got.length} of ${n} arrived`).toBeGreaterThan(n / 2);
    const m = sends.length;
    expect(m).toBeGreaterThan(n / 2);
    // The schedule: m−1 datagrams serialized after the first, at the rate.
    const seconds = (sends[m - 1]!.due - sends[0]!.due) / 1000;
    const measured = ((m - 1) * (size + 28) * 8) / seconds;
    expect(measured / rateBps, `scheduled ${(measured / 1e6).toFixed(2)} Mbit/s`).toBeGreaterThan(0.9);
    expect(measured / rateBps).toBeLessThan(1.1);
    // The real clock keeps to it: never early, late by the timer (a loaded
    // machine's event loop stalls, so the bound is on the median).
    const late = sends.map((d) => d.at - d.due).sort((a, b) => a - b);
    expect(late[0]!).toBeGreaterThanOrEqual(-0.501);
    expect(median(late), `median lateness (ms)`).toBeLessThan(20);
    expect(isp.stats().forward.drops['queue-full']).toBe(0);
  }, 15_000);

  it('tail-drops what does not fit in the queue', async () => {
    const sink = await udp();
    const { isp, port } = await relay(sink.address().port, { rateBps: 8e6, queueBytes: 20_000 });
    const client = await udp();
    for (let i = 0; i < 100; i++) client.send(numbered(i, 1000), port, '127.0.0.11');
    const st = await within(
      (async () => {
        for (;;) {
          const s = isp.stats().forward;
          if (s.sent === 100 && s.inFlight === 0) return s;
          await new Promise((res) => setTimeout(res, 10));
        }
      })(),
      3000,
      'the queue to drain',
    );
    expect(st.drops['queue-full']).toBeGreaterThan(0);
    expect(st.drops['queue-full'] + st.delivered).toBe(100);
    expect(st.maxQueueBytes).toBeLessThanOrEqual(20_000);
  });

  it('cut drops both directions and what is in flight; heal restores', async () => {
    const echo = await echoServer();
    const { isp, port } = await relay(echo.port, { delayMs: 50 });
    const client = await udp();
    const states: string[] = [];
    isp.on('state', (s: { direction: string; state: string }) => states.push(`${s.direction}:${s.state}`));
    // The first datagram to come back must be 'back': the relay is FIFO, so
    // 'lost' (in flight at the cut) and 'dropped' (sent during it) would come first.
    const first = collect(client, 1, 2000);
    client.send('lost', port, '127.0.0.11');
    await waitFor(() => isp.stats().forward.inFlight === 1, 1000, 'the datagram to enter the relay');
    isp.cut();
    expect(isp.stats().state).toBe('blackhole');
    client.send('dropped', port, '127.0.0.11');
    await waitFor(() => isp.stats().forward.drops.blackhole === 1, 1000, 'the datagram sent during the cut to be dropped');
    expect(states).toEqual(['forward:blackhole', 'reverse:blackhole']);
    isp.heal();
    expect(isp.stats().state).toBe('up');
    client.send('back', port, '127.0.0.11');
    expect((await first)[0]!.data.toString()).toBe('back');
    const st = isp.stats();
    expect(st.forward.drops.blackhole).toBe(2); // one dropped at the entrance, one in flight
    expect(st.forward.delivered).toBe(1);
    expect(st.reverse.delivered).toBe(1);
  });

  it('a blackhole is a cut: what is offered and what is in flight is lost, silently', async () => {
    const sink = await udp();
    const { isp, port } = await relay(sink.address().port, { delayMs: 50 });
    const client = await udp();
    const r = collect(sink, 1, 2000);
    client.send('early', port, '127.0.0.11');
    await waitFor(() => isp.stats().forward.inFlight === 1, 1000, 'the datagram to enter the relay');
    isp.blackhole();
    client.send('late', port, '127.0.0.11');
    await waitFor(() => isp.stats().forward.drops.blackhole === 1, 1000, 'the blackhole drop');
    expect(isp.stats().state).toBe('blackhole');
    isp.heal();
    client.send('marker', port, '127.0.0.11');
    expect((await r)[0]!.data.toString()).toBe('marker');
    expect(isp.stats().forward.drops.blackhole).toBe(2);
  });

  it('runs a schedule of cut and heal', async () => {
    const echo = await echoServer();
    const { isp, port } = await relay(echo.port);
    const client = await udp();
    const t0 = performance.now();
    const actions: { action: string; at: number }[] = [];
    isp.on('action', (a: { action: string }) => actions.push({ action: a.action, at: performance.now() - t0 }));
    isp.schedule([
      { atMs: 50, action: 'cut' },
      { atMs: 150, action: 'heal' },
    ]);
    await within(once(isp, 'action'), 2000, 'the scheduled cut');
    expect(isp.stats().state).toBe('blackhole');
    const first = collect(client, 1, 2000);
    client.send('x', port, '127.0.0.11');
    await within(once(isp, 'action'), 2000, 'the scheduled heal');
    expect(isp.stats().state).toBe('up');
    client.send('y', port, '127.0.0.11');
    expect((await first)[0]!.data.toString()).toBe('y');
    expect(isp.stats().forward.drops.blackhole).toBe(1);
    expect(actions.map((a) => a.action)).toEqual(['cut', 'heal']);
    expect(actions[0]!.at).toBeGreaterThanOrEqual(49);
    expect(actions[1]!.at).toBeGreaterThanOrEqual(149);
  });

  it('a cancelled schedule does nothing', async () => {
    const { isp } = await relay(9);
    const cancel = isp.schedule([{ atMs: 20, action: 'cut' }]);
    cancel();
    const fired = await new Promise<boolean>((resolve) => {
      isp.once('action', () => resolve(true));
      setTimeout(() => resolve(false), 100);
    });
    expect(fired).toBe(false);
    expect(isp.stats().state).toBe('up');
  });

  it('set() changes parameters of one direction or both', async () => {
    const { isp } = await relay(9, { delayMs: 5 });
    isp.set({ lossRate: 0.1, reverse: { delayMs: 40 } });
    const st = isp.stats();
    expect(st.forward.params.delayMs).toBe(5);
    expect(st.reverse.params.delayMs).toBe(40);
    expect(st.forward.params.lossRate).toBe(0.1);
    expect(() => isp.set({ lossRate: 2 })).toThrow(/lossRate/);
    expect(() => isp.schedule([{ atMs: -1, action: 'cut' }])).toThrow(/atMs/);
  });
});

describe('emulator command line', () => {
  it('parses the documented command line', () => {
    const c = parseCli('--listen 127.0.0.11:7000 --target 127.0.0.1:4433 --delay 10 --rate 100mbit --loss 0.01 --cut-at 5s --heal-at 8s --rev-delay 3'.split(' '));
    if (c === 'help') throw new Error('unexpected help');
    expect(c.options.listen).toEqual({ address: '127.0.0.11', port: 7000 });
    expect(c.options.target).toEqual({ address: '127.0.0.1', port: 4433 });
    expect(c.options.delayMs).toBe(10);
    expect(c.options.rateBps).toBe(100e6);
    expect(c.options.lossRate).toBe(0.01);
    expect(c.options.reverse).toEqual({ delayMs: 3 });
    expect(c.schedule).toEqual([
      { atMs: 5000, action: 'cut' },
      { atMs: 8000, action: 'heal' },
    ]);
    expect(() => parseCli(['--listen', '127.0.0.1:1'])).toThrow(/--target/);
    expect(() => parseCli(['--bogus'])).toThrow();
  });

  it('runs stdin commands', async () => {
    const { isp } = await relay(9);
    expect(runCommand(isp, 'cut')).toBe('ok cut both');
    expect(isp.stats().state).toBe('blackhole');
    expect(runCommand(isp, 'heal')).toBe('ok heal both');
    expect(runCommand(isp, 'blackhole rev')).toBe('ok blackhole reverse');
    expect(isp.state('reverse')).toBe('blackhole');
    expect(isp.state('forward')).toBe('up');
    expect(runCommand(isp, 'loss 5%')).toMatch(/^ok loss 0.05/);
    expect(runCommand(isp, 'rate 50mbit fwd')).toBe('ok rate 50mbit forward');
    expect(isp.stats().forward.params.rateBps).toBe(50e6);
    expect(JSON.parse(runCommand(isp, 'stats')).forward.params.lossRate).toBe(0.05);
    expect(runCommand(isp, 'quit')).toBe('quit');
    expect(() => runCommand(isp, 'teleport')).toThrow(/unknown command/);
  });
});
