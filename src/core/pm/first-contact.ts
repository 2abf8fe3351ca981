/**
 * Client: the pairs first contact tries, and the server's addresses after
 * first contact.
 *
 * The addresses a client starts with are for first contact: a DNS name may
 * give one address per host of a fleet, and a cluster's public port only
 * takes first contact before each worker moves its connections to a port
 * of its own. Once the server advertises (ADD_ADDRESS), the addresses it
 * advertises are its addresses:
 *
 * 1. The mesh is opened to advertised addresses only; a path still
 *    validating to an address the server did not advertise (another host,
 *    or the shared port) is abandoned at once.
 * 2. When the address the handshake came from is not among them, the
 *    server has moved the connection (QUIC's preferred_address does the
 *    same, RFC 9000 §9.6): as soon as a path to an advertised address is
 *    validated, every path to an address it did not advertise is abandoned,
 *    and the server is told (PATH_ABANDON).
 *
 * So a connection lives on the host (and the worker) that answered first,
 * over that host's own addresses, and never holds paths to two hosts. A
 * server that advertises nothing (advertiseAddresses: false, behind a relay
 * or NAT whose addresses it does not know) leaves the client's list as it
 * was given.
 */
import type { Connection } from '../connection.js';
import { addressFamily, sameAddress } from '../address.js';
import { abandonPath } from '../recovery.js';
import type { PathState } from '../path/path-state.js';
import type { SocketAddress } from '../types.js';

/** The addresses the server advertised and has not withdrawn. */
function advertised(conn: Connection): SocketAddress[] {
  const out: SocketAddress[] = [];
  for (const e of conn.advertisedByPeer.values()) if (e.address !== null) out.push(e.address);
  return out;
}

function isAdvertised(list: readonly SocketAddress[], addr: SocketAddress): boolean {
  return list.some((a) => sameAddress(a, addr));
}

/**
 * Abandons `path` here and tells the peer, which may hold state for it
 * (PATH_ABANDON goes on another path); a path that never sent a packet is
 * unknown to the peer and just closed.
 */
function retire(conn: Connection, path: PathState, now: number, reason: string): void {
  const known = path.counters.packetsSent > 0;
  abandonPath(conn, path, now, reason);
  if (known) conn.pendingControl.push({ type: 'path_abandon', pathId: path.id, errorCode: 0 });
  conn.counters.firstContactPathsRetired++;
}

/** Client: the server advertised an address; its advertisements now decide its addresses (rule 1, then 2). */
export function onServerAdvertised(conn: Connection, now: number): void {
  if (conn.role !== 'client') return;
  const list = advertised(conn);
  if (list.length === 0) return;
  // The mesh: advertised addresses only, in the order they came.
  for (let i = conn.remoteAddresses.length - 1; i >= 0; i--) {
    if (!isAdvertised(list, conn.remoteAddresses[i]!)) conn.remoteAddresses.splice(i, 1);
  }
  for (const path of conn.pathList) {
    if (path.state === 'closed' || path.validated || path.id === 0 || isAdvertised(list, path.remote)) continue;
    retire(conn, path, now, 'not-advertised');
  }
  retireFirstContact(conn, now);
}

/**
 * Client, rule 2: a server that did not advertise the address of the
 * handshake has moved; once a path to an advertised address works, the
 * paths to addresses it did not advertise go.
 */
export function retireFirstContact(conn: Connection, now: number): void {
  if (conn.role !== 'client') return;
  const list = advertised(conn);
  const path0 = conn.pathsById.get(0);
  if (list.length === 0 || path0 === undefined || isAdvertised(list, path0.remote)) return;
  const moved = conn.pathList.some((p) => p.validated && p.state === 'active' && isAdvertised(list, p.remote));
  if (!moved) return;
  for (const path of conn.pathList) {
    if (path.state === 'closed' || isAdvertised(list, path.remote)) continue;
    retire(conn, path, now, 'server-moved');
  }
}

/** Most first-contact targets (each costs one 1200-byte Initial per round). */
const MAX_FIRST_CONTACT = 16;

/**
 * First contact: the Initial goes out at once over every pair of a local
 * and a server address of the same family, and the first pair to answer
 * becomes path 0. Trying every local address matters: a local address may
 * reach no server address at all (its ISP is down, or drops sources that
 * belong to another ISP), and waiting for a timeout per address is what
 * makes a dual-homed client slow when its first uplink is dead.
 */
export function firstContactTargets(
  locals: SocketAddress[],
  remotes: SocketAddress[],
): Array<{ local: SocketAddress; remote: SocketAddress }> {
  const out: Array<{ local: SocketAddress; remote: SocketAddress }> = [];
  for (const remote of remotes) {
    for (const local of locals) {
      if (addressFamily(local.address) === addressFamily(remote.address)) out.push({ local, remote });
    }
  }
  return out.slice(0, MAX_FIRST_CONTACT);
}
