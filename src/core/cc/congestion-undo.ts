/**
 * Undoing a congestion event that proves spurious.
 *
 * RFC 9438 §4.9: "packet reordering could trigger this behavior. A high
 * degree of packet reordering could cause multiple congestion window
 * reduction events, where spurious losses are incorrectly interpreted as
 * congestion signals, thus degrading CUBIC's performance significantly."
 * It asks a controller to save its state at a congestion event and to
 * restore it once the event is found spurious, by any detection mechanism
 * (it names DSACK, F-RTO and Eifel).
 *
 * The detection here is QUIC's own: a packet declared lost keeps its number
 * for a while, and an ACK that covers it proves it arrived
 * (path/sent-packets.ts, spurious losses). One event is followed, the
 * latest reduction: the in-flight packets declared lost from its start
 * until the next reduction are counted, and so are those of them later
 * proven to have arrived. When the two counts meet, every loss the event
 * reacted to was reordering, and the controller undoes it
 * (`undoCongestionEvent`). An event that established persistent congestion
 * is not undone, nor is one with a loss that stays unproven (really lost,
 * or forgotten past the list's length). This is Linux's rule (undo once
 * every retransmission of the episode proved unnecessary) on QUIC's signal.
 */
import type { SpuriousLoss } from '../path/sent-packets.js';

export class CongestionUndo {
  /** A reduction is being followed. */
  private open = false;
  /** When its first loss was declared, ms. */
  private start = 0;
  /** In-flight packets declared lost in it. */
  private lost = 0;
  /** Of those, the ones an ACK later covered. */
  private proven = 0;

  /** In-flight packets declared lost at `now`: `reduced` if they started a reduction, `persistent` if they established persistent congestion. */
  onLosses(count: number, now: number, reduced: boolean, persistent: boolean): void {
    if (reduced) {
      this.open = true;
      this.start = now;
      this.lost = 0;
      this.proven = 0;
    }
    if (!this.open) return;
    this.lost += count;
    if (persistent) this.open = false;
  }

  /** Losses an ACK proved spurious. True when they make the followed reduction undone (the caller undoes it). */
  onSpurious(losses: readonly SpuriousLoss[]): boolean {
    if (!this.open) return false;
    for (const l of losses) if (l.inFlight && l.lostAt >= this.start) this.proven++;
    if (this.proven < this.lost) return false;
    this.open = false;
    return true;
  }

  /** The controller was reset (the path failed or moved): nothing to undo. */
  reset(): void {
    this.open = false;
  }
}
