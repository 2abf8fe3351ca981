/**
 * Schedulers choose which path carries the next packet of stream data. A
 * scheduler only decides; the connection sends.
 */

/** What a scheduler sees of a path that could carry data now. */
export interface SchedulerPath {
  id: number;
  /** Smoothed RTT in ms (the initial estimate before any sample). */
  smoothedRtt: number;
  /** Congestion window minus bytes in flight. */
  windowRoom: number;
  /** A backup path carries data only while no active path can. */
  backup: boolean;
  /** The pacer lets a packet go on this path now. */
  ready: boolean;
}

export interface Scheduler {
  readonly name: string;
  /**
   * Picks the path for a packet of `packetSize` bytes among `paths` (all
   * validated and live; `ready` says whether pacing allows a packet now),
   * or returns null to send nothing now.
   */
  choose(paths: readonly SchedulerPath[], packetSize: number): number | null;
}

/**
 * min-RTT (the Linux MP-TCP default scheduler): the path with the lowest
 * smoothed RTT that has congestion-window room for the packet. Backup paths
 * are considered only when no non-backup path is live.
 */
export class MinRttScheduler implements Scheduler {
  readonly name = 'min-rtt';

  choose(paths: readonly SchedulerPath[], packetSize: number): number | null {
    const anyActive = paths.some((p) => !p.backup);
    let best: SchedulerPath | null = null;
    for (const p of paths) {
      if (anyActive && p.backup) continue;
      if (!p.ready || p.windowRoom < packetSize) continue;
      if (best === null || p.smoothedRtt < best.smoothedRtt) best = p;
    }
    return best === null ? null : best.id;
  }
}
