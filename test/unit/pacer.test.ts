import { describe, expect, it } from 'vitest';
import { BURST_INTERVAL_MS, MAX_BURST_DATAGRAMS, MIN_BURST_DATAGRAMS, Pacer } from '../../src/core/path/pacer.js';

const MDS = 1200;

/**
 * A sender that always has data: sends whenever the pacer allows, otherwise
 * sleeps until the time it returns. Returns the send times of `count` packets.
 */
function sendTimes(p: Pacer, count: number, window: number, rtt: number, start = 0, slowStart = false): number[] {
  const times: number[] = [];
  let now = start;
  while (times.length < count) {
    const at = p.delay(now, MDS, window, rtt, slowStart);
    if (at === 0) {
      p.onSent(now, MDS);
      times.push(now);
    } else {
      expect(at).toBeGreaterThan(now);
      now = at;
    }
  }
  return times;
}

describe('Pacer', () => {
  it('starts with a full bucket of 10 datagrams, then spreads a window over about 1/1.25 RTT', () => {
    const p = new Pacer(MDS);
    const window = 100 * MDS;
    const rtt = 100;
    const times = sendTimes(p, 100, window, rtt);
    // The first 10 go at once (burst capacity, the initial window).
    expect(times.slice(0, 10).every((t) => t === 0)).toBe(true);
    expect(times[10]).toBeGreaterThan(0);
    // The other 90 at rate 1.25 * window / rtt = 1.25 datagrams per ms: 72 ms.
    expect(times[99]!).toBeCloseTo(90 / 1.25, 6);
    // Evenly: consecutive paced packets are 0.8 ms apart.
    for (let i = 11; i < 100; i++) expect(times[i]! - times[i - 1]!).toBeCloseTo(0.8, 6);
    // The whole window goes out within one RTT, but not faster than 1.25x the window rate.
    expect(times[99]!).toBeLessThan(rtt);
  });

  it('sustains the rate over many RTTs (no drift) and bursts only up to the capacity after idle', () => {
    const p = new Pacer(MDS);
    const window = 50 * MDS;
    const rtt = 40;
    const times = sendTimes(p, 1010, window, rtt);
    // 1000 packets after the initial burst at 1.25 * 50 / 40 datagrams per ms.
    expect(times[1009]!).toBeCloseTo(1000 / ((1.25 * 50) / 40), 6);
    // After a long idle period only a capacity's worth leaves back to back.
    const later = sendTimes(p, 30, window, rtt, 10_000);
    const atOnce = later.filter((t) => t === 10_000).length;
    expect(atOnce).toBe(MIN_BURST_DATAGRAMS);
  });

  it('slow start paces at 2x the window rate', () => {
    const p = new Pacer(MDS);
    const times = sendTimes(p, 110, 100 * MDS, 100, 0, true);
    expect(times[109]!).toBeCloseTo(100 / 2, 6);
  });

  it('burst capacity: window * 2 ms / rtt, clamped to [10, 256] datagrams', () => {
    const p = new Pacer(MDS);
    p.delay(0, MDS, 1000 * MDS, 10, false); // 2 ms of 1000 datagrams per 10 ms = 200 datagrams
    expect(p.burstCapacity).toBe(200 * MDS);
    p.delay(0, MDS, 100_000 * MDS, 10, false);
    expect(p.burstCapacity).toBe(MAX_BURST_DATAGRAMS * MDS);
    p.delay(0, MDS, 10 * MDS, 100, false);
    expect(p.burstCapacity).toBe(MIN_BURST_DATAGRAMS * MDS);
    // Shrinking the capacity also caps the tokens.
    expect(p.available).toBeLessThanOrEqual(MIN_BURST_DATAGRAMS * MDS);
  });

  it('returns an absolute time; a packet larger than the bucket waits for a full bucket', () => {
    const p = new Pacer(MDS);
    const window = 10 * MDS;
    const rtt = 100; // 0.15 datagrams per ms at gain 1.25
    for (let i = 0; i < 10; i++) {
      expect(p.delay(5, MDS, window, rtt)).toBe(0);
      p.onSent(5, MDS);
    }
    expect(p.available).toBe(0);
    const at = p.delay(5, MDS, window, rtt);
    expect(at).toBeCloseTo(5 + MDS / ((1.25 * window) / rtt), 9);
    // A jumbo write bigger than the capacity needs only a full bucket.
    const big = p.delay(5, 100 * MDS, window, rtt);
    expect(big).toBeCloseTo(5 + (10 * MDS) / ((1.25 * window) / rtt), 9);
  });

  it('does not pace without an RTT or a window', () => {
    const p = new Pacer(MDS);
    expect(p.delay(0, MDS, 10 * MDS, 0)).toBe(0);
    expect(p.delay(0, MDS, 0, 100)).toBe(0);
  });

  describe('a sender woken late makes up for the lost time', () => {
    const window = 100 * MDS;
    const rtt = 100; // 1.25 datagrams per ms; capacity 10 datagrams
    /** Empties the bucket at `now`; returns the time the pacer names for the next packet. */
    function drain(p: Pacer, now: number): number {
      for (;;) {
        const at = p.delay(now, MDS, window, rtt);
        if (at !== 0) return at;
        p.onSent(now, MDS);
      }
    }
    /** Packets that go back to back at `now`. */
    function burst(p: Pacer, now: number): number {
      let n = 0;
      while (p.delay(now, MDS, window, rtt) === 0) {
        p.onSent(now, MDS);
        n++;
      }
      return n;
    }

    it('20 ms late: the 25 datagrams the rate earned in those 20 ms go too, beyond the capacity of 10', () => {
      const p = new Pacer(MDS);
      const due = drain(p, 0);
      expect(burst(p, due + 20)).toBe(1 + 25);
      expect(p.lateCreditBytes).toBe(16 * MDS);
    });

    it('on time: one datagram, then the rate again', () => {
      const p = new Pacer(MDS);
      const due = drain(p, 0);
      expect(burst(p, due)).toBe(1);
      expect(p.lateCreditBytes).toBe(0);
    });

    it('lateness up to one smoothed RTT is made up for; a longer gap is idleness and earns nothing', () => {
      const p = new Pacer(MDS);
      expect(burst(p, drain(p, 0) + 80)).toBe(1 + 100);
      const q = new Pacer(MDS);
      expect(burst(q, drain(q, 0) + 300)).toBe(MIN_BURST_DATAGRAMS);
    });

    it('a late burst is at most MAX_BURST_DATAGRAMS in all', () => {
      const p = new Pacer(MDS);
      // 10 datagrams per ms, 1 s smoothed RTT: 100 ms late earns 1,000, capped at 256.
      const fast = 10_000 * MDS;
      const rttLong = 1000;
      let due = 0;
      for (;;) {
        due = p.delay(0, MDS, fast, rttLong, false, 10 * MDS);
        if (due !== 0) break;
        p.onSent(0, MDS);
      }
      let n = 0;
      while (p.delay(due + 100, MDS, fast, rttLong, false, 10 * MDS) === 0) {
        p.onSent(due + 100, MDS);
        n++;
      }
      expect(n).toBe(MAX_BURST_DATAGRAMS);
    });

    it('a path with nothing in flight was idle, not late: no credit', () => {
      const p = new Pacer(MDS);
      const due = drain(p, 0);
      expect(p.delay(due + 20, MDS, window, rtt, false, null, 0)).toBe(0);
      expect(p.available).toBe(MIN_BURST_DATAGRAMS * MDS);
    });

    it('credit left unspent for BURST_INTERVAL_MS is dropped', () => {
      const p = new Pacer(MDS);
      const due = drain(p, 0);
      p.delay(due + 20, MDS, window, rtt); // woken late, sends nothing (no data)
      expect(p.available).toBeGreaterThan(MIN_BURST_DATAGRAMS * MDS);
      p.delay(due + 20 + BURST_INTERVAL_MS + 1, MDS, window, rtt);
      expect(p.available).toBe(MIN_BURST_DATAGRAMS * MDS);
    });

    it('a sender idle after its last packet earns nothing for the idle time', () => {
      const p = new Pacer(MDS);
      const due = drain(p, 0);
      expect(burst(p, due)).toBe(1);
      expect(burst(p, due + 1_000)).toBe(MIN_BURST_DATAGRAMS);
    });
  });
});
