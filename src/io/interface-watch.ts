/**
 * Watches the host's addresses: polls a source (by default
 * `os.networkInterfaces()`) at an interval and reports the addresses that
 * appeared and vanished since the last look. Polling, because Node offers no
 * portable notification of address changes; the interval bounds how long a
 * vanished address goes unnoticed (liveness probing catches a dead path
 * sooner on its own).
 */
import { performance } from 'node:perf_hooks';
import { hostAddresses } from './interfaces.js';

/** Where the current addresses come from (injectable in tests). */
export type AddressSource = () => readonly string[];

/**
 * One look at the host's addresses serves every watch that asks within
 * SNAPSHOT_MS: a client opening many connections at once (the bench's 64
 * handshakes in flight) called os.networkInterfaces() once per connection,
 * about 4 % of its CPU in the handshake profile (docs/bench.md). Far below
 * any poll interval, so no change goes unseen for longer.
 */
const SNAPSHOT_MS = 100;
let snapshot: { at: number; addresses: readonly string[] } | null = null;

export const defaultAddressSource: AddressSource = () => {
  const now = performance.now();
  if (snapshot === null || now - snapshot.at >= SNAPSHOT_MS) snapshot = { at: now, addresses: hostAddresses().map((a) => a.address) };
  return snapshot.addresses;
};

export interface InterfaceWatchOptions {
  /** Poll interval in ms. */
  interval: number;
  /** The addresses now. */
  source?: AddressSource;
  /** Called with what changed, added first. */
  onChange: (added: string[], removed: string[]) => void;
}

export class InterfaceWatch {
  /** The addresses seen at the last poll. */
  private known: Set<string>;
  private timer: NodeJS.Timeout | null = null;
  private readonly source: AddressSource;

  constructor(private readonly options: InterfaceWatchOptions) {
    this.source = options.source ?? defaultAddressSource;
    this.known = new Set(this.source());
  }

  start(): void {
    if (this.timer !== null || this.options.interval <= 0) return;
    this.timer = setInterval(() => this.poll(), this.options.interval);
    // The watch alone never keeps the process alive.
    this.timer.unref();
  }

  /** Looks that failed (os.networkInterfaces() throws EMFILE when the process is out of file descriptors). */
  failedLooks = 0;

  /**
   * Looks now; returns whether anything changed. A look that fails changes
   * nothing: it would otherwise report every address gone, and it runs in
   * a timer, where a throw would end the process.
   */
  poll(): boolean {
    let current: readonly string[];
    try {
      current = this.source();
    } catch {
      this.failedLooks++;
      return false;
    }
    const now = new Set(current);
    const added = [...now].filter((a) => !this.known.has(a));
    const removed = [...this.known].filter((a) => !now.has(a));
    this.known = now;
    if (added.length === 0 && removed.length === 0) return false;
    this.options.onChange(added, removed);
    return true;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
