/**
 * Shared-bottleneck detection for the paths of one connection, and the
 * coupling it decides: paths found to queue behind one bottleneck are
 * carried as one flow there.
 *
 * In the spirit of RFC 8382 ("Shared Bottleneck Detection for Coupled
 * Congestion Control for RTP Media"), which groups flows by statistics of
 * their one-way delays, measured here at the sender from each path's RTT
 * samples: a path's queueing delay is its RTT sample less its minimum RTT.
 * RFC 8382 §1: "Flows that share a common bottleneck [...] experience
 * similar delay and loss characteristics"; and it first asks whether a
 * flow traverses a bottleneck at all, since "Only flows that are
 * experiencing congestion are grouped". Three steps:
 *
 *  1. Candidates (passive). Every path carrying data keeps its queueing
 *     delay in BIN_MS bins (mean and minimum per bin). Two paths that both
 *     see a standing queue (the minimum of at least STANDING_BINS of the
 *     filled bins is above QUEUE_MIN: a queue that does not drain, as a
 *     loss-based flow keeps; BBR's own probes build queues that do) and
 *     whose binned mean delays correlate above CORRELATION_MIN are
 *     candidates.
 *  2. Confirmation (active). Two independent paths whose queues happen to
 *     move together (identical paths, synchronized loss-based flows) look
 *     alike to any passive test; a cause does not. The candidate with the
 *     smaller rate (the subject) stops sending new data for a pause of two
 *     propagation round trips. Behind a shared bottleneck the queue drains by the
 *     subject's share and the other path's (the lead's) queueing delay
 *     dips; behind separate bottlenecks it follows its own course. The dip
 *     is measured against the lead's delay just before and just after the
 *     pause (their mean: a queue rising or falling on its own shows no dip);
 *     each of the three is a median, since a late host adds delay to a run
 *     of samples and a mean would count it as queue.
 *     CONFIRMATIONS pauses that see a dip, before as many see none, group
 *     the pair; the other way round marks it independent for a cool-down
 *     (doubling, capped).
 *  3. Coupling and re-checking. A grouped subject stands by: it carries no
 *     bulk data while its lead works (like a backup path), so the
 *     connection is one flow at that bottleneck, whatever the controller.
 *     It keeps sending a pair of data packets every TRICKLE_MS; their RTT
 *     samples must keep showing the lead's queue. When the lead sees a
 *     queue the subject does not (MISSES_TO_SPLIT times), or nobody sees a
 *     queue for NO_QUEUE_SPLIT_MS, or the lead stops working, the group
 *     splits and the subject carries data again. A group split by a lead
 *     that turned suspect resumes, without new pauses, if both paths work
 *     again within RESUME_MS.
 *
 * This class decides; the connection acts (send-data.ts asks standby(),
 * paused() and trickleDue()). Every decision is counted in `stats`. No
 * clock, no timer: time comes in with the samples and the queries.
 */
import { MedianWindow, PathDelays } from './queue-delays.js';
import {
  BIN_MS,
  CONFIRMATIONS,
  COOLDOWN_MAX_MS,
  COOLDOWN_MS,
  CORRELATION_MIN,
  DIP_FRACTION,
  MIN_FILLED_BINS,
  MISSES_TO_SPLIT,
  NO_DIP_FRACTION,
  NO_QUEUE_SPLIT_MS,
  PAUSE_BEFORE_BINS,
  PAUSE_MIN_MS,
  PAUSE_RTTS,
  PAUSE_SPACING_MS,
  QUEUE_MIN_FRACTION,
  QUEUE_MIN_MS,
  RESUME_MS,
  STANDING_BINS,
  TRICKLE_MS,
  WINDOW_BINS,
} from './shared-bottleneck-params.js';

export * from './shared-bottleneck-params.js';

/** What the detector reads of a path each time it evaluates. */
export interface BottleneckPath {
  readonly id: number;
  /** The path may carry data now (validated, active, not a backup). */
  readonly working: boolean;
  /** The path is validated and not failed or closed (a standby path that turned suspect still counts). */
  readonly alive: boolean;
  /** Smoothed RTT, ms. */
  readonly smoothedRtt: number;
  /** Minimum RTT, ms (0 without a sample). */
  readonly minRtt: number;
  /** Estimated sending rate, bytes per ms (window / RTT, or the controller's pacing rate). */
  readonly rate: number;
}

