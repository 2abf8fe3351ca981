/**
 * Hand-written SVG charts (no dependency): grouped bar charts and line
 * charts with vertical markers. Plain SVG 1.1 that any browser or GitHub
 * renders; text is escaped.
 */

export const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#7f7f7f'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function num(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 10) / 10) : '0';
}

/** A "nice" axis maximum and step above `max`. */
export function niceScale(maxValue: number, ticks = 5): { max: number; step: number } {
  if (!(maxValue > 0) || !Number.isFinite(maxValue)) return { max: 1, step: 0.2 };
  const raw = maxValue / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  return { max: Math.ceil(maxValue / step) * step, step };
}

function fmtTick(v: number): string {
  if (Math.abs(v) >= 1000) return `${Math.round(v / 100) / 10}k`;
  return String(Math.round(v * 100) / 100);
}

export interface Bar {
  label: string;
  value: number;
  /** Text above the bar (default: the value). */
  text?: string;
  color?: string;
}

export interface BarGroup {
  label: string;
  bars: Bar[];
}

export interface BarChart {
  title: string;
  yLabel: string;
  groups: BarGroup[];
  /** Horizontal reference lines (a target, a capacity). */
  lines?: { value: number; label: string; color?: string }[];
  width?: number;
  height?: number;
}

/** A grouped bar chart. */
export function barChart(c: BarChart): string {
  const width = c.width ?? 760;
  const height = c.height ?? 360;
  const m = { top: 40, right: 20, bottom: 70, left: 70 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const values = c.groups.flatMap((g) => g.bars.map((b) => b.value)).concat((c.lines ?? []).map((l) => l.value));
  const { max, step } = niceScale(Math.max(0, ...values.filter(Number.isFinite)));
  const y = (v: number): number => m.top + h - (Math.max(0, v) / max) * h;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(c.title)}</text>`);
  for (let v = 0; v <= max + 1e-9; v += step) {
    out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${num(y(v))}" y2="${num(y(v))}" stroke="#ddd"/>`);
    out.push(`<text x="${m.left - 6}" y="${num(y(v) + 4)}" text-anchor="end">${fmtTick(v)}</text>`);
  }
  out.push(`<text transform="translate(16 ${m.top + h / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`);
  const gw = w / Math.max(1, c.groups.length);
  c.groups.forEach((g, gi) => {
    const n = Math.max(1, g.bars.length);
    const bw = Math.min(110, (gw * 0.8) / n);
    const x0 = m.left + gi * gw + (gw - bw * n) / 2;
    g.bars.forEach((b, bi) => {
      const x = x0 + bi * bw;
      const color = b.color ?? COLORS[bi % COLORS.length]!;
      out.push(`<rect x="${num(x + 1)}" y="${num(y(b.value))}" width="${num(bw - 2)}" height="${num(m.top + h - y(b.value))}" fill="${color}"><title>${esc(`${g.label} ${b.label}: ${b.text ?? fmtTick(b.value)}`)}</title></rect>`);
      out.push(`<text x="${num(x + bw / 2)}" y="${num(y(b.value) - 4)}" text-anchor="middle" font-size="10">${esc(b.text ?? fmtTick(b.value))}</text>`);
      out.push(`<text x="${num(x + bw / 2)}" y="${m.top + h + 14}" text-anchor="middle" font-size="10">${esc(b.label)}</text>`);
    });
    out.push(`<text x="${num(m.left + gi * gw + gw / 2)}" y="${m.top + h + 34}" text-anchor="middle" font-weight="bold">${esc(g.label)}</text>`);
  });
  for (const l of c.lines ?? []) {
    const color = l.color ?? '#d62728';
    out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${num(y(l.value))}" y2="${num(y(l.value))}" stroke="${color}" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${m.left + w - 4}" y="${num(y(l.value) - 4)}" text-anchor="end" fill="${color}">${esc(l.label)}</text>`);
  }
  out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${m.top + h}" y2="${m.top + h}" stroke="black"/>`);
  out.push('</svg>');
  return out.join('\n');
}

export interface Series {
  label: string;
  /** [x, y] points, x ascending. */
  points: [number, number][];
  color?: string;
  /** Draw as a step function (bins). */
  step?: boolean;
  dashed?: boolean;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Vertical lines at x (events: a failure, a heal). */
  markers?: { x: number; label: string; color?: string }[];
  /** Shaded x ranges (an outage). */
  spans?: { from: number; to: number; label: string; color?: string }[];
  yMax?: number;
  width?: number;
  height?: number;
}

/** A line chart (time series). */
export function lineChart(c: LineChart): string {
  const width = c.width ?? 820;
  const height = c.height ?? 340;
  const m = { top: 40, right: 20, bottom: 60, left: 64 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = c.series.flatMap((s) => s.points.map((p) => p[1]));
  const xMin = Math.min(0, ...xs);
  const xScale = niceScale(Math.max(...xs, xMin + 1) - xMin, 8);
  const yScale = niceScale(c.yMax ?? Math.max(1, ...ys.filter(Number.isFinite)));
  const x = (v: number): number => m.left + ((v - xMin) / xScale.max) * w;
  const y = (v: number): number => m.top + h - (Math.max(0, Math.min(v, yScale.max)) / yScale.max) * h;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(c.title)}</text>`);
  for (const s of c.spans ?? []) {
    out.push(`<rect x="${num(x(s.from))}" y="${m.top}" width="${num(Math.max(0, x(s.to) - x(s.from)))}" height="${h}" fill="${s.color ?? '#fbe3e3'}"><title>${esc(s.label)}</title></rect>`);
  }
  for (let v = 0; v <= yScale.max + 1e-9; v += yScale.step) {
    out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${num(y(v))}" y2="${num(y(v))}" stroke="#ddd"/>`);
    out.push(`<text x="${m.left - 6}" y="${num(y(v) + 4)}" text-anchor="end">${fmtTick(v)}</text>`);
  }
  for (let v = 0; v <= xScale.max + 1e-9; v += xScale.step) {
    out.push(`<line x1="${num(x(xMin + v))}" x2="${num(x(xMin + v))}" y1="${m.top + h}" y2="${m.top + h + 4}" stroke="black"/>`);
    out.push(`<text x="${num(x(xMin + v))}" y="${m.top + h + 16}" text-anchor="middle">${fmtTick(xMin + v)}</text>`);
  }
  out.push(`<text x="${m.left + w / 2}" y="${height - 24}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${m.top + h / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`);
  c.series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length]!;
    const pts: string[] = [];
    s.points.forEach(([px, py], j) => {
      if (s.step && j > 0) pts.push(`${num(x(px))},${num(y(s.points[j - 1]![1]))}`);
      pts.push(`${num(x(px))},${num(y(py))}`);
    });
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${pts.join(' ')}"/>`);
    // Legend.
    const lx = m.left + 10 + i * 170;
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${height - 8}" y2="${height - 8}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    out.push(`<text x="${lx + 28}" y="${height - 4}">${esc(s.label)}</text>`);
  });
  for (const mk of c.markers ?? []) {
    const color = mk.color ?? '#d62728';
    out.push(`<line x1="${num(x(mk.x))}" x2="${num(x(mk.x))}" y1="${m.top}" y2="${m.top + h}" stroke="${color}" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${num(x(mk.x) + 3)}" y="${m.top + 12}" fill="${color}">${esc(mk.label)}</text>`);
  }
  out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${m.top + h}" y2="${m.top + h}" stroke="black"/>`);
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + h}" stroke="black"/>`);
  out.push('</svg>');
  return out.join('\n');
}
