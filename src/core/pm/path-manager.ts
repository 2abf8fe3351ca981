/**
 * Path manager: which paths to open and which addresses to advertise. Like
 * Linux MP-TCP's path manager it never writes bytes: it creates PathStates
 * in 'validating' (their PATH_JOIN and challenge go out when the packet
 * builder gets to them) and queues ADD_ADDRESS / REMOVE_ADDRESS frames.
 *
 * Only the client opens paths (a server may sit behind nothing, a client
 * often sits behind NAT); the server advertises every address it serves on.
 */
import { ownMap } from '../empty.js';
import type { Connection } from '../connection.js';
import { addressFamily } from '../address.js';
import { MAX_PATH_ID } from '../crypto/aead.js';
import type { SocketAddress } from '../types.js';

/** A (local, remote) address pair a path could run on. */
export interface AddressPair {
  local: SocketAddress;
  remote: SocketAddress;
}

/**
 * A path policy decides which pairs of the mesh get a path. It is given
 * every candidate pair not yet in use (same address family, in preference
 * order) and the pairs of the live paths, and returns the pairs to open.
 * The connection still caps the total at `maxPaths`.
 */
export interface PathPolicy {
  readonly name: string;
  select(candidates: readonly AddressPair[], live: readonly AddressPair[]): AddressPair[];
}

/** Every local address to every server address (the default). */
export const fullMesh: PathPolicy = {
  name: 'full-mesh',
  select: (candidates) => [...candidates],
};

/**
 * One path per local address: each local address gets a path to the first
 * server address it can reach (like one subflow per interface).
 */
export const onePerLocal: PathPolicy = {
  name: 'one-per-local',
  select: (candidates, live) => {
    const out: AddressPair[] = [];
    for (const c of candidates) {
      const used = [...live, ...out].some((p) => p.local.address === c.local.address && p.local.port === c.local.port);
      if (!used) out.push(c);
    }
    return out;
  },
};

export const PATH_POLICY_NAMES = ['full-mesh', 'one-per-local'] as const;
export type PathPolicyName = (typeof PATH_POLICY_NAMES)[number];

export function pathPolicy(p: PathPolicyName | PathPolicy): PathPolicy {
  if (typeof p !== 'string') return p;
  return p === 'one-per-local' ? onePerLocal : fullMesh;
}

/**
 * The (local, remote) pairs of the mesh that have no path yet, in
 * preference order. With `only`, just the pairs involving that address (an
 * address that just appeared): the mesh is opened incrementally.
 */
export function missingMeshPairs(
  locals: readonly SocketAddress[],
  remotes: readonly SocketAddress[],
  existing: readonly AddressPair[],
  only?: { local?: SocketAddress; remote?: SocketAddress },
): AddressPair[] {
  const used = new Set<string>();
  for (const p of existing) used.add(pairKey(p.local, p.remote));
  const out: AddressPair[] = [];
  for (const remote of only?.remote !== undefined ? [only.remote] : remotes) {
    for (const local of only?.local !== undefined ? [only.local] : locals) {
      if (addressFamily(local.address) !== addressFamily(remote.address)) continue;
      if (used.has(pairKey(local, remote))) continue;
      out.push({ local, remote });
    }
  }
  return out;
}

function pairKey(local: SocketAddress, remote: SocketAddress): string {
  return `${local.address}|${local.port}|${remote.address}|${remote.port}`;
}

/**
 * Client: opens paths for the pairs the policy selects, up to maxPaths
 * paths in all. `only` limits the candidates to the pairs of one new
 * address.
 */
export function openMeshPaths(conn: Connection, now: number, only?: { local?: SocketAddress; remote?: SocketAddress }): void {
  if (conn.role !== 'client' || conn.protection === null || conn.state !== 'established') return;
  // Every path held counts, whatever its state (closed ones are freed).
  let room = Math.min(conn.options.maxPaths - conn.pathList.length, MAX_PATH_ID - conn.nextPathId);
  const live = conn.pathList.filter((p) => p.state !== 'closed');
  const candidates = missingMeshPairs(conn.localAddresses, conn.remoteAddresses, live, only);
  if (candidates.length === 0) return;
  const chosen = conn.pathPolicy.select(candidates, live);
  for (const { local, remote } of chosen) {
    if (room <= 0) {
      conn.counters.pathsRefusedByLimit++;
      continue;
    }
    room--;
    const path = conn.newPath(conn.nextPathId++, local, remote, now);
    path.joinPending = true;
    path.challenge = conn.random(8);
    conn.addPath(path);
  }
}

/** Server: advertises one of its addresses (ADD_ADDRESS) unless already done. */
export function advertiseAddress(conn: Connection, addr: SocketAddress): void {
  if (conn.role !== 'server' || conn.protection === null || !conn.options.advertiseAddresses) return;
  const key = `${addr.address}|${addr.port}`;
  if (conn.advertisedByUs.has(key)) return;
  const addressId = conn.nextAddressId++;
  (conn.advertisedByUs = ownMap(conn.advertisedByUs)).set(key, addressId);
  conn.pendingControl.push({ type: 'add_address', addressId, seq: ++conn.advertSeq, address: addr.address, port: addr.port, backup: false });
}

/** Server: withdraws an advertised address (REMOVE_ADDRESS). */
export function withdrawAddress(conn: Connection, addr: SocketAddress): void {
  if (conn.role !== 'server' || conn.protection === null) return;
  const key = `${addr.address}|${addr.port}`;
  const addressId = conn.advertisedByUs.get(key);
  if (addressId === undefined) return;
  conn.advertisedByUs.delete(key);
  conn.pendingControl.push({ type: 'remove_address', addressId, seq: ++conn.advertSeq });
}

/**
 * Server, once the handshake is confirmed: every address it serves on,
 * including the one path 0 uses (so it has an address ID to withdraw).
 */
export function advertiseAll(conn: Connection): void {
  for (const addr of conn.localAddresses) advertiseAddress(conn, addr);
}
