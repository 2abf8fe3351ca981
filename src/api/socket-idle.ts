/**
 * The idle timer of a socket's setTimeout(), as net.Socket's: 'timeout'
 * after `ms` without a byte read or written; the socket stays open.
 */
export class IdleTimer {
  /** The interval (0: off). */
  ms = 0;
  /** The armed timer. */
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly onIdle: () => void) {}

  /** (Re)starts the interval; 0 turns it off. */
  set(ms: number, armed: boolean): void {
    this.ms = ms;
    this.clear();
    if (ms > 0 && armed) this.timer = setTimeout(this.onIdle, ms).unref();
  }

  /** Activity restarts the interval (and re-arms it after a 'timeout', as in net). */
  touch(): void {
    this.timer?.refresh();
  }

  clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
