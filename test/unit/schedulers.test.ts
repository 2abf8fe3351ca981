import { describe, expect, it } from 'vitest';
import { createScheduler, SCHEDULER_NAMES } from '../../src/core/sched/index.js';
import { BlestScheduler } from '../../src/core/sched/blest.js';
import { EcfScheduler } from '../../src/core/sched/ecf.js';
import type { SchedulerContext, SchedulerPath } from '../../src/core/sched/scheduler.js';

function path(id: number, over: Partial<SchedulerPath> = {}): SchedulerPath {
  return {
    id,
    smoothedRtt: 20,
    rttVar: 2,
    congestionWindow: 100_000,
    bytesInFlight: 0,
    windowRoom: 100_000,
    backup: false,
    ready: true,
    ...over,
  };
}

const ctx: SchedulerContext = { packetSize: 1200, unsentBytes: 1e6, sendWindowRoom: 4e6, sendWindowSize: 4e6 };

describe('schedulers', () => {
  it('min-rtt picks the lowest RTT with room, then the next', () => {
    const s = createScheduler('min-rtt');
    expect(s.choose([path(0, { smoothedRtt: 40 }), path(1, { smoothedRtt: 10 })], ctx)).toBe(1);
    expect(s.choose([path(0, { smoothedRtt: 40 }), path(1, { smoothedRtt: 10, windowRoom: 100 })], ctx)).toBe(0);
    expect(s.choose([path(0, { smoothedRtt: 40, ready: false }), path(1, { smoothedRtt: 10, windowRoom: 0 })], ctx)).toBeNull();
  });

  it('every built-in leaves a backup idle while an active path is live, and uses it when none is', () => {
    for (const name of SCHEDULER_NAMES) {
      const s = createScheduler(name);
      // The active path is full: nothing goes to the backup.
      expect(s.choose([path(0, { windowRoom: 0 }), path(1, { backup: true, smoothedRtt: 5 })], ctx), name).toBeNull();
      expect(s.choose([path(1, { backup: true })], ctx), name).toBe(1);
    }
  });

  it('round-robin alternates', () => {
    const s = createScheduler('round-robin');
    const paths = [path(0), path(1), path(2)];
    expect([1, 2, 3, 4].map(() => s.choose(paths, ctx))).toEqual([0, 1, 2, 0]);
  });

  it('redundant asks for copies and sends first copies by RTT', () => {
    const s = createScheduler('redundant');
    expect(s.redundant).toBe(true);
    expect(s.choose([path(0, { smoothedRtt: 40 }), path(1, { smoothedRtt: 10 })], ctx)).toBe(1);
  });

  it('blest skips a slow path that would block a small receive window, uses it when the window is large', () => {
    const fast = path(0, { smoothedRtt: 20, congestionWindow: 250_000, windowRoom: 0 });
    const slow = path(1, { smoothedRtt: 160, congestionWindow: 50_000, bytesInFlight: 20_000, windowRoom: 30_000 });
    const small = { ...ctx, sendWindowSize: 1024 * 1024 };
    const big = { ...ctx, sendWindowSize: 64 * 1024 * 1024 };
    const s = new BlestScheduler();
    expect(s.choose([fast, slow], small)).toBeNull();
    expect(s.skips).toBe(1);
    // It held the slow path back for the receiver's sake (send-data.ts then does not mark it application-limited).
    expect(s.heldForReceiveWindow).toBe(true);
    expect(s.choose([fast, slow], big)).toBe(1);
    expect(s.heldForReceiveWindow).toBe(false);
    // The fast path with room is always taken.
    expect(s.choose([{ ...fast, windowRoom: 10_000 }, slow], small)).toBe(0);
    // Nothing can take a packet: that is not a skip.
    expect(s.choose([fast, { ...slow, ready: false }], small)).toBeNull();
    expect(s.heldForReceiveWindow).toBe(false);
  });

  it('blest adapts lambda to blocking', () => {
    const s = new BlestScheduler();
    s.onWindowBlocked();
    s.onWindowBlocked();
    expect(s.lambda).toBeCloseTo(1.2);
    for (let i = 0; i < 10; i++) s.onRoundWithoutBlock();
    expect(s.lambda).toBe(1);
  });

  it('blest counts what a paced fast path sends per round trip, not its window', () => {
    // BBR: a window of 2 BDP, paced at the bottleneck rate (1 BDP per RTT).
    const fast = path(0, { smoothedRtt: 10, congestionWindow: 250_000, sendRate: 12.5, windowRoom: 0 });
    const slow = path(1, { smoothedRtt: 80, congestionWindow: 400_000, bytesInFlight: 200_000, windowRoom: 200_000 });
    const window = { ...ctx, sendWindowSize: 1024 * 1024 };
    expect(new BlestScheduler().choose([fast, slow], window)).toBe(1);
    // Without the rate the window counts, and the slow path would block.
    expect(new BlestScheduler().choose([{ ...fast, sendRate: undefined }, slow], window)).toBeNull();
  });

  it('ecf waits for the fast path when it finishes the waiting bytes first, and uses the slow path for bulk', () => {
    const fast = path(0, { smoothedRtt: 10, rttVar: 1, congestionWindow: 125_000, windowRoom: 0 });
    const slow = path(1, { smoothedRtt: 60, rttVar: 1, congestionWindow: 375_000, windowRoom: 375_000 });
    const s = new EcfScheduler();
    // A 64 KiB message: one fast round trip (10 ms) beats one slow one (60 ms).
    expect(s.choose([fast, slow], { ...ctx, unsentBytes: 64 * 1024 })).toBeNull();
    expect(s.waiting).toBe(true);
    expect(s.waits).toBe(1);
    // Bulk: the fast path would need many rounds; the slow one helps.
    expect(s.choose([fast, slow], { ...ctx, unsentBytes: 16 * 1024 * 1024 })).toBe(1);
    expect(s.waiting).toBe(false);
    // The fast path with room is always taken.
    expect(s.choose([{ ...fast, windowRoom: 10_000 }, slow], ctx)).toBe(0);
    expect(createScheduler('ecf').name).toBe('ecf');
  });

  it('accepts a user scheduler object', () => {
    const mine = { name: 'always-1', choose: () => 1 };
    expect(createScheduler(mine)).toBe(mine);
  });
});
