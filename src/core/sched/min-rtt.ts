/**
 * min-RTT, the Linux MP-TCP default scheduler: the path with the lowest
 * smoothed RTT that has congestion-window room for the packet.
 */
import { canTake, eligible, type Scheduler, type SchedulerContext, type SchedulerPath } from './scheduler.js';

export class MinRttScheduler implements Scheduler {
  readonly name = 'min-rtt';

  choose(paths: readonly SchedulerPath[], ctx: SchedulerContext): number | null {
    let best: SchedulerPath | null = null;
    for (const p of eligible(paths)) {
      if (!canTake(p, ctx.packetSize)) continue;
      if (best === null || p.smoothedRtt < best.smoothedRtt) best = p;
    }
    return best === null ? null : best.id;
  }
}
