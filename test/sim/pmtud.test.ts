/**
 * Path MTU discovery in the seeded simulator (src/core/path/pmtud.ts): the
 * link model's `mtu` drops datagrams too big for it, silently (no ICMP), as
 * a router drops a Don't Fragment packet whose Packet Too Big never comes
 * back. Each path must find its own size, keep every byte when its MTU
 * drops mid-transfer, and find the size again after it heals.
 */
import { describe, expect, it } from 'vitest';
import { Pair, payload, sha256, transfer } from './scenario.js';
import type { PathStats } from '../../src/core/stats.js';

function pathStats(pair: Pair, side: 'client' | 'server', id: number): PathStats {
  const conn = pair[side].connection!;
  return conn.stats().paths.find((p) => p.id === id)!;
}

/** Sets `params` on both directions between a client address and the server. */
function setLink(pair: Pair, client: string, params: Record<string, unknown>): void {
  pair.world.network.getLink(client, '10.0.0.1')!.set(params);
  pair.world.network.getLink('10.0.0.1', client)!.set(params);
}

describe('path MTU discovery', () => {
  it('each path finds its own size: 1472 on a 1500 link, just under 1252 on a 1280 link', () => {
    const pair = new Pair({ seed: 11, links: [{ delayMs: 10, mtu: 1500 }, { delayMs: 15, mtu: 1280 }] });
    const data = payload(4 * 1024 * 1024, 3);
    expect(transfer(pair, data, 60_000)).toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(data));
    // The server sent only ACKs: its probes are judged lost by the keep-alives after them.
    pair.world.runFor(20_000);
    for (const side of ['client', 'server'] as const) {
      const a = pathStats(pair, side, 0);
      const b = pathStats(pair, side, 1);
      expect(a.mtu).toBe(1472);
      expect(b.mtu).toBeLessThanOrEqual(1252);
      expect(b.mtu).toBeGreaterThan(1252 - 16);
      expect(a.mtuSearch).toBe('complete');
      expect(b.mtuSearch).toBe('complete');
    }
    // The sender's data went out at the discovered sizes: its average packet on path 0 is well above 1200.
    const a = pathStats(pair, 'client', 0);
    expect(a.bytesSent / a.packetsSent).toBeGreaterThan(1300);
    // socket.paths shows the same sizes.
    const info = pair.client.connection!.paths().map((p) => p.mtu);
    expect(info[0]).toBe(1472);
    expect(info[1]).toBe(pathStats(pair, 'client', 1).mtu);
    // Nothing was dropped for its size but probes: every too-big drop is a probe the sender counted as lost.
    const tooBig = pair.world.network.getLink('10.0.2.2', '10.0.0.1')!.counters.drops['too-big'];
    expect(tooBig).toBeGreaterThan(0);
    expect(tooBig).toBe(pathStats(pair, 'client', 1).mtuProbesLost);
  });

  it('the local interface caps discovery: a path from an interface of MTU 1280 never probes above 1252, even where the network would carry more (the kernel fragments what node:dgram sends)', () => {
    // Links without an MTU carry any size, as a fragmenting kernel and a network that reassembles do.
    const pair = new Pair({ seed: 16, clientInterfaceMtu: [1280, undefined], links: [{ delayMs: 10 }, { delayMs: 10 }] });
    const data = payload(2 * 1024 * 1024, 8);
    expect(transfer(pair, data, 60_000)).toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(data));
    const capped = pathStats(pair, 'client', 0);
    const open = pathStats(pair, 'client', 1);
    expect(capped.mtu).toBe(1252);
    expect(capped.mtuSearch).toBe('complete');
    // Nothing larger ever left that interface: its largest packet was the first probe at the cap.
    expect(capped.mtuProbesLost).toBe(0);
    expect(open.mtu).toBe(1472);
  });

  it('an MTU that drops mid-transfer on the only path: a black hole is detected, every byte arrives, the new size is found', () => {
    const pair = new Pair({ seed: 12, clientAddresses: ['10.0.1.2'], links: [{ delayMs: 10, mtu: 1500, rateBps: 50e6 }] });
    const data = payload(8 * 1024 * 1024, 4);
    pair.world.after(500, () => setLink(pair, '10.0.1.2', { mtu: 1350 }));
    expect(transfer(pair, data, 120_000)).toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(data));
    const s = pathStats(pair, 'client', 0);
    expect(s.mtuBlackHoles).toBeGreaterThanOrEqual(1);
    expect(s.mtu).toBeLessThanOrEqual(1322);
    expect(s.mtu).toBeGreaterThan(1322 - 16);
    expect(pair.client.connection!.state).toBe('established');
  });

  it('congestion losses at a full queue are no black hole: the path keeps 1472', () => {
    const pair = new Pair({ seed: 15, clientAddresses: ['10.0.1.2'], links: [{ delayMs: 10, mtu: 1500, rateBps: 20e6, queueBytes: 30_000 }] });
    const data = payload(8 * 1024 * 1024, 7);
    expect(transfer(pair, data, 120_000)).toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(data));
    const s = pathStats(pair, 'client', 0);
    expect(pair.world.network.getLink('10.0.1.2', '10.0.0.1')!.counters.drops['queue-full']).toBeGreaterThan(0);
    expect(s.packetsLost).toBeGreaterThan(0);
    expect(s.mtuBlackHoles).toBe(0);
    expect(s.mtu).toBe(1472);
  });

  it('after a path fails and heals, it searches again and is back at 1472', () => {
    const pair = new Pair({ seed: 13, links: [{ delayMs: 10, mtu: 1500 }, { delayMs: 10, mtu: 1500 }] });
    const data = payload(2 * 1024 * 1024, 5);
    expect(transfer(pair, data, 60_000)).toBe(true);
    expect(pathStats(pair, 'client', 1).mtu).toBe(1472);
    const probesBefore = pathStats(pair, 'client', 1).mtuProbesSent;
    setLink(pair, '10.0.2.2', { blackhole: true });
    pair.world.runUntil(() => pair.client.connection!.paths().find((p) => p.id === 1)!.state === 'failed', 30_000);
    expect(pair.client.connection!.paths().find((p) => p.id === 1)!.state).toBe('failed');
    setLink(pair, '10.0.2.2', { blackhole: false });
    pair.world.runUntil(() => {
      const p = pair.client.connection!.paths().find((x) => x.id === 1)!;
      return p.state === 'active' && p.mtu === 1472;
    }, 60_000);
    const s = pathStats(pair, 'client', 1);
    expect(s.state).toBe('active');
    expect(s.mtu).toBe(1472);
    expect(s.mtuProbesSent).toBeGreaterThan(probesBefore);
  });

  it('maxDatagramSize 1200 turns discovery off: no probe, every packet at most 1200', () => {
    const pair = new Pair({ seed: 14, clientAddresses: ['10.0.1.2'], options: { maxDatagramSize: 1200 }, links: [{ delayMs: 10, mtu: 1500 }] });
    const data = payload(1024 * 1024, 6);
    expect(transfer(pair, data, 60_000)).toBe(true);
    const s = pathStats(pair, 'client', 0);
    expect(s.mtu).toBe(1200);
    expect(s.mtuSearch).toBe('disabled');
    expect(s.mtuProbesSent).toBe(0);
    expect(s.bytesSent / s.packetsSent).toBeLessThanOrEqual(1200);
  });
});
