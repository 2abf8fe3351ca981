/**
 * Flapping in the two-ISP lab (issue #15): client and server each have an
 * address on ISP A and on ISP B (four paths, of which a-a and b-b route).
 * A bulk upload runs; ISP A is blackholed, and every 2 s the blackhole
 * moves to the other ISP (`lab.sh heal` of the one, then `lab.sh
 * blackhole` of the other, so one ISP works at every moment), five times;
 * then both work for good.
 *
 * The roles are `mpudp bench server` and `mpudp bench client` (every byte
 * checked against the seeded pattern).
 *
 * Checks: every byte arrives intact; the longest stall in the server's
 * delivery timeline (the gaps its receiver reports) from the first blackhole
 * to 2 s after the last heal is at most 300 ms, less the CPU the machine
 * denied the roles during that stall (lab/harness/cpu-denied.ts: the larger
 * run-queue wait of client and server, plus the host's steal time; a few ms
 * on a quiet machine, and what made one CI run see 341 ms when the harness's
 * own `lab.sh heal` ran 0.6 s late); after the last heal both working pairs
 * are active on both ends.
 *
 * Needs root, ip, tc and nft: skipped with the reason where they are
 * missing, failing naming it under MPUDP_LAB=required (as lab.test.ts).
 * LAB_VERBOSE=1 shows the roles' reports.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnBench, startServer, stopServer } from '../../lab/harness/bench-roles.js';
import { CpuDenied } from '../../lab/harness/cpu-denied.js';
import { ADDR, labDown, labUp, requireLab, type Lab } from '../../lab/harness/netns.js';
import type { RoleProcess } from '../../lab/harness/process.js';
import { missingForLab } from '../../lab/harness/requirements.js';
import { describeNeeding } from './requirements.js';

const MiB = 1024 * 1024;
const PORT = 4434;
/** As lab.test.ts: the veth MTU's UDP payload. */
const MAX_DATAGRAM = process.env.LAB_MAX_DATAGRAM ?? '1472';
/** Time between two moves of the blackhole (ms), and how many moves. */
const PERIOD = 2_000;
const MOVES = 5;
/** The stall target (ms). */
const STALL_TARGET = 300;

let lab: Lab | undefined;
let server: RoleProcess | undefined;
let setupError: unknown;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const epochNow = (): number => performance.timeOrigin + performance.now();

/** The path summaries of a report, as the roles write them. */
type PathSummary = { id: number; local: string; remote: string; state: string };

/** A delivery gap cut to the window, with the CPU the roles were denied during it. */
type Stall = { at: number; ms: number; deniedMs: number };

/**
 * Every delivery gap overlapping [from, to] (epoch ms), cut to that window;
 * the one whose length less the CPU denied during it is largest comes first.
 */
function stalls(gaps: Array<{ at: number; ms: number }>, from: number, to: number, cpu: CpuDenied): Stall[] {
  const out: Stall[] = [];
  for (const g of gaps) {
    const start = Math.max(g.at, from);
    const end = Math.min(g.at + g.ms, to);
    if (end <= start) continue;
    const d = cpu.deniedMs(start, end);
    out.push({ at: start, ms: end - start, deniedMs: Math.min(end - start, d.waitMs + d.stealMs) });
  }
  return out.sort((x, y) => y.ms - y.deniedMs - (x.ms - x.deniedMs));
}

