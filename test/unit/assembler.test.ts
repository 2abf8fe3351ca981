import { describe, expect, it } from 'vitest';
import { Assembler, AssemblerError } from '../../src/core/data/assembler.js';
import { Rng } from '../../lab/random.js';

/** Run fn with a seeded Rng; any failure names the seed so it can be replayed. */
function withSeed(seed: number, fn: (rng: Rng) => void): void {
  try {
    fn(new Rng(seed));
  } catch (e) {
    throw new Error(`seed ${seed}: ${(e as Error).message}`, { cause: e });
  }
}

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

/** Read everything currently readable, concatenated (an empty chunk is a bug: it would loop for ever). */
function drain(a: Assembler, maxBytes = Infinity): number[] {
  const out: number[] = [];
  for (let chunk = a.read(maxBytes); chunk !== null; chunk = a.read(maxBytes)) {
    if (chunk.length === 0) throw new Error('read() returned an empty chunk');
    out.push(...chunk);
  }
  return out;
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AssemblerError);
    expect((e as AssemblerError).code).toBe(code);
    return;
  }
  throw new Error(`expected AssemblerError ${code}`);
}

describe('Assembler', () => {
  it('starts empty', () => {
    const a = new Assembler();
    expect(a.read()).toBeNull();
    expect(a.readOffset).toBe(0);
    expect(a.contiguousEnd).toBe(0);
    expect(a.highestReceived).toBe(0);
    expect(a.finOffset).toBeNull();
    expect(a.isFinished).toBe(false);
    expect(a.bufferedBytes).toBe(0);
    expect(a.gapCount).toBe(0);
  });

  it('returns large in-order chunks as the very views inserted (no copy)', () => {
    const a = new Assembler();
    // Two datagrams, each mostly one DATA frame.
    const d1 = new Uint8Array(1200).map((_, i) => i & 0xff);
    const d2 = new Uint8Array(1200).map((_, i) => (i * 7) & 0xff);
    const first = d1.subarray(100, 1100);
    expect(a.insert(0, first, false)).toBe(1000);
    expect(a.insert(1000, d2.subarray(50, 850), false)).toBe(800);
    expect(a.bufferedBytes).toBe(1800);
    expect(a.contiguousEnd).toBe(1800);
    const r1 = a.read()!;
    expect(r1).toBe(first); // the same object: no copy
    const r2 = a.read()!;
    expect(r2.buffer).toBe(d2.buffer);
    expect(r2[0]).toBe((50 * 7) & 0xff);
    expect(a.read()).toBeNull();
    expect(a.readOffset).toBe(1800);
    expect(a.bufferedBytes).toBe(0);
  });

  it('copies small pieces and coalesces them, so a 1-byte frame never pins its datagram', () => {
    const a = new Assembler();
    const datagrams = Array.from({ length: 100 }, (_, i) => new Uint8Array(1200).fill(i));
    // In order: one byte from each datagram.
    for (let i = 0; i < 50; i++) a.insert(i, datagrams[i]!.subarray(600, 601), false);
    // Out of order, adjacent to each other beyond a gap.
    for (let i = 99; i >= 60; i--) a.insert(i, datagrams[i]!.subarray(600, 601), false);
    expect(a.pendingChunks).toBe(1);
    const chunk = a.read()!;
    expect(chunk.length).toBe(50);
    expect(chunk.buffer).not.toBe(datagrams[0]!.buffer);
    expect([...chunk.subarray(0, 3)]).toEqual([0, 1, 2]);
    for (let i = 50; i < 60; i++) a.insert(i, datagrams[i]!.subarray(600, 601), false);
    expect([...drain(a)]).toEqual(Array.from({ length: 50 }, (_, i) => 50 + i));
  });

  it('copies a small out-of-order piece of a node Buffer too (a Buffer\'s slice() is a view)', () => {
    const a = new Assembler();
    const datagram = Buffer.alloc(1200, 7);
    a.insert(10, datagram.subarray(600, 601), false);
    datagram.fill(9); // the datagram's memory is reused or changed: the stored byte must not follow
    a.insert(0, new Uint8Array(10), false);
    expect([...drain(a)].slice(10)).toEqual([7]);
  });

  it('refuses the out-of-order chunk past maxChunks with DATA_TOO_FRAGMENTED, storing nothing', () => {
    const a = new Assembler(100);
    for (let i = 0; i < 100; i++) a.insert(2 + 2 * i, bytes(i), false);
    expect(a.pendingChunks).toBe(100);
    const stored = a.bufferedBytes;
    expectCode(() => a.insert(1000, bytes(1), false), 'DATA_TOO_FRAGMENTED');
    expect(a.bufferedBytes).toBe(stored);
    // Bytes that only fill holes next to chunks coalesce and need no new chunk.
    expect(a.insert(3, bytes(7), false)).toBe(1);
    // In-order bytes are never refused.
    expect(a.insert(0, bytes(1, 2), false)).toBe(2);
    expect(a.contiguousEnd).toBe(5);
  });

  it('limits reads to maxBytes and splits a chunk', () => {
    const a = new Assembler();
    a.insert(0, bytes(1, 2, 3, 4, 5), false);
    expect([...a.read(2)!]).toEqual([1, 2]);
    expect(a.readOffset).toBe(2);
    expect(a.bufferedBytes).toBe(3);
    expect(a.read(0)).toBeNull();
    expect([...a.read(10)!]).toEqual([3, 4, 5]);
    expect(a.read()).toBeNull();
  });

  it('holds out-of-order data until the gap fills, tracking gaps', () => {
    const a = new Assembler();
    expect(a.insert(4, bytes(5, 6), false)).toBe(2);
    expect(a.insert(8, bytes(9), false)).toBe(1);
    expect(a.read()).toBeNull();
    expect(a.contiguousEnd).toBe(0);
    expect(a.highestReceived).toBe(9);
    expect(a.gapCount).toBe(2); // [0,4) and [6,8)
    expect(a.bufferedBytes).toBe(3);
    expect(a.insert(0, bytes(1, 2, 3, 4), false)).toBe(4);
    expect(a.gapCount).toBe(1);
    expect(a.contiguousEnd).toBe(6);
    expect(drain(a)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(a.insert(6, bytes(7, 8), false)).toBe(2);
    expect(a.gapCount).toBe(0);
    expect(drain(a)).toEqual([7, 8, 9]);
  });

  it('keeps only new bytes of overlapping inserts and ignores bytes already read', () => {
    const a = new Assembler();
    a.insert(2, bytes(3, 4), false);
    a.insert(6, bytes(7, 8), false);
    // Covers [0, 10): new bytes are [0,2), [4,6), [8,10).
    expect(a.insert(0, bytes(1, 2, 0, 0, 5, 6, 0, 0, 9, 10), false)).toBe(6);
    expect(a.insert(0, bytes(0, 0, 0), false)).toBe(0); // pure duplicate
    expect(drain(a, 3)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(a.insert(5, bytes(0, 0, 0, 0, 0, 11), false)).toBe(1); // only [10, 11) is new
    expect(a.insert(0, bytes(0), false)).toBe(0);
    expect(drain(a)).toEqual([11]);
    expect(a.bufferedBytes).toBe(0);
  });

  it('finishes once the FIN offset is read', () => {
    const a = new Assembler();
    a.insert(3, bytes(4, 5), true);
    expect(a.finOffset).toBe(5);
    expect(a.isFinished).toBe(false);
    a.insert(0, bytes(1, 2, 3), false);
    expect(drain(a)).toEqual([1, 2, 3, 4, 5]);
    expect(a.isFinished).toBe(true);
    // A duplicate of the FIN segment is fine.
    expect(a.insert(3, bytes(4, 5), true)).toBe(0);
    expect(a.isFinished).toBe(true);
  });

  it('accepts a zero-length FIN, including on an empty stream', () => {
    const a = new Assembler();
    expect(a.insert(0, new Uint8Array(0), true)).toBe(0);
    expect(a.finOffset).toBe(0);
    expect(a.isFinished).toBe(true);
    const b = new Assembler();
    b.insert(0, bytes(1, 2), false);
    b.insert(2, new Uint8Array(0), true);
    expect(b.isFinished).toBe(false);
    expect(drain(b)).toEqual([1, 2]);
    expect(b.isFinished).toBe(true);
  });

  it('rejects FIN conflicts with DATA_FIN_CONFLICT and stays unchanged', () => {
    const a = new Assembler();
    a.insert(0, bytes(1, 2, 3), true);
    expectCode(() => a.insert(0, bytes(1, 2, 3, 4), true), 'DATA_FIN_CONFLICT'); // other FIN
    expectCode(() => a.insert(2, bytes(3, 4), false), 'DATA_FIN_CONFLICT'); // data beyond FIN
    expectCode(() => a.insert(0, bytes(1), true), 'DATA_FIN_CONFLICT');
    expect(a.finOffset).toBe(3);
    expect(a.bufferedBytes).toBe(3);

    const b = new Assembler();
    b.insert(10, bytes(1, 2), false);
    expectCode(() => b.insert(0, bytes(1, 2), true), 'DATA_FIN_CONFLICT'); // FIN below data
    expect(b.finOffset).toBeNull();
  });

  it('rejects invalid offsets', () => {
    const a = new Assembler();
    expectCode(() => a.insert(-1, bytes(1), false), 'DATA_INVALID_RANGE');
    expectCode(() => a.insert(Number.MAX_SAFE_INTEGER, bytes(1, 2), false), 'DATA_INVALID_RANGE');
  });

  it('works at offsets near 2^53', () => {
    const a = new Assembler();
    const base = Number.MAX_SAFE_INTEGER - 10;
    a.insert(base + 2, bytes(3), true);
    expect(a.highestReceived).toBe(base + 3);
    expect(a.read()).toBeNull(); // readOffset is 0: nothing in order
  });

  it('stays O(1) per in-order chunk over a long stream', () => {
    const a = new Assembler();
    const chunk = new Uint8Array(100);
    let offset = 0;
    for (let i = 0; i < 50_000; i++) {
      a.insert(offset, chunk, false);
      offset += chunk.length;
      if (i % 3 === 2) drain(a);
    }
    drain(a);
    expect(a.readOffset).toBe(offset);
    expect(a.bufferedBytes).toBe(0);
  });

  it('hands back every byte in order across drains, compactions and long queues of in-order chunks', () => {
    // The ready queue reuses its array when drained and compacts it when
    // half read: chunk counts around both edges (16 kept slots, 64 before
    // compaction), large and small pieces, partial reads.
    for (let seed = 1; seed <= 60; seed++) {
      withSeed(seed, (rng) => {
        const a = new Assembler();
        const stream = new Uint8Array(200_000).map((_, i) => (i * 7 + seed) & 0xff);
        const got: number[] = [];
        let offset = 0;
        while (offset < stream.length) {
          const burst = rng.int(1, 150);
          for (let k = 0; k < burst && offset < stream.length; k++) {
            const len = Math.min(stream.length - offset, rng.chance(0.3) ? rng.int(1, 200) : rng.int(600, 1400));
            a.insert(offset, stream.subarray(offset, offset + len), false);
            offset += len;
          }
          const reads = rng.chance(0.5) ? Infinity : rng.int(1, 200);
          for (let r = 0; r < reads; r++) {
            const chunk = a.read(rng.chance(0.2) ? rng.int(1, 500) : Infinity);
            if (chunk === null) break;
            if (chunk.length === 0) throw new Error('read() returned an empty chunk');
            for (const b of chunk) got.push(b);
          }
        }
        for (const b of drain(a)) got.push(b);
        expect(got.length).toBe(stream.length);
        expect(Buffer.from(got).equals(Buffer.from(stream))).toBe(true);
        expect(a.bufferedBytes).toBe(0);
      });
    }
  });

  it('reassembles random permutations, duplicates and overlaps exactly', () => {
    for (let seed = 1; seed <= 400; seed++) {
      withSeed(seed, (rng) => runReassembly(rng));
    }
  });

  it('inserts in O(log n): 200k one-byte fragments in descending order cost a few root-to-leaf walks each (counted, not timed)', () => {
    const a = new Assembler(1_000_000);
    const one = bytes(1);
    for (let i = 200_000; i > 0; i--) {
      const before = a.treeVisits;
      a.insert(2 * i, one, false);
      expect(a.treeVisits - before).toBeLessThanOrEqual(8 * (a.treeHeight + 1));
    }
    expect(a.treeHeight).toBeLessThanOrEqual(Math.ceil(1.45 * Math.log2(200_000 + 2)));
    expect(a.pendingChunks).toBe(200_000);
    expect(a.gapCount).toBe(200_000);
    expect(a.highestReceived).toBe(400_001);
  });
});

/** Random chunks (a cover of the buffer plus overlapping extras), shuffled, interleaved with reads. */
function runReassembly(rng: Rng): void {
  const total = rng.chance(0.05) ? 0 : rng.int(1, rng.chance(0.2) ? 20_000 : 600);
  const source = rng.bytes(total);
  const pieces: Array<[number, number]> = [];
  for (let at = 0; at < total; ) {
    const len = Math.min(total - at, rng.int(1, 200));
    pieces.push([at, at + len]);
    at += len;
  }
  const extras = rng.int(0, pieces.length);
  for (let i = 0; i < extras; i++) {
    const s = rng.int(0, Math.max(0, total - 1));
    pieces.push([s, Math.min(total, s + rng.int(0, 400))]);
  }
  if (total === 0 || rng.chance(0.3)) pieces.push([total, total]); // zero-length FIN
  for (let i = pieces.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [pieces[i], pieces[j]] = [pieces[j]!, pieces[i]!];
  }

  const a = new Assembler();
  const got = new Uint8Array(total);
  const arrived = new Uint8Array(total); // model: 1 when the byte arrived
  let gotLen = 0;
  let storedModel = 0;
  const readSome = () => {
    for (let chunk = a.read(rng.int(1, 300)); chunk !== null; chunk = a.read(rng.int(1, 300))) {
      if (gotLen + chunk.length > total) throw new Error(`read past the end at ${gotLen}`);
      got.set(chunk, gotLen);
      gotLen += chunk.length;
      if (rng.chance(0.3)) break;
    }
  };
  for (const [s, e] of pieces) {
    // Give the assembler a fresh copy so a wrongly shared view would show.
    const data = source.slice(s, e);
    let fresh = 0;
    for (let x = Math.max(s, a.readOffset); x < e; x++) if (!arrived[x]) fresh++;
    for (let x = s; x < e; x++) arrived[x] = 1;
    const n = a.insert(s, data, e === total);
    if (n !== fresh) throw new Error(`insert(${s},${e}) stored ${n}, want ${fresh}`);
    storedModel += n;
    if (rng.chance(0.5)) readSome();
    if (total > 1000) continue; // model checks are O(total): small streams only
    // Invariants against the model.
    let contiguous = 0;
    while (contiguous < total && arrived[contiguous]) contiguous++;
    if (a.contiguousEnd !== contiguous) throw new Error(`contiguousEnd ${a.contiguousEnd} want ${contiguous}`);
    if (a.bufferedBytes !== storedModel - gotLen) {
      throw new Error(`bufferedBytes ${a.bufferedBytes} want ${storedModel - gotLen}`);
    }
    let gaps = 0;
    let high = 0;
    for (let x = 0; x < total; x++) if (arrived[x]) high = x + 1;
    for (let x = 0; x < high; x++) if (!arrived[x] && (x === 0 || arrived[x - 1])) gaps++;
    if (a.gapCount !== gaps) throw new Error(`gapCount ${a.gapCount} want ${gaps}`);
    if (a.highestReceived !== high) throw new Error(`highestReceived ${a.highestReceived} want ${high}`);
  }
  while (gotLen < total) {
    const before = gotLen;
    readSome();
    if (gotLen === before) throw new Error(`stuck at ${gotLen} of ${total}`);
  }
  if (a.read() !== null) throw new Error('read after the end returned data');
  for (let x = 0; x < total; x++) {
    if (got[x] !== source[x]) throw new Error(`byte ${x}: got ${got[x]} want ${source[x]}`);
  }
  if (a.finOffset !== total || !a.isFinished) throw new Error(`not finished: fin ${a.finOffset}`);
  if (a.bufferedBytes !== 0 || a.gapCount !== 0) throw new Error('state left over');
}
