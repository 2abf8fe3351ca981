/**
 * Running `mpudp bench` roles (src/cli/bench/) as child processes, on
 * loopback or inside a lab namespace, optionally under `mptcpize` (kernel
 * MP-TCP for Node's own TCP sockets). Each role speaks JSON lines, which a
 * RoleProcess (./process.ts) reads.
 *
 * Every process started here is killed when the runner exits, however it
 * exits (SIGINT and SIGTERM included).
 */
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO, killRoles, startRole, type Report, type RoleProcess } from './process.js';
import { toolPath } from './requirements.js';

/** The command line (`mpudp`); the bench is its `bench` command. */
export const BENCH_CLI = join(REPO, 'src/cli/main.ts');

export interface SpawnOptions {
  /** Network namespace to run in (`ip netns exec`). */
  ns?: string;
  /** Run under `mptcpize run` (TCP sockets become MP-TCP). */
  mptcp?: boolean;
  /** Flags for node itself (`--expose-gc`, `--cpu-prof`, ...). */
  nodeFlags?: string[];
  /** Name in error messages. */
  name?: string;
}

let hooked = false;

/** SIGINT and SIGTERM kill the roles too (process exit does, see ./process.ts). */
function hookSignals(): void {
  if (hooked) return;
  hooked = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killRoles();
      process.exit(130);
    });
  }
}

/** Starts `mpudp bench ARGS --json`. */
export function spawnBench(args: string[], o: SpawnOptions = {}): RoleProcess {
  hookSignals();
  // LAB_NODE_FLAGS: flags for every role's node, for a look inside a lab run (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`).
  const extra = (process.env.LAB_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
  let cmd = [process.execPath, ...(o.nodeFlags ?? []), ...extra, '--import', 'tsx', BENCH_CLI, 'bench', ...args, '--json'];
  if (o.mptcp) cmd = ['mptcpize', 'run', ...cmd];
  if (o.ns) cmd = ['ip', 'netns', 'exec', o.ns, ...cmd];
  const name = o.name ?? `${args[0]}${o.ns ? `@${o.ns}` : ''}${o.mptcp ? ' (mptcpize)' : ''}`;
  return startRole(name, cmd[0]!, cmd.slice(1), o.ns ? { ...process.env, PATH: toolPath() } : process.env);
}

/** Starts a server and waits until every transport it serves is listening. */
export async function startServer(args: string[], o: SpawnOptions = {}): Promise<RoleProcess> {
  const role = spawnBench(['server', ...args], { name: 'server', ...o });
  const ti = args.indexOf('--transport');
  const expected = ti >= 0 && args[ti + 1] !== 'all' ? 1 : 3;
  const listening = (): number => role.reports.filter((r) => r.type === 'listening').length;
  await role.waitFor(() => listening() >= expected, 20_000, `${expected} listening reports`);
  return role;
}

/** Stops a server: `quit`, then SIGTERM/SIGKILL if it lingers. */
export async function stopServer(role: RoleProcess | null | undefined): Promise<void> {
  if (!role || role.exit !== null) return;
  try {
    role.send('quit');
  } catch {
    // stdin closed already
  }
  const t = setTimeout(() => void role.kill(), 3000);
  await role.exited;
  clearTimeout(t);
}

/** Runs a client to the end; resolves with its result report (rejects with its output if none came). */
export async function runClientRole(args: string[], o: SpawnOptions & { timeoutMs?: number; onStart?: (role: RoleProcess) => void } = {}): Promise<Report> {
  const role = spawnBench(['client', ...args], { name: 'client', ...o });
  o.onStart?.(role);
  try {
    const result = await role.waitFor((r) => r.type === 'result' || r.type === 'error', o.timeoutMs ?? 120_000, 'a result');
    if (result.type === 'error') throw new Error(`client failed: ${String(result.message)}`);
    await role.exited;
    return result;
  } finally {
    await role.kill();
  }
}

/** Asks a role for `stats` (memory, connections) and waits for the answer. */
export async function askStats(role: RoleProcess, timeoutMs = 20_000): Promise<Report> {
  const from = role.reports.length;
  role.send('stats');
  return role.waitFor((r) => r.type === 'stats', timeoutMs, 'stats', from);
}

/** True if UDP `port` and `port + 1` and TCP `port` are free on every address. */
async function portsFree(port: number, addresses: string[]): Promise<boolean> {
  const tryUdp = (address: string, p: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind({ port: p, address, exclusive: true }, () => s.close(() => resolve(true)));
    });
  const tryTcp = (address: string): Promise<boolean> =>
    new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen({ port, host: address, exclusive: true }, () => s.close(() => resolve(true)));
    });
  for (const a of addresses) {
    if (!(await tryUdp(a, port)) || !(await tryUdp(a, port + 1)) || !(await tryTcp(a))) return false;
  }
  return true;
}

/**
 * A port P with UDP P, UDP P+1 and TCP P free on the given loopback
 * addresses, between 20000 and 30000, or in the range BENCH_PORTS=LO-HI
 * (a shared machine where each user has a range of its own).
 */
export async function freePort(addresses: string[] = ['127.0.0.1']): Promise<number> {
  const range = /^(\d+)-(\d+)$/.exec(process.env.BENCH_PORTS ?? '');
  const lo = range ? Number(range[1]) : 20_000;
  const hi = range ? Number(range[2]) : 30_000;
  for (let i = 0; i < 50; i++) {
    const p = lo + 2 * Math.floor(Math.random() * Math.floor((hi - lo - 1) / 2));
    if (await portsFree(p, addresses)) return p;
  }
  throw new Error(`no free port pair found between ${lo} and ${hi}`);
}

/** True when a command is on PATH. */
export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Runs a command; throws with its stderr when it fails. */
export function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout || '').trim()}`);
  return r.stdout;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
