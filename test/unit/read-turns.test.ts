import { describe, expect, it } from 'vitest';
import { ReadTurns } from '../../src/io/read-turns.js';

/** Feeds turns of `n` datagrams each; per turn, which datagrams were flushed inside their read. */
function run(turnSizes: number[], free = true): boolean[][] {
  const t = new ReadTurns();
  return turnSizes.map((n) => {
    const inline: boolean[] = [];
    for (let i = 0; i < n; i++) inline.push(t.arrived(free));
    t.end();
    return inline;
  });
}

describe('ReadTurns', () => {
  it('flushes inside the read only the first datagram of a turn after a one-datagram turn', () => {
    expect(run([1, 1, 1])).toEqual([[false], [true], [true]]);
    expect(run([1, 3, 1, 1])).toEqual([[false], [true, false, false], [false], [true]]);
  });

  it('a turn that read nothing leaves the count of the last one that read', () => {
    expect(run([1, 0, 1])).toEqual([[false], [], [true]]);
    expect(run([2, 0, 1, 1])).toEqual([[false, false], [], [false], [true]]);
  });

  it('never while a flush is scheduled or running', () => {
    expect(run([1, 1, 1], false)).toEqual([[false], [false], [false]]);
  });
});
