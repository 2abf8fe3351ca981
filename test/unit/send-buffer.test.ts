import { describe, expect, it } from 'vitest';
import { Assembler } from '../../src/core/data/assembler.js';
import { ReceiveWindow, SendWindow } from '../../src/core/data/flow-control.js';
import { BLOCK_SIZE, SPARE_BLOCKS_MAX, SendBuffer, spareBlockCount, type SendSegment } from '../../src/core/data/send-buffer.js';
import { Rng } from '../../lab/random.js';

/** Run fn with a seeded Rng; any failure names the seed so it can be replayed. */
function withSeed(seed: number, fn: (rng: Rng) => void): void {
  try {
    fn(new Rng(seed));
  } catch (e) {
    throw new Error(`seed ${seed}: ${(e as Error).message}`, { cause: e });
  }
}

/** A copy of the (reused) segment object, or null. */
function seg(s: SendSegment | null): SendSegment | null {
  return s === null ? null : { offset: s.offset, length: s.length, fin: s.fin };
}

function filled(length: number, start = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (start + i) & 0xff;
  return out;
}

describe('SendBuffer', () => {
  it('starts empty', () => {
    const b = new SendBuffer();
    expect(b.writeOffset).toBe(0);
    expect(b.finOffset).toBeNull();
    expect(b.sendOffset).toBe(0);
    expect(b.ackedBelow).toBe(0);
    expect(b.bufferedBytes).toBe(0);
    expect(b.unsentBytes).toBe(0);
    expect(b.hasRetransmit).toBe(false);
    expect(b.isFinAcked).toBe(false);
    expect(b.allAcked).toBe(false);
    expect(b.nextSegment(1000, 1e9)).toBeNull();
    expect(b.allocatedBytes).toBe(0);
  });

  it('reuses freed blocks (at most SPARE_BLOCKS_MAX kept), and a reused block yields only what was written into it', () => {
    // Drain what earlier tests left, then free three blocks of 0xaa.
    const drain = new SendBuffer();
    while (spareBlockCount() > 0) drain.write(new Uint8Array(BLOCK_SIZE));
    const a = new SendBuffer();
    a.write(new Uint8Array(3 * BLOCK_SIZE).fill(0xaa));
    expect(a.nextSegment(3 * BLOCK_SIZE, 1e12)!.length).toBe(3 * BLOCK_SIZE);
    a.onAcked(0, 3 * BLOCK_SIZE, false);
    expect(spareBlockCount()).toBe(3);
    // Another stream takes one: 100 bytes of its own, the rest of the block stale.
    const b = new SendBuffer();
    b.write(filled(100, 7));
    expect(spareBlockCount()).toBe(2);
    const dst = new Uint8Array(100);
    b.copyTo(0, 100, dst, 0);
    expect(dst).toEqual(filled(100, 7));
    // The stale bytes past the write cannot be read.
    expect(() => b.copyTo(0, 101, new Uint8Array(101), 0)).toThrow(RangeError);
    // Freeing more than the cap keeps SPARE_BLOCKS_MAX.
    const c = new SendBuffer();
    const n = SPARE_BLOCKS_MAX + 5;
    c.write(new Uint8Array(n * BLOCK_SIZE));
    c.nextSegment(n * BLOCK_SIZE, 1e12);
    c.onAcked(0, n * BLOCK_SIZE, false);
    expect(spareBlockCount()).toBe(SPARE_BLOCKS_MAX);
  });

  it('copies written bytes (the caller may reuse its buffer)', () => {
    const b = new SendBuffer();
    const scratch = filled(10);
    b.write(scratch);
    scratch.fill(0xee);
    const dst = new Uint8Array(12);
    b.copyTo(0, 10, dst, 2);
    expect([...dst]).toEqual([0, 0, ...filled(10)]);
  });

  it('stores across block boundaries and copies ranges spanning blocks', () => {
    const b = new SendBuffer();
    const data = filled(BLOCK_SIZE * 2 + 123);
    b.write(data.subarray(0, BLOCK_SIZE - 5));
    b.write(data.subarray(BLOCK_SIZE - 5, BLOCK_SIZE * 2 + 100)); // spans three blocks
    b.write(data.subarray(BLOCK_SIZE * 2 + 100));
    expect(b.writeOffset).toBe(data.length);
    expect(b.allocatedBytes).toBe(3 * BLOCK_SIZE);
    const dst = new Uint8Array(BLOCK_SIZE + 20);
    b.copyTo(BLOCK_SIZE - 10, BLOCK_SIZE + 20, dst, 0);
    expect(dst).toEqual(data.subarray(BLOCK_SIZE - 10, BLOCK_SIZE * 2 + 10));
    expect(() => b.copyTo(data.length - 1, 2, dst, 0)).toThrow(RangeError);
  });

  it('hands out new bytes cut to maxLength and to the flow-control limit', () => {
    const b = new SendBuffer();
    b.write(filled(100));
    expect(seg(b.nextSegment(30, 1000))).toEqual({ offset: 0, length: 30, fin: false });
    expect(seg(b.nextSegment(30, 50))).toEqual({ offset: 30, length: 20, fin: false });
    expect(b.nextSegment(30, 50)).toBeNull(); // blocked by flow control
    expect(b.nextSegment(30, 40)).toBeNull(); // limit below sendOffset
    expect(b.sendOffset).toBe(50);
    expect(b.unsentBytes).toBe(50);
    expect(seg(b.nextSegment(1000, 1000))).toEqual({ offset: 50, length: 50, fin: false });
    expect(b.nextSegment(1000, 1000)).toBeNull();
  });

  it('reuses one result object', () => {
    const b = new SendBuffer();
    b.write(filled(10));
    const s1 = b.nextSegment(5, 100);
    const s2 = b.nextSegment(5, 100);
    expect(s1).toBe(s2);
  });

  it('sets fin on the segment ending at finOffset, or sends a FIN-only segment', () => {
    const b = new SendBuffer();
    b.write(filled(10));
    b.finish();
    expect(() => b.write(filled(1))).toThrow();
    expect(seg(b.nextSegment(4, 100))).toEqual({ offset: 0, length: 4, fin: false });
    expect(seg(b.nextSegment(100, 100))).toEqual({ offset: 4, length: 6, fin: true });
    expect(b.nextSegment(100, 100)).toBeNull();

    const c = new SendBuffer();
    c.write(filled(10));
    expect(seg(c.nextSegment(100, 100))).toEqual({ offset: 0, length: 10, fin: false });
    c.finish();
    expect(seg(c.nextSegment(100, 100))).toEqual({ offset: 10, length: 0, fin: true });
    expect(c.nextSegment(100, 100)).toBeNull();
    c.onAcked(0, 10, false);
    expect(c.allAcked).toBe(false);
    c.onAcked(10, 0, true);
    expect(c.isFinAcked).toBe(true);
    expect(c.allAcked).toBe(true);
  });

  it('sends a FIN-only segment on an empty stream', () => {
    const b = new SendBuffer();
    b.finish();
    expect(seg(b.nextSegment(100, 0))).toEqual({ offset: 0, length: 0, fin: true });
    b.onAcked(0, 0, true);
    expect(b.allAcked).toBe(true);
  });

  it('re-sends lost ranges first, lowest first, skipping parts acked meanwhile', () => {
    const b = new SendBuffer();
    b.write(filled(100));
    for (let i = 0; i < 5; i++) b.nextSegment(10, 1000); // [0, 50)
    b.onLost(30, 10, false);
    b.onLost(0, 20, false);
    expect(b.hasRetransmit).toBe(true);
    b.onAcked(5, 10, false); // acked after being declared lost (spurious loss)
    expect(seg(b.nextSegment(100, 0))).toEqual({ offset: 0, length: 5, fin: false }); // not limited by maxData
    expect(seg(b.nextSegment(3, 0))).toEqual({ offset: 15, length: 3, fin: false });
    expect(seg(b.nextSegment(100, 0))).toEqual({ offset: 18, length: 2, fin: false });
    expect(seg(b.nextSegment(100, 0))).toEqual({ offset: 30, length: 10, fin: false });
    expect(b.hasRetransmit).toBe(false);
    expect(seg(b.nextSegment(100, 60))).toEqual({ offset: 50, length: 10, fin: false });
  });

  it('never queues acked bytes or unsent bytes for retransmission', () => {
    const b = new SendBuffer();
    b.write(filled(100));
    b.nextSegment(40, 1000);
    b.onAcked(0, 20, false);
    b.onLost(0, 100, false); // only [20, 40) was sent and not acked
    expect(seg(b.nextSegment(100, 1000))).toEqual({ offset: 20, length: 20, fin: false });
    expect(seg(b.nextSegment(100, 1000))).toEqual({ offset: 40, length: 60, fin: false });
  });

  it('re-sends the FIN with the last bytes, or alone when they were acked', () => {
    const b = new SendBuffer();
    b.write(filled(20));
    b.finish();
    expect(seg(b.nextSegment(100, 100))).toEqual({ offset: 0, length: 20, fin: true });
    b.onLost(0, 20, true);
    expect(seg(b.nextSegment(100, 100))).toEqual({ offset: 0, length: 20, fin: true });
    b.onLost(0, 20, true);
    b.onAcked(0, 20, false); // e.g. a copy of the bytes without the FIN arrived
    expect(b.hasRetransmit).toBe(true);
    expect(seg(b.nextSegment(100, 100))).toEqual({ offset: 20, length: 0, fin: true });
    expect(b.nextSegment(100, 100)).toBeNull();
    b.onAcked(20, 0, true);
    expect(b.allAcked).toBe(true);
    b.onLost(20, 0, true); // late loss report after the ack: ignored
    expect(b.hasRetransmit).toBe(false);
  });

  it('tracks acks out of order, ackedBelow and unacked ranges', () => {
    const b = new SendBuffer();
    b.write(filled(100));
    b.nextSegment(100, 100);
    b.onAcked(50, 10, false);
    b.onAcked(20, 10, false);
    expect(b.ackedBelow).toBe(0);
    expect(b.isAcked(20, 10)).toBe(true);
    expect(b.isAcked(20, 11)).toBe(false);
    expect(b.unackedRanges()).toEqual([
      [0, 20],
      [30, 50],
      [60, 100],
    ]);
    b.onAcked(0, 20, false);
    b.onAcked(0, 20, false); // repeated
    expect(b.ackedBelow).toBe(30);
    expect(b.bufferedBytes).toBe(70);
    b.onAcked(0, 1000, false); // beyond sendOffset: clipped
    expect(b.ackedBelow).toBe(100);
    expect(b.unackedRanges()).toEqual([]);
  });

  it('frees blocks once wholly acknowledged', () => {
    const b = new SendBuffer();
    b.write(new Uint8Array(3 * BLOCK_SIZE + 10));
    while (b.nextSegment(1 << 20, Infinity) !== null);
    expect(b.allocatedBytes).toBe(4 * BLOCK_SIZE);
    b.onAcked(BLOCK_SIZE, BLOCK_SIZE, false); // not cumulative yet
    expect(b.allocatedBytes).toBe(4 * BLOCK_SIZE);
    b.onAcked(0, BLOCK_SIZE + 5, false);
    expect(b.ackedBelow).toBe(2 * BLOCK_SIZE);
    expect(b.allocatedBytes).toBe(2 * BLOCK_SIZE);
    expect(() => b.copyTo(BLOCK_SIZE, 1, new Uint8Array(1), 0)).toThrow(RangeError);
    b.onAcked(0, 3 * BLOCK_SIZE + 10, false);
    expect(b.allocatedBytes).toBe(BLOCK_SIZE); // the partly written last block
    b.write(filled(BLOCK_SIZE)); // continues in that block, then a new one
    expect(b.allocatedBytes).toBe(2 * BLOCK_SIZE);
    const dst = new Uint8Array(BLOCK_SIZE);
    b.copyTo(3 * BLOCK_SIZE + 10, BLOCK_SIZE, dst, 0);
    expect(dst).toEqual(filled(BLOCK_SIZE));
  });

  it('delivers every byte exactly over a lossy, reordering channel into an Assembler', () => {
    for (let seed = 1; seed <= 150; seed++) {
      withSeed(seed, (rng) => runTransfer(rng));
    }
  });
});