/** What the connection's paths look like to the detector (PathState satisfies it). */
export interface BottleneckPathSource {
  readonly id: number;
  readonly state: string;
  readonly validated: boolean;
  readonly backup: boolean;
  readonly rtt: { readonly smoothed: number; readonly min: number };
  readonly cc: { readonly window: number; readonly pacingRate?: number | null };
}

/** The detector's view of a path. */
export function bottleneckView(p: BottleneckPathSource): BottleneckPath {
  const srtt = Math.max(p.rtt.smoothed, 0.001);
  return {
    id: p.id,
    working: p.validated && p.state === 'active' && !p.backup,
    alive: p.validated && (p.state === 'active' || p.state === 'suspect'),
    smoothedRtt: p.rtt.smoothed,
    minRtt: p.rtt.min,
    rate: p.cc.pacingRate ?? p.cc.window / srtt,
  };
}

/** Counters of the detector's decisions (ConnectionStats.sharedBottleneck). */
export interface SharedBottleneckStats {
  /** Pairs whose binned queueing delays correlated (candidate checks started). */
  candidates: number;
  /** Pauses run, and their verdicts. */
  pauses: number;
  pausesShared: number;
  pausesIndependent: number;
  pausesInconclusive: number;
  /** Pair checks with enough bins that found no standing queue on one path, or delays that did not move together. */
  noStandingQueue: number;
  uncorrelated: number;
  /** Paths put on standby behind a lead, and groups split again (`split`), by reason: the lead or the subject stopped working, no queue for NO_QUEUE_SPLIT_MS, the subject's re-checks missed the lead's queue. */
  grouped: number;
  split: number;
  splitPathGone: number;
  splitNoQueue: number;
  splitMisses: number;
  /** Milliseconds paths spent on standby (a group's time counts up to the latest RTT sample). */
  standbyMs: number;
  /** Groups put back together without new pauses when a lead that had turned suspect worked again within RESUME_MS. */
  resumed: number;
  /** Trickle packets sent on standby paths. */
  tricklePackets: number;
}

/** A pause of `subject` to see whether `lead`'s queue drops. */
interface Pause {
  lead: number;
  subject: number;
  /** The subject sends no new data in [start, end). */
  start: number;
  end: number;
  /** The lead's samples in [evalFrom, evalTo] show the effect; those in (evalTo, afterTo] are the level after it. */
  evalFrom: number;
  evalTo: number;
  afterTo: number;
  /** The lead's queueing delay before the pause: the median of its last bins' means. */
  before: number;
  /** The lead's samples during the effect, and after it (medians judge them: host delay only adds). */
  during: MedianWindow;
  after: MedianWindow;
  /** The lead had a congestion event meanwhile (its queue dropped for its own reason). */
  spoiled: boolean;
}

/** What is known about an unordered pair of paths. */
interface PairState {
  /** Pauses that saw a dip, and pauses that saw none, since the last decision. */
  shared: number;
  independent: number;
  /** No new candidate check before this time (cool-down after an independent verdict, or pause spacing). */
  quietUntil: number;
  /** Current cool-down length, ms. */
  cooldown: number;
}

/** A standby path and its lead. */
interface Standby {
  lead: number;
  /** Next trickle time, and packets of the current trickle still to send. */
  nextTrickle: number;
  trickleLeft: number;
  /** Re-checks in a row that found the lead queued and this path not (one per trickle), and when the latest was counted. */
  misses: number;
  lastMissAt: number;
}

/** The empty map every detector shares until it stores something (never written: each writer replaces it first). */
const NONE: Map<unknown, unknown> = new Map();

