/**
 * CoreTimer: the one Node timer an endpoint keeps for its core's next
 * deadline (EndpointCore.pollTimeout), and when it fires.
 *
 * A deadline already due runs on the next turn of the event loop; any
 * later one, however close, waits for a setTimeout of at least 1 ms
 * (Node's granularity). Running a deadline less than 1 ms away on the next
 * turn instead spins the event loop until it comes: a sender waiting for
 * its pacer (next packet due in a few hundred µs) ran its timer 138,412
 * times for 21,297 datagrams in a 4 s upload through a 50 Mbit/s relay, and
 * 1,386 times with the wait (docs/bench.md). The pacer makes up for the
 * wait: its bucket holds 2 ms of the rate, and a late call sends what the
 * rate earned since the packet was due (core/path/pacer.ts).
 */
import type { Clock } from './clock.js';

export class CoreTimer {
  /** The Node timer (setTimeout or setImmediate), if armed. */
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  /** The timer is a setImmediate (deadline already due, or moved past the poll phase), not a setTimeout. */
  private isImmediate = false;
  /** The deadline the timer is armed for. */
  private deadline: number | null = null;
  /** stop() was called: the timer never fires again. */
  private stopped = false;

  /** `due` runs in the check phase of the turn a deadline falls in. */
  constructor(
    private readonly clock: Clock,
    private readonly due: () => void,
  ) {}

  /**
   * Arms the timer for `deadline` (ms on the endpoint's clock), or clears
   * it for null. A timer armed for an earlier deadline
   * is kept: firing early is harmless (the core acts only on what is due,
   * and the flush after it re-arms), and cheaper than clearing and setting
   * a timer on every flush while the deadline moves later with each
   * acknowledgement. `keepAlive` refs the timer (a connection needs it)
   * or unrefs it.
   */
  arm(deadline: number | null, keepAlive: boolean): void {
    if (this.stopped) return;
    if (deadline === null) {
      this.clear();
      return;
    }
    if (this.timer === null || this.deadline === null || deadline < this.deadline) {
      this.clear();
      const delay = deadline - this.clock.now();
      this.isImmediate = delay <= 0;
      this.timer = delay <= 0 ? setImmediate(this.onImmediate) : setTimeout(this.onExpired, Math.max(1, Math.ceil(delay)));
      this.deadline = deadline;
    }
    this.setRef(keepAlive);
  }

  /** Keeps the process alive for the armed timer, or not. */
  setRef(keepAlive: boolean): void {
    if (keepAlive) this.timer?.ref();
    else this.timer?.unref();
  }

  /** Clears the armed timer, if any. */
  clear(): void {
    if (this.timer === null) return;
    if (this.isImmediate) clearImmediate(this.timer as NodeJS.Immediate);
    else clearTimeout(this.timer as NodeJS.Timeout);
    this.timer = null;
    this.deadline = null;
  }

  /** Clears the timer for good. */
  stop(): void {
    this.stopped = true;
    this.clear();
  }

  /**
   * A setTimeout expired. It runs in the timers phase, before this turn's
   * poll phase reads the sockets: after a stall (the process descheduled on
   * a loaded machine, a long GC, an application blocking the loop), an ACK
   * that arrived in time waits there unread, and handling the timeout first
   * fires a spurious PTO (a retransmission, and path MTU discovery falling
   * back to 1200 and probing again). So the deadline is handled in the
   * check phase of the same turn, after the poll phase has handed every
   * waiting datagram to the core.
   */
  private readonly onExpired = (): void => {
    this.timer = null;
    if (this.stopped) {
      this.deadline = null;
      return;
    }
    this.timer = setImmediate(this.onImmediate);
    this.isImmediate = true;
  };

  private readonly onImmediate = (): void => {
    this.timer = null;
    this.deadline = null;
    if (this.stopped) return;
    this.due();
  };
}
