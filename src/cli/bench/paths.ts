/**
 * The one path summary every role reports (`mpudp bench`, the lab tests,
 * the Compose demo, `npm start`): a socket's paths with their addresses
 * (socket.paths) and counters (socket.stats()), and what a role reports of
 * a path event.
 */
import type { MultipathSocket, PathInfo } from '../../index.js';
import { round3 } from './common.js';

/** One path, as the roles report it. */
export interface PathSummary {
  id: number;
  local: string;
  localPort: number;
  remote: string;
  remotePort: number;
  state: string;
  /** UDP payload bytes sent and received on the path (every packet). */
  bytesSent: number;
  bytesReceived: number;
  /** Stream bytes sent for the first time on the path. */
  dataBytesSent: number;
  /** Stream bytes re-sent on the path. */
  retransmitted: number;
  packetsLost: number;
  /** Of those, the ones acknowledged later (reordering); and the congestion events undone because of them. */
  packetsSpuriouslyLost: number;
  congestionEventsUndone: number;
  /** Times the path's ACKs began to come back on another path (the peer suspected a direction). */
  ackRouteChanges: number;
  srttMs: number;
  cwnd: number;
  /** Datagram size the path sends now (path MTU discovery), and the probes it sent. */
  mtu: number;
  mtuProbes: number;
  /** Of those probes, the ones acknowledged and the ones lost; the black holes that sent the path back to 1200 bytes; its probe timeouts. */
  mtuProbesAcked: number;
  mtuProbesLost: number;
  mtuBlackHoles: number;
  ptoCount: number;
}

/** Every path of `socket`, with its counters. */
export function pathSummary(socket: MultipathSocket): PathSummary[] {
  const stats = socket.stats();
  return socket.paths.map((p) => {
    const s = stats?.paths.find((x) => x.id === p.id);
    return {
      id: p.id,
      local: p.localAddress,
      localPort: p.localPort,
      remote: p.remoteAddress,
      remotePort: p.remotePort,
      state: p.state,
      bytesSent: p.bytesSent,
      bytesReceived: p.bytesReceived,
      dataBytesSent: s?.dataBytesSent ?? 0,
      retransmitted: s?.dataBytesRetransmitted ?? 0,
      packetsLost: s?.packetsLost ?? 0,
      packetsSpuriouslyLost: s?.packetsSpuriouslyLost ?? 0,
      congestionEventsUndone: s?.congestionEventsUndone ?? 0,
      ackRouteChanges: s?.ackRouteChanges ?? 0,
      srttMs: round3(p.smoothedRtt),
      cwnd: p.congestionWindow,
      mtu: p.mtu,
      mtuProbes: s?.mtuProbesSent ?? 0,
      mtuProbesAcked: s?.mtuProbesAcked ?? 0,
      mtuProbesLost: s?.mtuProbesLost ?? 0,
      mtuBlackHoles: s?.mtuBlackHoles ?? 0,
      ptoCount: s?.ptoCount ?? 0,
    };
  });
}

/** A path-up or path-down report. */
export function pathEvent(type: 'path-up' | 'path-down', p: PathInfo, reason?: string): Record<string, unknown> {
  return { type, id: p.id, local: p.localAddress, remote: p.remoteAddress, state: p.state, ...(reason !== undefined ? { reason } : {}) };
}

/** Reports every path-up and path-down of `socket` through `report`, with `extra` fields. */
export function reportPathEvents(socket: MultipathSocket, report: (r: Record<string, unknown>) => void, extra: Record<string, unknown> = {}): void {
  socket.on('path-up', (p: PathInfo) => report({ ...pathEvent('path-up', p), ...extra }));
  socket.on('path-down', (p: PathInfo, reason: string) => report({ ...pathEvent('path-down', p, reason), ...extra }));
}
