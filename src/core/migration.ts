/**
 * Migration: packets for a known path from another address pair (NAT
 * rebinding, or the peer moved the path) are challenged there, and the path
 * moves only when the keys answer from the new pair.
 */
import type { Frame } from '../wire/types.js';
import type { Connection } from './connection.js';
import { sameAddress } from './address.js';
import { macEqual } from './crypto/macs.js';
import type { PathState } from './path/path-state.js';
import { recoverPath } from './recovery.js';
import { countDrop } from './stats.js';
import type { SocketAddress } from './types.js';

/** Most challenges from the peer we queue answers for, per path. */
export const MAX_PENDING_RESPONSES = 4;

/** Most probe rounds for one candidate address pair. */
const MIGRATION_ATTEMPTS = 5;

/**
 * A packet for a known path from another address pair: NAT rebinding, the
 * peer moving the path, or a forgery. Nothing in it counts but path
 * validation frames; the new pair is challenged, and the path moves there
 * only when a MACed PATH_RESPONSE comes back from it.
 */
export function onOtherAddress(
  conn: Connection,
  path: PathState,
  frames: Frame[],
  local: SocketAddress,
  remote: SocketAddress,
  size: number,
  now: number,
): void {
  let m = path.migration;
  if (m === null || !sameAddress(m.local, local) || !sameAddress(m.remote, remote)) {
    if (m !== null && m.attempts < MIGRATION_ATTEMPTS && now < m.sentAt + 1000) {
      // One candidate at a time: a flood of spoofed addresses cannot churn it.
      countDrop(conn.drops, 'address-mismatch');
      return;
    }
    m = { local: { ...local }, remote: { ...remote }, challenge: conn.random(8), sentAt: -Infinity, attempts: 0, responses: [], bytesReceived: 0, bytesSent: 0 };
    path.migration = m;
  }
  m.bytesReceived += size;
  let counted = false;
  for (const f of frames) {
    if (f.type === 'path_challenge' && f.pathId === path.id) {
      if (m.responses.length < MAX_PENDING_RESPONSES) m.responses.push(f.data.slice());
    } else if (f.type === 'path_response' && f.pathId === path.id) {
      // The packet authenticated: the peer answered from the new pair.
      if (!macEqual(f.data, m.challenge)) continue;
      completeMigration(conn, path, m, now);
      return;
    } else if (f.type !== 'padding' && !counted) {
      counted = true;
      countDrop(conn.drops, 'address-mismatch');
    }
  }
}

/** The new address pair answered our challenge with the keys: the path moves there. */
export function completeMigration(conn: Connection, path: PathState, m: NonNullable<PathState['migration']>, now: number): void {
  const addressChanged = path.moveTo(m.local, m.remote);
  path.migration = null;
  conn.counters.migrations++;
  // A probe: its ACK is the new pair's first RTT sample (send-data.ts waits for one).
  if (addressChanged) path.probesPending = 1;
  path.lastReceivedAt = now;
  if (path.state === 'failed' || path.state === 'suspect') recoverPath(conn, path, now);
  conn.emit({ type: 'path-up', path: path.info() });
}

