/**
 * Receive side of the data sequence space: byte ranges arrive on any path,
 * out of order, duplicated or overlapping; the application reads them in
 * order. Offsets are absolute positions in the stream's one 64-bit data
 * sequence space (JS numbers, safe up to 2^53).
 *
 * Storage, and what bounds it (a malicious peer chooses every offset):
 * - In order (below `contiguousEnd`, not yet read): a FIFO of chunks.
 *   In-order arrival appends in O(1), reading consumes from the head.
 * - Out of order (beyond a gap): a SortedMap (AVL tree) of disjoint chunks
 *   by offset: inserting, finding overlaps and moving chunks into order are
 *   O(log n) whatever the order of arrival.
 * - Only new bytes are kept. A piece that is a view holding less than half
 *   of its buffer is copied (a 1-byte frame must not pin its whole
 *   datagram), and small pieces are coalesced with their neighbours into
 *   buffers of at most COALESCE_LIMIT bytes, so memory stays within about
 *   twice the bytes held plus a small overhead per chunk.
 * - At most `maxChunks` out-of-order chunks: one more is DATA_TOO_FRAGMENTED,
 *   a protocol violation that ends the connection (a piece that coalesces
 *   with a neighbour needs no new chunk and is never refused).
 */
import { SortedMap } from './sorted-map.js';

export type AssemblerErrorCode = 'DATA_FIN_CONFLICT' | 'DATA_INVALID_RANGE' | 'DATA_TOO_FRAGMENTED';

export class AssemblerError extends Error {
  /** Machine-readable reason. */
  readonly code: AssemblerErrorCode;

  constructor(code: AssemblerErrorCode, message: string) {
    super(message);
    this.name = 'AssemblerError';
    this.code = code;
  }
}

/** Compact the in-order FIFO once this many consumed slots lead it. */
const COMPACT_THRESHOLD = 64;
/** A drained ready queue up to this long keeps its array (about 150 bytes). */
const KEPT_SLOTS = 16;
/** Pieces shorter than this are copied and coalesced with their neighbours. */
export const SMALL_PIECE = 512;
/** Largest buffer small pieces are coalesced into. */
export const COALESCE_LIMIT = 4096;
/** Default cap on out-of-order chunks. */
export const DEFAULT_MAX_CHUNKS = 8192;

/** `piece[from, to)`, the very object when that is all of it. */
function part(piece: Uint8Array, from: number, to: number): Uint8Array {
  return from === 0 && to === piece.length ? piece : piece.subarray(from, to);
}

/**
 * `piece`, copied if it is a small part of a larger buffer. The copy is
 * Uint8Array's own slice: a node Buffer's slice() would be another view.
 */
function own(piece: Uint8Array): Uint8Array {
  return piece.length * 2 < piece.buffer.byteLength ? Uint8Array.prototype.slice.call(piece) : piece;
}

export class Assembler {
  /**
   * In-order chunks not yet read: ready[head, readyEnd); the first starts at
   * `consumed`. The end is counted apart from the array's length so that a
   * drained queue keeps its small backing store: `length = 0` gave it up,
   * and the next packet's push made a new one (150 bytes a packet received
   * by a reader that keeps up).
   */
  private ready: Uint8Array[] = [];
  private head = 0;
  private readyEnd = 0;
  /** Buffer that small in-order pieces are coalesced into, and its used length. */
  private tail: Uint8Array | null = null;
  private tailUsed = 0;
  /** Out-of-order chunks by offset: disjoint, every one beyond contiguousEnd. */
  private readonly pending = new SortedMap<Uint8Array>();
  /** Every byte below this offset has arrived. */
  private contiguous = 0;
  /** One past the highest byte offset ever received. */
  private highest = 0;
  /** Bytes consumed by read(). */
  private consumed = 0;
  /** Bytes stored and not yet read. */
  private stored = 0;
  /** Final size of the stream once a FIN arrived, else null. */
  private fin: number | null = null;

  constructor(
    /** Most out-of-order chunks held at once. */
    readonly maxChunks: number = DEFAULT_MAX_CHUNKS,
  ) {}

  /** Bytes consumed by the application. */
  get readOffset(): number {
    return this.consumed;
  }

  /** Every byte below this offset has arrived. */
  get contiguousEnd(): number {
    return this.contiguous;
  }

