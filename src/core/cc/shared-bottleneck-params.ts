/** The parameters of shared-bottleneck detection (shared-bottleneck.ts explains each step). */

/** Width of one queueing-delay bin, ms. */
export const BIN_MS = 50;
/** Bins in the passive window (2 s). */
export const WINDOW_BINS = 40;
/** Bins with samples each path needs before it is compared. */
export const MIN_FILLED_BINS = 20;
/** Smallest mean queueing delay that counts as a queue, ms (or QUEUE_MIN_FRACTION of min RTT, if larger). */
export const QUEUE_MIN_MS = 2;
export const QUEUE_MIN_FRACTION = 0.1;
/** Fraction of the filled bins whose minimum must show a queue for a path to see a standing queue. */
export const STANDING_BINS = 0.75;
/** Correlation of the binned delays above which two paths are candidates. */
export const CORRELATION_MIN = 0.7;
/** Pauses that must see the lead's queue drop before the pair is grouped. */
export const CONFIRMATIONS = 2;
/** A pause lasts this many round trips of the pair (see startPause), and at least PAUSE_MIN_MS. */
export const PAUSE_RTTS = 2;
export const PAUSE_MIN_MS = 20;
/** Bins whose means give the lead's level before a pause (their median). */
export const PAUSE_BEFORE_BINS = 5;
/** Least time between two pauses of the same pair, ms. */
export const PAUSE_SPACING_MS = 500;
/** The lead's queueing delay must dip by this fraction of its level around the pause (and 1 ms) to count as a dip. */
export const DIP_FRACTION = 0.2;
/** A dip smaller than this fraction (and 0.5 ms) counts as none. */
export const NO_DIP_FRACTION = 0.05;
/** First cool-down after a pair was found independent, ms; it doubles up to COOLDOWN_MAX_MS. */
export const COOLDOWN_MS = 10_000;
export const COOLDOWN_MAX_MS = 120_000;
/** A standby path sends two data packets this often (their RTT samples re-check the grouping), ms. */
export const TRICKLE_MS = 200;
/** Trickles in a row whose samples saw the lead queued and the subject not (one miss per trickle), after which the group splits. */
export const MISSES_TO_SPLIT = 3;
/** A group split because its lead turned suspect resumes if both paths work again within this long, ms. */
export const RESUME_MS = 5_000;
/** A group splits after this long with no queue at the lead (nobody to be fair to), ms. */
export const NO_QUEUE_SPLIT_MS = 5_000;

