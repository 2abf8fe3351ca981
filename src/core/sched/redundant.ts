/**
 * Redundant: every new byte goes out on every live path and the first copy
 * to arrive wins. Costs bandwidth, buys latency and loss resilience for
 * small, latency-critical traffic. The scheduler picks the path for the
 * first copy (lowest RTT); the connection queues the other copies.
 */
import { MinRttScheduler } from './min-rtt.js';
import type { Scheduler, SchedulerContext, SchedulerPath } from './scheduler.js';

export class RedundantScheduler implements Scheduler {
  readonly name = 'redundant';
  readonly redundant = true;
  /** First copies go where they arrive soonest. */
  private readonly first = new MinRttScheduler();

  choose(paths: readonly SchedulerPath[], ctx: SchedulerContext): number | null {
    return this.first.choose(paths, ctx);
  }
}
