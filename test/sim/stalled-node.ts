/**
 * A process that gets the CPU only now and then: a SimNode wrapper for an
 * endpoint on a loaded machine (more runnable processes than cores). The
 * node runs for `runMs`, then is descheduled for a random `stallMinMs` to
 * `stallMaxMs`, and so on. While it is descheduled, datagrams wait (as in
 * the kernel's socket buffer) and are handled, in order, when it runs
 * again; its timers fire late; it sends nothing. Everything is virtual time
 * and seeded, so a run replays.
 *
 * What this does to a transport, as `npm start` on a loaded 2-core machine
 * shows it: RTT samples many times the path's propagation delay, ACKs in
 * bursts, and a pacer woken once per run window instead of every few
 * hundred microseconds.
 */
import type { SimNode } from '../../lab/sim/network.js';
import type { World } from '../../lab/sim/world.js';
import type { Rng } from '../../lab/random.js';
import type { SocketAddress, Transmit } from '../../src/core/types.js';

export interface StallParams {
  /** How long the node runs each time it gets the CPU (ms). */
  runMs: number;
  /** Shortest and longest time it then waits for the CPU (ms). */
  stallMinMs: number;
  stallMaxMs: number;
}

export function stalled(node: SimNode, world: World, rng: Rng, p: StallParams): SimNode {
  /** Run windows [start, end), in order, generated as far ahead as asked. */
  const windows: Array<[number, number]> = [[world.now, world.now + p.runMs]];
  const extend = (t: number): void => {
    while (windows[windows.length - 1]![1] <= t) {
      const end = windows[windows.length - 1]![1];
      const start = end + p.stallMinMs + rng.next() * (p.stallMaxMs - p.stallMinMs);
      windows.push([start, start + p.runMs]);
    }
  };
  /** The first time ≥ t at which the node runs. */
  const runsFrom = (t: number): number => {
    extend(t);
    while (windows.length > 1 && windows[0]![1] <= world.now) windows.shift();
    for (const [s, e] of windows) if (t < e) return Math.max(s, t);
    return t; // unreachable: extend() made a window ending after t
  };
  const running = (t: number): boolean => runsFrom(t) === t;
  const inbox: Array<[Uint8Array, SocketAddress, SocketAddress]> = [];
  /** A transmit was held back, or datagrams wait: wake at the next run. */
  let owed = false;
  const drain = (now: number): void => {
    while (inbox.length > 0) {
      const [d, l, r] = inbox.shift()!;
      node.handleDatagram(d, l, r, now);
    }
  };
  return {
    handleDatagram(d, l, r, now) {
      if (running(now)) {
        drain(now);
        node.handleDatagram(d, l, r, now);
        return;
      }
      // The datagram may be reused by the network: keep a copy.
      inbox.push([d.slice(), l, r]);
      owed = true;
    },
    handleTimeout(now) {
      if (!running(now)) return;
      owed = false;
      drain(now);
      const to = node.pollTimeout();
      if (to !== null && to <= now) node.handleTimeout(now);
    },
    pollTransmit(now): Transmit | null {
      if (!running(now)) {
        owed = true;
        return null;
      }
      return node.pollTransmit(now);
    },
    pollTimeout() {
      const to = node.pollTimeout();
      const now = world.now;
      let t = to === null ? Infinity : runsFrom(Math.max(to, now));
      if (owed) t = Math.min(t, runsFrom(now));
      return t === Infinity ? null : t;
    },
  };
}
