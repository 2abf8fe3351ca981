import { describe, expect, it } from 'vitest';
import { BusyList } from '../../src/core/busy-list.js';

interface M {
  id: number;
  busyIndex: number;
}

const members = (list: BusyList<M>): number[] => Array.from({ length: list.size }, (_, i) => list.at(i).id).sort((a, b) => a - b);

describe('BusyList', () => {
  it('adds once, deletes what it holds, and ignores what it does not', () => {
    const list = new BusyList<M>();
    const a = { id: 1, busyIndex: -1 };
    const b = { id: 2, busyIndex: -1 };
    list.add(a);
    list.add(a);
    expect(list.size).toBe(1);
    list.delete(b);
    expect(list.size).toBe(1);
    list.add(b);
    list.delete(a);
    expect(list.has(a)).toBe(false);
    expect(a.busyIndex).toBe(-1);
    expect(members(list)).toEqual([2]);
    expect(list.at(b.busyIndex)).toBe(b);
  });

  it('holds the same members as a Set through random adds and deletes, each index true', () => {
    const list = new BusyList<M>();
    const model = new Set<M>();
    const pool = Array.from({ length: 12 }, (_, id) => ({ id, busyIndex: -1 }));
    let x = 12345;
    const rand = (n: number): number => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return x % n;
    };
    for (let step = 0; step < 5000; step++) {
      const m = pool[rand(pool.length)]!;
      if (rand(2) === 0) {
        list.add(m);
        model.add(m);
      } else {
        list.delete(m);
        model.delete(m);
      }
      expect(list.size).toBe(model.size);
      for (const p of pool) expect(list.has(p)).toBe(model.has(p));
    }
    for (let i = 0; i < list.size; i++) expect(list.at(i).busyIndex).toBe(i);
    expect(members(list)).toEqual([...model].map((m) => m.id).sort((a, b) => a - b));
  });

  it('next() and advance() give each member its turn, and a deleted member hands its turn to the one moved into its place', () => {
    const list = new BusyList<M>();
    expect(list.next()).toBeUndefined();
    const ms = [1, 2, 3].map((id) => ({ id, busyIndex: -1 }));
    for (const m of ms) list.add(m);
    const turns: number[] = [];
    for (let i = 0; i < 6; i++) {
      turns.push(list.next()!.id);
      list.advance();
    }
    expect(turns).toEqual([1, 2, 3, 1, 2, 3]);
    // Member 1 has the turn; deleting it gives the turn to 3 (moved into its slot).
    expect(list.next()!.id).toBe(1);
    list.delete(ms[0]!);
    expect(list.next()!.id).toBe(3);
    list.advance();
    expect(list.next()!.id).toBe(2);
    list.advance();
    expect(list.next()!.id).toBe(3); // wraps
  });

  it('keeps no reference to a member it let go (a forgotten connection must be collectable)', () => {
    const list = new BusyList<M>();
    const a = { id: 1, busyIndex: -1 };
    const b = { id: 2, busyIndex: -1 };
    list.add(a);
    list.add(b);
    list.delete(b);
    list.delete(a);
    const slots = (list as unknown as { items: unknown[] }).items;
    expect(slots.filter((s) => s !== undefined)).toEqual([]);
  });
});
