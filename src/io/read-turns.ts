/**
 * ReadTurns: which datagram a UdpEndpoint flushes inside its read, from
 * how many datagrams the turns of the event loop read.
 *
 * A turn that reads one datagram is request/response traffic. Waiting for
 * the turn's check phase, as a burst does, costs the answer a read that
 * finds nothing, the way out of the poll phase and two immediates
 * (docs/bench.md, "Issue 11: the round trip's critical path"). So when the
 * last turn that read any read exactly one, the first datagram of this turn
 * is flushed at once. A second datagram in the same turn goes back to
 * waiting, and so do later turns, until a turn reads one datagram again.
 */
export class ReadTurns {
  /** Datagrams read in this turn so far. */
  private count = 0;
  /** Datagrams read in the last turn that read any. */
  private last = 0;
  /** A datagram of this turn was flushed inside its read. */
  private inline = false;

  /**
   * A datagram was read. True if it is to be flushed inside its read (only
   * when `free`: no flush is scheduled or running); the caller then has
   * end() run in this turn's check phase.
   */
  arrived(free: boolean): boolean {
    this.count++;
    if (this.last !== 1 || this.inline || !free) return false;
    this.inline = true;
    return true;
  }

  /** The turn's check phase: its reads are counted. */
  end(): void {
    this.inline = false;
    if (this.count === 0) return;
    this.last = this.count;
    this.count = 0;
  }
}
