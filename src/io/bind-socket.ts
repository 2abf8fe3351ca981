/**
 * Binding node:dgram sockets: IP text resolved without a DNS round, a
 * bind that resolves once the socket listens, and a port nobody holds.
 */
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';

/**
 * dgram's lookup for IP text answers synchronously: `send()` then reaches the
 * kernel at once instead of one `dns.lookup` and `nextTick` per datagram.
 */
export function lookupLiteral(
  hostname: string,
  options: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dnsLookup(hostname, options as number, callback);
}

/**
 * Binds a UDP socket to `address:port`; resolves once it listens. In a
 * `node:cluster` worker a non-exclusive bind is the primary's handle,
 * shared by every worker that binds the same address and port.
 */
export function bindSocket(address: string, port: number, reuseAddr: boolean, exclusive: boolean): Promise<DgramSocket> {
  const socket =
    isIP(address) === 6
      ? createSocket({ type: 'udp6', ipv6Only: true, reuseAddr, lookup: lookupLiteral })
      : createSocket({ type: 'udp4', reuseAddr, lookup: lookupLiteral });
  return new Promise<DgramSocket>((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ address, port, exclusive }, () => {
      socket.removeListener('error', onError);
      resolve(socket);
    });
  });
}

/**
 * A port nobody holds on `address` now (taken and released without
 * SO_REUSEADDR). close() releases the port at once; its callback only
 * reports the handle's end, so it is not waited for.
 */
export async function freePort(address: string): Promise<number> {
  const probe = await bindSocket(address, 0, false, true);
  const port = probe.address().port;
  probe.close();
  return port;
}
