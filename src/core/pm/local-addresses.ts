/**
 * Our own addresses: one appearing (a client opens paths from it, a server
 * advertises it), one vanishing (its paths fail, or a server's move to
 * another of its addresses), and the ones the application marks as
 * backups (the peer hears of it with PATH_STATUS).
 */
import { addressFamily, sameAddress } from '../address.js';
import type { Connection } from '../connection.js';
import { ownSet } from '../empty.js';
import type { PathState } from '../path/path-state.js';
import { failPath } from '../recovery.js';
import type { SocketAddress } from '../types.js';
import { advertiseAddress, openMeshPaths, withdrawAddress } from './path-manager.js';

/** A local address appeared: a client opens paths from it, a server advertises it. */
export function addLocalAddress(conn: Connection, addr: SocketAddress, now: number): void {
  conn.advance(now);
  if (conn.localAddresses.some((a) => sameAddress(a, addr))) return;
  conn.localAddresses.push({ ...addr });
  if (conn.state !== 'established') return;
  if (conn.role === 'client') openMeshPaths(conn, now);
  else advertiseAddress(conn, addr);
}

/**
 * A local address vanished. A client closes its paths (their bytes go to
 * other paths) and opens what the mesh still allows. A server withdraws
 * the address and moves its paths to another local address of the same
 * family, from which the client revalidates them (migration); with no
 * such address they close.
 */
export function removeLocalAddress(conn: Connection, addr: SocketAddress, now: number): void {
  conn.advance(now);
  const i = conn.localAddresses.findIndex((a) => sameAddress(a, addr));
  if (i >= 0) conn.localAddresses.splice(i, 1);
  if (conn.role === 'server') withdrawAddress(conn, addr);
  for (const path of conn.pathList) {
    if (path.state === 'closed' || !sameAddress(path.local, addr)) continue;
    const other = conn.role === 'server' ? conn.localAddresses.find((a) => addressFamily(a.address) === addressFamily(addr.address)) : undefined;
    if (other !== undefined) {
      // The client sees the path arrive from the new pair and revalidates it (migration.ts).
      path.moveTo(other, path.remote);
      path.probesPending = 1;
      conn.counters.migrations++;
    } else {
      failPath(conn, path, now, 'local-address-gone', true);
    }
  }
  conn.freeClosedPaths();
  if (conn.role === 'client' && conn.state === 'established') openMeshPaths(conn, now);
}

/**
 * Marks the paths on a local address as backups (or active again) and
 * tells the peer with PATH_STATUS.
 */
export function setLocalBackup(conn: Connection, address: string, backup: boolean): void {
  if (backup) (conn.backupLocal = ownSet(conn.backupLocal)).add(address);
  else conn.backupLocal.delete(address);
  for (const path of conn.pathList) {
    if (path.local.address !== address || path.state === 'closed' || path.localBackup === backup) continue;
    path.localBackup = backup;
    queuePathStatus(conn, path);
  }
}

/** A path was validated: the peer learns if we want it as a backup. */
export function onPathValidated(conn: Connection, path: PathState): void {
  if (path.localBackup) queuePathStatus(conn, path);
}

/** Queues a PATH_STATUS telling the peer our preference for `path` (replacing one still waiting). */
function queuePathStatus(conn: Connection, path: PathState): void {
  for (let i = conn.pendingControl.length - 1; i >= 0; i--) {
    const f = conn.pendingControl[i]!;
    if (f.type === 'path_status' && f.pathId === path.id) conn.pendingControl.splice(i, 1);
  }
  conn.pendingControl.push({ type: 'path_status', pathId: path.id, seq: ++conn.statusSeq, backup: path.localBackup });
}
