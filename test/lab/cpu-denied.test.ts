/**
 * The sampler the flapping test uses to tell a stall the protocol caused
 * from one the machine caused (lab/harness/cpu-denied.ts): two busy
 * processes pinned to one CPU each get about half of it, so each waits on
 * the run queue about half the time, and the sampler must see that.
 *
 * Needs Linux's /proc/PID/schedstat and taskset: skipped with the reason
 * where they are missing, failing naming it under MPUDP_LAB=required.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { CpuDenied } from '../../lab/harness/cpu-denied.js';
import { onPath, toolPath } from '../../lab/harness/requirements.js';
import { describeNeeding } from './requirements.js';

const missing = [
  ...(existsSync('/proc/self/schedstat') ? [] : ['/proc/PID/schedstat (a Linux kernel with schedstats)']),
  ...(onPath('taskset', toolPath()) ? [] : ['taskset (Debian package util-linux)']),
];

const children: ChildProcess[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const epochNow = (): number => performance.timeOrigin + performance.now();

/** A process spinning on CPU `cpu` until killed. */
function spinner(cpu: number): number {
  const c = spawn('taskset', ['-c', String(cpu), process.execPath, '-e', 'for (;;) {}'], { stdio: 'ignore' });
  children.push(c);
  return c.pid!;
}

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

describeNeeding('/proc/PID/schedstat, taskset', missing, 'CPU denied to role processes (lab harness)', () => {
  it('two processes sharing one CPU each wait on the run queue about half the time; the sampler sees it', async () => {
    const pids = [spinner(0), spinner(0)];
    const cpu = new CpuDenied(pids);
    await sleep(300); // both running
    const from = epochNow();
    await sleep(600);
    const to = epochNow();
    cpu.stop();
    const denied = cpu.deniedMs(from, to);
    // Each should wait ~300 of 600 ms; the larger of the two at least 200.
    expect(denied.waitMs).toBeGreaterThan(200);
    expect(denied.waitMs).toBeLessThan(700);
    expect(cpu.count).toBeGreaterThan(30);
  }, 10_000);

  it('a window with no samples after it counts nothing; a process that has gone counts nothing', async () => {
    const pid = spinner(0);
    const cpu = new CpuDenied([pid]);
    await sleep(100);
    children.splice(0).forEach((c) => c.kill('SIGKILL'));
    await sleep(100);
    cpu.stop();
    const after = epochNow() + 1_000;
    expect(cpu.deniedMs(after, after + 100)).toEqual({ waitMs: 0, stealMs: 0 });
    // The last sample of the gone process is NaN: the difference is ignored, not NaN.
    expect(Number.isNaN(cpu.deniedMs(epochNow() - 5_000, epochNow()).waitMs)).toBe(false);
  }, 10_000);
});
