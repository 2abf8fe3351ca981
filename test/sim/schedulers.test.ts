/**
 * Schedulers and backup paths in whole connections.
 */
import { describe, expect, it } from 'vitest';
import { SCHEDULER_NAMES } from '../../src/core/sched/index.js';
import { eligible, type Scheduler, type SchedulerPath } from '../../src/core/sched/scheduler.js';
import { Pair, payload, sha256, transfer } from './scenario.js';

const MiB = 1024 * 1024;
const link = { delayMs: 10, rateBps: 50e6 };

function cut(pair: Pair, clientAddr: string): void {
  pair.world.network.getLink(clientAddr, '10.0.0.1')!.set({ blackhole: true });
  pair.world.network.getLink('10.0.0.1', clientAddr)!.set({ blackhole: true });
}

function dataSent(pair: Pair, id: number): number {
  const p = pair.client.connection!.stats().paths.find((x) => x.id === id)!;
  return p.dataBytesSent + p.dataBytesRetransmitted;
}

describe('schedulers in whole connections', () => {
  for (const scheduler of SCHEDULER_NAMES) {
    it(`${scheduler}: 4 MiB over two lossy paths arrive intact`, () => {
      const seed = 60 + SCHEDULER_NAMES.indexOf(scheduler);
      const pair = new Pair({ seed, links: [{ ...link, lossRate: 0.01 }, { ...link, delayMs: 30 }], options: { scheduler } });
      const data = payload(4 * MiB, seed);
      expect(transfer(pair, data, 60_000), `${scheduler} seed ${seed}`).toBe(true);
      expect(sha256(pair.server.received)).toBe(sha256(data));
    });
  }

  it('redundant puts every byte of small messages on both paths', () => {
    const pair = new Pair({ seed: 70, links: [link, link], options: { scheduler: 'redundant' } });
    const conn = pair.connect();
    pair.world.runUntil(() => conn.pathList.length === 2 && conn.pathList.every((p) => p.validated), 5_000);
    const message = payload(64 * 1024, 70);
    for (let i = 0; i < 10; i++) {
      expect(conn.write(message)).toBe(message.length);
      pair.client.endpoint.touch(conn);
      pair.world.runFor(200);
    }
    expect(pair.server.receivedBytes).toBe(10 * message.length);
    // Both paths carried (nearly) every byte: first copies on one, copies on the other.
    expect(dataSent(pair, 0) + dataSent(pair, 1)).toBeGreaterThan(1.8 * 10 * message.length);
    expect(pair.client.connection!.stats().redundantCopies).toBeGreaterThan(400);
  });
});

