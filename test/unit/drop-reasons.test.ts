/**
 * One list of drop reasons (src/core/drops.ts): every name counted in the
 * source is in it (the type checker sees to that), docs/api.md lists exactly
 * its names, and each has a meaning.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DROP_REASONS } from '../../src/core/drops.js';
import { countDrop } from '../../src/core/stats.js';

const api = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');

describe('drop reasons', () => {
  it('docs/api.md lists exactly the reasons of the table, each with its meaning', () => {
    const section = api.slice(api.indexOf('### Drop reasons'), api.indexOf('## Errors'));
    const documented = [...section.matchAll(/^\| `([a-z-]+)` \| (.+) \|$/gm)].map((m) => [m[1]!, m[2]!] as const);
    expect(documented.map(([k]) => k)).toEqual(Object.keys(DROP_REASONS));
    for (const [k, meaning] of documented) expect(meaning.toLowerCase(), k).toContain(DROP_REASONS[k as keyof typeof DROP_REASONS].slice(1).toLowerCase());
  });

  it('counts by name', () => {
    const drops: Record<string, number> = {};
    countDrop(drops, 'decode');
    countDrop(drops, 'decode');
    countDrop(drops, 'auth-failed');
    expect(drops).toEqual({ decode: 2, 'auth-failed': 1 });
  });
});
