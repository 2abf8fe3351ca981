/**
 * Each loopback scenario of `npm run bench` once, at a tiny size, so the
 * bench cannot rot: every figure it reports gets a number.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { latency } from '../../bench/scenarios/latency.js';
import { loopback } from '../../bench/scenarios/loopback.js';
import { profile } from '../../bench/scenarios/profile.js';
import { scale } from '../../bench/scenarios/scale.js';
import { scaleOut, type ScaleOutRun } from '../../bench/scenarios/scale-out.js';

describe('bench scenarios, tiny', () => {
  it('loopback bulk: raw dgram (plain and sealed), TCP, mpudp over one and two paths', async () => {
    const s = await loopback({ rounds: 1, seconds: 0.5 });
    const runs = (s.raw as { runs: { kind: string; mbps: number; cpuPerGB: number; shares?: number[] }[] }).runs;
    expect(runs.map((r) => r.kind)).toEqual(['udp', 'udpSealed', 'tcp', 'mpudp1', 'mpudp2']);
    for (const r of runs) {
      expect(r.mbps, r.kind).toBeGreaterThan(0);
      expect(Number.isFinite(r.cpuPerGB), r.kind).toBe(true);
    }
    expect(runs[4]!.shares).toHaveLength(2);
    for (const f of s.figures) expect(Number.isFinite(f.value), f.name).toBe(true);
    expect(s.svgs?.['loopback-goodput.svg']).toMatch(/^<svg/);
  });

  it('latency: loopback (dgram floors, TCP, mpudp) and two emulated lossy ISPs', async () => {
    const s = await latency({ rounds: 1, seconds: 60, warmup: 5, lossSeconds: 60, delayA: 1, delayB: 2, loss: 0.01, count: 40 });
    const runs = (s.raw as { runs: { label: string; count: number; p50: number; p99: number }[] }).runs;
    expect(runs.map((r) => r.label)).toEqual(['udp-loopback', 'udp-sealed-loopback', 'tcp-loopback', 'mpudp-loopback', 'min-rtt, no loss', 'min-rtt, 1 % loss', 'redundant, no loss', 'redundant, 1 % loss']);
    for (const r of runs) {
      expect(r.count, r.label).toBe(40);
      expect(r.p99, r.label).toBeGreaterThanOrEqual(r.p50);
    }
    // Through the emulated ISPs a round trip takes at least their delay.
    expect(runs[4]!.p50).toBeGreaterThanOrEqual(2);
  });

  it('scale: handshakes, idle memory, concurrent verified transfers', async () => {
    const s = await scale({ connectSeconds: 0.5, concurrency: 8, idle: [{ n: 30, keepAliveS: 5 }], openSeconds: 20, settleMs: 200, idleCpuMs: 200, transfers: 20, transferBytes: 8192 });
    const raw = s.raw as {
      connects: { transport: string; handshakes: number; errors: number }[];
      idle: { transport: string; serverConnections: number; heapPerConn: number }[];
      transfers: { transport: string; intact: number }[];
    };
    for (const c of raw.connects) {
      expect(c.handshakes, c.transport).toBeGreaterThan(0);
      expect(c.errors, c.transport).toBe(0);
    }
    expect(raw.idle.map((i) => i.serverConnections)).toEqual([30, 30]);
    for (const i of raw.idle) {
      expect(Number.isFinite(i.heapPerConn), i.transport).toBe(true);
    }
    for (const t of raw.transfers) expect(t.intact, t.transport).toBe(20);
  });

  it('scaleout: one process and two cluster workers, handshakes and verified transfers', async () => {
    const s = await scaleOut({ clientProcesses: 1, connectSeconds: 0.5, concurrency: 4, transfers: 6, transferBytes: 16384, rounds: 1 });
    const raw = s.raw as { single: ScaleOutRun; two: ScaleOutRun };
    for (const r of [raw.single, raw.two]) {
      expect(r.handshakesPerSecond[0], `${r.workers}`).toBeGreaterThan(0);
      expect(r.handshakeErrors).toBe(0);
      expect(r.intact).toBe(6);
    }
    expect(raw.single.transferRouting).toBeNull();
    expect(raw.two.transferRouting!.accepted).toBe(6);
    // The steady state (every connection open and settled): nothing at the public port, nothing forwarded.
    expect(raw.two.steadyRouting).toEqual({ sharedReceived: 0, forwardedInitial: 0, forwardedOther: 0, accepted: 0 });
    expect(raw.two.settle.reduce((a, x) => a + x.moved, 0)).toBe(6);
    for (const f of s.figures) expect(Number.isFinite(f.value), f.name).toBe(true);
  });

  it('profile: cpu profiles of both processes, summarized', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'mpudp-bench-')), 'profile');
    const s = await profile({ seconds: 0.5, connectSeconds: 0.5, idleConnections: 50, idleSeconds: 0.5, dir, top: 5 });
    const summaries = (s.raw as { summaries: { label: string; busyMs: number; functions: { share: number }[] }[] }).summaries;
    expect(summaries).toHaveLength(5);
    for (const p of summaries) {
      expect(p.busyMs, p.label).toBeGreaterThan(0);
      expect(p.functions.length, p.label).toBeGreaterThan(0);
      const total = p.functions.reduce((a, f) => a + f.share, 0);
      expect(total, p.label).toBeLessThanOrEqual(1.0001);
    }
  });
});
