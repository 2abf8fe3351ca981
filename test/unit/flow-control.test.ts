import { describe, expect, it } from 'vitest';
import { ADVERTISE_FRACTION, ReceiveWindow, SendWindow } from '../../src/core/data/flow-control.js';
import { Rng } from '../../lab/random.js';

describe('ReceiveWindow', () => {
  it('starts with maxData = windowSize, already advertised', () => {
    const w = new ReceiveWindow(1000);
    expect(w.maxData).toBe(1000);
    expect(w.advertisedMaxData).toBe(1000);
    expect(w.shouldAdvertise).toBe(false);
    expect(w.checkLimit(1000)).toBe(true);
    expect(w.checkLimit(1001)).toBe(false);
  });

  it('rejects a non-positive or non-integer window', () => {
    expect(() => new ReceiveWindow(0)).toThrow(RangeError);
    expect(() => new ReceiveWindow(1.5)).toThrow(RangeError);
  });

  it('asks for an update once the window opened by half', () => {
    expect(ADVERTISE_FRACTION).toBe(0.5);
    const w = new ReceiveWindow(1000);
    expect(w.onConsumed(100)).toBe(false);
    expect(w.maxData).toBe(1100);
    expect(w.onConsumed(499)).toBe(false);
    expect(w.onConsumed(500)).toBe(true);
    expect(w.maxData).toBe(1500);
    expect(w.onConsumed(600)).toBe(true); // still due until advertised
    w.markAdvertised();
    expect(w.advertisedMaxData).toBe(1600);
    expect(w.onConsumed(600)).toBe(false);
    expect(w.onConsumed(1099)).toBe(false);
    expect(w.onConsumed(1100)).toBe(true);
  });

  it('never lowers maxData', () => {
    const w = new ReceiveWindow(1000);
    w.onConsumed(800);
    w.onConsumed(200); // stale report
    expect(w.maxData).toBe(1800);
  });

  it('checks against the latest limit, never below the advertised one', () => {
    const w = new ReceiveWindow(1000);
    w.onConsumed(300); // not yet advertised
    expect(w.checkLimit(1300)).toBe(true);
    expect(w.checkLimit(1301)).toBe(false);
  });

  it('keeps maxData - readOffset = windowSize under random reads (seeded)', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const rng = new Rng(seed);
      const size = rng.int(1, 100_000);
      const w = new ReceiveWindow(size);
      let read = 0;
      let advertised = size;
      for (let i = 0; i < 200; i++) {
        read += rng.int(0, size);
        const due = w.onConsumed(read);
        // Plain checks: expect() per iteration is slow; the message names the seed.
        if (w.maxData !== read + size) throw new Error(`seed ${seed}: maxData ${w.maxData}`);
        if (due !== read + size - advertised >= size / 2) throw new Error(`seed ${seed}: due ${due} at ${read}`);
        if (due && rng.chance(0.7)) {
          w.markAdvertised();
          advertised = read + size;
        }
      }
    }
  });
});

describe('SendWindow', () => {
  it('only grows', () => {
    const w = new SendWindow(100);
    expect(w.maxData).toBe(100);
    expect(w.update(50)).toBe(false);
    expect(w.update(100)).toBe(false);
    expect(w.maxData).toBe(100);
    expect(w.update(150)).toBe(true);
    expect(w.maxData).toBe(150);
  });

  it('reports bytes available from a send offset, never negative', () => {
    const w = new SendWindow();
    expect(w.maxData).toBe(0);
    expect(w.available(0)).toBe(0);
    w.update(1000);
    expect(w.available(400)).toBe(600);
    expect(w.available(1000)).toBe(0);
    expect(w.available(1200)).toBe(0);
  });
});