export class SharedBottleneckDetector {
  /** Counters (exposed in stats). */
  readonly stats: SharedBottleneckStats = {
    candidates: 0,
    pauses: 0,
    pausesShared: 0,
    pausesIndependent: 0,
    pausesInconclusive: 0,
    noStandingQueue: 0,
    uncorrelated: 0,
    grouped: 0,
    split: 0,
    splitPathGone: 0,
    splitNoQueue: 0,
    splitMisses: 0,
    standbyMs: 0,
    resumed: 0,
    tricklePackets: 0,
  };
  /** Off: nothing is ever grouped (coupled controllers, or the option). */
  enabled: boolean;
  // Delay histories, pairs, standbys, groupings and suspended groups exist
  // only with two paths or more: until its first entry each of these maps
  // is the shared empty NONE (an idle one-path connection then keeps about
  // 900 bytes less).
  private delays = NONE as Map<number, PathDelays>;
  private pairs = NONE as Map<string, PairState>;
  private standbys = NONE as Map<number, Standby>;
  /** The pause under way, if any (one at a time per connection). */
  private pause: Pause | null = null;
  /** The sample windows of the pause, made at the first pause (most connections never pause). */
  private pauseWindows: [MedianWindow, MedianWindow] | null = null;
  /** Last bin evaluated. */
  private lastBin = -1;
  /** Time of the latest RTT sample (standbyMs counts up to it). */
  private lastSampleAt = -Infinity;
  /** Groups split because their lead turned suspect: standby path → its lead, and until when the group may resume. */
  private suspended = NONE as Map<number, { lead: number; until: number }>;

  /**
   * `paths`: the connection's paths, read when the detector evaluates (every
   * BIN_MS at most); without it (or `enabled` false) nothing is grouped.
   */
  constructor(
    enabled = true,
    private readonly paths: (() => readonly BottleneckPathSource[]) | null = null,
  ) {
    this.enabled = enabled && paths !== null;
  }

  /** The path carries no bulk data now: it stands by behind a lead on a shared bottleneck. */
  standby(pathId: number): boolean {
    return this.standbys.has(pathId);
  }

  /** Another path stands by behind this one (it leads a group on a shared bottleneck). */
  isLead(pathId: number): boolean {
    for (const s of this.standbys.values()) if (s.lead === pathId) return true;
    return false;
  }

  /** The path is paused by a confirmation check at `now`. */
  paused(pathId: number, now: number): boolean {
    const p = this.pause;
    return p !== null && p.subject === pathId && now >= p.start && now < p.end;
  }

  /** A standby path should send a trickle packet now. */
  trickleDue(pathId: number, now: number): boolean {
    const s = this.standbys.get(pathId);
    return s !== undefined && (s.trickleLeft > 0 || now >= s.nextTrickle);
  }

  /** When a standby path's next trickle is due (ms; −Infinity: now), or null if it is not standing by. */
  trickleAt(pathId: number): number | null {
    const s = this.standbys.get(pathId);
    if (s === undefined) return null;
    return s.trickleLeft > 0 ? -Infinity : s.nextTrickle;
  }

  /** When the pause under way ends (the paused path may send again), or null. */
  pauseEnd(): number | null {
    return this.pause?.end ?? null;
  }

  /** A trickle packet left on a standby path. */
  onTrickleSent(pathId: number, now: number): void {
    const s = this.standbys.get(pathId);
    if (s === undefined) return;
    if (s.trickleLeft === 0) {
      s.trickleLeft = 2;
      s.nextTrickle = now + TRICKLE_MS;
    }
    s.trickleLeft--;
    this.stats.tricklePackets++;
  }

  /** A congestion event (loss) on `pathId`: a pause whose lead it is proves nothing. */
  onCongestionEvent(pathId: number): void {
    if (this.pause !== null && this.pause.lead === pathId) this.pause.spoiled = true;
  }

  /** Paths with a queueing-delay history (for tests: none while the connection has one path). */
  get pathsTracked(): number {
    return this.delays.size;
  }

  /** The path is gone: forget it (its group splits if it led one). */
  forget(pathId: number): void {
    this.delays.delete(pathId);
    this.standbys.delete(pathId);
    for (const [id, s] of this.standbys) if (s.lead === pathId) this.unstandby(id, 'splitPathGone');
    for (const [id, x] of this.suspended) if (id === pathId || x.lead === pathId) this.suspended.delete(id);
    if (this.pause !== null && (this.pause.lead === pathId || this.pause.subject === pathId)) this.pause = null;
  }

