/**
 * The layer rules of docs/architecture.md, enforced:
 * - the sans-IO rule: src/core and src/wire never read the clock, never
 *   start a timer, never call Math.random, and import no node: module
 *   other than node:crypto;
 * - which folder may import which: the table of docs/architecture.md,
 *   read from the page itself (wire imports nothing above it, io never
 *   imports api, the shipped src never imports lab tooling, the bench
 *   never imports tests, the Compose roles only src, ...);
 * - no npm package at run time: only test/ imports one.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'results') continue;
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

/** Every module specifier a source imports or re-exports (static, dynamic, type-only, side-effect). */
function imports(raw: string): string[] {
  const text = raw.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^;]*?from\s+'([^']+)'|import\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|require\(\s*'([^']+)'\s*\)/g)) {
    out.push(m[1] ?? m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
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

/** Every breach of the sans-IO rule in one source text. */
function checkPure(raw: string): string[] {
  const found: string[] = [];
  for (const spec of imports(raw)) {
    if (spec.startsWith('node:') && spec !== 'node:crypto') found.push(`imports ${spec}`);
  }
  const code = codeOnly(raw);
  for (const [re, what] of FORBIDDEN) if (re.test(code)) found.push(`uses ${what}`);
  return found;
}

/** One row of the table: a folder (or file) and what its sources may import. */
interface Rule {
  zone: string;
  mayImport: string[] | 'everything';
}

/** The "may import" table of docs/architecture.md. */
function readRules(markdown: string): Rule[] {
  const rules: Rule[] = [];
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !/^`[^`]+`$/.test(cells[1]!)) continue;
    const zone = cells[1]!.slice(1, -1);
    const last = cells[cells.length - 2]!;
    const mayImport = last === 'everything' ? 'everything' : [...last.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    rules.push({ zone, mayImport });
  }
  return rules;
}

/** The rule of the file at `rel` (repository-relative): the row with the longest matching folder. */
function ruleOf(rules: Rule[], rel: string): Rule | undefined {
  return rules.filter((r) => rel === r.zone || rel.startsWith(`${r.zone}/`)).sort((a, b) => b.zone.length - a.zone.length)[0];
}

/** Whether a file at `rel` may import the file at `target` (both repository-relative). */
function allowed(rule: Rule, target: string): boolean {
  if (rule.mayImport === 'everything') return true;
  return rule.mayImport.some((z) => target === z || target.startsWith(`${z}/`));
}

/** Every breach of the table and of the no-package rule in the file at `rel`, given its text. */
function checkImports(rules: Rule[], rel: string, raw: string): string[] {
  const rule = ruleOf(rules, rel);
  if (rule === undefined) return [`is in no folder of the table`];
  const found: string[] = [];
  for (const spec of imports(raw)) {
    if (spec.startsWith('node:')) continue;
    if (!spec.startsWith('.')) {
      if (!rel.startsWith('test/')) found.push(`imports the package ${spec}`);
      continue;
    }
    const target = relative(ROOT, resolve(ROOT, dirname(rel), spec)).replace(/\\/g, '/').replace(/\.js$/, '.ts');
    if (!allowed(rule, target)) found.push(`imports ${target}, which ${rule.zone} may not`);
  }
  return found;
}

const RULES = readRules(readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8'));

describe('layer rules (docs/architecture.md)', () => {
  it('reads the table: every folder with sources has a row', () => {
    expect(RULES.map((r) => r.zone)).toEqual(expect.arrayContaining(['src/wire', 'src/core', 'src/io', 'src/api', 'src/cli', 'lab', 'bench', 'docker', 'test']));
    expect(ruleOf(RULES, 'src/wire/frames.ts')?.mayImport).toEqual(['src/wire']);
    for (const top of readdirSync(ROOT)) {
      const p = join(ROOT, top);
      if (top.startsWith('.') || top === 'node_modules' || top === 'dist' || !statSync(p).isDirectory()) continue;
      if (sources(p).length > 0) expect(RULES.some((r) => r.zone === top || r.zone.startsWith(`${top}/`)), `${top}/ has sources but no row`).toBe(true);
    }
  });

  const files = ['src', 'lab', 'bench', 'docker', 'test'].filter((d) => existsSync(join(ROOT, d))).flatMap((d) => sources(join(ROOT, d)));

  it('every import is one the table allows, and only tests import packages', () => {
    expect(files.length).toBeGreaterThan(150);
    const bad = files.flatMap((f) => {
      const rel = relative(ROOT, f).replace(/\\/g, '/');
      return checkImports(RULES, rel, readFileSync(f, 'utf8')).map((v) => `${rel}: ${v}`);
    });
    expect(bad).toEqual([]);
  });

  it('the scan catches each forbidden import', () => {
    const cases: Array<[string, string]> = [
      ['src/wire/x.ts', "import { Connection } from '../core/connection.js';"],
      ['src/core/x.ts', "import type { UdpEndpoint } from '../io/udp-endpoint.js';"],
      ['src/io/x.ts', "import { connect } from '../api/connect.js';"],
      ['src/api/x.ts', "export { main } from '../cli/main.js';"],
      ['src/cli/x.ts', "import { Link } from '../../lab/link/index.js';"],
      ['src/core/x.ts', "const t = import('../../test/sim/scenario.js');"],
      ['lab/x.ts', "import { Pair } from '../test/sim/scenario.js';"],
      ['bench/x.ts', "import { labUp } from '../test/lab/anything.js';"],
      ['docker/roles/x.ts', "import { World } from '../../lab/sim/world.js';"],
      ['src/api/x.ts', "import chalk from 'chalk';"],
    ];
    for (const [rel, line] of cases) expect(checkImports(RULES, rel, line), `${rel}: ${line}`).not.toEqual([]);
    expect(checkImports(RULES, 'bench/x.ts', "import { World } from '../lab/sim/world.js';\nimport { connect } from '../src/index.js';")).toEqual([]);
    expect(checkImports(RULES, 'test/x.ts', "import { it } from 'vitest';\nimport { loopback } from '../bench/scenarios/loopback.js';")).toEqual([]);
    expect(checkImports(RULES, 'src/core/x.ts', "// import { x } from '../io/x.js';\nimport { y } from '../wire/y.js';")).toEqual([]);
  });
});

describe('sans-IO rule', () => {
  const files = [...sources(join(ROOT, 'src', 'core')), ...sources(join(ROOT, 'src', 'wire'))];

  it('finds the core and wire sources', () => {
    expect(files.length).toBeGreaterThan(15);
  });

  it('src/core and src/wire read no clock, start no timer, draw no randomness and import only node:crypto', () => {
    const bad = files.flatMap((f) => checkPure(readFileSync(f, 'utf8')).map((v) => `${relative(ROOT, f)}: ${v}`));
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
    for (const s of samples) expect(checkPure(s), s).not.toEqual([]);
    expect(checkPure("// Date.now() in a comment\nconst s = 'Math.random';")).toEqual([]);
  });
});
