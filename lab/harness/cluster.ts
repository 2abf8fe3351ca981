/**
 * Drives lab/harness/cluster-server.ts (an mpudp server under
 * node:cluster) from a test or the bench: start, wait for workers by slot,
 * read every worker's stats, kill one, stop.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { UdpEndpointStats } from '../../src/io/udp-endpoint.js';

const FIXTURE = fileURLToPath(new URL('./cluster-server.ts', import.meta.url));

export interface WorkerListening {
  type: 'listening';
  slot: number;
  pid: number;
  port: number;
  ownPort: number;
}

export interface WorkerStats {
  slot: number;
  pid: number;
  stats: UdpEndpointStats;
  /** The worker's user + system CPU since it started. */
  cpuSeconds: number;
}

type Message = WorkerListening | { type: 'exit'; slot: number; pid: number } | { type: 'stats'; id: number; workers: WorkerStats[] };

export interface ClusterFixtureOptions {
  /** 0: one process, no cluster. */
  workers: number;
  port?: number;
  ownPort?: number;
  addresses?: string[];
  mode?: 'echo' | 'bench';
  /** One long-term key for every worker (base64url); absent: each draws its own. */
  key?: string;
}

export class ClusterFixture {
  readonly child: ChildProcess;
  /** Every message, in order. */
  private readonly messages: Message[] = [];
  private readonly waiters: (() => void)[] = [];
  private nextId = 1;
  private exited = false;

  constructor(options: ClusterFixtureOptions) {
    this.child = fork(FIXTURE, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        CLUSTER_WORKERS: String(options.workers),
        CLUSTER_PORT: String(options.port ?? 0),
        CLUSTER_OWN_PORT: String(options.ownPort ?? 0),
        CLUSTER_ADDRESSES: (options.addresses ?? ['127.0.0.1']).join(','),
        CLUSTER_MODE: options.mode ?? 'echo',
        CLUSTER_KEY: options.key ?? '',
      },
    });
    this.child.on('message', (m: Message) => {
      this.messages.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.on('exit', () => {
      this.exited = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Resolves with the first message (from index `from` on) that `match` takes. */
  async waitFor<T extends Message>(match: (m: Message) => m is T, from = 0): Promise<T> {
    for (;;) {
      const found = this.messages.slice(from).find(match);
      if (found !== undefined) return found;
      if (this.exited) throw new Error('the cluster fixture exited');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Messages so far (an index for waitFor's `from`). */
  get mark(): number {
    return this.messages.length;
  }

  /** Waits until `n` workers listen (from `from` on); returns them by slot. */
  async listening(n: number, from = 0): Promise<WorkerListening[]> {
    for (;;) {
      const seen = this.messages.slice(from).filter((m): m is WorkerListening => m.type === 'listening');
      if (seen.length >= n) return seen.sort((a, b) => a.slot - b.slot);
      await this.waitFor((_m): _m is Message => true, this.messages.length);
    }
  }

  async stats(): Promise<WorkerStats[]> {
    const id = this.nextId++;
    const from = this.mark;
    this.child.send({ type: 'stats', id });
    const m = await this.waitFor((x): x is Extract<Message, { type: 'stats' }> => x.type === 'stats' && x.id === id, from);
    return m.workers;
  }

  /**
   * Polls the stats until `ok` holds (each poll is one IPC round trip to
   * every worker), or throws after `timeoutMs`.
   */
  async statsUntil(ok: (s: WorkerStats[]) => boolean, timeoutMs: number): Promise<WorkerStats[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.stats();
      if (ok(s)) return s;
      if (Date.now() > deadline) throw new Error(`cluster stats condition not met in ${timeoutMs} ms: ${JSON.stringify(s.map((w) => w.stats.cluster))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(slot: number): void {
    this.child.send({ type: 'kill', slot });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      this.child.send({ type: 'stop' });
    } catch {
      this.child.kill('SIGKILL');
    }
    await gone;
  }
}
