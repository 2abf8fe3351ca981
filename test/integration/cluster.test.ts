/**
 * createServer under real node:cluster on loopback (lab/harness/
 * cluster-server.ts: a primary forking two echo workers as child
 * processes). Every wait is on an event or a counter:
 * - connections spread over both workers and move to their owner's own
 *   port; after that, a second transfer on every connection reaches the
 *   shared port 0 times and nothing is forwarded between workers;
 * - a worker killed mid-transfer: the other worker's connections finish
 *   intact, the dead one's end with an error within their idle timeout,
 *   and the primary's replacement takes the free slot and accepts again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, generateKeyPair, type MultipathSocket } from '../../src/index.js';
import { ClusterFixture, type WorkerStats } from '../../lab/harness/cluster.js';

/** Below the ephemeral range, so no test's ephemeral socket takes a worker port; per process, so parallel runs differ. */
const PORT = 20_000 + (process.pid % 4000) * 3;
const IDLE_TIMEOUT = 3000;
const CONNECTIONS = 16;
/** Both ends multihomed: two server addresses, two client addresses, four paths per connection. */
const SERVER_ADDRESSES = ['127.0.0.1', '127.0.0.2'];
const CLIENT_ADDRESSES = ['127.0.0.1', '127.0.0.3'];
/** The service's one long-term key: every worker holds it, every client pins it, whichever worker answers. */
const IDENTITY = generateKeyPair();
const dial = (): MultipathSocket =>
  connect({ port: PORT, addresses: SERVER_ADDRESSES, localAddresses: CLIENT_ADDRESSES, idleTimeout: IDLE_TIMEOUT, serverKey: IDENTITY.publicKey });

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Writes `data` and resolves with what is echoed back once as many bytes have come. */
function echo(socket: MultipathSocket, data: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (c: Buffer): void => {
      chunks.push(c);
      got += c.length;
      if (got >= data.length) {
        cleanup();
        resolve(Buffer.concat(chunks));
      }
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('error', onError);
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.write(data);
  });
}

/** True once the first-contact path is gone and the mesh (both addresses at each end) goes to the owner's port only. */
function moved(socket: MultipathSocket, sharedPort: number): boolean {
  const live = socket.paths.filter((p) => p.state === 'active');
  return (socket.stats()?.firstContactPathsRetired ?? 0) >= 1 && live.length === 4 && socket.paths.every((p) => p.state === 'closed' || p.remotePort !== sharedPort);
}

