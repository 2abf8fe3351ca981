/** What the demo's two processes share: the bin width, the clock, the report. */

export const BIN_MS = 50;

/** Milliseconds on a clock both processes share. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

export interface ServerReport {
  type: 'done';
  bytes: number;
  sha256: string;
  /** Wall-clock time of bin 0's start. */
  binStart: number;
  /** Bytes received per 50 ms bin. */
  bins: number[];
}

