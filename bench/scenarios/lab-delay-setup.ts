/**
 * The two-ISP lab with a delay stage (lab/harness/lab.sh `delay up`): VXLAN
 * tunnels over the ISPs' veths, each direction through a userspace relay
 * (lab-relay.ts, the ISP emulator) that adds the propagation delay. Here:
 * the relays, the servers on the tunnel addresses, kernel MP-TCP's
 * endpoints for them, and the CPU accounting (processes and the machine).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCommand, run, startServer } from '../../lab/harness/bench-roles.js';
import { runInNs, type Lab } from '../../lab/harness/netns.js';
import { REPO, type RoleProcess } from '../../lab/harness/process.js';
import type { LabTransport } from './lab-setup.js';

/** Tunnel addresses (lab.sh `delay up`; `delay addr A 1` adds CLIENT_A2). */
export const TUN = {
  serverA: '10.78.1.1',
  clientA: '10.78.1.2',
  clientA2: '10.78.1.3',
  serverB: '10.78.2.1',
  clientB: '10.78.2.2',
} as const;
/** Underlay addresses, where the relays listen, and the relay ports. */
const UNDER = { serverA: '10.77.1.1', clientA: '10.77.1.2', serverB: '10.77.2.1', clientB: '10.77.2.2' };
const RELAY_PORT = { a: 7101, b: 7102 };
const VXLAN_PORT = 4789;
export const DELAY_PORT = 5211;
/** The tunnels' MTU less IPv4 and UDP headers (as the plain lab's LAB_DATAGRAM). */
export const TUN_DATAGRAM = 1472;

/** Why the delay stage cannot run, or null. Installs ethtool (Debian) when missing and root. */
export function ensureEthtool(): string | null {
  if (!hasCommand('bridge')) return 'bridge (Debian package iproute2) is missing';
  if (hasCommand('ethtool')) return null;
  if (process.geteuid?.() !== 0 || !hasCommand('apt-get')) return 'ethtool (Debian package ethtool) is missing and cannot be installed here';
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  process.stderr.write('bench: installing ethtool (Debian) for the lab delay stage\n');
  const install = (): boolean => spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'ethtool'], { env, stdio: 'ignore' }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore' });
    install();
  }
  return hasCommand('ethtool') ? null : 'ethtool could not be installed with apt-get';
}

/** The relays of both namespaces: each ISP direction delayed by its one-way delay. */
export class Relays {
  private constructor(private readonly procs: RoleProcess[]) {}

  /** One-way delays (ms) of ISP A and B; relays in the server namespace delay client → server, those in the client's server → client. */
  static async start(lab: Lab, oneWayA: number, oneWayB: number): Promise<Relays> {
    const spec = (side: 'client' | 'server'): unknown[] => {
      const at = side === 'client' ? { a: UNDER.clientA, b: UNDER.clientB } : { a: UNDER.serverA, b: UNDER.serverB };
      return [
        { name: `A-${side}`, listen: `${at.a}:${RELAY_PORT.a}`, target: `${at.a}:${VXLAN_PORT}`, delayMs: oneWayA },
        { name: `B-${side}`, listen: `${at.b}:${RELAY_PORT.b}`, target: `${at.b}:${VXLAN_PORT}`, delayMs: oneWayB },
      ];
    };
    const script = join(REPO, 'bench/scenarios/lab-relay.ts');
    const procs = [runInNs(lab.cli, script, [JSON.stringify(spec('client'))], 'relays@client'), runInNs(lab.srv, script, [JSON.stringify(spec('server'))], 'relays@server')];
    for (const p of procs) await p.waitFor((r) => r.type === 'ready', 20_000, 'relays ready');
    return new Relays(procs);
  }

  /** CPU seconds each relay process has used since it started (client side, server side). */
  async cpu(): Promise<{ client: number; server: number }> {
    const out: number[] = [];
    for (const p of this.procs) {
      const from = p.reports.length;
      p.send('stats');
      const r = await p.waitFor((x) => x.type === 'stats', 10_000, 'relay stats', from);
      out.push(Number(r.cpuSeconds));
    }
    return { client: out[0]!, server: out[1]! };
  }