  /** An RTT sample of `rttMs` on `pathId`, whose minimum RTT is `minRttMs`, at `now`. */
  onRttSample(pathId: number, rttMs: number, minRttMs: number, now: number): void {
    if (!this.enabled || rttMs < 0 || minRttMs <= 0) return;
    // One path has nobody to share a bottleneck with, and its samples from
    // that time could never count: a pair is judged only on the bins where
    // both paths have samples. So a one-path connection (most of them)
    // keeps no history (about 600 bytes) and evaluates nothing.
    if (this.paths!().length < 2 && this.standbys.size === 0 && this.pause === null) return;
    if (this.standbys.size > 0 && now > this.lastSampleAt) this.stats.standbyMs += (now - this.lastSampleAt) * this.standbys.size;
    if (now > this.lastSampleAt) this.lastSampleAt = now;
    let d = this.delays.get(pathId);
    if (d === undefined) {
      if ((this.delays as Map<unknown, unknown>) === NONE) this.delays = new Map();
      this.delays.set(pathId, (d = new PathDelays()));
    }
    const q = Math.max(0, rttMs - minRttMs);
    d.threshold = queueMin(minRttMs);
    d.add(q, now);
    if (q >= d.threshold) d.lastQueueAt = now;
    const pause = this.pause;
    if (pause !== null && pause.lead === pathId && now >= pause.evalFrom) {
      if (now <= pause.evalTo) pause.during.add(q);
      else if (now <= pause.afterTo) pause.after.add(q);
    }
    const sb = this.standbys.get(pathId);
    if (sb !== undefined) this.recheck(pathId, sb, q, minRttMs, now);
    const bin = Math.floor(now / BIN_MS);
    if (bin !== this.lastBin && this.paths !== null) {
      this.lastBin = bin;
      this.evaluate(bin, now, this.paths().map(bottleneckView));
    }
  }

  // ---- internals ----

  /** Once per bin: finish a pause, split stale groups, look for candidates. */
  private evaluate(bin: number, now: number, paths: readonly BottleneckPath[]): void {
    const byId = new Map<number, BottleneckPath>();
    for (const p of paths) byId.set(p.id, p);
    if (this.pause !== null && now > this.pause.afterTo) this.finishPause(now, byId);
    for (const [id, s] of this.standbys) {
      const lead = byId.get(s.lead);
      const leadDelays = this.delays.get(s.lead);
      if (lead === undefined || !lead.working || byId.get(id)?.alive !== true) {
        this.unstandby(id, 'splitPathGone');
        // A suspect lead often works again at once (on a loaded host its ACKs
        // come late): the group may resume without new pauses.
        if (lead?.alive === true && byId.get(id)?.alive === true) {
          if ((this.suspended as Map<unknown, unknown>) === NONE) this.suspended = new Map();
          this.suspended.set(id, { lead: s.lead, until: now + RESUME_MS });
        }
      } else if (leadDelays !== undefined && now - Math.max(leadDelays.lastQueueAt, this.groupedAt.get(id) ?? -Infinity) > NO_QUEUE_SPLIT_MS) {
        this.unstandby(id, 'splitNoQueue'); // nobody queues: nobody to be fair to
      }
    }
    this.resume(byId, now);
    if (this.pause !== null) return;
    const active = paths.filter((p) => p.working && !this.standbys.has(p.id));
    for (let i = 0; i < active.length; i++) {
      for (let j = i + 1; j < active.length; j++) {
        const a = active[i]!;
        const b = active[j]!;
        const pair = this.pair(a.id, b.id);
        if (now < pair.quietUntil) continue;
        if (!this.correlated(a.id, b.id, bin)) continue;
        // The lead carries on; the slower path is the subject (it would stand by).
        const [lead, subject] = a.rate >= b.rate ? [a, b] : [b, a];
        this.stats.candidates++;
        this.startPause(lead, subject, bin, now);
        return;
      }
    }
  }

