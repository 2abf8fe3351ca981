/**
 * The ISP emulator: a userspace UDP relay running the simulator's link
 * model (../link: delay, jitter, loss, rate limit, queue, reordering,
 * duplication, blackhole) on the real clock, for tests and demos without
 * root or netem. See docs/lab.md.
 */
export {
  IspEmulator,
  RELAY_OVERHEAD_BYTES,
  type Direction,
  type DirectionSelector,
  type IspOptions,
  type IspParams,
  type IspStats,
  type LinkState,
  type LinkStats,
  type RelayLinkParams,
  type RelayTraceHook,
  type ScheduledAction,
} from './isp.js';
export { DeliveryQueue } from './delivery-queue.js';
export { formatRate, parseDuration, parseHostPort, parseProbability, parseRate, parseSize, type HostPort } from './units.js';
