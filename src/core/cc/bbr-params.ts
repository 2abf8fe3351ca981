/**
 * BBR's parameters (draft-ietf-ccwg-bbr, quoted where it names them) and
 * its states, for bbr.ts. Units: bytes, milliseconds, bytes per ms.
 */

/** "BBR.LossThresh: [...] the maximum tolerated per-round-trip packet loss rate when probing for bandwidth (the default is 2%)." */
export const LOSS_THRESH = 0.02;
/** "BBR.Beta: [...] the default multiplicative decrease to make upon each round trip during which the connection detects packet loss (the value is 0.7)." */
export const BETA = 0.7;
/** "BBR.Headroom: [...] (the value is 0.15)." */
export const HEADROOM = 0.15;
/** "BBR.StartupPacingGain [...] (4 * ln(2) ~= 2.77)". */
export const STARTUP_PACING_GAIN = 2.77;
/** "BBR.DrainPacingGain [...] BBR uses the value 0.5". */
export const DRAIN_PACING_GAIN = 0.5;
/** "BBR.DefaultCwndGain: [...] (2)". */
export const DEFAULT_CWND_GAIN = 2;
/** ProbeBW_DOWN: "a BBR.pacing_gain of 0.90". */
export const PROBE_DOWN_PACING_GAIN = 0.9;
/** ProbeBW_UP: "a BBR.pacing_gain of 1.25 [...] It also raises BBR.cwnd_gain to 2.25". */
export const PROBE_UP_PACING_GAIN = 1.25;
export const PROBE_UP_CWND_GAIN = 2.25;
/** "BBR.PacingMarginPercent: The static discount factor of 1%". */
export const PACING_MARGIN = 0.01;
/** "BBR.MaxBwFilterLen [...] = 2 (representing up to 2 ProbeBW cycles". */
export const MAX_BW_FILTER_LEN = 2;
/** "BBR.ExtraAckedFilterLen [...] = 10 (in units of packet-timed round trips)". */
export const EXTRA_ACKED_FILTER_LEN = 10;
/** "BBR.MinRTTFilterLen is 10 secs" (ms). */
export const MIN_RTT_FILTER_LEN = 10_000;
/** "BBR.ProbeRTTCwndGain [...] 0.5". */
export const PROBE_RTT_CWND_GAIN = 0.5;
/** "BBR.ProbeRTTDuration: [...] 200 ms". */
export const PROBE_RTT_DURATION = 200;
/** "BBR.ProbeRTTInterval: [...] 5 secs" (ms). */
export const PROBE_RTT_INTERVAL = 5_000;
/** A sample this close to min_rtt (fraction of it) refreshes the ProbeRTT schedule (see updateMinRtt). */
export const MIN_RTT_MARGIN = 0.05;
/**
 * cwnd_gain while the path competes at a shared bottleneck with a standing
 * queue (see `competing`): one BDP, no more. At 1.25 the grouped connection
 * took 53.6 % against one Cubic flow in the simulator's `shared` cell and
 * 0.652 (median of 5) in the namespace lab; at 1.0, 44.6 % and 0.568, with
 * every other bbr cell of the matrix unchanged (docs/bench.md, "Issue 12:
 * the share against one kernel Cubic flow").
 */
export const STANDING_QUEUE_CWND_GAIN = 1.0;
/** Standard deviations above the threshold's expected loss count before inflight counts as too high (see isInflightTooHigh). */
export const LOSS_NOISE_SIGMAS = 2;
/** Startup loss exit: "at least BBRStartupFullLossCnt=6 discontiguous sequence ranges lost in that round trip". */
export const STARTUP_FULL_LOSS_COUNT = 6;
/** Full pipe: growth below 25 % ("less than 25 percent") for 3 rounds. */
export const FULL_BW_GROWTH = 1.25;
export const FULL_BW_ROUNDS = 3;
/** "T_reno_bound": at most 63 rounds between bandwidth probes. */
export const RENO_PROBE_ROUND_LIMIT = 63;

export type BbrState =
  | 'startup'
  | 'drain'
  | 'probe-bw-down'
  | 'probe-bw-cruise'
  | 'probe-bw-refill'
  | 'probe-bw-up'
  | 'probe-rtt';

/** BBR.ack_phase: what the ACKs now arriving say about bandwidth probing. */
export type AckPhase = 'init' | 'refilling' | 'probe-starting' | 'probe-feedback' | 'probe-stopping';

/** One of the four ProbeBW states. */
export function isProbeBw(s: BbrState): boolean {
  return s === 'probe-bw-down' || s === 'probe-bw-cruise' || s === 'probe-bw-refill' || s === 'probe-bw-up';
}