  /** Both paths see a queue and their binned delays move together over the window. */
  private correlated(a: number, b: number, bin: number): boolean {
    const da = this.delays.get(a);
    const db = this.delays.get(b);
    if (da === undefined || db === undefined) return false;
    const xs: number[] = [];
    const ys: number[] = [];
    let standingA = 0;
    let standingB = 0;
    for (let k = bin - WINDOW_BINS + 1; k < bin; k++) {
      const x = da.binMean(k);
      const y = db.binMean(k);
      if (Number.isNaN(x) || Number.isNaN(y)) continue;
      xs.push(x);
      ys.push(y);
      if (da.binStanding(k)) standingA++;
      if (db.binStanding(k)) standingB++;
    }
    if (xs.length < MIN_FILLED_BINS) return false;
    if (standingA < STANDING_BINS * xs.length || standingB < STANDING_BINS * xs.length) {
      this.stats.noStandingQueue++;
      return false;
    }
    const mx = xs.reduce((s, v) => s + v, 0) / xs.length;
    const my = ys.reduce((s, v) => s + v, 0) / ys.length;
    if (pearson(xs, ys, mx, my) >= CORRELATION_MIN) return true;
    this.stats.uncorrelated++;
    return false;
  }

  /**
   * The subject pauses for PAUSE_RTTS round trips: the longer smoothed RTT
   * of the pair, but no more than twice the longer minimum RTT (a deep
   * queue lengthens the wait for the pause's effect, not the pause). A
   * packet the lead sends at t meets the queue as it is then and comes back
   * about the lead's smoothed RTT later: its samples from one smoothed RTT
   * after the start, for the pause's length, show the queue during the
   * pause; the next as many show it after.
   */
  private startPause(lead: BottleneckPath, subject: BottleneckPath, bin: number, now: number): void {
    const minRtt = Math.max(lead.minRtt, subject.minRtt);
    const rtt = Math.min(Math.max(lead.smoothedRtt, subject.smoothedRtt), 2 * minRtt);
    const length = Math.max(PAUSE_RTTS * Math.max(rtt, minRtt), PAUSE_MIN_MS);
    const wait = Math.max(lead.smoothedRtt, 1);
    const before = this.delays.get(lead.id)?.binMedian(bin - PAUSE_BEFORE_BINS + 1, bin) ?? NaN;
    // One pause at a time: its two windows are the detector's, reused.
    const during = (this.pauseWindows ??= [new MedianWindow(), new MedianWindow()])[0];
    const after = this.pauseWindows[1];
    during.clear();
    after.clear();
    this.pause = {
      lead: lead.id,
      subject: subject.id,
      start: now,
      end: now + length,
      evalFrom: now + wait,
      evalTo: now + wait + length,
      afterTo: now + wait + 2 * length,
      before,
      during,
      after,
      spoiled: false,
    };
    this.stats.pauses++;
  }

  private finishPause(now: number, byId: Map<number, BottleneckPath>): void {
    const p = this.pause!;
    this.pause = null;
    const pair = this.pair(p.lead, p.subject);
    pair.quietUntil = now + PAUSE_SPACING_MS;
    const lead = byId.get(p.lead);
    const during = p.during.median();
    const after = p.after.median();
    const level = (p.before + after) / 2;
    if (p.spoiled || Number.isNaN(during) || Number.isNaN(level) || level < QUEUE_MIN_MS || lead === undefined) {
      this.stats.pausesInconclusive++;
      return;
    }
    const drop = level - during;
    if (drop >= Math.max(1, DIP_FRACTION * level)) {
      this.stats.pausesShared++;
      if (++pair.shared >= CONFIRMATIONS) {
        pair.shared = pair.independent = 0;
        this.group(p.subject, p.lead, now);
      }
      return;
    }
    if (drop <= Math.max(0.5, NO_DIP_FRACTION * level)) {
      this.stats.pausesIndependent++;
      if (++pair.independent >= CONFIRMATIONS) {
        pair.shared = pair.independent = 0;
        pair.quietUntil = now + pair.cooldown;
        pair.cooldown = Math.min(2 * pair.cooldown, COOLDOWN_MAX_MS);
      }
      return;
    }
    this.stats.pausesInconclusive++;
  }

