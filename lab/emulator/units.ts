/**
 * Parsing of the emulator's human units, as `tc` writes them: rates
 * (`100mbit`, `1.5gbit`, `800kbit`, `12500000` = bits per second), sizes
 * (`64kb`, `1mb`, `1500` = bytes; k = 1024 as in tc), durations (`10`, `10ms`,
 * `5s`, `1.5s`; a bare number is milliseconds), probabilities (`0.01`, `1%`)
 * and `host:port` pairs (`127.0.0.11:7000`, `[::1]:7000`).
 */
import { isIP } from 'node:net';

/** An UDP address. */
export interface HostPort {
  /** IP text. */
  address: string;
  /** UDP port (0 = any, for a listen address). */
  port: number;
}

/** Rate suffixes (bits per second), as tc spells them; decimal like tc's. */
const RATE_UNITS: Record<string, number> = {
  '': 1,
  bit: 1,
  bps: 8,
  kbit: 1e3,
  mbit: 1e6,
  gbit: 1e9,
  kbps: 8e3,
  mbps: 8e6,
  gbps: 8e9,
};

/** Size suffixes (bytes); binary like tc's `kb`. */
const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 * 1024,
  mb: 1024 * 1024,
  mib: 1024 * 1024,
};

/** Duration suffixes (milliseconds). */
const TIME_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, us: 0.001, m: 60_000, min: 60_000 };

/** Splits `12.5mbit` into 12.5 and `mbit`; throws on anything else. */
function splitNumber(text: string, what: string): [number, string] {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-z%]*)\s*$/i.exec(text);
  if (m === null) throw new RangeError(`invalid ${what}: '${text}'`);
  return [Number(m[1]), m[2]!.toLowerCase()];
}

/** Looks `unit` up in `table`; throws naming the allowed units. */
function scale(table: Record<string, number>, unit: string, text: string, what: string): number {
  const f = table[unit];
  if (f === undefined) {
    const allowed = Object.keys(table).filter((u) => u !== '').join(', ');
    throw new RangeError(`invalid ${what}: '${text}' (units: ${allowed})`);
  }
  return f;
}

/** A rate in bits per second: `100mbit` → 100e6. A number passes through. */
export function parseRate(text: string | number): number {
  if (typeof text === 'number') return text;
  const [n, unit] = splitNumber(text, 'rate');
  return n * scale(RATE_UNITS, unit, text, 'rate');
}

/** A size in bytes: `64kb` → 65536. A number passes through. */
export function parseSize(text: string | number): number {
  if (typeof text === 'number') return text;
  const [n, unit] = splitNumber(text, 'size');
  return Math.round(n * scale(SIZE_UNITS, unit, text, 'size'));
}

/** A duration in milliseconds: `5s` → 5000, `10` → 10. A number passes through. */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') return text;
  const [n, unit] = splitNumber(text, 'duration');
  return n * scale(TIME_UNITS, unit, text, 'duration');
}

/** A probability in [0, 1]: `0.01` or `1%`. */
export function parseProbability(text: string | number): number {
  let p: number;
  if (typeof text === 'number') p = text;
  else {
    const [n, unit] = splitNumber(text, 'probability');
    if (unit !== '' && unit !== '%') throw new RangeError(`invalid probability: '${text}'`);
    p = unit === '%' ? n / 100 : n;
  }
  if (!(p >= 0 && p <= 1)) throw new RangeError(`probability out of [0, 1]: '${text}'`);
  return p;
}

/** `127.0.0.1:4433` or `[::1]:4433` → { address, port }. */
export function parseHostPort(text: string): HostPort {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (m === null) throw new RangeError(`invalid address '${text}': expected IP:PORT or [IPv6]:PORT`);
  const address = m[1]!;
  const port = Number(m[2]);
  if (isIP(address) === 0) throw new RangeError(`invalid address '${text}': '${address}' is not an IP address`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`invalid port in '${text}'`);
  return { address, port };
}

/** Formats a rate for humans: 100e6 → `100mbit`. */
export function formatRate(bps: number): string {
  if (bps <= 0) return 'unlimited';
  if (bps >= 1e9 && bps % 1e7 === 0) return `${bps / 1e9}gbit`;
  if (bps >= 1e6 && bps % 1e4 === 0) return `${bps / 1e6}mbit`;
  if (bps >= 1e3 && bps % 10 === 0) return `${bps / 1e3}kbit`;
  return `${bps}bit`;
}
