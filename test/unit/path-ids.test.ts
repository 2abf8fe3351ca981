import { describe, expect, it } from 'vitest';
import { PATH_ID_WINDOW, PathIdWindow } from '../../src/core/path/path-ids.js';

describe('PathIdWindow', () => {
  it('takes each ID once, in any order within the window, and refuses IDs below it', () => {
    const w = new PathIdWindow();
    expect(w.isNew(0)).toBe(true);
    w.use(0);
    expect(w.isNew(0)).toBe(false);
    w.use(5);
    expect([1, 2, 3, 4].every((id) => w.isNew(id))).toBe(true);
    w.use(3);
    expect(w.isNew(3)).toBe(false);
    expect(w.isNew(5)).toBe(false);
    w.use(5 + PATH_ID_WINDOW);
    // 4 is now exactly at the window's lower edge minus one: too old.
    expect(w.isNew(4)).toBe(false);
    expect(w.isNew(6)).toBe(true);
    expect(w.isNew(5 + PATH_ID_WINDOW)).toBe(false);
    w.use(10_000);
    expect(w.isNew(10_000 - PATH_ID_WINDOW + 1)).toBe(true);
    expect(w.isNew(10_000 - PATH_ID_WINDOW)).toBe(false);
  });
});