interface Packet {
  offset: number;
  length: number;
  fin: boolean;
  data: Uint8Array;
}

/**
 * Writer -> SendBuffer -> lossy reordering channel -> Assembler -> reader,
 * with acks (which can be lost too, making losses spurious) and MAX_DATA
 * updates (which can be lost) closing the loop.
 */
function runTransfer(rng: Rng): void {
  const total = rng.chance(0.05) ? 0 : rng.int(1, rng.chance(0.15) ? 3 * BLOCK_SIZE : 8000);
  const source = rng.bytes(total);
  const loss = rng.pick([0, 0.05, 0.2, 0.4]);
  const ackLoss = rng.pick([0, 0.1, 0.3]);
  const mss = rng.int(1, 1400);
  const windowSize = rng.int(Math.max(1, mss), 40_000);
  const sb = new SendBuffer();
  const asm = new Assembler();
  const rw = new ReceiveWindow(windowSize);
  const sw = new SendWindow(rw.maxData);
  const scratch = new Uint8Array(20_000);
  const got = new Uint8Array(total);
  let gotLen = 0;
  let inFlight: Packet[] = [];

  for (let step = 0; ; step++) {
    if (step > 200_000) throw new Error(`no progress: got ${gotLen}/${total}`);
    if (gotLen === total && asm.isFinished && sb.allAcked && inFlight.length === 0) break;
    const r = rng.int(0, 99);
    if (r < 15) {
      // The application writes (through a reused scratch buffer), then finishes.
      if (sb.writeOffset < total) {
        const n = Math.min(total - sb.writeOffset, rng.int(1, scratch.length));
        scratch.set(source.subarray(sb.writeOffset, sb.writeOffset + n));
        sb.write(scratch.subarray(0, n));
        scratch.fill(0xa5, 0, n);
      } else if (sb.finOffset === null) {
        sb.finish();
      }
    } else if (r < 50) {
      // Send a burst.
      for (let k = rng.int(1, 8); k > 0; k--) {
        const s = sb.nextSegment(mss, sw.maxData);
        if (s === null) break;
        if (s.length > mss) throw new Error(`segment longer than mss: ${s.length}`);
        const end = s.offset + s.length;
        if (end > sb.writeOffset) throw new Error(`segment beyond writeOffset: ${end}`);
        if (!rw.checkLimit(end)) throw new Error(`flow control violated: ${end} > ${rw.maxData}`);
        if (s.fin !== (end === sb.finOffset)) throw new Error(`fin flag wrong at ${end}`);
        const data = new Uint8Array(s.length);
        sb.copyTo(s.offset, s.length, data, 0);
        inFlight.push({ offset: s.offset, length: s.length, fin: s.fin, data });
      }
    } else if (r < 85) {
      // Deliver (or lose) a random in-flight packet.
      if (inFlight.length === 0) continue;
      const i = rng.int(0, inFlight.length - 1);
      const p = inFlight[i]!;
      inFlight[i] = inFlight[inFlight.length - 1]!;
      inFlight.pop();
      if (rng.chance(loss)) {
        sb.onLost(p.offset, p.length, p.fin);
        continue;
      }
      asm.insert(p.offset, p.data, p.fin);
      if (rng.chance(ackLoss)) sb.onLost(p.offset, p.length, p.fin);
      else sb.onAcked(p.offset, p.length, p.fin);
    } else if (r < 97) {
      // The application reads; the receiver advertises more window.
      for (let chunk = asm.read(rng.int(1, 5000)); chunk !== null; chunk = asm.read(rng.int(1, 5000))) {
        got.set(chunk, gotLen);
        gotLen += chunk.length;
        if (rng.chance(0.3)) break;
      }
      if (rw.onConsumed(asm.readOffset) && rng.chance(0.8)) {
        rw.markAdvertised();
        sw.update(rw.maxData);
      }
    } else {
      // A path fails: everything on it is declared lost at once.
      for (const p of inFlight) sb.onLost(p.offset, p.length, p.fin);
      inFlight = [];
    }
    // Invariants.
    if (sb.bufferedBytes !== sb.writeOffset - sb.ackedBelow) throw new Error('bufferedBytes');
    const maxBlocks = Math.ceil(sb.bufferedBytes / BLOCK_SIZE) + 1;
    if (sb.allocatedBytes > maxBlocks * BLOCK_SIZE) {
      throw new Error(`memory ${sb.allocatedBytes} for ${sb.bufferedBytes} buffered`);
    }
    if (sb.ackedBelow > asm.contiguousEnd) throw new Error('acked bytes the receiver lacks');
  }
  for (let x = 0; x < total; x++) {
    if (got[x] !== source[x]) throw new Error(`byte ${x}: got ${got[x]} want ${source[x]}`);
  }
  if (sb.allocatedBytes > BLOCK_SIZE) throw new Error(`memory left: ${sb.allocatedBytes}`);
}
