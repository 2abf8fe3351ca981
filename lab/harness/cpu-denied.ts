/**
 * CPU denied to role processes: how long each was runnable but not running.
 *
 * A lab test that bounds a delivery stall measures the protocol only while
 * the processes it runs get the CPU they ask for. On a shared 2-core machine
 * they sometimes do not: another job, or the hypervisor, takes the cores for
 * a few hundred milliseconds, and every timer of the roles fires late. This
 * sampler reads, every `intervalMs`, each role's run-queue wait
 * (`/proc/PID/schedstat`, second field: nanoseconds runnable on a run queue
 * without running) and the host's steal time (`/proc/stat`, the `steal`
 * column: time the hypervisor ran something else), so a test can subtract
 * the CPU its roles were denied during a stall from the stall, and fail only
 * on what the protocol itself caused.
 *
 * Only the thread-group leader (the event loop) of each pid is read.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** One sample: epoch ms, and the cumulative denied time (ms) of each pid and of the host's steal per CPU. */
type Sample = { at: number; waitMs: number[]; stealMs: number };

const epochNow = (): number => performance.timeOrigin + performance.now();
/** USER_HZ of /proc/stat (100 on every Linux build this lab runs on). */
const USER_HZ = 100;

/** The cumulative run-queue wait (ms) of `pid`'s leader, or NaN once it has gone. */
export function runQueueWaitMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/);
    return Number(fields[1]) / 1e6;
  } catch {
    return Number.NaN;
  }
}

/** The host's cumulative steal time (ms), averaged over its CPUs. */
export function stealMsPerCpu(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const steal = Number(line.trim().split(/\s+/)[8] ?? 0);
  return ((steal / USER_HZ) * 1000) / Math.max(1, cpus().length);
}

/** Samples the CPU denied to `pids` (see the file comment) until stop(). */
export class CpuDenied {
  private readonly samples: Sample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly pids: readonly number[],
    intervalMs = 10,
  ) {
    this.sample();
    // Unref'd: a test that fails before stop() does not keep its worker alive.
    this.timer = setInterval(() => this.sample(), intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  /** How many samples were taken. */
  get count(): number {
    return this.samples.length;
  }

  /**
   * The CPU denied during [from, to] (epoch ms): the largest run-queue wait
   * of any one pid plus the host's steal, each between the last sample at or
   * before `from` and the first at or after `to` (so it can only
   * over-cover the window by one interval on each side).
   */
  deniedMs(from: number, to: number): { waitMs: number; stealMs: number } {
    const s = this.samples;
    let a = 0;
    while (a + 1 < s.length && s[a + 1]!.at <= from) a++;
    let b = s.length - 1;
    while (b > 0 && s[b - 1]!.at >= to) b--;
    if (b <= a) return { waitMs: 0, stealMs: 0 };
    let waitMs = 0;
    for (let i = 0; i < this.pids.length; i++) {
      const d = s[b]!.waitMs[i]! - s[a]!.waitMs[i]!;
      if (Number.isFinite(d) && d > waitMs) waitMs = d;
    }
    return { waitMs, stealMs: Math.max(0, s[b]!.stealMs - s[a]!.stealMs) };
  }

  private sample(): void {
    this.samples.push({ at: epochNow(), waitMs: this.pids.map(runQueueWaitMs), stealMs: stealMsPerCpu() });
  }
}
