/**
 * Send side of the data sequence space: the bytes the application wrote,
 * kept until acknowledged. Data offsets are assigned once, at write time;
 * bytes lost on one path are re-sent (on any path) under the same offsets,
 * never renumbered.
 *
 * Bytes live in fixed-size blocks aligned to BLOCK_SIZE in the sequence
 * space (block k holds [k * BLOCK_SIZE, (k + 1) * BLOCK_SIZE)); a block is
 * freed once every byte in it is acknowledged. At most
 * ceil(bufferedBytes / BLOCK_SIZE) + 1 blocks are held.
 */
import { RangeSet } from './range-set.js';

/** Size of one storage block, in bytes. */
export const BLOCK_SIZE = 64 * 1024;

/**
 * Freed blocks kept for the next write, process-wide, at most
 * SPARE_BLOCKS_MAX (2 MiB). A new Uint8Array of 64 KiB is memory outside
 * V8's heap that only a full collection gives back, and a bulk sender
 * freed one every 64 KiB: with node:crypto's per-packet buffers it made
 * V8 run a mark-compact every 100-150 ms. A reused block holds another
 * stream's old bytes, which nothing reads: copyTo reads only what write
 * put there.
 */
const spareBlocks: Uint8Array[] = [];
export const SPARE_BLOCKS_MAX = 32;

/** Blocks waiting to be reused (for tests). */
export function spareBlockCount(): number {
  return spareBlocks.length;
}

/** A segment to transmit: [offset, offset + length) of the stream, plus FIN. */
export interface SendSegment {
  /** First data sequence offset of the segment. */
  offset: number;
  /** Number of bytes (0 only for a FIN-only segment). */
  length: number;
  /** The segment ends at the FIN offset and carries the FIN. */
  fin: boolean;
}

export class SendBuffer {
  /** Storage blocks; blocks[i] holds block number firstBlock + i. */
  private blocks: Uint8Array[] = [];
  /** Block number of blocks[0]. */
  private firstBlock = 0;
  /** Total bytes written. */
  private written = 0;
  /** Offset of the FIN once finish() was called. */
  private fin: number | null = null;
  /** Highest offset ever handed out for first transmission. */
  private sent = 0;
  /** The FIN was handed out at least once. */
  private finSent = false;
  /** The FIN was acknowledged. */
  private finAcked = false;
  /** The FIN was declared lost and not yet handed out again. */
  private finLost = false;
  /** Acknowledged offsets (never trimmed: [0, ackedBelow) stays one range). */
  private acked = new RangeSet();
  /** Sent, declared lost, not acked, not yet handed out again. */
  private lost = new RangeSet();
  /** The object nextSegment() returns, reused by every call. */
  private readonly segment: SendSegment = { offset: 0, length: 0, fin: false };

  constructor() {}

  get writeOffset(): number {
    return this.written;
  }

  get finOffset(): number | null {
    return this.fin;
  }

  get sendOffset(): number {
    return this.sent;
  }

  /** Every byte below this offset is acknowledged. */
  get ackedBelow(): number {
    return this.acked.firstGapFrom(0);
  }

  /** Bytes held: written and not yet cumulatively acknowledged. */
  get bufferedBytes(): number {
    return this.written - this.ackedBelow;
  }

  /** Bytes written and never handed out. */
  get unsentBytes(): number {
    return this.written - this.sent;
  }

  /** Bytes of storage currently allocated (for tests and stats). */
  get allocatedBytes(): number {
    return this.blocks.length * BLOCK_SIZE;
  }

  /** Lost ranges (or a lost FIN) wait to be re-sent. */
  get hasRetransmit(): boolean {
    return this.lost.rangeCount > 0 || this.finLost;
  }

  /** nextSegment() would return something: a retransmission, new bytes under maxData, or the FIN. */
  hasPending(maxData: number): boolean {
    if (this.lost.rangeCount > 0 || this.finLost) return true;
    if (this.sent < this.written) return this.sent < maxData;
    return this.fin !== null && !this.finSent && this.sent === this.fin;
  }

  /** New bytes wait but the peer's receive window forbids sending them. */
  isBlocked(maxData: number): boolean {
    return this.sent < this.written && this.sent >= maxData;
  }

  get isFinAcked(): boolean {
    return this.finAcked;
  }

  /** Every byte and the FIN are acknowledged. */
  get allAcked(): boolean {
    return this.finAcked && this.ackedBelow === this.fin;
  }

