/**
 * Which congestion-control machinery a connection's options switch on.
 */
import type { ConnectionOptions } from '../options.js';

/** 'lia' and 'olia' couple every path's window; the others are per path. */
export function isCoupled(name: ConnectionOptions['congestionControl']): boolean {
  return name === 'lia' || name === 'olia';
}

/**
 * Shared-bottleneck detection runs for the uncoupled controllers when the
 * option allows it (coupled ones take no more than one flow's share
 * anywhere, so they need no detection).
 */
export function detectsSharedBottlenecks(o: Pick<ConnectionOptions, 'congestionControl' | 'sharedBottleneckDetection'>): boolean {
  return o.sharedBottleneckDetection && !isCoupled(o.congestionControl);
}