async function until(ok: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sum = (ws: WorkerStats[], f: (w: WorkerStats) => number): number => ws.reduce((a, w) => a + f(w), 0);
const forwarded = (w: WorkerStats): number => w.stats.cluster!.forwardedOut.initial + w.stats.cluster!.forwardedOut.other;

describe('createServer under node:cluster (two workers, loopback)', () => {
  let fixture: ClusterFixture;
  const sockets: MultipathSocket[] = [];

  beforeAll(async () => {
    // One identity for the service: every worker holds the same key.
    fixture = new ClusterFixture({ workers: 2, port: PORT, ownPort: PORT + 1, addresses: SERVER_ADDRESSES, key: IDENTITY.privateKey });
    await fixture.listening(2);
    // Both workers hear each other's beats before any client comes (Initials are then shared by the hash).
    await fixture.statsUntil((ws) => ws.length === 2 && ws.every((w) => w.stats.cluster!.liveSlots.length === 2), 10_000);
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await fixture?.stop();
  });

  it('spreads connections over both workers, moves each to its owner port, then forwards nothing', async () => {
    for (let i = 0; i < CONNECTIONS; i++) {
      const s = dial();
      s.on('error', () => undefined);
      sockets.push(s);
    }
    await Promise.all(sockets.map((s) => once(s, 'connect')));
    const first = sockets.map(() => randomBytes(64 * 1024));
    const back1 = await Promise.all(sockets.map((s, i) => echo(s, first[i]!)));
    back1.forEach((b, i) => expect(sha(b)).toBe(sha(first[i]!)));

    await until(() => sockets.every((s) => moved(s, PORT)), 10_000, 'every connection to move off the shared port');
    for (const s of sockets) {
      for (const p of s.paths.filter((x) => x.state !== 'closed')) expect([PORT + 1, PORT + 2]).toContain(p.remotePort);
    }
    const before = await fixture.stats();
    expect(sum(before, (w) => w.stats.core.accepted)).toBe(CONNECTIONS);
    // The rendezvous hash gives each worker some of 16 (all on one: p = 2^-15).
    for (const w of before) expect(w.stats.core.accepted).toBeGreaterThan(0);

    const second = sockets.map(() => randomBytes(256 * 1024));
    const back2 = await Promise.all(sockets.map((s, i) => echo(s, second[i]!)));
    back2.forEach((b, i) => expect(sha(b)).toBe(sha(second[i]!)));
    const after = await fixture.stats();
    for (const w of after) {
      const c = w.stats.cluster!;
      console.log(`slot ${w.slot}: accepted ${w.stats.core.accepted}, shared port received ${c.sharedReceived} (kept ${c.sharedKept}), forwarded out ${c.forwardedOut.initial} Initials + ${c.forwardedOut.other} others, in ${c.forwardedIn}; during the second transfer: shared ${c.sharedReceived - before.find((b) => b.slot === w.slot)!.stats.cluster!.sharedReceived}`);
    }
    // Steady state: nothing reached the shared port, nothing went between workers.
    expect(sum(after, (w) => w.stats.cluster!.sharedReceived)).toBe(sum(before, (w) => w.stats.cluster!.sharedReceived));
    expect(sum(after, forwarded)).toBe(sum(before, forwarded));
    expect(sum(after, (w) => w.stats.cluster!.forwardedIn)).toBe(sum(before, (w) => w.stats.cluster!.forwardedIn));
    // Every connection's bytes went to its owner's own port.
    expect(sum(after, (w) => w.stats.bytesReceived) - sum(before, (w) => w.stats.bytesReceived)).toBeGreaterThan(CONNECTIONS * 256 * 1024);
  });

  it('a killed worker loses only its own connections; the primary replaces it and the new one accepts', async () => {
    const ownerSlot = (s: MultipathSocket): number => s.paths.find((p) => p.state !== 'closed')!.remotePort - (PORT + 1);
    const victims = sockets.filter((s) => ownerSlot(s) === 1);
    const survivors = sockets.filter((s) => ownerSlot(s) === 0);
    expect(victims.length).toBeGreaterThan(0);
    expect(survivors.length).toBeGreaterThan(0);

    const mark = fixture.mark;
    const data = survivors.map(() => randomBytes(512 * 1024));
    const transfers = survivors.map((s, i) => echo(s, data[i]!));
    const victimErrors = victims.map((s) => {
      const t0 = Date.now();
      return new Promise<{ code: string; ms: number }>((resolve) => {
        s.once('error', (err: NodeJS.ErrnoException) => resolve({ code: err.code ?? '', ms: Date.now() - t0 }));
        s.once('close', () => resolve({ code: 'closed', ms: Date.now() - t0 }));
      });
    });
    victims.forEach((s) => s.write(randomBytes(64 * 1024)));
    fixture.kill(1);
    await fixture.waitFor((m): m is { type: 'exit'; slot: number; pid: number } => m.type === 'exit' && m.slot === 1, mark);

    const back = await Promise.all(transfers);
    back.forEach((b, i) => expect(sha(b)).toBe(sha(data[i]!)));
    for (const s of survivors) expect(s.destroyed).toBe(false);
    const ended = await Promise.all(victimErrors);
    for (const e of ended) {
      // Silence until the idle timeout, or a stateless reset from the replacement (same key) if it came up first.
      expect(['ETIMEDOUT', 'ERR_MPUDP_STATELESS_RESET']).toContain(e.code);
      expect(e.ms).toBeLessThan(IDLE_TIMEOUT + 2000);
    }

    // The replacement claims slot 1 (the dead worker's port) and takes handshakes again.
    const [replacement] = await fixture.listening(1, mark);
    expect(replacement!.slot).toBe(1);
    await fixture.statsUntil((ws) => ws.length === 2 && ws.every((w) => w.stats.cluster!.liveSlots.length === 2), 10_000);
    const fresh: MultipathSocket[] = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const s = dial();
      s.on('error', () => undefined);
      fresh.push(s);
      sockets.push(s);
    }
    await Promise.all(fresh.map((s) => once(s, 'connect')));
    const small = fresh.map(() => randomBytes(16 * 1024));
    const echoed = await Promise.all(fresh.map((s, i) => echo(s, small[i]!)));
    echoed.forEach((b, i) => expect(sha(b)).toBe(sha(small[i]!)));
    const ws = await fixture.stats();
    const newWorker = ws.find((w) => w.slot === 1)!;
    expect(newWorker.pid).toBe(replacement!.pid);
    expect(newWorker.stats.core.accepted).toBeGreaterThan(0);
  });
});
