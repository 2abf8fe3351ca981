/**
 * The lab's delay stage (lab.sh `delay up`, docs/lab.md): each ISP becomes
 * a VXLAN tunnel whose packets cross a userspace ISP-emulator relay on the
 * far end, which holds them for the one-way delay. Checks that the delay is
 * there for TCP too (the kernel's request/response round trip over each
 * tunnel), that mpudp runs over both tunnels, and that `delay down` gives
 * the plain lab back. Needs root, ip, tc, nft, bridge and ethtool: without
 * them the suite is skipped with the reason, or fails naming it under
 * MPUDP_LAB=required.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { Relays, TUN, DELAY_PORT, qdiscSent } from '../../bench/scenarios/lab-delay-setup.js';
import { runClientRole, spawnBench, startServer, stopServer } from '../../lab/harness/bench-roles.js';
import { ifaceBytes, labDown, labUp, type Lab } from '../../lab/harness/netns.js';
import type { RoleProcess } from '../../lab/harness/process.js';
import { machineEnv, missingForLab, onPath } from '../../lab/harness/requirements.js';
import { describeNeeding } from './requirements.js';

const MiB = 1024 * 1024;
/** One-way delays of the relays, ms (A: 10 ms RTT, B: 60 ms RTT). */
const ONE_WAY = { a: 5, b: 30 };
const PORT = 4434;

function missing(): string[] {
  const env = machineEnv();
  const out = missingForLab(env);
  if (!onPath('bridge', env.path)) out.push('bridge (Debian package iproute2)');
  if (!onPath('ethtool', env.path)) out.push('ethtool (Debian package ethtool)');
  return out;
}

let lab: Lab | undefined;
let relays: Relays | undefined;
let tcpServer: RoleProcess | undefined;
let server: RoleProcess | undefined;
let setupError: unknown;

function ready(): Lab {
  if (setupError !== undefined) throw setupError;
  if (lab === undefined) throw new Error('the lab was not set up');
  return lab;
}

describeNeeding('root, ip, tc, nft, bridge, ethtool', missing(), 'two-ISP lab with the delay stage', () => {
  beforeAll(async () => {
    try {
      lab = await labUp({ prefix: `mpudp-t${process.pid}d` });
      await lab.sh('delay', 'up');
      relays = await Relays.start(lab, ONE_WAY.a, ONE_WAY.b);
      tcpServer = await startServer(['--transport', 'tcp', '--port', String(DELAY_PORT), '--address', '0.0.0.0'], { ns: lab.srv, name: 'tcp server' });
      server = await startServer(['--transport', 'mpudp', '--address', `${TUN.serverA},${TUN.serverB}`, '--port', String(PORT), '--no-advertise', '--max-datagram', '1472'], { ns: lab.srv, name: 'mpudp server (tunnels)' });
    } catch (err) {
      setupError = err;
    }
  }, 90_000);

  afterAll(async () => {
    await stopServer(server);
    await stopServer(tcpServer);
    await relays?.stop();
    await labDown(lab);
  }, 30_000);

  it('TCP over each tunnel meets the relays’ delay: about 10 ms (A) and 60 ms (B) round trip', async () => {
    const l = ready();
    for (const [host, rtt] of [[TUN.serverA, 2 * ONE_WAY.a], [TUN.serverB, 2 * ONE_WAY.b]] as const) {
      const r = await runClientRole([host, '--transport', 'tcp', '--port', String(DELAY_PORT), '--mode', 'rr', '--size', '100', '--count', '30', '--warmup', '5', '--interval', '0'], { ns: l.cli, timeoutMs: 60_000 });
      const p50 = Number(r.p50Ms);
      // Never below the delay; above it by the relays' and the stacks' processing (a few ms on a loaded machine).
      expect(p50, `${host}: ${JSON.stringify(r)}`).toBeGreaterThanOrEqual(rtt);
      expect(p50, `${host}: ${JSON.stringify(r)}`).toBeLessThan(rtt + 20);
    }
  }, 120_000);

  it('mpudp downloads over both tunnels: every byte arrives, both carry a share', async () => {
    const l = ready();
    // 32 MiB (about 2.6 s): B's 60 ms path takes about a second to ramp up,
    // so over 16 MiB it carried 8-14 % of the bytes on a quiet machine (and
    // failed the 10 % once in three), over 32 MiB 24-28 %.
    const size = 32 * MiB;
    const before = { a: await ifaceBytes(l.cli, 'dly-a'), b: await ifaceBytes(l.cli, 'dly-b') };
    const c = spawnBench(
      ['client', `${TUN.serverA},${TUN.serverB}`, '--local', `${TUN.clientA},${TUN.clientB}`, '--paired', '--port', String(PORT), '--max-datagram', '1472', '--verify', '--bytes', String(size), '--reverse'],
      { ns: l.cli, name: 'client' },
    );
    const result = await c.waitFor((r) => r.type === 'result', 90_000, 'the download result');
    const after = { a: await ifaceBytes(l.cli, 'dly-a'), b: await ifaceBytes(l.cli, 'dly-b') };
    expect(result.intact, JSON.stringify(result).slice(0, 600)).toBe(1);
    expect(result.bytes).toBe(size);
    expect((await c.exited).code).toBe(0);
    const a = after.a.rx - before.a.rx;
    const b = after.b.rx - before.b.rx;
    expect(a, `dly-a rx ${a}, dly-b rx ${b}`).toBeGreaterThan(0.2 * size);
    expect(b, `dly-a rx ${a}, dly-b rx ${b}`).toBeGreaterThan(0.1 * size);
  }, 120_000);

  it('delay ingress moves tunnel A’s queue past the relay: the server’s end loses its tbf, every byte of a TCP download crosses the client’s ifb', async () => {
    const l = ready();
    // In the sender's own qdisc, Linux holds a TCP flow to its small-queue budget (TSQ)
    // and a UDP sender to nothing but its socket buffer: the shared-bottleneck bench
    // (docs/bench.md, "Issue 12: the share against one kernel Cubic flow") needs the queue elsewhere.
    await l.sh('delay', 'ingress', 'A', '100mbit', '15ms');
    const kinds = (ns: string, dev: string): string[] =>
      (JSON.parse(spawnSync('tc', ['-n', ns, '-j', 'qdisc', 'show', 'dev', dev], { encoding: 'utf8' }).stdout) as Array<{ kind: string }>).map((q) => q.kind);
    expect(kinds(l.srv, 'dly-a')).not.toContain('tbf');
    expect(kinds(l.cli, 'dly-a')).toContain('ingress');
    expect(kinds(l.cli, 'ifb-a')).toContain('tbf');
    const size = 8 * MiB;
    const before = qdiscSent(l.cli, 'ifb-a');
    const r = await runClientRole([TUN.serverA, '--transport', 'tcp', '--port', String(DELAY_PORT), '--bytes', String(size), '--reverse'], { ns: l.cli, timeoutMs: 60_000 });
    const after = qdiscSent(l.cli, 'ifb-a');
    expect(Number(r.bytes), JSON.stringify(r)).toBe(size);
    expect(after.bytes - before.bytes, JSON.stringify({ before, after })).toBeGreaterThan(size);
    // Back to the placement the other tests expect.
    await l.sh('delay', 'shape', 'A', '100mbit', '25ms');
  }, 120_000);

  it('delay down gives the plain veths back', async () => {
    const l = ready();
    await l.sh('delay', 'down');
    const status = await l.sh('status');
    expect(status).not.toContain('dly-a');
    expect(status).not.toContain('ifb-a');
    expect(status).toContain('tbf');
  }, 60_000);
});

