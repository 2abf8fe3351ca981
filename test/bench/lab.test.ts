/**
 * The lab scenarios of `npm run bench` (aggregation, failover and flapping
 * in the two-ISP namespace lab, beside kernel MP-TCP when mptcpize is
 * installed) once, short. Needs root, ip, tc and nft: like the lab tests, it is skipped
 * with the reason where they are missing, and fails naming it under
 * MPUDP_LAB=required. It installs nothing.
 */
import { expect, it } from 'vitest';
import { missingForLab } from '../../lab/harness/requirements.js';
import { describeNeeding } from '../lab/requirements.js';
import type { AggregationRun, FailoverRun } from '../../bench/scenarios/lab.js';
import { labScenarios } from '../../bench/scenarios/lab.js';
import { flapping, type FlappingRun } from '../../bench/scenarios/flapping.js';
import { veth, type VethRun } from '../../bench/scenarios/veth.js';

describeNeeding('root, ip, tc, nft', missingForLab(), 'bench lab scenarios, short', () => {
  it('aggregates both ISPs and survives a blackhole of ISP A, with MP-TCP beside', async () => {
    const [agg, fo] = await labScenarios({ rounds: 1, seconds: 3, outagesMs: [1000], failoverRounds: 1, preMs: 1500, postMs: 2000, prefix: `mpudp-bt${process.pid}`, install: false });
    expect(agg!.skipped).toBeUndefined();
    const aggRuns = (agg!.raw as { runs: AggregationRun[]; mptcpSkipped: string | null }).runs;
    const mptcpSkipped = (agg!.raw as { mptcpSkipped: string | null }).mptcpSkipped;
    expect(aggRuns.map((r) => r.transport)).toEqual(mptcpSkipped === null ? ['mpudp', 'mptcp'] : ['mpudp']);
    // 3 s, not 1.5: mpudp's first second is its noisiest (on a quiet machine
    // 0.45-0.91 of capacity over 1.5 s, 0.87-0.94 over 3 s; one CI run on a
    // slow host got 0.29 over 1.5 s).
    for (const r of aggRuns) {
      // Both ISPs carried bytes: one path / subflow per ISP.
      expect(r.shareB, r.transport).toBeGreaterThan(0.1);
      expect(r.ofCapacity, r.transport).toBeGreaterThan(0.3);
    }
    const foRuns = (fo!.raw as { runs: Omit<FailoverRun, 'svg'>[] }).runs;
    const mp = foRuns.find((r) => r.transport === 'mpudp')!;
    expect(mp.completed).toBe(true);
    expect(Number.isFinite(mp.lostMs)).toBe(true);
    expect(mp.healAt).toBeGreaterThan(mp.failAt);
    expect(Object.keys(fo!.svgs ?? {}).length).toBe(foRuns.length);
  });

  it('veth: one unshaped MTU-1500 path, mpudp discovers 1472-byte datagrams, beside both blasts and TCP', async () => {
    const section = await veth({ rounds: 1, seconds: 1, prefix: `mpudp-bv${process.pid}` });
    expect(section.skipped).toBeUndefined();
    const runs = (section.raw as { runs: VethRun[] }).runs;
    expect(runs.map((r) => r.kind)).toEqual(['udp', 'udpSealed', 'tcp', 'mpudp1']);
    for (const r of runs) expect(r.mbps, r.kind).toBeGreaterThan(0);
    // Started at 1200, reached the MTU's payload by discovery.
    expect(runs.find((r) => r.kind === 'mpudp1')!.mtu).toBe(1472);
    expect(Number.isFinite(section.figures[0]!.ratio)).toBe(true);
  });

  it('flapping: the blackhole moves between the ISPs, the longest stall is reported for each transport', async () => {
    const section = await flapping({ periodMs: 700, moves: 2, preMs: 1000, postMs: 700, rounds: 1, binMs: 10, prefix: `mpudp-bf${process.pid}`, install: false });
    expect(section.skipped).toBeUndefined();
    const runs = (section.raw as { runs: Omit<FlappingRun, 'svg'>[] }).runs;
    const mp = runs.find((r) => r.transport === 'mpudp')!;
    expect(mp.completed, JSON.stringify(mp)).toBe(true);
    expect(Number.isFinite(mp.stallMs)).toBe(true);
    // A down, then B: the outages the runner recorded.
    expect(mp.outages.map((o) => o.isp)).toEqual(['A', 'B']);
    expect(Object.keys(section.svgs ?? {}).length).toBe(runs.length);
  });
});
