/**
 * Round-robin: each packet goes to the next path in turn that can take it.
 * Fair in packets, blind to RTT; useful as a baseline and for tests.
 */
import { canTake, eligible, type Scheduler, type SchedulerContext, type SchedulerPath } from './scheduler.js';

export class RoundRobinScheduler implements Scheduler {
  readonly name = 'round-robin';
  /** ID of the path chosen last. */
  private last = -1;

  choose(paths: readonly SchedulerPath[], ctx: SchedulerContext): number | null {
    const usable = eligible(paths).filter((p) => canTake(p, ctx.packetSize));
    if (usable.length === 0) return null;
    usable.sort((a, b) => a.id - b.id);
    const next = usable.find((p) => p.id > this.last) ?? usable[0]!;
    this.last = next.id;
    return next.id;
  }
}
