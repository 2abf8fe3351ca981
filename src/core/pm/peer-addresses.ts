/**
 * The peer's address advertisements (ADD_ADDRESS, REMOVE_ADDRESS) as
 * received: what the client learns of the server's addresses.
 *
 * Bounded and ordered (issue 9): at most `maxPeerAddresses` addresses are
 * added to the peer's list, an address already known under another ID or
 * from the start is not stored twice, and at most twice that many address
 * IDs are remembered. Per address ID the newest sequence number wins, so a
 * late or repeated frame (a retransmission that crossed a withdrawal) can
 * neither bring a withdrawn address back nor withdraw a newer one. Every
 * refusal is counted.
 */
import { ownMap } from '../empty.js';
import type { Frame } from '../../wire/types.js';
import type { Connection } from '../connection.js';
import { sameAddress } from '../address.js';
import { abandonPath } from '../recovery.js';
import { countDrop } from '../stats.js';
import type { SocketAddress } from '../types.js';
import { openMeshPaths } from './path-manager.js';

/**
 * An ADD/REMOVE_ADDRESS is taken only if its sequence number is newer than
 * the one last applied for its ID, and a new ID only while the remembered
 * IDs are under twice maxPeerAddresses. Returns the entry it replaces
 * (undefined for a new ID), or false when refused (counted).
 */
function newerAdvert(conn: Connection, frame: { addressId: number; seq: number }): ReturnType<Connection['advertisedByPeer']['get']> | false {
  const entry = conn.advertisedByPeer.get(frame.addressId);
  if (entry !== undefined && frame.seq <= entry.seq) {
    countDrop(conn.drops, 'stale-address');
    return false;
  }
  if (entry === undefined && conn.advertisedByPeer.size >= 2 * conn.options.maxPeerAddresses) {
    countDrop(conn.drops, 'too-many-addresses');
    return false;
  }
  return entry;
}

export function onAddAddress(conn: Connection, frame: Extract<Frame, { type: 'add_address' }>, now: number): void {
  const entry = newerAdvert(conn, frame);
  if (entry === false) return;
  const addr: SocketAddress = { address: frame.address, port: frame.port };
  if (entry?.address != null && !sameAddress(entry.address, addr)) forget(conn, entry.address, frame.addressId, now);
  const known = conn.remoteAddresses.some((a) => sameAddress(a, addr));
  if (!known && conn.remoteAddresses.length >= conn.options.maxPeerAddresses) {
    countDrop(conn.drops, 'too-many-addresses');
    return;
  }
  (conn.advertisedByPeer = ownMap(conn.advertisedByPeer)).set(frame.addressId, { address: addr, seq: frame.seq });
  if (known) return;
  conn.remoteAddresses.push(addr);
  if (conn.role === 'client') openMeshPaths(conn, now, { remote: addr });
}

export function onRemoveAddress(conn: Connection, frame: Extract<Frame, { type: 'remove_address' }>, now: number): void {
  const entry = newerAdvert(conn, frame);
  if (entry === false) return;
  // A tombstone: an older ADD_ADDRESS for this ID arriving later is refused.
  (conn.advertisedByPeer = ownMap(conn.advertisedByPeer)).set(frame.addressId, { address: null, seq: frame.seq });
  if (entry?.address != null) forget(conn, entry.address, frame.addressId, now);
}

/** The peer no longer has `addr` (unless another of its address IDs still names it): its paths are abandoned. */
function forget(conn: Connection, addr: SocketAddress, addressId: number, now: number): void {
  for (const [id, other] of conn.advertisedByPeer) {
    if (id !== addressId && other.address !== null && sameAddress(other.address, addr)) return;
  }
  const i = conn.remoteAddresses.findIndex((a) => sameAddress(a, addr));
  if (i >= 0) conn.remoteAddresses.splice(i, 1);
  for (const p of conn.pathList) {
    if (p.state !== 'closed' && sameAddress(p.remote, addr)) abandonPath(conn, p, now, 'address-removed');
  }
}
