/**
 * The host's own addresses, from `os.networkInterfaces()`, and the default
 * address lists of a server and a client.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

export type AddressFamily = 'IPv4' | 'IPv6';

/** One address of one of the host's interfaces. */
export interface HostAddress {
  /** IP text, without a zone. */
  address: string;
  family: AddressFamily;
  /** A loopback address. */
  internal: boolean;
  /** Interface name (e.g. 'eth0'). */
  interface: string;
}

export interface HostAddressOptions {
  /** Only this family (4, 6, 'IPv4', 'IPv6'). Default: both. */
  family?: AddressFamily | 4 | 6;
  /** Include loopback addresses. Default true. */
  includeInternal?: boolean;
}

/** The family of an IP text, or null if it is not an IP address. */
export function familyOf(address: string): AddressFamily | null {
  const version = isIP(address);
  return version === 4 ? 'IPv4' : version === 6 ? 'IPv6' : null;
}

/** Link-local addresses (169.254/16, fe80::/10) need a zone and are never used by default. */
export function isLinkLocal(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith('169.254.');
  return /^fe[89ab][0-9a-f]:/i.test(address);
}

/** Loopback addresses (127/8, ::1). */
export function isLoopback(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith('127.');
  return address === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(address);
}

/** The host's addresses, link-local ones excepted; non-loopback ones first. */
export function hostAddresses(options: HostAddressOptions = {}): HostAddress[] {
  const wanted = options.family === 4 ? 'IPv4' : options.family === 6 ? 'IPv6' : options.family;
  const includeInternal = options.includeInternal ?? true;
  const out: HostAddress[] = [];
  const seen = new Set<string>();
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const info of list ?? []) {
      const family: AddressFamily = info.family === 'IPv6' ? 'IPv6' : 'IPv4';
      if (wanted !== undefined && family !== wanted) continue;
      if (info.internal && !includeInternal) continue;
      if (isLinkLocal(info.address) || seen.has(info.address)) continue;
      seen.add(info.address);
      out.push({ address: info.address, family, internal: info.internal, interface: name });
    }
  }
  return out.sort((a, b) => Number(a.internal) - Number(b.internal));
}

/** A server's default: every address of the host but link-local ones, loopback included. */
export function defaultServerAddresses(): string[] {
  return hostAddresses().map((a) => a.address);
}

/**
 * A client's default for the given server addresses: only families the server
 * has; loopback addresses if every server address is loopback; otherwise the
 * non-loopback addresses, or loopback ones if the host has no other.
 */
export function defaultClientAddresses(remotes: readonly string[]): string[] {
  const families = new Set(remotes.map(familyOf));
  const usable = hostAddresses().filter((a) => families.has(a.family));
  const loopback = usable.filter((a) => a.internal);
  const external = usable.filter((a) => !a.internal);
  const pick = remotes.length > 0 && remotes.every(isLoopback) ? loopback : external.length > 0 ? external : loopback;
  return pick.map((a) => a.address);
}
