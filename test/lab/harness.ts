/**
 * Harness of the lab tests: brings the namespace lab (./lab.sh) up and down,
 * runs role scripts inside a namespace (`ip netns exec NS node --import tsx
 * SCRIPT`), and reads their JSON-line reports.
 *
 * The lab needs root, `ip`, `tc` and `nft` (./requirements.ts: suites skip
 * with the reason where they are missing, and fail with MPUDP_LAB=required).
 * `requireLab()` throws an error naming what is missing. Everything a test
 * starts is torn down in afterAll via `labDown()`, and again at process exit
 * if a run is cut short.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRate } from '../../src/emulator/units.js';
import { missingForLab, toolPath, type MachineEnv } from './requirements.js';

/** The lab script. */
export const LAB_SH = fileURLToPath(new URL('./lab.sh', import.meta.url));
/** The repository root (role scripts run from here so `--import tsx` resolves). */
export const REPO = resolve(dirname(LAB_SH), '../..');
/** Role scripts. */
export const ROLES = {
  server: join(REPO, 'test/lab/roles/server.ts'),
  client: join(REPO, 'test/lab/roles/client.ts'),
};

/** Addresses of the lab (see lab.sh). */
export const ADDR = {
  serverA: '10.77.1.1',
  clientA: '10.77.1.2',
  serverB: '10.77.2.1',
  clientB: '10.77.2.2',
} as const;

export { missingForLab, toolPath, type MachineEnv as LabEnv } from './requirements.js';

/** Throws an error that names everything missing for the lab. */
export function requireLab(env?: MachineEnv): void {
  const missing = missingForLab(env);
  if (missing.length > 0) {
    throw new Error(
      `the two-ISP lab cannot run here; missing: ${missing.join(', ')}. ` +
        'Run the tests as root after .ci/install-lab.sh (it installs iproute2 and nftables).',
    );
  }
}

/** One lab instance (two namespaces). */
export interface Lab {
  /** Namespace name prefix (LAB_PREFIX). */
  prefix: string;
  /** Client namespace. */
  cli: string;
  /** Server namespace. */
  srv: string;
  /** ISP A rate (bits/s). */
  rateA: number;
  /** ISP B rate (bits/s). */
  rateB: number;
  /** Environment for lab.sh. */
  env: NodeJS.ProcessEnv;
  /** Runs `lab.sh ARGS` (rejects with its output if it fails). */
  sh(...args: string[]): Promise<string>;
}

/** Labs up and not yet down, for the exit hook. */
const liveLabs = new Set<Lab>();
/** Role processes running, for the exit hook. */
const liveProcs = new Set<ChildProcess>();
let exitHookInstalled = false;

/** At exit (even after a failure that skipped afterAll), kill roles and delete namespaces. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of liveProcs) p.kill('SIGKILL');
    for (const lab of liveLabs) spawnSync('bash', [LAB_SH, 'down'], { env: lab.env, stdio: 'ignore' });
  });
}

/** Runs lab.sh with `env`; resolves with stdout, rejects with a message including stderr. */
function runLabSh(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [LAB_SH, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise(out);
      else reject(new Error(`lab.sh ${args.join(' ')} failed (exit ${code}): ${err.trim() || out.trim()}`));
    });
  });
}

/**
 * Brings a lab up (checks requirements first). The prefix defaults to
 * LAB_PREFIX or `mpudp-t<pid>`, so parallel runs do not collide.
 */
export async function labUp(options: { prefix?: string; rateA?: string; rateB?: string } = {}): Promise<Lab> {
  requireLab();
  installExitHook();
  const prefix = options.prefix ?? process.env.LAB_PREFIX ?? `mpudp-t${process.pid}`;
  const rateA = options.rateA ?? process.env.LAB_RATE_A ?? '100mbit';
  const rateB = options.rateB ?? process.env.LAB_RATE_B ?? '50mbit';
  const env = { ...process.env, PATH: toolPath(), LAB_PREFIX: prefix, LAB_RATE_A: rateA, LAB_RATE_B: rateB };
  const lab: Lab = {
    prefix,
    cli: `${prefix}-cli`,
    srv: `${prefix}-srv`,
    rateA: parseRate(rateA),
    rateB: parseRate(rateB),
    env,
    sh: (...args) => runLabSh(env, args),
  };
  liveLabs.add(lab);
  await lab.sh('up');
  return lab;
}

/** Kills every role process still running and deletes the lab's namespaces. */
export async function labDown(lab: Lab | undefined): Promise<void> {
  for (const p of liveProcs) p.kill('SIGKILL');
  liveProcs.clear();
  if (lab === undefined) return;
  await lab.sh('down');
  liveLabs.delete(lab);
}

/** Bytes through one interface of a namespace. */
export async function ifaceBytes(ns: string, iface: string): Promise<{ rx: number; tx: number }> {
  const r = spawnSync('ip', ['-n', ns, '-j', '-s', 'link', 'show', 'dev', iface], { encoding: 'utf8', env: { ...process.env, PATH: toolPath() } });
  if (r.status !== 0) throw new Error(`ip -n ${ns} link show ${iface} failed: ${r.stderr}`);
  const [info] = JSON.parse(r.stdout) as { stats64: { rx: { bytes: number }; tx: { bytes: number } } }[];
  return { rx: info!.stats64.rx.bytes, tx: info!.stats64.tx.bytes };
}

/** One JSON-line report of a role. */
export type Report = { type: string } & Record<string, unknown>;

/** A role script running in a namespace. */
export class RoleProcess {
  /** Every report so far, in order. */
  readonly reports: Report[] = [];
  /** Exit code (or signal), once exited. */
  exit: { code: number | null; signal: string | null } | null = null;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** Stderr, for error messages. */
  private stderr = '';
  /** Callbacks waiting for a new report or the exit. */
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === '') continue;
        let report: Report;
        try {
          report = JSON.parse(line) as Report;
        } catch {
          report = { type: 'text', text: line };
        }
        this.reports.push(report);
        if (process.env.LAB_VERBOSE) process.stderr.write(`[${name}] ${line}\n`);
        this.wake();
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      if (this.stderr.length > 20_000) this.stderr = this.stderr.slice(-10_000);
    });
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

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** Spawns `ip netns exec NS node --import tsx SCRIPT ARGS` from the repository root. */
export function runInNs(ns: string, script: string, args: string[], name = `${script.split('/').pop()}@${ns}`): RoleProcess {
  installExitHook();
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', script, ...args], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PATH: toolPath(), NODE_OPTIONS: '' },
  });
  liveProcs.add(child);
  return new RoleProcess(name, child);
}
