import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * One subcommand of `mpudp`: its name, the line `mpudp --help` shows for it,
 * its full help (`mpudp NAME --help`) and what runs it. Each lives in its
 * own folder (src/cli/NAME/) and is listed once in src/cli/main.ts.
 */
export interface CliCommand {
  /** The word after `mpudp`. */
  readonly name: string;
  /** One line for `mpudp --help`. */
  readonly summary: string;
  /** The full help text, starting with its usage lines. */
  readonly usage: string;
  /**
   * Runs the command with the words after its name; resolves with the exit
   * code once it is done. A bad command line throws UsageError (src/cli/args.ts).
   */
  run(argv: string[]): Promise<number>;
  /**
   * When run() resolves, let the process end by itself once nothing is left
   * to do (a connection closed by destroy() still delivers its last bytes in
   * the background) instead of exiting at once.
   */
  readonly exitWhenIdle?: boolean;
}

/** True when the module at `moduleUrl` (its import.meta.url) is the program node runs, also through a symlink. */
export function isProgram(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return moduleUrl === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}
