/**
 * The seeded pattern every role sends and checks (src/cli/bench/pattern.ts):
 * the receiver finds the first byte that differs, wherever the stream was
 * cut into chunks, and a stream that lost, repeated or swapped a block.
 */
import { describe, expect, it } from 'vitest';
import { BLOCK, Pattern, PatternSink, PatternSource } from '../../src/cli/bench/pattern.js';

/** `total` bytes of the pattern of `seed`, as one buffer. */
function stream(seed: number, total: number): Buffer {
  const source = new PatternSource(new Pattern(seed), total, true);
  const parts: Buffer[] = [];
  for (let c = source.next(); c !== null; c = source.next()) parts.push(c);
  return Buffer.concat(parts);
}

/** Feeds `data` to a checking sink in pieces of `piece` bytes. */
function receive(seed: number, data: Buffer, piece: number): PatternSink {
  const sink = new PatternSink(new Pattern(seed));
  for (let off = 0; off < data.length; off += piece) sink.add(data.subarray(off, off + piece));
  return sink;
}

describe('the seeded pattern', () => {
  it('is the same for the same seed, different for another, and does not repeat block to block', () => {
    const a = stream(7, 4 * BLOCK);
    expect(a.equals(stream(7, 4 * BLOCK))).toBe(true);
    expect(a.equals(stream(8, 4 * BLOCK))).toBe(false);
    for (let i = 1; i < 4; i++) expect(a.subarray(0, BLOCK).equals(a.subarray(i * BLOCK, (i + 1) * BLOCK))).toBe(false);
  });

  it('a receiver checks every byte, however the stream was cut', () => {
    const data = stream(3, 3 * BLOCK + 1234);
    for (const piece of [1000, BLOCK, 3 * BLOCK + 1234, 77_777]) {
      const r = receive(3, data, piece).result();
      expect(r, `pieces of ${piece}`).toMatchObject({ bytes: data.length, intact: true, mismatchAt: null });
    }
    const source = new PatternSource(new Pattern(3), data.length, true);
    while (source.next() !== null);
    expect(receive(3, data, 5000).result().sha256).toBe(source.digest());
  });

  it('finds the first byte changed, lost, or a block swapped', () => {
    const data = stream(5, 4 * BLOCK);
    const changed = Buffer.from(data);
    changed[BLOCK + 17]! ^= 1;
    expect(receive(5, changed, 4096).result()).toMatchObject({ intact: false, mismatchAt: BLOCK + 17 });
    const lost = Buffer.concat([data.subarray(0, 100), data.subarray(101)]);
    expect(receive(5, lost, 4096).result().mismatchAt).toBe(100);
    const swapped = Buffer.concat([data.subarray(0, BLOCK), data.subarray(2 * BLOCK, 3 * BLOCK), data.subarray(BLOCK, 2 * BLOCK)]);
    expect(receive(5, swapped, BLOCK).result()).toMatchObject({ intact: false, mismatchAt: BLOCK });
    expect(receive(6, data, BLOCK).result().mismatchAt, 'another seed').toBe(0);
  });

  it('a sink without a pattern only counts', () => {
    const sink = new PatternSink(null);
    sink.add(Buffer.alloc(10, 1));
    expect(sink.result()).toMatchObject({ bytes: 10, intact: null, sha256: null });
  });
});
