/**
 * The real clock of the io layer. The core never reads a clock: the io layer
 * passes `now()` into every `handle*` and `poll*` call, and `pollTimeout()`
 * answers in the same milliseconds.
 */
import { performance } from 'node:perf_hooks';

/** A monotonic clock in milliseconds (fractional). */
export interface Clock {
  now(): number;
}

/** Monotonic milliseconds since the process started (`performance.now()`). */
export function now(): number {
  return performance.now();
}

/** The process's monotonic clock. */
export const systemClock: Clock = { now };
