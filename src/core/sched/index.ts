/** The built-in schedulers, by name. */
import { BlestScheduler } from './blest.js';
import { MinRttScheduler } from './min-rtt.js';
import { RedundantScheduler } from './redundant.js';
import { RoundRobinScheduler } from './round-robin.js';
import type { Scheduler } from './scheduler.js';

export const SCHEDULER_NAMES = ['min-rtt', 'round-robin', 'redundant', 'blest'] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

/** A fresh scheduler (schedulers keep per-connection state). */
export function createScheduler(name: SchedulerName | Scheduler): Scheduler {
  if (typeof name !== 'string') return name;
  switch (name) {
    case 'min-rtt':
      return new MinRttScheduler();
    case 'round-robin':
      return new RoundRobinScheduler();
    case 'redundant':
      return new RedundantScheduler();
    case 'blest':
      return new BlestScheduler();
  }
}

export type { Scheduler, SchedulerContext, SchedulerPath } from './scheduler.js';
