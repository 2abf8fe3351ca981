import { describe, expect, it } from 'vitest';
import { K_GRANULARITY, K_INITIAL_RTT, RttEstimator } from '../../src/core/path/rtt.js';

describe('RttEstimator (RFC 9002 §5)', () => {
  it('starts from the initial RTT: smoothed = initial, rttvar = initial / 2', () => {
    const r = new RttEstimator();
    expect(K_INITIAL_RTT).toBe(333);
    expect(r.smoothed).toBe(333);
    expect(r.rttvar).toBe(166.5);
    expect(r.hasSample).toBe(false);
    // PTO before any sample: 333 + 4 * 166.5 + 25
    expect(r.pto(25)).toBe(333 + 666 + 25);
    const custom = new RttEstimator(100);
    expect(custom.smoothed).toBe(100);
    expect(custom.rttvar).toBe(50);
  });

  it('first sample sets smoothed = latest, rttvar = latest / 2, min = latest (ack delay ignored)', () => {
    const r = new RttEstimator();
    r.update(80, 10, 25, 1000);
    expect(r.hasSample).toBe(true);
    expect(r.latest).toBe(80);
    expect(r.smoothed).toBe(80);
    expect(r.rttvar).toBe(40);
    expect(r.min).toBe(80);
    expect(r.firstSampleTime).toBe(1000);
  });

  it('later samples: rttvar = 3/4 rttvar + 1/4 |smoothed - adjusted|, then smoothed = 7/8 smoothed + 1/8 adjusted', () => {
    const r = new RttEstimator();
    r.update(100, 0, 25);
    r.update(140, 0, 25);
    // rttvar = 0.75*50 + 0.25*|100-140| = 47.5 ; smoothed = 0.875*100 + 0.125*140 = 105
    expect(r.rttvar).toBeCloseTo(47.5, 12);
    expect(r.smoothed).toBeCloseTo(105, 12);
    expect(r.min).toBe(100);
    r.update(60, 0, 25);
    // rttvar = 0.75*47.5 + 0.25*|105-60| = 46.875 ; smoothed = 0.875*105 + 0.125*60 = 99.375
    expect(r.rttvar).toBeCloseTo(46.875, 12);
    expect(r.smoothed).toBeCloseTo(99.375, 12);
    expect(r.min).toBe(60);
    expect(r.latest).toBe(60);
  });

  it('subtracts the ack delay when latest >= min + ack_delay', () => {
    const r = new RttEstimator();
    r.update(100, 0, 25);
    r.update(120, 20, 25); // 120 >= 100 + 20 -> adjusted = 100
    expect(r.smoothed).toBeCloseTo(100, 12);
    expect(r.rttvar).toBeCloseTo(37.5, 12); // 0.75*50 + 0.25*0
    expect(r.min).toBe(100); // min ignores ack delay
  });

  it('ignores the ack delay when subtracting it would go below min_rtt', () => {
    const r = new RttEstimator();
    r.update(100, 0, 25);
    r.update(110, 20, 25); // 110 < 100 + 20 -> adjusted = 110
    expect(r.smoothed).toBeCloseTo(0.875 * 100 + 0.125 * 110, 12);
    expect(r.rttvar).toBeCloseTo(0.75 * 50 + 0.25 * 10, 12);
  });

  it('caps the ack delay at max_ack_delay', () => {
    const r = new RttEstimator();
    r.update(100, 0, 25);
    r.update(200, 80, 25); // ack delay capped to 25 -> adjusted = 175
    expect(r.smoothed).toBeCloseTo(0.875 * 100 + 0.125 * 175, 12);
    expect(r.rttvar).toBeCloseTo(0.75 * 50 + 0.25 * 75, 12);
  });

  it('pto = smoothed + max(4 * rttvar, kGranularity) + max_ack_delay', () => {
    const r = new RttEstimator();
    r.update(100, 0, 25);
    expect(r.pto(25)).toBe(100 + 200 + 25);
    const tiny = new RttEstimator();
    tiny.update(0.1, 0, 0);
    for (let i = 0; i < 50; i++) tiny.update(0.1, 0, 0); // rttvar -> ~0
    expect(tiny.rttvar * 4).toBeLessThan(K_GRANULARITY);
    expect(tiny.pto(0)).toBeCloseTo(tiny.smoothed + K_GRANULARITY, 9);
  });

  it('persistent congestion resets min_rtt to the latest sample; reset forgets everything', () => {
    const r = new RttEstimator(50);
    r.update(20, 0, 25);
    r.update(90, 0, 25);
    expect(r.min).toBe(20);
    r.onPersistentCongestion();
    expect(r.min).toBe(90);
    r.reset();
    expect(r.hasSample).toBe(false);
    expect(r.smoothed).toBe(50);
    expect(r.rttvar).toBe(25);
    expect(r.firstSampleTime).toBeNull();
    r.update(30, 5, 25);
    expect(r.smoothed).toBe(30); // first sample again
  });
});
