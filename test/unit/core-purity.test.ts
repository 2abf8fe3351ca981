/**
 * The sans-IO rule, enforced: src/core and src/wire never read the clock,
 * never start a timer, never call Math.random, and import no node: module
 * other than node:crypto.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Removes comments and string contents so quoted RFC text cannot trip the scan. */
function codeOnly(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/'(?:[^'\\\n]|\\.)*'/g, "''")
    .replace(/`(?:[^`\\]|\\.)*`/g, '``');
}

const FORBIDDEN: Array<[RegExp, string]> = [
  [/\bDate\s*\.\s*now\b/, 'Date.now'],
  [/\bnew\s+Date\b/, 'new Date'],
  [/\bperformance\s*\.\s*now\b/, 'performance.now'],
  [/\bprocess\s*\.\s*hrtime\b/, 'process.hrtime'],
  [/\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b|\bqueueMicrotask\b/, 'a timer'],
  [/\bMath\s*\.\s*random\b/, 'Math.random'],
  [/\brandomBytes\b|\brandomFill|\brandomUUID\b|\bgetRandomValues\b|\bgenerateKeyPair/, 'randomness not injected'],
  [/\bprocess\s*\./, 'process'],
];

/** Every breach of the rule in one source text. */
function checkText(raw: string): string[] {
  const found: string[] = [];
  for (const m of raw.matchAll(/(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|require\(\s*'([^']+)'\s*\)/g)) {
    const spec = m[1] ?? m[2] ?? m[3] ?? '';
    if (spec.startsWith('node:') && spec !== 'node:crypto') found.push(`imports ${spec}`);
    if (!spec.startsWith('.') && !spec.startsWith('node:')) found.push(`imports package ${spec}`);
    if (spec.includes('/io/') || spec.includes('/api/')) found.push(`imports ${spec} (a layer above)`);
  }
  const code = codeOnly(raw);
  for (const [re, what] of FORBIDDEN) if (re.test(code)) found.push(`uses ${what}`);
  return found;
}

describe('sans-IO rule', () => {
  const files = [...sources(join(ROOT, 'src', 'core')), ...sources(join(ROOT, 'src', 'wire'))];

  it('finds the core and wire sources', () => {
    expect(files.length).toBeGreaterThan(15);
  });

  it('src/core and src/wire read no clock, start no timer, draw no randomness and import only node:crypto', () => {
    const bad = files.flatMap((f) => checkText(readFileSync(f, 'utf8')).map((v) => `${relative(ROOT, f)}: ${v}`));
    expect(bad).toEqual([]);
  });

  it('the scan catches each forbidden use', () => {
    const samples = [
      "import { readFileSync } from 'node:fs';",
      'const t = Date.now();',
      'const t = performance.now();',
      'setTimeout(() => {}, 1);',
      'const r = Math.random();',
      "import { randomBytes } from 'node:crypto'; randomBytes(8);",
      'process.hrtime.bigint();',
    ];
    for (const s of samples) expect(checkText(s), s).not.toEqual([]);
    expect(checkText("// Date.now() in a comment\nconst s = 'Math.random';")).toEqual([]);
  });
});

