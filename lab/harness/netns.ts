/**
 * The namespace lab from code: brings it (./lab.sh) up and down, and runs
 * role scripts inside a namespace (`ip netns exec NS node --import tsx
 * SCRIPT`) as RoleProcesses (./process.ts).
 *
 * The lab needs root, `ip`, `tc` and `nft` (./requirements.ts: suites skip
 * with the reason where they are missing, and fail with MPUDP_LAB=required).
 * `requireLab()` throws an error naming what is missing. Everything a test
 * starts is torn down in afterAll via `labDown()`, and again at process exit
 * if a run is cut short.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseRate } from '../emulator/units.js';
import { atExit, killRoles, startRole, type RoleProcess } from './process.js';
import { missingForLab, toolPath, type MachineEnv } from './requirements.js';

/** The lab script. */
export const LAB_SH = fileURLToPath(new URL('./lab.sh', import.meta.url));
/** Addresses of the lab (see lab.sh). */
export const ADDR = {
  serverA: '10.77.1.1',
  clientA: '10.77.1.2',
  serverB: '10.77.2.1',
  clientB: '10.77.2.2',
} as const;

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
/** installExitHook() ran. */
let exitHookInstalled = false;

/** At exit (even after a failure that skipped afterAll), kill roles and delete namespaces. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  atExit(() => {
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
  killRoles();
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

/** Spawns `ip netns exec NS node --import tsx SCRIPT ARGS` from the repository root (stderr lines as reports too, if asked). */
export function runInNs(ns: string, script: string, args: string[], name = `${script.split('/').pop()}@${ns}`, stderrReports = false): RoleProcess {
  return startRole(name, 'ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', script, ...args], { ...process.env, PATH: toolPath() }, stderrReports);
}

/** lab.sh's nftables table, and the blackhole chain of each ISP in it. */
const NFT_TABLE = 'mpudp_lab';
const NFT_CHAIN = { A: 'a_blackhole', B: 'b_blackhole' } as const;

/** The nft lines of `lab.sh heal ISP`'s rule change: the ISP's blackhole chain emptied. */
export const nftHeal = (isp: 'A' | 'B'): string => `flush chain inet ${NFT_TABLE} ${NFT_CHAIN[isp]}\n`;
/** The nft lines of `lab.sh blackhole ISP`'s rule: everything on the ISP dropped (and counted). */
export const nftBlackhole = (isp: 'A' | 'B'): string => `${nftHeal(isp)}add rule inet ${NFT_TABLE} ${NFT_CHAIN[isp]} counter drop\n`;

/**
 * Applies nft lines (nftHeal, nftBlackhole, several at once) in the client
 * namespace in one transaction; resolves with the epoch ms midpoint of the
 * call. lab.sh takes tens of ms for a heal (it also re-applies the link and
 * qdisc), too coarse for fine timelines; one nft call takes a few.
 */
export function nftInClient(lab: Lab, script: string): Promise<number> {
  const now = (): number => performance.timeOrigin + performance.now();
  return new Promise((resolvePromise, reject) => {
    const t1 = now();
    const child = spawn('ip', ['netns', 'exec', lab.cli, 'nft', '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, PATH: toolPath() } });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolvePromise((t1 + now()) / 2) : reject(new Error(`nft failed (${code}): ${err.trim()}`))));
    child.stdin.end(script);
  });
}