  /** One past the highest byte offset ever received (0 if none). */
  get highestReceived(): number {
    return this.highest;
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

  /** Out-of-order chunks held. */
  get pendingChunks(): number {
    return this.pending.size;
  }

  /** Tree nodes visited so far (the work of every insert, counted: tests bound it instead of timing it). */
  get treeVisits(): number {
    return this.pending.visits;
  }

  /** Height of the out-of-order tree (at most 1.45·log2(n + 2) for n chunks). */
  get treeHeight(): number {
    return this.pending.height;
  }

  /** Number of holes below highestReceived (O(chunks): diagnostics and tests). */
  get gapCount(): number {
    let gaps = 0;
    let end = this.contiguous;
    for (const [offset, bytes] of this.pending.entries()) {
      if (offset > end) gaps++;
      end = offset + bytes.length;
    }
    return gaps;
  }

  /**
   * Store the bytes of [offset, offset + data.length) not seen before;
   * returns how many bytes were newly stored. Bytes below contiguousEnd are
   * duplicates. May keep views of `data`: the caller must not reuse its
   * buffer.
   * Throws AssemblerError DATA_FIN_CONFLICT when the FIN contradicts an
   * earlier FIN or data received beyond it, DATA_TOO_FRAGMENTED past
   * `maxChunks` out-of-order chunks; nothing is stored then.
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
      if (this.highest > end) {
        throw new AssemblerError('DATA_FIN_CONFLICT', `FIN at ${end} below data received up to ${this.highest}`);
      }
    } else if (this.fin !== null && end > this.fin) {
      throw new AssemblerError('DATA_FIN_CONFLICT', `data up to ${end} beyond FIN at ${this.fin}`);
    }
    const start = Math.max(offset, this.contiguous);
    let added = 0;
    if (start < end) {
      const piece = part(data, start - offset, length);
      added = start === this.contiguous ? this.insertInOrder(start, piece, end) : this.insertOutOfOrder(start, piece, end);
    }
    if (fin) this.fin = end;
    return added;
  }

  /**
   * Next in-order bytes, at most maxBytes of them, advancing readOffset;
   * null when the byte at readOffset has not arrived (or maxBytes < 1).
   * Returns one stored chunk or a view of its front, never a copy, so a
   * call may return fewer bytes than are readable: call again.
   */
  read(maxBytes = Infinity): Uint8Array | null {
    if (this.head >= this.readyEnd || !(maxBytes >= 1)) return null;
    const chunk = this.ready[this.head]!;
    let out: Uint8Array;
    if (chunk.length <= maxBytes) {
      out = chunk;
      this.ready[this.head] = EMPTY; // drop the reference
      this.head++;
      if (this.head === this.readyEnd) {
        // Drained (every slot read holds EMPTY). A queue that grew long gives its store back.
        if (this.readyEnd > KEPT_SLOTS) this.ready = [];
        this.head = 0;
        this.readyEnd = 0;
      } else if (this.head >= COMPACT_THRESHOLD && this.head * 2 >= this.readyEnd) {
        this.ready.copyWithin(0, this.head, this.readyEnd);
        this.readyEnd -= this.head;
        this.ready.length = this.readyEnd;
        this.head = 0;
      }
    } else {
      const n = Math.floor(maxBytes);
      out = chunk.subarray(0, n);
      this.ready[this.head] = chunk.subarray(n);
    }
    this.consumed += out.length;
    this.stored -= out.length;
    return out;
  }

  /**
   * [start, end) continues the in-order bytes: append it, drop what
   * out-of-order chunks held of it, then move every chunk it reaches into
   * order.
   */
  private insertInOrder(start: number, piece: Uint8Array, end: number): number {
    // Where out-of-order chunks already hold part of [start, end), their
    // bytes are kept (the first copy to arrive wins, as for any duplicate).
    let cursor = start;
    let added = 0;
    const first = this.pending.min();
    // Every chunk it reaches leaves the tree in one split: O(k + log n), not O(k log n).
    const reached = first !== null && first[0] < end ? this.pending.takeBelow(end) : NONE;
    for (const [co, bytes] of reached) {
      if (co > cursor) {
        this.append(part(piece, cursor - start, co - start));
        added += co - cursor;
      }
      this.appendChunk(bytes);
      cursor = co + bytes.length;
    }
    if (cursor < end) {
      this.append(part(piece, cursor - start, end - start));
      added += end - cursor;
      cursor = end;
    }
    this.contiguous = cursor;
    // Chunks that now continue the in-order bytes move into order: one walk
    // along their run, then one split drops them from the tree unvisited
    // (a whole window of chunks can move at once, so never one removal each).
    // With no chunk held (data in order, the usual case) there is no walk:
    // no closure and no stack per packet.
    if (this.pending.size > 0) this.moveRunIntoOrder(cursor);
    if (end > this.highest) this.highest = end;
    this.stored += added;
    return added;
  }

  /** The chunks that continue the in-order bytes from `cursor` move into order. */
  private moveRunIntoOrder(cursor: number): void {
    let runEnd = cursor;
    let moved = 0;
    this.pending.forEachWhile((co, bytes) => {
      if (co !== runEnd) return false;
      this.appendChunk(bytes);
      runEnd += bytes.length;
      moved++;
      return true;
    });
    if (moved > 0) {
      this.pending.dropBelow(runEnd, moved);
      this.contiguous = runEnd;
    }
  }

  /** [start, end) lies beyond a gap: store the parts of it no chunk holds yet. */
  private insertOutOfOrder(start: number, piece: Uint8Array, end: number): number {
    // The holes of [start, end) between the chunks already held.
    const holes: Array<[number, number]> = [];
    let cursor = start;
    const before = this.pending.floor(start);
    if (before !== null) cursor = Math.max(cursor, before[0] + before[1].length);
    for (let c = this.pending.ceiling(start); c !== null && c[0] < end && cursor < end; c = this.pending.ceiling(c[0] + 1)) {
      if (c[0] > cursor) holes.push([cursor, c[0]]);
      cursor = Math.max(cursor, c[0] + c[1].length);
    }
    if (cursor < end) holes.push([cursor, end]);
    let added = 0;
    let storedEnd = 0;
    try {
      for (const [hs, he] of holes) {
        this.storeHole(hs, part(piece, hs - start, he - start));
        added += he - hs;
        storedEnd = he;
      }
    } finally {
      // Even when a later hole was refused, what was stored is accounted for.
      this.stored += added;
      if (storedEnd > this.highest) this.highest = storedEnd;
    }
    return added;
  }

  /** Stores a piece lying wholly in a hole, coalescing a small one with small neighbours. */
  private storeHole(offset: number, bytes: Uint8Array): void {
    if (bytes.length < SMALL_PIECE) {
      const prev = this.pending.floor(offset - 1);
      const next = this.pending.get(offset + bytes.length);
      const joinPrev = prev !== null && prev[0] + prev[1].length === offset && prev[1].length + bytes.length <= COALESCE_LIMIT;
      const joinNext = next !== undefined && next.length + bytes.length + (joinPrev ? prev![1].length : 0) <= COALESCE_LIMIT;
      if (joinPrev || joinNext) {
        const parts = [joinPrev ? prev![1] : EMPTY, bytes, joinNext ? next! : EMPTY];
        const at = joinPrev ? prev![0] : offset;
        const merged = new Uint8Array(parts[0]!.length + parts[1]!.length + parts[2]!.length);
        merged.set(parts[0]!, 0);
        merged.set(parts[1]!, parts[0]!.length);
        merged.set(parts[2]!, parts[0]!.length + parts[1]!.length);
        if (joinNext) this.pending.delete(offset + bytes.length);
        this.pending.set(at, merged);
        return;
      }
    }
    if (this.pending.size >= this.maxChunks) {
      throw new AssemblerError('DATA_TOO_FRAGMENTED', `more than ${this.maxChunks} out-of-order chunks`);
    }
    this.pending.set(offset, own(bytes));
  }

  /** Appends new in-order bytes (small ones copied into a shared tail buffer). */
  private append(piece: Uint8Array): void {
    if (piece.length >= SMALL_PIECE) {
      this.appendChunk(own(piece));
      return;
    }
    const last = this.readyEnd > this.head ? this.ready[this.readyEnd - 1]! : null;
    const tail = this.tail;
    if (tail !== null && last !== null && last.buffer === tail.buffer && last.byteOffset + last.length === tail.byteOffset + this.tailUsed && this.tailUsed + piece.length <= tail.length) {
      // Extend the last chunk in place.
      tail.set(piece, this.tailUsed);
      this.tailUsed += piece.length;
      this.ready[this.readyEnd - 1] = tail.subarray(last.byteOffset - tail.byteOffset, this.tailUsed);
      return;
    }
    if (tail === null || this.tailUsed + piece.length > tail.length) {
      this.tail = new Uint8Array(COALESCE_LIMIT);
      this.tailUsed = 0;
    }
    const buf = this.tail!;
    buf.set(piece, this.tailUsed);
    this.ready[this.readyEnd++] = buf.subarray(this.tailUsed, this.tailUsed + piece.length);
    this.tailUsed += piece.length;
  }

  /** Appends a chunk as it is (already owned). */
  private appendChunk(chunk: Uint8Array): void {
    if (chunk.length < SMALL_PIECE) {
      this.append(chunk);
      return;
    }
    this.ready[this.readyEnd++] = chunk;
  }
}

/** Placeholder left in consumed slots so their buffers can be collected. */
const EMPTY = new Uint8Array(0);
/** No chunk reached. */
const NONE: ReadonlyArray<[number, Uint8Array]> = [];