describeNeeding('root, ip, tc, nft', missingForLab(), 'two-ISP lab: flapping (issue #15)', () => {
  beforeAll(async () => {
    try {
      requireLab();
      lab = await labUp({ prefix: `mpudp-f${process.pid}` });
      server = await startServer(['--address', `${ADDR.serverA},${ADDR.serverB}`, '--port', String(PORT), '--transport', 'mpudp', '--max-datagram', MAX_DATAGRAM], { ns: lab.srv });
    } catch (err) {
      setupError = err;
    }
  }, 60_000);

  afterAll(async () => {
    await stopServer(server);
    await labDown(lab);
  }, 30_000);

  it(`the blackhole moves between the ISPs every ${PERIOD / 1000} s, ${MOVES} times: intact, longest delivery stall ≤ ${STALL_TARGET} ms, both ISPs back`, async () => {
    if (setupError !== undefined) throw setupError;
    const l = lab!;
    const srv = server!;
    // An upload until stdin says stop.
    const client = spawnBench(
      ['client', `${ADDR.serverA},${ADDR.serverB}`, '--local', `${ADDR.clientA},${ADDR.clientB}`, '--port', String(PORT), '--max-datagram', MAX_DATAGRAM, '--verify', '--time', '600', '--interval', '0.1'],
      { ns: l.cli, name: 'client' },
    );
    await client.waitFor((r) => r.type === 'interval' && (r.totalBytes as number) >= 8 * MiB, 30_000, '8 MiB over both ISPs');
    const servedFrom = srv.reports.length;
    const cpu = new CpuDenied([client.pid!, srv.pid!]);
    // The schedule: A down; each move heals the one that is down, then blackholes the other.
    const from = epochNow();
    await l.sh('blackhole', 'A');
    let down: 'A' | 'B' = 'A';
    const t0 = Date.now();
    for (let k = 1; k <= MOVES; k++) {
      await sleep(Math.max(0, t0 + k * PERIOD - Date.now()));
      const other: 'A' | 'B' = down === 'A' ? 'B' : 'A';
      await l.sh('heal', down);
      if (k < MOVES) await l.sh('blackhole', other);
      down = other;
    }
    const healedAt = epochNow();
    await sleep(2_000);
    const to = epochNow();
    cpu.stop();
    const markPaths = client.reports.length;
    client.send('paths');
    const paths = await client.waitFor((r) => r.type === 'paths', 10_000, 'the client paths', markPaths);
    client.send('stop');
    const result = await client.waitFor((r) => r.type === 'result', 60_000, 'the stream result');
    const served = await srv.waitFor((r) => r.type === 'receiver', 30_000, "the server's receiver report", servedFrom);
    expect(result.intact, `bytes lost or changed: ${JSON.stringify(result).slice(0, 400)}`).toBe(1);
    expect(result.bytes).toBe(result.sentBytes);
    expect((await client.exited).code).toBe(0);
    // The receiver's delivery timeline over the flapping and 2 s after it.
    const gaps = served.gaps as Array<{ at: number; ms: number }>;
    const found = stalls(gaps, from, to, cpu);
    const worst = found[0] ?? { at: from, ms: 0, deniedMs: 0 };
    const mbit = ((result.bytes as number) * 8) / (result.ms as number) / 1000;
    const show = (g: Stall): string => `${g.ms.toFixed(0)} ms at ${((g.at - from) / 1000).toFixed(2)} s (CPU denied ${g.deniedMs.toFixed(0)} ms)`;
    console.log(
      `flapping every ${PERIOD} ms × ${MOVES}: worst delivery stall ${show(worst)} ` +
        `(gaps > 100 ms: ${found.filter((g) => g.ms > 100).map(show).join(', ') || 'none'}); ` +
        `${((result.bytes as number) / MiB).toFixed(0)} MiB at ${mbit.toFixed(1)} Mbit/s; last heal at ${((healedAt - from) / 1000).toFixed(2)} s; ${cpu.count} CPU samples`,
    );
    expect(worst.ms - worst.deniedMs, `stall ${show(worst)} after the first blackhole`).toBeLessThanOrEqual(STALL_TARGET);
    // Both working pairs are active again on both ends.
    const isWorking = (p: PathSummary): boolean => p.local.split('.')[2] === p.remote.split('.')[2];
    for (const [who, list] of [['client', paths.paths], ['server', (served.paths as PathSummary[])]] as const) {
      const working = (list as PathSummary[]).filter(isWorking);
      expect(working.length, `${who}: ${JSON.stringify(list)}`).toBe(2);
      for (const p of working) expect(p.state, `${who} path ${p.local} → ${p.remote}`).toBe('active');
    }
  }, 120_000);
});
