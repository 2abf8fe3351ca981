/**
 * The two-ISP namespace lab for the bench (lab/harness/lab.sh): its
 * addresses, kernel MP-TCP set up beside mpudp (mptcpize, endpoints,
 * limits), the servers of both transports and the client's arguments.
 */
import { spawnSync } from 'node:child_process';
import type { Lab } from '../../lab/harness/netns.js';
import type { RoleProcess } from '../../lab/harness/process.js';
import { hasCommand, run, startServer } from '../../lab/harness/bench-roles.js';

export interface LabConfig {
  /** Aggregation rounds (each: one mpudp and one MP-TCP download). */
  rounds: number;
  /** Aggregation transfer time (s). */
  seconds: number;
  /** Failover outages (ms), each one run per transport per failover round. */
  outagesMs: number[];
  failoverRounds: number;
  /** Transfer time before the failure and after the heal (ms). */
  preMs: number;
  postMs: number;
  /** Namespace prefix (default mpudp-b<pid>). */
  prefix?: string;
  /** Install mptcpize with apt-get when missing (default true; the tests never install). */
  install?: boolean;
}

export type LabTransport = 'mpudp' | 'mptcp';
export const NAME: Record<LabTransport, string> = { mpudp: 'mpudp', mptcp: 'kernel MP-TCP' };
/** Timeline bin. */
export const BIN_MS = 50;
/** The window after the failure in which delivery time lost is counted. */
export const LOSS_WINDOW_MS = 2000;
/** A 50 ms bin in which the healed ISP received at least this much is "carrying data". */
export const CARRYING_BYTES = 16 * 1024;
export const SERVER = { a: '10.77.1.1', b: '10.77.2.1' };
export const CLIENT = { a: '10.77.1.2', b: '10.77.2.2' };
export const PORT = 5201;
/** The veth MTU's UDP payload (as the lab tests: TCP gets an MTU-sized MSS too). */
export const LAB_DATAGRAM = 1472;

/** Why the MP-TCP baseline cannot run, or null. Installs mptcpize (Debian) when missing and root, if `mayInstall`. */
export function ensureMptcpize(mayInstall = true): string | null {
  if (hasCommand('mptcpize')) return null;
  if (!mayInstall) return 'mptcpize is missing (Debian package mptcpize)';
  if (process.geteuid?.() !== 0) return 'mptcpize is missing (Debian package mptcpize) and we are not root to install it';
  if (!hasCommand('apt-get')) return 'mptcpize is missing and there is no apt-get to install it';
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = (): boolean => spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'mptcpize'], { env, stdio: 'ignore' }).status === 0;
  process.stderr.write('bench: installing mptcpize (Debian) for the kernel MP-TCP baseline\n');
  if (!install()) {
    spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore' });
    install();
  }
  return hasCommand('mptcpize') ? null : 'mptcpize could not be installed with apt-get (package mptcpize)';
}

/**
 * Kernel MP-TCP in the lab: the server announces its ISP B address (a
 * `signal` endpoint), the client accepts it and opens a subflow per ISP,
 * A (the initial one) and B (to the announced address). A client `subflow`
 * endpoint would join from its B address to the server's A address, which
 * the lab's strict reverse-path filter drops (the reply from A's address
 * arrives on B), so the announcement is what gives one subflow per ISP here.
 */
export function setupMptcp(lab: Lab): void {
  for (const ns of [lab.srv, lab.cli]) {
    run('ip', ['-n', ns, 'mptcp', 'endpoint', 'flush']);
    run('ip', ['-n', ns, 'mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2']);
  }
  run('ip', ['-n', lab.srv, 'mptcp', 'endpoint', 'add', SERVER.b, 'dev', 'isp-b', 'signal']);
}

export function clientArgs(t: LabTransport, timeMs: number): string[] {
  const common = ['--port', String(PORT), '--reverse', '--time', String(timeMs / 1000), '--bin-ms', String(BIN_MS), '--ifaces', 'isp-a,isp-b', '--interval', '1'];
  if (t === 'mpudp') return [`${SERVER.a},${SERVER.b}`, '--local', `${CLIENT.a},${CLIENT.b}`, '--paired', '--max-datagram', String(LAB_DATAGRAM), ...common];
  return [SERVER.a, '--transport', 'tcp', ...common];
}

/** Servers of both transports in the lab's server namespace. */
export async function startLabServers(lab: Lab, withMptcp: boolean): Promise<Partial<Record<LabTransport, RoleProcess>>> {
  const out: Partial<Record<LabTransport, RoleProcess>> = {};
  out.mpudp = await startServer(
    ['--transport', 'mpudp', '--port', String(PORT), '--address', `${SERVER.a},${SERVER.b}`, '--no-advertise', '--max-datagram', String(LAB_DATAGRAM)],
    { ns: lab.srv, name: 'mpudp server' },
  );
  // A kernel MP-TCP listener must bind the wildcard address to accept joins on its other addresses.
  if (withMptcp) out.mptcp = await startServer(['--transport', 'tcp', '--port', String(PORT), '--address', '0.0.0.0'], { ns: lab.srv, mptcp: true, name: 'MP-TCP server' });
  return out;
}
