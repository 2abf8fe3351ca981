/**
 * `mpudp` itself: help for the program and for every command, and a bad
 * command line turned into its usage with exit code 2 (no stack trace).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMMANDS, main } from '../../src/cli/main.js';

/** Runs main(argv) and returns its code and what it wrote. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, out, err };
}

afterEach(() => vi.restoreAllMocks());

describe('mpudp', () => {
  it('--help and -h list every command and exit 0', async () => {
    for (const flag of ['--help', '-h', 'help']) {
      const { code, out } = await run([flag]);
      expect(code).toBe(0);
      for (const c of COMMANDS) expect(out).toMatch(new RegExp(`^  ${c.name} +\\S`, 'm'));
    }
    expect(COMMANDS.map((c) => c.name)).toEqual(expect.arrayContaining(['listen', 'connect', 'tunnel', 'bench']));
  });

  it('COMMAND --help prints that command\'s usage', async () => {
    for (const c of COMMANDS) {
      for (const argv of [[c.name, '--help'], [c.name, '-h'], ['help', c.name]]) {
        const { code, out } = await run(argv);
        expect(code, argv.join(' ')).toBe(0);
        expect(out.startsWith(`usage: mpudp ${c.name}`), argv.join(' ')).toBe(true);
      }
    }
  });

  it('no command, an unknown one or a bad line: usage on stderr, exit 2', async () => {
    expect((await run([])).code).toBe(2);
    const unknown = await run(['frobnicate']);
    expect([unknown.code, unknown.err]).toEqual([2, expect.stringContaining("unknown command 'frobnicate'")]);
    const bad = await run(['connect', '127.0.0.1']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^mpudp connect: give the server and its port/);
    expect(bad.err).toContain('usage: mpudp connect');
    const flag = await run(['tunnel', 'client', '--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.err).toMatch(/Unknown option '--bogus'/);
    const role = await run(['tunnel', 'client', '--listen', '8080', '--target', '127.0.0.1:80']);
    expect(role.err).toMatch(/--target is not an option of the tunnel client/);
  });
});
