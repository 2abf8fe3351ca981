/**
 * The ISP emulator: a userspace UDP relay with delay, jitter, loss, rate
 * limit, queue, and cut/heal/blackhole, for tests and demos without root or
 * netem. See docs/lab.md.
 */
export { IspEmulator, type Direction, type DirectionSelector, type IspOptions, type IspParams, type IspStats, type ScheduledAction } from './isp.js';
export { LinkShaper, DEFAULT_LINK_PARAMS, type DropReason, type LinkParams, type LinkState, type LinkStats } from './link-shaper.js';
export { DeliveryQueue } from './delivery-queue.js';
export { formatRate, parseDuration, parseHostPort, parseProbability, parseRate, parseSize, type HostPort } from './units.js';
