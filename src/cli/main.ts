/**
 * `mpudp`: the command line. Each subcommand lives in its own folder
 * (src/cli/NAME/index.ts) and is listed in COMMANDS; this file only finds
 * the command, prints help, and turns a bad command line into its usage.
 * bin/mpudp.js starts it; `npx tsx src/cli/main.ts ...` runs it from a clone.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './args.js';
import { bench } from './bench/index.js';
import { isProgram, type CliCommand } from './command.js';
import { connect } from './connect/index.js';
import { keygen } from './keygen/index.js';
import { listen } from './listen/index.js';
import { tunnel } from './tunnel/index.js';

/** Every subcommand, in the order `mpudp --help` lists them. */
export const COMMANDS: readonly CliCommand[] = [listen, connect, tunnel, bench, keygen];

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** `mpudp --help`. */
export function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `usage: mpudp COMMAND [options]

mpudp: one reliable byte stream over several UDP paths at once.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

\`mpudp COMMAND --help\` describes one command; docs/api.md in the package
describes them all.
`;
}

const isHelp = (word: string): boolean => word === '-h' || word === '--help';

/** Runs `mpudp ARGV`; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || isHelp(name) || (name === 'help' && rest.length === 0)) {
    (name === undefined ? process.stderr : process.stdout).write(mainUsage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const wanted = name === 'help' ? rest[0]! : name;
  const command = COMMANDS.find((c) => c.name === wanted);
  if (command === undefined) {
    process.stderr.write(`mpudp: unknown command '${wanted}'\n\n${mainUsage()}`);
    return 2;
  }
  // `--help` anywhere before `--` asks for the command's help.
  const end = rest.indexOf('--');
  if (name === 'help' || (end < 0 ? rest : rest.slice(0, end)).some(isHelp)) {
    process.stdout.write(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`mpudp ${command.name}: ${err.message}\n\n${command.usage}`);
    return 2;
  }
}

/** Runs `mpudp ARGV` as the program: exits with its code, at once or once idle. */
export function runMain(argv: string[]): void {
  const command = COMMANDS.find((c) => c.name === argv[0]);
  main(argv).then(
    (code) => {
      if (command?.exitWhenIdle === true && code === 0) process.exitCode = code;
      else process.exit(code);
    },
    (err: unknown) => {
      process.stderr.write(`mpudp: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}

if (isProgram(import.meta.url)) runMain(process.argv.slice(2));