describe('backup paths', () => {
  it('a backup carries no data while the active path works, takes over at once when it dies, and the peer is told', () => {
    const seed = 80;
    const pair = new Pair({ seed, links: [link, link], options: {} });
    const conn = pair.client.endpoint.connect(
      {
        localAddresses: pair.clientAddresses.map((a) => ({ address: a, port: 50000 })),
        remoteAddresses: [{ address: '10.0.0.1', port: 4433 }],
        backupAddresses: ['10.0.2.2'],
      },
      pair.world.now,
    );
    pair.client.connection = conn;
    const data = payload(8 * MiB, seed);
    const cutAt = pair.world.now + 700;
    let backupBeforeCut = -1;
    pair.world.at(cutAt, () => {
      backupBeforeCut = dataSent(pair, 1);
      cut(pair, '10.0.1.2');
    });
    expect(transfer(pair, data, 60_000), `seed ${seed}`).toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(data));
    expect(backupBeforeCut).toBe(0);
    expect(pair.server.receivedBytes).toBe(data.length);
    expect(dataSent(pair, 1)).toBeGreaterThan(MiB);
    // The server learned the client's preference.
    const serverPath = pair.server.connection!.pathList.find((p) => p.id === 1)!;
    expect(serverPath.remoteBackup).toBe(true);
  });

  it('setLocalBackup at run time moves traffic and tells the peer', () => {
    const pair = new Pair({ seed: 81, links: [link, link] });
    const conn = pair.connect();
    pair.world.runUntil(() => conn.pathList.length === 2 && conn.pathList.every((p) => p.validated), 5_000);
    conn.setLocalBackup('10.0.2.2', true);
    pair.client.endpoint.touch(conn);
    const data = payload(4 * MiB, 81);
    expect(transfer(pair, data, 30_000)).toBe(true);
    expect(dataSent(pair, 1)).toBe(0);
    expect(pair.server.connection!.pathList.find((p) => p.id === 1)!.remoteBackup).toBe(true);
  });

  it('a backup that died while idle is failed before it is needed; failover goes straight to a live backup', () => {
    const seed = 82;
    const addrs = ['10.0.1.2', '10.0.2.2', '10.0.3.2'];
    const pair = new Pair({ seed, clientAddresses: addrs, links: [link, link, link] });
    const conn = pair.client.endpoint.connect(
      {
        localAddresses: addrs.map((a) => ({ address: a, port: 50000 })),
        remoteAddresses: [{ address: '10.0.0.1', port: 4433 }],
        backupAddresses: ['10.0.2.2', '10.0.3.2'],
      },
      pair.world.now,
    );
    pair.client.connection = conn;
    pair.world.runUntil(() => conn.pathList.length === 3 && conn.pathList.every((p) => p.validated), 5_000);
    const dead = conn.pathList.find((p) => p.local.address === '10.0.2.2')!;
    const live = conn.pathList.find((p) => p.local.address === '10.0.3.2')!;
    // The idle backup dies, unnoticed by any data.
    const diedAt = pair.world.now;
    cut(pair, '10.0.2.2');
    pair.world.runUntil(() => dead.state === 'failed', 10_000);
    expect(dead.state).toBe('failed');
    const detect = pair.world.now - diedAt;
    console.log(`idle backup declared failed ${detect.toFixed(0)} ms after it died`);
    expect(detect).toBeLessThan(3_000);
    // Now the active path dies mid-transfer: data goes to the live backup only.
    const data = payload(4 * MiB, seed);
    pair.world.at(pair.world.now + 300, () => cut(pair, '10.0.1.2'));
    expect(transfer(pair, data, 60_000)).toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(data));
    expect(dataSent(pair, dead.id)).toBe(0);
    expect(dataSent(pair, live.id)).toBeGreaterThan(MiB);
  });
});

describe('the scheduler view', () => {
  it('is one array of objects refreshed in place for every packet, with current figures', () => {
    const views = new Set<readonly SchedulerPath[]>();
    const objects = new Set<SchedulerPath>();
    const inFlight: number[] = [];
    const recorder: Scheduler = {
      name: 'recorder',
      choose(paths, ctx) {
        views.add(paths);
        for (const p of paths) objects.add(p);
        const p = paths.find((x) => x.ready && x.windowRoom >= ctx.packetSize);
        if (p !== undefined) inFlight.push(p.bytesInFlight);
        return p?.id ?? null;
      },
    };
    const pair = new Pair({ seed: 90, links: [link], options: { scheduler: recorder } });
    const data = payload(1 * MiB, 90);
    expect(transfer(pair, data, 30_000)).toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(data));
    expect(inFlight.length).toBeGreaterThan(500);
    // One view per connection (the pair's two ends share the options), a
    // few objects (one per path the view ever held), not one per packet.
    expect(views.size).toBeLessThanOrEqual(2);
    expect(objects.size).toBeLessThan(10);
    // Refreshed, not frozen: the bytes in flight the scheduler saw changed.
    expect(new Set(inFlight).size).toBeGreaterThan(10);
  });

  it('eligible() hands back the view itself when no path is a backup', () => {
    const mk = (id: number, backup: boolean): SchedulerPath => ({ id, smoothedRtt: 10, rttVar: 1, congestionWindow: 1e5, bytesInFlight: 0, windowRoom: 1e5, backup, ready: true });
    const plain = [mk(0, false), mk(1, false)];
    expect(eligible(plain)).toBe(plain);
    const mixed = [mk(0, false), mk(1, true)];
    expect(eligible(mixed).map((p) => p.id)).toEqual([0]);
    const backups = [mk(0, true), mk(1, true)];
    expect(eligible(backups)).toBe(backups);
  });
});
