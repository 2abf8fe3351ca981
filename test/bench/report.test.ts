/**
 * The bench's pure parts: statistics, timeline bins, the failover analysis
 * on a synthetic timeline, the CPU profile summary, SVG and markdown output.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Timeline } from '../../src/cli/bench/common.js';
import { figureTable, fmt, measured, renderMarkdown, table, type Section } from '../../bench/lib/report.js';
import { bins, cumulative, median, ratio } from '../../bench/lib/stats.js';
import { barChart, lineChart, niceScale } from '../../bench/lib/svg.js';
import { healMedian, type FailoverRun } from '../../bench/scenarios/failover.js';
import { analyzeFailover, reduceAggregation } from '../../bench/scenarios/lab.js';
import { summarizeProfile } from '../../bench/scenarios/profile.js';

/** Every opened tag is closed, in order (a well-formedness check good enough for our SVG). */
function balanced(svg: string): boolean {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    if (m[3] === '/') continue;
    if (m[1] === '/') {
      if (stack.pop() !== m[2]) return false;
    } else stack.push(m[2]!);
  }
  return stack.length === 0;
}

/**
 * A download timeline sampled every 50 ms from t0 = 1,000,000: ISP A at
 * 12,500 B/ms and B at 6,250 B/ms (wire = goodput); A stops at `fail` and
 * comes back at `back`; delivery stalls for `stall` ms after the failure.
 */
function syntheticTimeline(fail: number, back: number, stall: number, end = 12_000): Timeline {
  const t0 = 1_000_000;
  const rows: number[][] = [];
  let a = 0;
  let b = 0;
  let d = 0;
  for (let t = 0; t <= end; t += 50) {
    rows.push([t, d, a, b]);
    const aOn = t < fail || t >= back;
    const da = aOn ? 12_500 * 50 : 0;
    const db = 6_250 * 50;
    a += da;
    b += db;
    d += t >= fail && t < fail + stall ? 0 : da + db;
  }
  return { t0, columns: ['t', 'delivered', 'if:isp-a', 'if:isp-b'], rows };
}

describe('bench statistics', () => {
  it('median, ratio', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([NaN, 5])).toBe(5);
    expect(Number.isNaN(median([]))).toBe(true);
    expect(ratio(1, 4)).toBe(0.25);
    expect(Number.isNaN(ratio(1, 0))).toBe(true);
    expect(Number.isNaN(ratio(null, 2))).toBe(true);
  });

  it('interpolates a cumulative column and cuts exact bins', () => {
    const tl: Timeline = { t0: 100, columns: ['t', 'delivered'], rows: [[0, 0], [40, 400], [100, 1000]] };
    const f = cumulative(tl, 'delivered');
    expect(f(100)).toBe(0);
    expect(f(120)).toBe(200);
    expect(f(170)).toBe(700);
    expect(f(500)).toBe(1000);
    expect(bins(tl, 'delivered', 100, 200, 50)).toEqual([500, 500]);
    expect(() => cumulative(tl, 'nope')).toThrow(/no column 'nope'/);
  });
});

describe('failover analysis', () => {
  it('counts the stalled delivery as time lost and finds when ISP A is back', () => {
    const tl = syntheticTimeline(3000, 6200, 300);
    const r = analyzeFailover('mpudp', 3000, 0, { type: 'result', timeline: tl }, tl.t0 + 3000, tl.t0 + 6000, 50e6, 1);
    // 2 s after the failure: 1.7 s of B's bytes delivered -> 300 ms lost.
    expect(r.lostMs).toBeGreaterThan(280);
    expect(r.lostMs).toBeLessThan(320);
    expect(r.survivorMbps).toBeCloseTo(50, 0);
    expect(r.maxLagMs).toBeGreaterThan(280);
    expect(r.maxLagMs).toBeLessThan(320);
    // A back 200 ms after the heal: the bin [200, 250) is the first carrying data.
    expect(r.healMs).toBe(250);
    expect(r.svg.startsWith('<svg')).toBe(true);
    // Without the steady share of capacity, the whole transfer's goodput per received byte is used (here 0.99: the stall).
    const w = analyzeFailover('mpudp', 3000, 0, { type: 'result', timeline: tl }, tl.t0 + 3000, tl.t0 + 6000, 50e6);
    expect(w.survivorMbps).toBeGreaterThan(49);
    expect(w.survivorMbps).toBeLessThan(50);
    expect(balanced(r.svg)).toBe(true);
  });

  it('reports no heal when ISP A never comes back, and no loss when delivery never stalls', () => {
    const tl = syntheticTimeline(3000, Infinity, 0);
    const r = analyzeFailover('mptcp', 3000, 0, { type: 'result', timeline: tl }, tl.t0 + 3000, tl.t0 + 6000, 50e6, 1);
    expect(r.healMs).toBeNull();
    expect(r.lostMs).toBeLessThan(5);
  });

  it('takes a run that never healed as longer than any that did', () => {
    const runs = (xs: (number | null)[]) => xs.map((healMs) => ({ healMs }) as FailoverRun);
    expect(healMedian(runs([100, 300, 200]))).toBe(200);
    expect(healMedian(runs([null, 7100]))).toBe(Infinity);
    expect(healMedian(runs([null, 100, 200]))).toBe(200);
    expect(Number.isNaN(healMedian([]))).toBe(true);
  });

  it('reduces an aggregation run to its share of capacity and ISP shares', () => {
    const tl = syntheticTimeline(1e9, 1e9, 0, 5000);
    const bytes = tl.rows[tl.rows.length - 1]![1]!;
    const r = reduceAggregation('mpudp', 0, { type: 'result', timeline: tl, bps: (bytes * 8) / 5, firstMs: tl.t0, lastMs: tl.t0 + 5000, cpuSeconds: 1 }, 150e6);
    expect(r.ofCapacity).toBeCloseTo(1, 1);
    expect(r.shareA).toBeCloseTo(2 / 3, 2);
    expect(r.shareB).toBeCloseTo(1 / 3, 2);
    expect(r.steadyOfCapacity).toBeCloseTo(1, 1);
  });
});

