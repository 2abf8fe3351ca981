/** Socket addresses as the core compares them. */
import type { SocketAddress } from './types.js';

/** Two socket addresses are the same address and port. */
export function sameAddress(a: SocketAddress, b: SocketAddress): boolean {
  return a.port === b.port && a.address === b.address;
}

/** IPv4 or IPv6, from the textual form. */
export function addressFamily(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}
