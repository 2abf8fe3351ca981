/**
 * Path manager: which paths to open. The client opens the full mesh of its
 * usable local addresses and the server's known addresses (same address
 * family only), capped by maxPaths. It only records intents (a new
 * PathState in 'validating' with a PATH_JOIN and a challenge to send); the
 * packet builder puts them on the wire.
 */
import type { Connection } from '../connection.js';
import { addressFamily, sameAddress } from '../connection.js';
import { PathState } from '../path/path-state.js';
import type { SocketAddress } from '../types.js';

/** The (local, remote) pairs of the mesh that have no path yet, in preference order. */
export function missingMeshPairs(
  locals: readonly SocketAddress[],
  remotes: readonly SocketAddress[],
  existing: ReadonlyArray<{ local: SocketAddress; remote: SocketAddress }>,
): Array<{ local: SocketAddress; remote: SocketAddress }> {
  const out: Array<{ local: SocketAddress; remote: SocketAddress }> = [];
  for (const remote of remotes) {
    for (const local of locals) {
      if (addressFamily(local.address) !== addressFamily(remote.address)) continue;
      if (existing.some((p) => sameAddress(p.local, local) && sameAddress(p.remote, remote))) continue;
      out.push({ local, remote });
    }
  }
  return out;
}

/** Client: opens paths for every missing mesh pair, up to maxPaths live paths. */
export function openMeshPaths(conn: Connection, now: number): void {
  if (conn.role !== 'client' || conn.keys === null) return;
  const live = conn.pathList.filter((p) => p.state !== 'closed');
  const pairs = missingMeshPairs(conn.localAddresses, conn.remoteAddresses, live);
  let room = conn.options.maxPaths - live.length;
  for (const { local, remote } of pairs) {
    if (room <= 0) break;
    room--;
    const path = new PathState(
      conn.nextPathId++,
      { ...local },
      { ...remote },
      conn.options.congestionControl,
      conn.options.maxDatagramSize,
      now,
    );
    path.joinNonce = conn.random(8);
    path.challenge = conn.random(8);
    path.challengeSentAt = -Infinity;
    conn.addPath(path);
  }
}
