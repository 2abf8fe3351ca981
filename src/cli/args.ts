/**
 * What every subcommand of `mpudp` shares to read its command line: the
 * usage error main() prints with the command's help, and the parsers of
 * numbers, byte counts, durations, address lists and `HOST:PORT`.
 */
import { isIP } from 'node:net';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A bad command line; main() prints it with the command's usage and exits 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>>;

/** parseArgs with its errors turned into UsageError. */
export function parse<T extends Options>(argv: string[], options: T): Parsed<T> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true as const, strict: true as const });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** `64K`, `10M`, `1G`, `1500` → bytes (binary multiples). */
export function parseBytes(text: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (m === null) throw new UsageError(`invalid byte count '${text}' (examples: 1500, 64K, 10M, 1G)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const n = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`invalid byte count '${text}'`);
  return n;
}

/** An integer flag in [min, max], or `dflt` when absent. */
export function int(text: string | undefined, name: string, dflt: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${text}'`);
  }
  return n;
}

/** A flag in seconds (fractions allowed), returned in ms, or `dflt` (ms) when absent. */
export function seconds(text: string | undefined, name: string, dflt: number): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a number of seconds, got '${text}'`);
  return n * 1000;
}

/** A repeatable, comma-separated flag as one list. */
export function list(values: string[] | string | undefined): string[] {
  if (values === undefined) return [];
  return (Array.isArray(values) ? values : [values]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

/** Checks that every entry is IP text. */
export function addresses(values: string[], name: string): string[] {
  for (const a of values) if (isIP(a) === 0) throw new UsageError(`--${name}: '${a}' is not an IP address`);
  return values;
}

/** A port (1..65535, or 0..65535 with `allowZero`). */
export function port(text: string | undefined, name: string, allowZero: boolean): number {
  if (text === undefined) throw new UsageError(`${name} is required`);
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535) {
    throw new UsageError(`${name} must be a port number (${allowZero ? 0 : 1}..65535), got '${text}'`);
  }
  return n;
}

/** `HOST:PORT`, `[IPv6]:PORT` or `PORT` (host `dfltHost`); port 0 only with `allowZero`. */
export function hostPort(text: string, name: string, dfltHost: string, allowZero = false): { host: string; port: number } {
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (bracket !== null) return { host: bracket[1]!, port: port(bracket[2], name, allowZero) };
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { host: dfltHost, port: port(text, name, allowZero) };
  const host = text.slice(0, colon);
  if (host.includes(':')) throw new UsageError(`${name}: write an IPv6 address as [ADDRESS]:PORT, got '${text}'`);
  return { host: host === '' ? dfltHost : host, port: port(text.slice(colon + 1), name, allowZero) };
}
