/**
 * Counters: every decision and every drop is counted, and `stats()` exposes
 * them. Tests assert on these, not on log lines.
 */
import type { DropReason } from './drops.js';

import type { SharedBottleneckStats } from './cc/shared-bottleneck.js';

/** Per-path counters. */
export interface PathStats {
  id: number;
  state: string;
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Stream bytes first sent on this path. */
  dataBytesSent: number;
  /** Stream bytes re-sent on this path (lost elsewhere or here). */
  dataBytesRetransmitted: number;
  /** Stream bytes of this path queued for re-sending elsewhere when it timed out. */
  dataBytesReinjected: number;
  packetsLost: number;
  /** Packets declared lost that were later acknowledged. */
  packetsSpuriouslyLost: number;
  ptoCount: number;
  congestionEvents: number;
  /** Congestion events undone: every packet they declared lost was acknowledged after all (cc/congestion-undo.ts). */
  congestionEventsUndone: number;
  /** Times this path's ACK frames began to come back on another path than before (the peer routed them around a direction it suspected, or back). */
  ackRouteChanges: number;
  /** Largest datagram (UDP payload bytes) this path sends now (path MTU discovery, pmtud.ts). */
  mtu: number;
  /** 'searching' while probing for a larger size, 'complete' once found, 'disabled' when maxDatagramSize is 1200. */
  mtuSearch: string;
  /** MTU probes sent, acknowledged and lost on this path. */
  mtuProbesSent: number;
  mtuProbesAcked: number;
  mtuProbesLost: number;
  /** Times the path's size fell back to 1200 (black hole: full-size packets vanished, or a probe timeout). */
  mtuBlackHoles: number;
  smoothedRtt: number;
  minRtt: number;
  congestionWindow: number;
  /** Bytes the pacer let go beyond its burst capacity, making up for a late wake-up (pacer.ts, late credit). */
  pacerLateCreditBytes: number;
  /** Loss detection's packet reordering threshold (3, grown by spurious losses; sent-packets.ts). */
  lossPacketThreshold: number;
  /** Loss detection's time reordering threshold, in RTTs (9/8, grown by spurious losses). */
  lossTimeThreshold: number;
}

/** Connection-wide counters. */
export interface ConnectionStats {
  role: string;
  state: string;
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Stream bytes delivered in order to the application. */
  dataBytesDelivered: number;
  /** Stream bytes received more than once. */
  dataBytesDuplicate: number;
  /** Datagrams or frames refused, by reason (e.g. 'decode', 'unknown-path', 'auth-failed'). */
  drops: Record<string, number>;
  pathsOpened: number;
  pathsFailed: number;
  /** Times new data waited for the peer's receive window (counted once per round trip). */
  windowBlocked: number;
  /** Blocking bytes re-sent on a faster path (opportunistic reinjection). */
  opportunisticReinjections: number;
  /** Slow paths whose window was cut for blocking the receiver. */
  penalizations: number;
  /** Copies sent by the redundant scheduler. */
  redundantCopies: number;
  /** Paths the path policy wanted that maxPaths refused. */
  pathsRefusedByLimit: number;
  /** Paths moved to new addresses after a validated challenge (NAT rebinding, migration). */
  migrations: number;
  /** Paths made suspect because their oldest packet was overdue, before any PTO. */
  earlySuspicions: number;
  /** Closed paths freed (their state and congestion controller released). */
  pathsFreed: number;
  /** Key updates this side started (RFC 9001 §6), and the peer's it followed. */
  keyUpdatesInitiated: number;
  keyUpdatesFollowed: number;
  /** Generation of the keys this side seals with (0 until the first update). */
  keyGeneration: number;
  /** Fingerprint of the server's long-term key, proven by the handshake (null before it). */
  serverFingerprint: string | null;
  /** Suspect or failed paths that an acknowledgement made active again. */
  pathsRecovered: number;
  /** Probes sent on failed paths (their own schedule, not answers). */
  failedProbes: number;
  /** Liveness pings (ACK + PING) sent at once on a suspect or failed path: a packet came in on it, or another path stalled (liveness.ts). */
  livenessPings: number;
  /** PINGs added to ACK-only packets of a path the peer sends data on, when it sent nothing ack-eliciting for half a round trip (RFC 9000 §13.2.4): they keep its RTT estimate fresh. */
  rttPings: number;
  /** Errors the io layer reported for an address pair (an ICMP port unreachable, ...); believed only during the handshake. */
  pathErrors: number;
  /** Client: first-contact pairs refused during the handshake (unreachable, or the server refused). */
  refusals: number;
  /** Client: paths abandoned because the server did not advertise their address (another host, or a cluster's shared port it moved from). */
  firstContactPathsRetired: number;
  /** Server: handshakes confirmed by the client's JOIN of another path, which overtook its first packet on path 0. */
  confirmedByJoin: number;
  /** Shared-bottleneck detection: candidates, pauses and their verdicts, groupings, splits, trickle packets. */
  sharedBottleneck: SharedBottleneckStats;
  paths: PathStats[];
}

/** The counters a connection keeps itself; the rest of ConnectionStats is read from its parts when asked. */
export type ConnectionCounters = Omit<
  ConnectionStats,
  'role' | 'state' | 'drops' | 'keyUpdatesInitiated' | 'keyUpdatesFollowed' | 'keyGeneration' | 'serverFingerprint' | 'sharedBottleneck' | 'paths'
>;

/** A new connection's counters, every one zero. */
export function newConnectionCounters(): ConnectionCounters {
  return {
    packetsSent: 0,
    packetsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    dataBytesDelivered: 0,
    dataBytesDuplicate: 0,
    pathsOpened: 0,
    pathsFailed: 0,
    windowBlocked: 0,
    opportunisticReinjections: 0,
    penalizations: 0,
    redundantCopies: 0,
    pathsRefusedByLimit: 0,
    migrations: 0,
    earlySuspicions: 0,
    pathsFreed: 0,
    pathsRecovered: 0,
    failedProbes: 0,
    livenessPings: 0,
    rttPings: 0,
    pathErrors: 0,
    refusals: 0,
    firstContactPathsRetired: 0,
    confirmedByJoin: 0,
  };
}

/** Adds one to a drop counter; the reasons are the names of DROP_REASONS (drops.ts). */
export function countDrop(drops: Record<string, number>, reason: DropReason): void {
  drops[reason] = (drops[reason] ?? 0) + 1;
}

/** Adds one to a tally by key (errno codes and the like: not a drop reason). */
export function tally(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
