/**
 * MTU probe packets (path MTU discovery, path/pmtud.ts): a PING padded to
 * the size being tried, on a validated active path. RFC 8899 §3: "It is
 * RECOMMENDED to use probe packets that do not carry any user data that
 * would require retransmission if lost." And "Loss of a probe packet SHOULD
 * NOT be treated as an indication of congestion and SHOULD NOT trigger a
 * congestion control reaction": a probe is not counted in flight.
 */
import type { Connection } from './connection.js';
import { PING_FRAME } from '../wire/frames.js';
import { beginPacket, finish } from './packet-writer.js';
import type { PathState } from './path/path-state.js';
import type { Transmit } from './types.js';

export function sendMtuProbe(conn: Connection, path: PathState, now: number): Transmit | null {
  if (!path.validated || path.state !== 'active') return null;
  const size = path.mtu.probeDue(now);
  if (size === 0 || size > path.amplificationRoom) return null;
  const w = beginPacket(conn, path, size);
  if (!w.add(PING_FRAME)) return null;
  const room = w.room;
  if (room > 0) w.add({ type: 'padding', length: room });
  path.mtu.onProbeSent(path.nextPacketNumber, size, now);
  return finish(conn, w, now, false);
}
