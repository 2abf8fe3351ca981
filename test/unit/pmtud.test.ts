/**
 * The path MTU search machine (src/core/path/pmtud.ts) on its own: probes
 * acknowledged when they fit a path MTU, lost when they do not.
 */
import { describe, expect, it } from 'vitest';
import { BASE_PLPMTU, BLACK_HOLE_LOSSES, FIRST_SEARCH_DELAY, MAX_PROBES, PMTU_RAISE_TIMER, PathMtu, pmtuCeiling } from '../../src/core/path/pmtud.js';

/** Runs the search against a path carrying `limit`-byte datagrams; returns the probe sizes tried. */
function search(m: PathMtu, limit: number, now = 0): number[] {
  const tried: number[] = [];
  let pn = 0;
  for (let i = 0; i < 100; i++) {
    const size = m.probeDue(now);
    if (size === 0) break;
    tried.push(size);
    m.onProbeSent(pn, size, now);
    if (size <= limit) m.onAcked(pn, size, now);
    else expect(m.onLost(pn, size, now)).toBe(true);
    pn++;
    now += 10;
  }
  return tried;
}

describe('PathMtu', () => {
  it('tries the ceiling first and stops there when the path carries it', () => {
    const m = new PathMtu(1472);
    expect(m.plpmtu).toBe(BASE_PLPMTU);
    expect(search(m, 1472)).toEqual([1472]);
    expect(m.plpmtu).toBe(1472);
    expect(m.phase).toBe('complete');
    expect(m.counters).toMatchObject({ mtuProbesSent: 1, mtuProbesAcked: 1, mtuProbesLost: 0 });
  });

  it('a new path waits FIRST_SEARCH_DELAY before its first probe, unless data fills a packet first', () => {
    const idle = new PathMtu(1472, 5000);
    expect(idle.probeDue(5000)).toBe(0);
    expect(idle.probeDue(5000 + FIRST_SEARCH_DELAY - 1)).toBe(0);
    expect(idle.probeDue(5000 + FIRST_SEARCH_DELAY)).toBe(1472);
    const bulk = new PathMtu(1472, 5000);
    bulk.onSizeLimited();
    expect(bulk.probeDue(5000)).toBe(1472);
    // Only the first search waits: once probing began, a size-limited packet changes nothing.
    const later = new PathMtu(1472, 0);
    expect(search(later, 1300, FIRST_SEARCH_DELAY).length).toBeGreaterThan(1);
    later.onSizeLimited();
    expect(later.probeDue(FIRST_SEARCH_DELAY + 10_000)).toBe(0);
  });

  it('gives a size up after MAX_PROBES losses and converges below the path MTU by binary search', () => {
    for (const limit of [1252, 1300, 1400, 1471, 1201]) {
      const m = new PathMtu(1472);
      const tried = search(m, limit);
      // The ceiling three times, then never again.
      expect(tried.slice(0, MAX_PROBES)).toEqual([1472, 1472, 1472]);
      expect(tried.slice(MAX_PROBES)).not.toContain(1472);
      expect(m.phase).toBe('complete');
      expect(m.plpmtu).toBeLessThanOrEqual(limit);
      expect(m.plpmtu).toBeGreaterThan(limit - 16);
      expect(tried.length).toBeLessThan(40);
    }
  });

  it('is disabled at a 1200 ceiling, and an IPv6 ceiling is 20 bytes lower', () => {
    const m = new PathMtu(pmtuCeiling('10.0.0.1', 1200));
    expect(m.phase).toBe('disabled');
    expect(m.probeDue(0)).toBe(0);
    expect(pmtuCeiling('10.0.0.1', 1472)).toBe(1472);
    expect(pmtuCeiling('fd00::1', 1472)).toBe(1452);
    expect(pmtuCeiling('fd00::1', 1210)).toBe(1200);
  });

  it('never exceeds the local interface: its MTU less the IP and UDP headers caps the ceiling', () => {
    expect(pmtuCeiling('10.0.0.1', 1472, 1280)).toBe(1252);
    expect(pmtuCeiling('fd00::1', 1472, 1280)).toBe(1232);
    // A larger link (loopback: 65536) leaves the option's ceiling; a link below the base leaves the base.
    expect(pmtuCeiling('10.0.0.1', 1472, 65536)).toBe(1472);
    expect(pmtuCeiling('10.0.0.1', 1472, 1000)).toBe(1200);
    // A move to another interface searches below the new link's cap.
    const m = new PathMtu(pmtuCeiling('10.0.0.1', 1472));
    search(m, 1472);
    expect(m.plpmtu).toBe(1472);
    m.restart(pmtuCeiling('10.0.0.1', 1472, 1400));
    expect(search(m, 1472)).toEqual([1372]);
    expect(m.plpmtu).toBe(1372);
  });

  it('falls back to the base size when full-size packets vanish, then searches below the size that failed', () => {
    const m = new PathMtu(1472);
    search(m, 1472);
    expect(m.plpmtu).toBe(1472);
    // Full-size packets 10..12 lost, and none after them acknowledged; a small one is.
    m.onAcked(9, 1472, 100);
    m.onAcked(13, 80, 100);
    for (let pn = 10; pn < 10 + BLACK_HOLE_LOSSES; pn++) expect(m.onLost(pn, 1472, 110)).toBe(false);
    expect(m.plpmtu).toBe(BASE_PLPMTU);
    expect(m.counters.mtuBlackHoles).toBe(1);
    const tried = search(m, 1300, 120);
    expect(tried).not.toContain(1472);
    expect(m.plpmtu).toBeLessThanOrEqual(1300);
    expect(m.plpmtu).toBeGreaterThan(1300 - 16);
  });

  it('congestion losses are no black hole: full-size packets sent after them were acknowledged', () => {
    const m = new PathMtu(1472);
    search(m, 1472);
    m.onAcked(20, 1472, 100);
    for (let pn = 10; pn < 20; pn++) m.onLost(pn, 1472, 100);
    expect(m.plpmtu).toBe(1472);
    expect(m.counters.mtuBlackHoles).toBe(0);
  });

  it('a PTO drops to the base size and the search starts again from the ceiling; so does a restart', () => {
    const m = new PathMtu(1472);
    search(m, 1472);
    m.onPto(50);
    expect(m.plpmtu).toBe(BASE_PLPMTU);
    expect(search(m, 1472, 60)).toEqual([1472]);
    m.restart();
    expect(m.plpmtu).toBe(BASE_PLPMTU);
    expect(m.phase).toBe('searching');
    expect(m.probeDue(70)).toBe(1472);
  });

  it('after a PTO the size the path had is tried first: one probe restores it; if it fails, the search goes below it', () => {
    const m = new PathMtu(1472);
    search(m, 1300);
    const found = m.plpmtu;
    expect(found).toBeLessThan(1472);
    m.onPto(1000);
    expect(m.plpmtu).toBe(BASE_PLPMTU);
    expect(search(m, 1300, 1010)).toEqual([found]);
    expect(m.plpmtu).toBe(found);
    expect(m.phase).toBe('complete');
    // The MTU shrank during the outage: the old size fails MAX_PROBES times, the search finds the new one.
    m.onPto(2000);
    const tried = search(m, 1250, 2010);
    expect(tried.slice(0, MAX_PROBES)).toEqual([found, found, found]);
    expect(m.plpmtu).toBeLessThanOrEqual(1250);
    expect(m.plpmtu).toBeGreaterThan(1250 - 16);
  });

  it('searches again after PMTU_RAISE_TIMER, and a probe never answered counts as lost after PROBE_TIMER', () => {
    const m = new PathMtu(1472);
    search(m, 1300);
    const found = m.plpmtu;
    expect(m.probeDue(1000)).toBe(0);
    const size = m.probeDue(PMTU_RAISE_TIMER + 1000);
    expect(size).toBe(1472);
    m.onProbeSent(500, size, PMTU_RAISE_TIMER + 1000);
    expect(m.probeDue(PMTU_RAISE_TIMER + 2000)).toBe(0);
    // Nothing heard for 15 s: lost, and tried again.
    expect(m.probeDue(PMTU_RAISE_TIMER + 17_000)).toBe(1472);
    expect(m.counters.mtuProbesLost).toBeGreaterThan(0);
    expect(m.plpmtu).toBe(found);
  });
});