describe('CPU profile summary', () => {
  it('sums self time per function and module, idle excluded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpudp-prof-'));
    const file = join(dir, 'x.cpuprofile');
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9, columnNumber: 0 });
    writeFileSync(
      file,
      JSON.stringify({
        nodes: [
          { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 4] },
          { id: 2, callFrame: frame('(idle)', '') },
          { id: 3, callFrame: frame('hot', 'node:dgram') },
          { id: 4, callFrame: frame('cold', 'node:dgram') },
        ],
        startTime: 0,
        endTime: 10_000,
        samples: [3, 3, 3, 4, 2, 2],
        timeDeltas: [0, 1000, 1000, 1000, 1000, 1000],
      }),
    );
    const s = summarizeProfile('test', file, 5);
    expect(s.busyMs).toBeCloseTo(4, 5);
    expect(s.functions[0]!.name).toBe('hot');
    expect(s.functions[0]!.share).toBeCloseTo(0.75, 5);
    expect(s.functions[0]!.where).toBe('node:dgram:10');
    expect(s.modules[0]!.name).toBe('node:dgram');
    expect(s.modules[0]!.share).toBeCloseTo(1, 5);
  });
});

describe('SVG and markdown', () => {
  it('draws well-formed charts with escaped text', () => {
    const bar = barChart({ title: 'a < b & "c"', yLabel: 'Mbit/s', groups: [{ label: 'g', bars: [{ label: 'x', value: 3 }, { label: 'y', value: 7.5 }] }], lines: [{ value: 5, label: 't' }] });
    expect(bar).toContain('a &lt; b &amp; &quot;c&quot;');
    expect(balanced(bar)).toBe(true);
    const line = lineChart({ title: 't', xLabel: 's', yLabel: 'Mbit/s', series: [{ label: 's', points: [[0, 1], [1, 2], [2, 0]], step: true }], markers: [{ x: 1, label: 'm' }], spans: [{ from: 0.5, to: 1.5, label: 'out' }] });
    expect(balanced(line)).toBe(true);
    expect(line).toContain('<polyline');
    expect(niceScale(87)).toEqual({ max: 100, step: 20 });
  });

  it('renders figures beside their baselines with the verdict', () => {
    expect(fmt(1234.5)).toBe('1,235');
    expect(fmt(0.12345)).toBe('0.123');
    expect(fmt(NaN)).toBe('–');
    expect(table(['a', 'b'], [[1, 'x|y']])).toContain('x\\|y');
    const f = { name: 'goodput', value: 100, unit: 'Mbit/s', baseline: { name: 'raw', value: 400 }, ratio: 0.25, target: { text: '≥ 0.75', on: 'ratio' as const, pass: false } };
    expect(measured(f)).toBe('0.250 (100 Mbit/s)');
    const t = figureTable([f]);
    expect(t).toContain('raw: 400 Mbit/s');
    expect(t).toContain('**miss**');
    const section: Section = { id: 's', title: 'S', method: 'how', figures: [f], raw: {}, svgs: { 'x.svg': '<svg/>' } };
    const md = renderMarkdown({ date: 'today', machine: 'here', args: '' }, [section, { id: 'k', title: 'K', skipped: 'not root', method: '', figures: [], raw: {} }]);
    expect(md).toContain('## Targets');
    expect(md).toContain('![x.svg](x.svg)');
    expect(md).toContain('Skipped: not root');
  });
});
