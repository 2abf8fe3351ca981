/**
 * A hand-written SVG line plot of per-path throughput over time, with the
 * failure and the heal marked. No dependency.
 */
export interface Series {
  name: string;
  color: string;
  /** Mbit/s per sample. */
  values: number[];
}

export interface Marker {
  atS: number;
  label: string;
  color: string;
}

export function throughputSvg(title: string, stepS: number, series: Series[], markers: Marker[]): string {
  const w = 900;
  const h = 360;
  const left = 60;
  const right = 20;
  const top = 40;
  const bottom = 50;
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const maxY = Math.max(10, ...series.flatMap((s) => s.values)) * 1.1;
  const x = (i: number): number => left + ((w - left - right) * i) / Math.max(1, n - 1);
  const y = (v: number): number => top + (h - top - bottom) * (1 - v / maxY);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${w}" height="${h}" fill="white"/>`);
  out.push(`<text x="${w / 2}" y="22" text-anchor="middle" font-size="15">${escape(title)}</text>`);
  for (let k = 0; k <= 4; k++) {
    const v = (maxY * k) / 4;
    out.push(`<line x1="${left}" x2="${w - right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(0)}</text>`);
  }
  const totalS = (n - 1) * stepS;
  const tickEvery = totalS > 30 ? 5 : totalS > 10 ? 2 : 1;
  for (let t = 0; t <= totalS; t += tickEvery) {
    const xi = x(t / stepS);
    out.push(`<text x="${xi}" y="${h - bottom + 18}" text-anchor="middle">${t}</text>`);
  }
  out.push(`<text x="${w / 2}" y="${h - 10}" text-anchor="middle">time (s)</text>`);
  out.push(`<text x="16" y="${h / 2}" transform="rotate(-90 16 ${h / 2})" text-anchor="middle">Mbit/s</text>`);
  for (const m of markers) {
    const xi = x(m.atS / stepS);
    out.push(`<line x1="${xi}" x2="${xi}" y1="${top}" y2="${h - bottom}" stroke="${m.color}" stroke-dasharray="5,4"/>`);
    out.push(`<text x="${xi + 4}" y="${top + 12}" fill="${m.color}">${escape(m.label)}</text>`);
  }
  series.forEach((s, si) => {
    const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`);
    out.push(`<rect x="${left + 10 + si * 170}" y="${top + 22}" width="12" height="4" fill="${s.color}"/>`);
    out.push(`<text x="${left + 28 + si * 170}" y="${top + 28}">${escape(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