  async stop(): Promise<void> {
    for (const p of this.procs) {
      try {
        p.send('quit');
      } catch {
        // gone already
      }
    }
    await Promise.all(this.procs.map(async (p) => {
      const t = setTimeout(() => void p.kill(), 3000);
      await p.exited;
      clearTimeout(t);
    }));
  }
}

/** Servers of both transports on the tunnel addresses. */
export async function startDelayServers(lab: Lab, withMptcp: boolean, mpudpArgs: string[] = []): Promise<Partial<Record<LabTransport, RoleProcess>>> {
  const out: Partial<Record<LabTransport, RoleProcess>> = {};
  out.mpudp = await startServer(
    ['--transport', 'mpudp', '--port', String(DELAY_PORT), '--address', `${TUN.serverA},${TUN.serverB}`, '--no-advertise', '--max-datagram', String(TUN_DATAGRAM), ...mpudpArgs],
    { ns: lab.srv, name: 'mpudp server (tunnels)' },
  );
  // Plain TCP (the Cubic competitor) and MP-TCP share the wildcard listener: without mptcpize it is plain TCP.
  if (withMptcp) out.mptcp = await startServer(['--transport', 'tcp', '--port', String(DELAY_PORT), '--address', '0.0.0.0'], { ns: lab.srv, mptcp: true, name: 'MP-TCP server (tunnels)' });
  return out;
}

/**
 * Kernel MP-TCP over the tunnels: the server announces its B tunnel
 * address, the client takes it (one subflow per ISP); with `extraSubflow`
 * the client also opens a second subflow from its second A address (the
 * shared-bottleneck baseline: two subflows through one queue).
 */
export function setupMptcpTunnels(lab: Lab, extraSubflow: boolean): void {
  for (const ns of [lab.srv, lab.cli]) {
    run('ip', ['-n', ns, 'mptcp', 'endpoint', 'flush']);
    run('ip', ['-n', ns, 'mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2']);
  }
  if (extraSubflow) run('ip', ['-n', lab.cli, 'mptcp', 'endpoint', 'add', TUN.clientA2, 'dev', 'dly-a', 'subflow']);
  else run('ip', ['-n', lab.srv, 'mptcp', 'endpoint', 'add', TUN.serverB, 'dev', 'dly-b', 'signal']);
}

/**
 * Sets the kernel's TCP congestion control of a namespace to `cc` and
 * returns what is in force. A namespace other than the host's may only pick
 * an algorithm of the host's tcp_allowed_congestion_control (this kernel
 * allows "reno bbr" and defaults to bbr); `cc` is added to that list first
 * when missing, and `restore()` puts the list back.
 */
export function tcpCongestionControl(ns: string, cc: string): { inForce: string; restore: () => void } {
  const allowedFile = '/proc/sys/net/ipv4/tcp_allowed_congestion_control';
  const before = readFileSync(allowedFile, 'latin1').trim();
  let restore = (): void => {};
  if (!before.split(/\s+/).includes(cc)) {
    run('sysctl', ['-qw', `net.ipv4.tcp_allowed_congestion_control=${before} ${cc}`]);
    restore = () => {
      spawnSync('sysctl', ['-qw', `net.ipv4.tcp_allowed_congestion_control=${before}`], { stdio: 'ignore' });
    };
  }
  run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv4.tcp_congestion_control=${cc}`]);
  return { inForce: run('ip', ['netns', 'exec', ns, 'sysctl', '-n', 'net.ipv4.tcp_congestion_control']).trim(), restore };
}

/** The machine's CPU counters (all cores): busy and total jiffies. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'latin1').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Fraction of the machine's CPU (all cores) busy between two readings. */
export function busyFraction(a: { busy: number; total: number }, b: { busy: number; total: number }): number {
  const t = b.total - a.total;
  return t > 0 ? (b.busy - a.busy) / t : NaN;
}

/** Bytes and packets a tunnel's tbf has sent (what it counts against its rate: the inner Ethernet frame, 14 bytes of header + the IP packet). */
export function qdiscSent(ns: string, dev: string): { bytes: number; packets: number } {
  const q = JSON.parse(run('tc', ['-n', ns, '-s', '-j', 'qdisc', 'show', 'dev', dev])) as Array<{ kind: string; bytes?: number; packets?: number }>;
  const tbf = q.find((x) => x.kind === 'tbf');
  return { bytes: tbf?.bytes ?? NaN, packets: tbf?.packets ?? NaN };
}
