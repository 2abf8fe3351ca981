/**
 * Schedulers choose which path carries the next packet of stream data. A
 * scheduler only decides; the connection sends. Users may pass their own
 * object implementing `Scheduler` (documented in docs/api.md).
 */

/** What a scheduler sees of a path that could carry data now. */
export interface SchedulerPath {
  /** Path ID. */
  id: number;
  /** Smoothed RTT in ms (the initial estimate before any sample). */
  smoothedRtt: number;
  /** RTT variation in ms. */
  rttVar: number;
  /** Congestion window in bytes. */
  congestionWindow: number;
  /**
   * Bytes per ms the path sends at: its controller's pacing rate when it
   * paces by rate (BBR), else window / smoothed RTT. Absent in views built
   * by hand: schedulers then use congestionWindow / smoothedRtt.
   */
  sendRate?: number;
  /** Bytes in flight on the path. */
  bytesInFlight: number;
  /** Congestion window minus bytes in flight. */
  windowRoom: number;
  /** A backup path carries data only while no active path can. */
  backup: boolean;
  /** The pacer lets a packet go on this path now. */
  ready: boolean;
}

/** What a scheduler sees of the connection. */
export interface SchedulerContext {
  /** Size of the packet to place. */
  packetSize: number;
  /** Bytes written by the application and never sent. */
  unsentBytes: number;
  /** Bytes the peer's receive window still allows beyond what was sent. */
  sendWindowRoom: number;
  /** The peer's whole receive window as last advertised (bytes). */
  sendWindowSize: number;
}

export interface Scheduler {
  /** Name shown in stats. */
  readonly name: string;
  /**
   * Picks the path for the next packet among `paths` (validated and live;
   * `ready` says whether pacing allows a packet now; backup paths are listed
   * too), or returns null to send nothing now. `paths`, its objects and
   * `ctx` are the connection's, refreshed in place for every packet: read
   * them during the call, keep no reference to them.
   */
  choose(paths: readonly SchedulerPath[], ctx: SchedulerContext): number | null;
  /** Send every new byte on every live path (first copy wins). */
  readonly redundant?: boolean;
  /**
   * The last `choose` returned null to spare the peer's receive window
   * (BLEST holding a slow path back): the paths it held back are limited by
   * the receiver, not by the application, and are not marked
   * application-limited (send-data.ts).
   */
  readonly heldForReceiveWindow?: boolean;
  /** Told (at most once per round trip) that the peer's receive window blocked new data. */
  onWindowBlocked?(): void;
  /** Told (at most once per round trip) that a round trip passed without such blocking. */
  onRoundWithoutBlock?(): void;
}

/**
 * The paths a scheduler may use: non-backup paths while any is live, else
 * the backups ("a backup path carries no data while an active path works").
 */
export function eligible(paths: readonly SchedulerPath[]): readonly SchedulerPath[] {
  // The common case, no backup path: the view itself (no new array per packet).
  let backups = 0;
  for (const p of paths) if (p.backup) backups++;
  if (backups === 0 || backups === paths.length) return paths;
  const active = paths.filter((p) => !p.backup);
  return active.length > 0 ? active : paths;
}

/**
 * Bytes the path delivers per round trip of its own: the window, or less
 * when the path is paced below it (a rate-based controller keeps about a
 * BDP in flight under a window of twice that).
 */
export function bytesPerRound(p: SchedulerPath): number {
  const byRate = p.sendRate !== undefined ? p.sendRate * p.smoothedRtt : Infinity;
  return Math.min(p.congestionWindow, byRate);
}

/** A path can take the packet now: pacing allows it and its window has room. */
export function canTake(p: SchedulerPath, size: number): boolean {
  return p.ready && p.windowRoom >= size;
}
