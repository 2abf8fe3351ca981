/**
 * What the tests that need the machine itself (network namespaces, nftables,
 * Docker) require, and what they do without it:
 *
 * - where it is all there, they run;
 * - where something is missing, they are skipped, and the reason is printed
 *   ("skipped: needs root, nft: running as uid 1000, nft not found");
 * - with MPUDP_LAB=required (CI sets it), they fail instead, naming what is
 *   missing: on CI a skipped lab would be a silent hole.
 *
 * Nothing here installs a package or starts a daemon (.ci/run does that).
 * The vitest side (describeNeeding) is test/lab/requirements.ts.
 * Tools are looked for on PATH and in the sbin directories, which a user's
 * PATH often lacks (ip, tc and nft live there on Debian).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Directories searched after PATH. */
export const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** PATH with the sbin directories appended (for the tools' own child processes). */
export function toolPath(path = process.env.PATH ?? ''): string {
  const dirs = path.split(delimiter).filter(Boolean);
  return [...dirs, ...SBIN_DIRS.filter((d) => !dirs.includes(d))].join(delimiter);
}

/** True if `name` is an executable file in one of `path`'s directories. */
export function onPath(name: string, path: string): boolean {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** What the checks look at (injectable, for testing the checks themselves). */
export interface MachineEnv {
  /** Effective uid (0 = root). */
  uid: number | undefined;
  /** The directories to search for tools (PATH plus sbin by default). */
  path: string;
}

export function machineEnv(): MachineEnv {
  return { uid: process.geteuid?.(), path: toolPath() };
}

/** Tools the namespace lab needs, with the Debian package that has each. */
const LAB_TOOLS: [string, string][] = [
  ['ip', 'iproute2'],
  ['tc', 'iproute2'],
  ['nft', 'nftables'],
];

/** What keeps the namespace lab from running, one entry per missing thing ([] = nothing). */
export function missingForLab(env: MachineEnv = machineEnv()): string[] {
  const out: string[] = [];
  if (env.uid !== 0) out.push(`root (running as uid ${env.uid ?? 'unknown'}; ip netns, tc and nft need root)`);
  for (const [tool, pkg] of LAB_TOOLS) {
    if (!onPath(tool, env.path)) out.push(`${tool} (Debian package ${pkg}; not found on PATH or in sbin)`);
  }
  return out;
}

/** The local base image the Compose demo builds on where nothing can be pulled. */
export const DOCKER_BASE_IMAGE = 'mpudp-base:local';

/**
 * What keeps the Docker Compose demo from running: the docker and compose
 * commands, a running engine (the test never starts one), and the base
 * image or what builds it (root and debootstrap).
 */
export function missingForDocker(env: MachineEnv = machineEnv()): string[] {
  const out: string[] = [];
  if (!onPath('docker', env.path)) return ['docker (Debian package docker.io; not found on PATH)'];
  const run = (args: string[]) => spawnSync('docker', args, { encoding: 'utf8', timeout: 20_000, env: { ...process.env, PATH: env.path } });
  const info = run(['info', '--format', '{{.ServerVersion}}']);
  if (info.status !== 0) {
    const why = (info.stderr || info.error?.message || '').trim().split('\n')[0] ?? '';
    return [`a running Docker engine (docker info failed: ${why || `exit ${info.status}`}; .ci/run starts one)`];
  }
  const compose = onPath('docker-compose', env.path) || run(['compose', 'version']).status === 0;
  if (!compose) out.push('docker-compose (Debian package docker-compose) or the docker compose plugin');
  const image = run(['image', 'inspect', DOCKER_BASE_IMAGE]).status === 0;
  if (!image && (env.uid !== 0 || !onPath('debootstrap', env.path))) {
    out.push(`the base image ${DOCKER_BASE_IMAGE}, or root and debootstrap to build it (docker/build-base.sh)`);
  }
  return out;
}

/** MPUDP_LAB=required: missing requirements fail the tests instead of skipping them. */
export function labRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.MPUDP_LAB === 'required';
}

/** What becomes of a suite that needs `needs`, given what is missing. */
export type Decision = { run: true } | { run: false; skip: string } | { run: false; fail: string };

export function decide(needs: string, missing: string[], required: boolean): Decision {
  if (missing.length === 0) return { run: true };
  const reason = `needs ${needs}; missing: ${missing.join(', ')}`;
  return required ? { run: false, fail: `MPUDP_LAB=required, but this ${reason}` } : { run: false, skip: reason };
}
