/**
 * Numbers for the bench: medians, ranges, and cutting the receiver's
 * cumulative timeline (src/cli/bench/common.ts Timeline) into exact bins.
 */
import type { Timeline } from '../../src/cli/bench/common.js';

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function min(xs: readonly number[]): number {
  const f = xs.filter((x) => Number.isFinite(x));
  return f.length > 0 ? Math.min(...f) : NaN;
}

export function max(xs: readonly number[]): number {
  const f = xs.filter((x) => Number.isFinite(x));
  return f.length > 0 ? Math.max(...f) : NaN;
}

/** a / b, or NaN when either is missing or b is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number {
  if (a === null || a === undefined || b === null || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return NaN;
  return a / b;
}

/** One column of a timeline as a function of time (epoch ms): linear interpolation of the cumulative counter. */
export function cumulative(tl: Timeline, column: string): (epochMs: number) => number {
  const c = tl.columns.indexOf(column);
  if (c < 0) throw new Error(`timeline has no column '${column}' (has ${tl.columns.join(', ')})`);
  const ts = tl.rows.map((r) => tl.t0 + r[0]!);
  const vs = tl.rows.map((r) => r[c]!);
  return (t: number): number => {
    if (ts.length === 0) return 0;
    if (t <= ts[0]!) return vs[0]!;
    if (t >= ts[ts.length - 1]!) return vs[vs.length - 1]!;
    let lo = 0;
    let hi = ts.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (ts[mid]! <= t) lo = mid;
      else hi = mid;
    }
    const f = (t - ts[lo]!) / (ts[hi]! - ts[lo]! || 1);
    return vs[lo]! + f * (vs[hi]! - vs[lo]!);
  };
}

/** Bytes per bin of `binMs` from `from` to `to` (epoch ms) of a cumulative column. */
export function bins(tl: Timeline, column: string, from: number, to: number, binMs: number): number[] {
  const f = cumulative(tl, column);
  const out: number[] = [];
  for (let t = from; t + binMs <= to + 1e-6; t += binMs) out.push(Math.max(0, f(t + binMs) - f(t)));
  return out;
}

/** Epoch ms span of a timeline. */
export function span(tl: Timeline): { start: number; end: number } {
  const rows = tl.rows;
  return { start: tl.t0 + (rows[0]?.[0] ?? 0), end: tl.t0 + (rows[rows.length - 1]?.[0] ?? 0) };
}

export const mbit = (bps: number): number => bps / 1e6;
export const round = (x: number, digits = 2): number => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : NaN);
