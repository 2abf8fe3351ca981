/**
 * Receive side of the data sequence space: byte ranges arrive on any path,
 * out of order, duplicated or overlapping; the application reads them in
 * order. Offsets are absolute positions in the stream's one 64-bit data
 * sequence space (JS numbers, safe up to 2^53).
 *
 * Storage: chunks sorted by offset and disjoint (only new bytes are kept,
 * as views of the caller's buffers), in two parallel arrays consumed from a
 * moving head index. In-order arrival appends (O(1)); reading consumes from
 * the head (O(1)); out-of-order arrival binary-searches and splices.
 */
import { RangeSet } from './range-set.js';

export type AssemblerErrorCode = 'DATA_FIN_CONFLICT' | 'DATA_INVALID_RANGE';

export class AssemblerError extends Error {
  /** Machine-readable reason. */
  readonly code: AssemblerErrorCode;

  constructor(code: AssemblerErrorCode, message: string) {
    super(message);
    this.name = 'AssemblerError';
    this.code = code;
  }
}

/** Compact the chunk arrays once this many consumed slots lead them. */
const COMPACT_THRESHOLD = 64;

export class Assembler {
  /** Stream offset of chunkData[k], for k >= head; ascending. */
  private chunkOffsets: number[] = [];
  /** Stored bytes; chunk k covers [chunkOffsets[k], chunkOffsets[k] + length). */
  private chunkData: Uint8Array[] = [];
  /** Index of the first unread chunk in the two arrays. */
  private head = 0;
  /** Every offset that ever arrived (never trimmed: [0, contiguousEnd) stays one range). */
  private received = new RangeSet();
  /** Bytes consumed by read(). */
  private consumed = 0;
  /** Bytes stored and not yet read. */
  private stored = 0;
  /** Final size of the stream once a FIN arrived, else null. */
  private fin: number | null = null;

  constructor() {}

  /** Bytes consumed by the application. */
  get readOffset(): number {
    return this.consumed;
  }

  /** Every byte below this offset has arrived. */
  get contiguousEnd(): number {
    return this.received.firstGapFrom(0);
  }

  /** One past the highest byte offset ever received (0 if none). */
  get highestReceived(): number {
    return this.received.max ?? 0;
  }

  get finOffset(): number | null {
    return this.fin;
  }

  /** The FIN is known and every byte up to it was read. */
  get isFinished(): boolean {
    return this.fin !== null && this.consumed === this.fin;
  }

  /** Bytes stored and not yet read, in order or not. */
  get bufferedBytes(): number {
    return this.stored;
  }

  /** Number of holes between readOffset and highestReceived. */
  get gapCount(): number {
    const n = this.received.rangeCount;
    if (n === 0) return 0;
    return this.received.min! > 0 ? n : n - 1;
  }

  /**
   * Store the bytes of [offset, offset + data.length) not seen before;
   * returns how many bytes were newly stored. Bytes below readOffset are
   * ignored. Keeps references to (views of) `data`: the caller must not
   * reuse its buffer.
   * Throws AssemblerError DATA_FIN_CONFLICT when the FIN contradicts an
   * earlier FIN or data received beyond it.
   */
  insert(offset: number, data: Uint8Array, fin: boolean): number {
    const length = data.length;
    const end = offset + length;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(end)) {
      throw new AssemblerError('DATA_INVALID_RANGE', `invalid data range at ${offset}+${length}`);
    }
    // RFC 9000 §4.5, applied to the data sequence space: "Once a final size
    // for a stream is known, it cannot change." A FIN (final size) below
    // data already received, or data beyond a known FIN, is likewise an error.
    if (fin) {
      if (this.fin !== null && this.fin !== end) {
        throw new AssemblerError('DATA_FIN_CONFLICT', `FIN at ${end} contradicts FIN at ${this.fin}`);
      }
      if (this.highestReceived > end) {
        throw new AssemblerError(
          'DATA_FIN_CONFLICT',
          `FIN at ${end} below data received up to ${this.highestReceived}`,
        );
      }
      this.fin = end;
    } else if (this.fin !== null && end > this.fin) {
      throw new AssemblerError('DATA_FIN_CONFLICT', `data up to ${end} beyond FIN at ${this.fin}`);
    }

    let start = offset;
    if (start < this.consumed) start = this.consumed;
    if (start >= end) return 0;

    const received = this.received;
    const last = received.max ?? 0;
    // Fast path: in-order (or beyond everything so far) arrival appends.
    if (start >= last) {
      const piece = start === offset ? data : data.subarray(start - offset);
      this.chunkOffsets.push(start);
      this.chunkData.push(piece);
      received.add(start, end);
      this.stored += end - start;
      return end - start;
    }

    // General case: keep only the holes of [start, end).
    const holes = received.missing(start, end);
    let added = 0;
    for (const [hs, he] of holes) {
      this.insertChunk(hs, data.subarray(hs - offset, he - offset));
      received.add(hs, he);
      added += he - hs;
    }
    this.stored += added;
    return added;
  }

  /**
   * Next in-order bytes, at most maxBytes of them, advancing readOffset;
   * null when the byte at readOffset has not arrived (or maxBytes < 1).
   * Returns one stored chunk or a view of its front — never a copy, so a
   * call may return fewer bytes than are readable: call again.
   */
  read(maxBytes = Infinity): Uint8Array | null {
    if (this.head >= this.chunkData.length || !(maxBytes >= 1)) return null;
    if (this.chunkOffsets[this.head] !== this.consumed) return null;
    const chunk = this.chunkData[this.head]!;
    let out: Uint8Array;
    if (chunk.length <= maxBytes) {
      out = chunk;
      this.chunkData[this.head] = EMPTY; // drop the reference
      this.head++;
      if (this.head === this.chunkData.length) {
        // Everything stored was read: reset in O(1).
        this.chunkOffsets.length = 0;
        this.chunkData.length = 0;
        this.head = 0;
      } else if (this.head >= COMPACT_THRESHOLD && this.head * 2 >= this.chunkData.length) {
        this.compact();
      }
    } else {
      const n = Math.floor(maxBytes);
      out = chunk.subarray(0, n);
      this.chunkData[this.head] = chunk.subarray(n);
      this.chunkOffsets[this.head] = this.consumed + n;
    }
    this.consumed += out.length;
    this.stored -= out.length;
    return out;
  }

  /** Insert a chunk lying wholly in a hole, keeping the arrays sorted. */
  private insertChunk(offset: number, piece: Uint8Array): void {
    const offsets = this.chunkOffsets;
    let lo = this.head;
    let hi = offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (offsets[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    if (lo === offsets.length) {
      offsets.push(offset);
      this.chunkData.push(piece);
    } else {
      offsets.splice(lo, 0, offset);
      this.chunkData.splice(lo, 0, piece);
    }
  }

  /** Drop consumed slots from the front of the chunk arrays. */
  private compact(): void {
    this.chunkOffsets.splice(0, this.head);
    this.chunkData.splice(0, this.head);
    this.head = 0;
  }
}

/** Placeholder left in consumed slots so their buffers can be collected. */
const EMPTY = new Uint8Array(0);