  /**
   * Groups split by a suspect lead come back together once both paths work
   * again within RESUME_MS: the bottleneck they share has not moved. In the
   * namespace lab a loaded host made the lead suspect for a moment, and each
   * regrouping took seconds of new correlation and pauses (splitPathGone 2
   * in both rounds of a 20 s run).
   */
  private resume(byId: Map<number, BottleneckPath>, now: number): void {
    for (const [id, x] of this.suspended) {
      if (now > x.until || this.standbys.has(id)) {
        this.suspended.delete(id);
        continue;
      }
      if (byId.get(x.lead)?.working !== true || byId.get(id)?.working !== true) continue;
      if (this.pause !== null && (this.pause.subject === id || this.pause.lead === id)) continue;
      this.suspended.delete(id);
      this.group(id, x.lead, now);
      this.stats.resumed++;
    }
  }

  /** When each standby path was grouped (the no-queue split counts from there). */
  private groupedAt = NONE as Map<number, number>;

  private group(subject: number, lead: number, now: number): void {
    // A lead that itself stands by hands its followers to its own lead.
    const top = this.standbys.get(lead)?.lead ?? lead;
    if ((this.standbys as Map<unknown, unknown>) === NONE) this.standbys = new Map();
    this.standbys.set(subject, { lead: top, nextTrickle: now + TRICKLE_MS, trickleLeft: 0, misses: 0, lastMissAt: -Infinity });
    for (const s of this.standbys.values()) if (s.lead === subject) s.lead = top;
    if ((this.groupedAt as Map<unknown, unknown>) === NONE) this.groupedAt = new Map();
    this.groupedAt.set(subject, now);
    this.stats.grouped++;
  }

  private unstandby(pathId: number, reason: 'splitPathGone' | 'splitNoQueue' | 'splitMisses'): void {
    if (!this.standbys.delete(pathId)) return;
    this.groupedAt.delete(pathId);
    this.stats.split++;
    this.stats[reason]++;
  }

  /**
   * A sample on a standby path: does it still see its lead's queue? The
   * lead's level is the floor of its recent samples (PathDelays.recentMin:
   * host delay only ever adds), and a trickle's two packets meet the same
   * queue, so one trickle counts as one miss at most: a split needs
   * MISSES_TO_SPLIT trickles apart, not three samples in 5 ms after one
   * late burst of the lead's (what split the lab's groups).
   */
  private recheck(pathId: number, s: Standby, q: number, minRttMs: number, now: number): void {
    const lead = this.delays.get(s.lead);
    if (lead === undefined) return;
    const ql = lead.recentFloor(now);
    if (Number.isNaN(ql) || ql < queueMin(minRttMs)) return; // nothing to compare with
    if (q <= 0.3 * ql) {
      if (now - s.lastMissAt < TRICKLE_MS / 2) return; // this trickle already missed
      s.lastMissAt = now;
      s.misses++;
      if (s.misses >= MISSES_TO_SPLIT) {
        this.unstandby(pathId, 'splitMisses');
        const pair = this.pair(pathId, s.lead);
        pair.quietUntil = now + pair.cooldown;
        pair.cooldown = Math.min(2 * pair.cooldown, COOLDOWN_MAX_MS);
      }
    } else if (q >= 0.5 * ql) {
      s.misses = 0;
    }
  }

  private pair(a: number, b: number): PairState {
    const key = a < b ? `${a}:${b}` : `${b}:${a}`;
    let p = this.pairs.get(key);
    if (p === undefined) {
      if ((this.pairs as Map<unknown, unknown>) === NONE) this.pairs = new Map();
      this.pairs.set(key, (p = { shared: 0, independent: 0, quietUntil: -Infinity, cooldown: COOLDOWN_MS }));
    }
    return p;
  }
}

/** The queueing delay that counts as a queue on a path with this minimum RTT. */
function queueMin(minRttMs: number): number {
  return Math.max(QUEUE_MIN_MS, QUEUE_MIN_FRACTION * minRttMs);
}

/** Pearson correlation of two equally long series with the given means (0 when either is flat). */
export function pearson(xs: readonly number[], ys: readonly number[], mx: number, my: number): number {
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return 0;
  return sxy / Math.sqrt(sxx * syy);
}
