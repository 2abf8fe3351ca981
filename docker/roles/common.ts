/**
 * What the Docker demo's client needs besides the bench's sender and
 * receiver: settings from the environment, names of the networks ("isp-a")
 * by address prefix, number formatting and its log.
 */

export const MiB = 1024 * 1024;

/** A setting from the environment, or `fallback`. */
export function env(name: string, fallback: string): string {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
}

/** A numeric setting; exits with a message if it is not a number >= min. */
export function envNumber(name: string, fallback: number, min = 0): number {
  const text = env(name, String(fallback));
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) {
    console.error(`${name} must be a number >= ${min}, got '${text}'`);
    process.exit(2);
  }
  return value;
}

/** One network of the demo: its name and the prefix of its addresses. */
export interface NetworkLabel {
  /** Name shown in logs and the summary ('isp-a'). */
  name: string;
  /** Text prefix of the addresses in that network ('198.18.1.'). */
  prefix: string;
}

/** Parses MPUDP_LABELS: 'isp-a=198.18.1.,isp-b=198.18.2.'. */
export function parseLabels(text: string): NetworkLabel[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      const [name, prefix] = part.split('=');
      return { name: name ?? part, prefix: prefix ?? '' };
    });
}

/** The network an address belongs to, or the address itself. */
export function labelOf(labels: readonly NetworkLabel[], address: string | undefined): string {
  if (address === undefined) return '?';
  return labels.find((l) => l.prefix !== '' && address.startsWith(l.prefix))?.name ?? address;
}

/** Mbit/s of `bytes` over `ms`. */
export function mbps(bytes: number, ms: number): number {
  return ms > 0 ? (bytes * 8) / (ms * 1000) : 0;
}

/** A number right-aligned in `width` with `digits` decimals. */
export function fmt(n: number, width = 7, digits = 1): string {
  return n.toFixed(digits).padStart(width);
}

/** One log line, prefixed with the role, to stdout. */
export function logger(role: string): (line: string) => void {
  return (line: string) => process.stdout.write(`[${role}] ${line}\n`);
}

/** Exit on SIGTERM/SIGINT at once (the process may be PID 1 of its container). */
export function exitOnSignals(log: (line: string) => void): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log(`${signal}: exiting`);
      process.exit(128 + (signal === 'SIGTERM' ? 15 : 2));
    });
  }
}