  /** Append a copy of `data` to the stream; throws after finish(). */
  write(data: Uint8Array): void {
    if (this.fin !== null) throw new Error('SendBuffer: write after finish');
    const total = data.length;
    if (!Number.isSafeInteger(this.written + total)) {
      throw new RangeError('SendBuffer: data sequence space exhausted');
    }
    let done = 0;
    while (done < total) {
      const pos = this.written % BLOCK_SIZE;
      if (pos === 0) this.blocks.push(spareBlocks.pop() ?? new Uint8Array(BLOCK_SIZE));
      const block = this.blocks[this.blocks.length - 1]!;
      const n = Math.min(BLOCK_SIZE - pos, total - done);
      block.set(done === 0 && n === total ? data : data.subarray(done, done + n), pos);
      done += n;
      this.written += n;
    }
  }

  /** Mark the end of the stream at the current writeOffset. Idempotent. */
  finish(): void {
    if (this.fin === null) this.fin = this.written;
  }

  /**
   * Next segment to transmit, or null when nothing can be sent.
   * Lost ranges come first (lowest first, at most maxLength bytes; they are
   * not limited by maxData: they were under it when first sent), else new
   * bytes from sendOffset, at most maxLength and ending at or below maxData.
   * A zero-length FIN segment is returned when only the FIN remains.
   * The returned object is reused: it is valid until the next call.
   */
  nextSegment(maxLength: number, maxData: number): SendSegment | null {
    const lost = this.lost;
    if (lost.rangeCount > 0 && maxLength >= 1) {
      const [start, rangeEnd] = lost.first()!;
      const end = Math.min(rangeEnd, start + Math.floor(maxLength));
      lost.remove(start, end);
      return this.fill(start, end);
    }
    if (this.finLost && lost.rangeCount === 0) {
      return this.fill(this.fin!, this.fin!);
    }
    if (this.sent < this.written) {
      const end = Math.min(this.written, maxData, this.sent + Math.floor(maxLength));
      if (end <= this.sent) return null;
      const start = this.sent;
      this.sent = end;
      return this.fill(start, end);
    }
    if (this.fin !== null && !this.finSent && this.sent === this.fin) {
      return this.fill(this.fin, this.fin);
    }
    return null;
  }

  /** Copy stream bytes [offset, offset + length) into dst at dstOffset. */
  copyTo(offset: number, length: number, dst: Uint8Array, dstOffset: number): void {
    const heldStart = this.firstBlock * BLOCK_SIZE;
    if (offset < heldStart || offset + length > this.written || length < 0) {
      throw new RangeError(`SendBuffer.copyTo: [${offset}, ${offset + length}) is not held`);
    }
    let done = 0;
    while (done < length) {
      const at = offset + done;
      const block = this.blocks[Math.floor(at / BLOCK_SIZE) - this.firstBlock]!;
      const pos = at % BLOCK_SIZE;
      const n = Math.min(BLOCK_SIZE - pos, length - done);
      dst.set(block.subarray(pos, pos + n), dstOffset + done);
      done += n;
    }
  }

  /** [offset, offset + length) (and the FIN if `fin`) was acknowledged. */
  onAcked(offset: number, length: number, fin: boolean): void {
    const end = Math.min(offset + length, this.sent);
    if (end > offset) {
      this.acked.add(offset, end);
      this.lost.remove(offset, end);
    }
    if (fin && this.finSent && offset + length === this.fin) {
      this.finAcked = true;
      this.finLost = false;
    }
    this.freeBlocks();
  }

  /** [offset, offset + length) (and the FIN if `fin`) was declared lost. */
  onLost(offset: number, length: number, fin: boolean): void {
    const end = Math.min(offset + length, this.sent);
    if (end > offset) {
      for (const [s, e] of this.acked.missing(offset, end)) this.lost.add(s, e);
    }
    if (fin && this.finSent && !this.finAcked && offset + length === this.fin) {
      this.finLost = true;
    }
  }

  /** Every byte of [offset, offset + length) is acknowledged. */
  isAcked(offset: number, length: number): boolean {
    return this.acked.covers(offset, offset + length);
  }

  /** Ranges handed out (below sendOffset) and not acknowledged, ascending. */
  unackedRanges(): Array<[number, number]> {
    return this.acked.missing(this.ackedBelow, this.sent);
  }

  /** Fill the reused result for [start, end); hands out the FIN when end is it. */
  private fill(start: number, end: number): SendSegment {
    const seg = this.segment;
    seg.offset = start;
    seg.length = end - start;
    seg.fin = end === this.fin && !this.finAcked;
    if (seg.fin) {
      this.finSent = true;
      this.finLost = false;
    }
    return seg;
  }

  /** Free blocks whose every byte is acknowledged. */
  private freeBlocks(): void {
    const below = this.ackedBelow;
    let k = 0;
    while (k < this.blocks.length && (this.firstBlock + k + 1) * BLOCK_SIZE <= below) k++;
    if (k > 0) {
      for (const b of this.blocks.splice(0, k)) if (spareBlocks.length < SPARE_BLOCKS_MAX) spareBlocks.push(b);
      this.firstBlock += k;
    }
  }
}
