/**
 * Role processes: a child process that reports JSON lines on stdout and
 * takes commands on stdin, as every role of the lab and the bench does.
 * `RoleProcess` collects the reports and waits for one; `startRole` spawns
 * a command as one. Every role still running is killed when this process
 * exits, however it exits (`killRoles()` does it earlier).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (roles run from here so `--import tsx` resolves). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Role processes running, for killRoles() and the exit hook. */
const liveProcs = new Set<ChildProcess>();
/** Callbacks run at exit (after the roles are killed). */
const exitHooks: (() => void)[] = [];
let exitHookInstalled = false;

/** Runs `fn` at process exit, after every role still running is killed. */
export function atExit(fn?: () => void): void {
  if (fn !== undefined) exitHooks.push(fn);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of liveProcs) p.kill('SIGKILL');
    for (const hook of exitHooks) hook();
  });
}

/** Kills every role process still running. */
export function killRoles(): void {
  for (const p of liveProcs) p.kill('SIGKILL');
  liveProcs.clear();
}

/** Spawns `command args` from the repository root as a role named `name` (see RoleProcess for `stderrReports`). */
export function startRole(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env, stderrReports = false): RoleProcess {
  atExit();
  const child = spawn(command, args, { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'], env: { ...env, NODE_OPTIONS: '' } });
  liveProcs.add(child);
  return new RoleProcess(name, child, stderrReports);
}

/** Calls `fn` with every non-empty line (trimmed) of `stream`. */
function onLines(stream: NodeJS.ReadableStream, fn: (line: string) => void): void {
  let buf = '';
  stream.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line !== '') fn(line);
    }
  });
}

/** One JSON-line report of a role. */
export type Report = { type: string } & Record<string, unknown>;

/** A role: a child process reporting JSON lines (see the file comment). */
export class RoleProcess {
  /** Every report so far, in order. */
  readonly reports: Report[] = [];
  /** Exit code (or signal), once exited. */
  exit: { code: number | null; signal: string | null } | null = null;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** Stderr, for error messages. */
  private stderr = '';
  /** The process id: the program itself where a wrapper execs it in place, as `ip netns exec` does. */
  get pid(): number | undefined {
    return this.child.pid;
  }
  /** Callbacks waiting for a new report or the exit. */
  private readonly waiters = new Set<() => void>();

  /**
   * @param stderrReports each stderr line is a report too, `{ type: 'stderr', text }`
   *   (for programs that log there, as `mpudp tunnel` does)
   */
  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    stderrReports = false,
  ) {
    onLines(child.stdout!, (line) => {
      let report: Report;
      try {
        report = JSON.parse(line) as Report;
      } catch {
        report = { type: 'text', text: line };
      }
      this.add(report, line);
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      if (this.stderr.length > 20_000) this.stderr = this.stderr.slice(-10_000);
    });
    if (stderrReports) onLines(child.stderr!, (line) => this.add({ type: 'stderr', text: line }, line));
    this.exited = new Promise((resolvePromise) => {
      const finish = (code: number | null, signal: string | null): void => {
        if (this.exit !== null) return;
        liveProcs.delete(child);
        this.exit = { code, signal };
        this.wake();
        resolvePromise(this.exit);
      };
      child.on('close', finish);
      child.on('error', (err) => {
        this.stderr += `\n${err.message}`;
        finish(-1, null);
      });
    });
  }

  /**
   * The first report from index `from` on that matches `pred`; rejects after
   * `timeoutMs`, or if the process exits first, with the recent reports and
   * stderr in the message.
   */
  waitFor(pred: (r: Report) => boolean, timeoutMs: number, what: string, from = 0): Promise<Report> {
    return new Promise((resolvePromise, reject) => {
      let index = from;
      const check = (): boolean => {
        for (; index < this.reports.length; index++) {
          const r = this.reports[index]!;
          if (pred(r)) {
            done();
            resolvePromise(r);
            return true;
          }
        }
        if (this.exit !== null) {
          done();
          reject(new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before ${what}${this.context()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} from ${this.name}${this.context()}`));
      }, timeoutMs);
      const waiter = (): void => void check();
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      if (!check()) this.waiters.add(waiter);
    });
  }

  /** Writes one line to the process's stdin. */
  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Kills the process (SIGTERM, then SIGKILL after 2 s). */
  async kill(): Promise<void> {
    if (this.exit !== null) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(t);
  }

  /** Recent reports and stderr, for error messages. */
  private context(): string {
    const recent = this.reports.slice(-8).map((r) => JSON.stringify(r).slice(0, 400));
    const err = this.stderr.trim().split('\n').slice(-15).join('\n');
    return `\n  recent reports:\n    ${recent.join('\n    ') || '(none)'}\n  stderr:\n    ${err || '(empty)'}`;
  }

  /** Records one report. */
  private add(report: Report, line: string): void {
    this.reports.push(report);
    if (process.env.LAB_VERBOSE) process.stderr.write(`[${this.name}] ${line}\n`);
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
