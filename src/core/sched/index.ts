/** The built-in schedulers, by name. */
import { BlestScheduler } from './blest.js';
import { EcfScheduler } from './ecf.js';
import { MinRttScheduler } from './min-rtt.js';
import { RedundantScheduler } from './redundant.js';
import { RoundRobinScheduler } from './round-robin.js';
import type { Scheduler } from './scheduler.js';

export const SCHEDULER_NAMES = ['min-rtt', 'round-robin', 'redundant', 'blest', 'ecf'] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

/** What the `scheduler` option takes: a built-in's name, a factory, or one scheduler object. */
export type SchedulerOption = SchedulerName | Scheduler | (() => Scheduler);

/**
 * A fresh scheduler for one connection (schedulers keep per-connection
 * state, so a server should be given a name or a factory, not an object).
 */
export function createScheduler(name: SchedulerOption): Scheduler {
  if (typeof name === 'function') return name();
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
    case 'ecf':
      return new EcfScheduler();
  }
}

export type { Scheduler, SchedulerContext, SchedulerPath } from './scheduler.js';