describeNeeding('root, ip, tc, nft, bridge, ethtool', missing(), 'the lab-delay bench scenarios, short', () => {
  it('measure heterogeneous RTT both ways, a lossy ISP and a shared bottleneck, with kernel MP-TCP beside when it can run', async () => {
    const { labDelayScenarios } = await import('../../bench/scenarios/lab-delay.js');
    const [hetero, lossy, shared] = await labDelayScenarios({ rounds: 1, seconds: 1, sharedSeconds: 6, prefix: `mpudp-t${process.pid}s` });
    for (const s of [hetero!, lossy!, shared!]) expect(s.skipped, s.title).toBeUndefined();
    const runs = (s: typeof hetero) => (s!.raw as { runs: Array<{ scenario: string; transport: string; dir: string; mbps: number; share?: number; clientCpu: number; machineBusy: number }> }).runs;
    const mine = runs(hetero).filter((r) => r.transport === 'mpudp');
    expect(mine.map((r) => `${r.scenario} ${r.dir}`).sort()).toEqual(['hetero down', 'hetero up', 'hetero-half down']);
    // What tbf counted: no transport delivers more stream bytes per byte tbf counted than its
    // ceiling allows (docs/bench.md, "Issue 12: lab ceilings"). A bound only: in these 1 s runs
    // what is still queued or in flight at the end was counted and not delivered (0.77 seen).
    const { CEILING } = await import('../../bench/scenarios/lab-delay.js');
    type Wired = { transport: 'mpudp' | 'mptcp'; dir: string; wire?: { bytes: number; packets: number; goodputBytes: number }; detection?: unknown };
    for (const r of runs(hetero) as unknown as Wired[]) {
      const perByte = r.wire!.goodputBytes / r.wire!.bytes;
      expect(perByte, JSON.stringify(r)).toBeLessThanOrEqual(CEILING[r.transport] + 0.001);
      expect(perByte, JSON.stringify(r)).toBeGreaterThan(0);
      // A download's sender (the bench server) reports its detection counters.
      if (r.transport === 'mpudp' && r.dir === 'down') expect(r.detection, JSON.stringify(r)).toMatchObject({ grouped: expect.any(Number) });
    }
    for (const r of [...mine, ...runs(lossy), ...runs(shared)]) {
      expect(r.mbps, JSON.stringify(r)).toBeGreaterThan(5);
      expect(r.clientCpu, JSON.stringify(r)).toBeGreaterThan(0);
      expect(r.machineBusy, JSON.stringify(r)).toBeGreaterThan(0);
    }
    for (const r of runs(shared)) {
      expect(r.share!, JSON.stringify(r)).toBeGreaterThan(0);
      expect(r.share!, JSON.stringify(r)).toBeLessThan(1);
    }
  }, 240_000);
});
