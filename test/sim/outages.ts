/**
 * Outage scenarios for the liveness tests (issue #15): pairs whose paths run
 * over separate "ISPs", outage schedules (alternating, random with at least
 * one path working at every moment, short repeated, one direction only),
 * an app-limited writer, and the longest stall in the receiver's delivery
 * timeline.
 *
 * Topologies:
 * - 'isp': client and server each have one address per ISP and only the
 *   pairs of one ISP route (the cross pairs have no link), as in the
 *   namespace lab (test/lab/lab.sh: strict reverse-path filtering).
 * - 'one-server': the client has one address per ISP, the server a single
 *   address; every client address reaches it over its own ISP.
 */
import type { ConnectionOptions } from '../../src/core/options.js';
import type { Connection } from '../../src/core/connection.js';
import type { Rng } from '../../lab/random.js';
import type { Link, LinkParams } from '../../lab/link/index.js';
import { Pair, type Side } from './scenario.js';

export type Topology = 'isp' | 'one-server';

/** Which way an outage blocks: both directions, or only client → server ('up') or server → client ('down'). */
export type Direction = 'both' | 'up' | 'down';

export interface IspPairOptions {
  seed: number;
  /** Link parameters of each ISP (both directions); its length is the number of ISPs. */
  isps: Array<Partial<LinkParams>>;
  topology?: Topology;
  /** Options of both ends. */
  options?: Partial<ConnectionOptions>;
}

/** A Pair whose paths run over ISPs that can fail one at a time. */
export class IspPair {
  readonly pair: Pair;
  /** Per ISP: the client → server links and the server → client links. */
  readonly up: Link[][] = [];
  readonly down: Link[][] = [];

  constructor(readonly opts: IspPairOptions) {
    const n = opts.isps.length;
    const topology = opts.topology ?? 'isp';
    const clientAddresses = opts.isps.map((_, i) => `10.0.${i + 1}.2`);
    const serverAddresses = topology === 'isp' ? opts.isps.map((_, i) => `10.0.${i + 1}.1`) : ['10.0.0.1'];
    this.pair = new Pair({
      seed: opts.seed,
      clientAddresses,
      serverAddresses,
      links: opts.isps,
      // Every pair of the mesh may get a path (n² in the 'isp' topology).
      options: { maxPaths: Math.max(8, clientAddresses.length * serverAddresses.length), ...opts.options },
    });
    const net = this.pair.world.network;
    for (let i = 0; i < n; i++) {
      const c = clientAddresses[i]!;
      const servers = topology === 'isp' ? [serverAddresses[i]!] : serverAddresses;
      if (topology === 'isp') {
        for (let j = 0; j < n; j++) {
          if (j === i) continue;
          // A source of one ISP sent out of another is dropped (BCP 38): no route.
          net.unlink(c, serverAddresses[j]!);
          net.unlink(serverAddresses[j]!, c);
        }
      }
      this.up.push(servers.map((s) => net.getLink(c, s)!));
      this.down.push(servers.map((s) => net.getLink(s, c)!));
    }
  }

  get world() {
    return this.pair.world;
  }

  /** Number of ISPs. */
  get size(): number {
    return this.up.length;
  }

  /** Blackholes (or heals) ISP `i` in `direction`. Healing heals both directions. */
  set(i: number, down: boolean, direction: Direction = 'both'): void {
    if (!down || direction !== 'down') for (const l of this.up[i]!) l.set({ blackhole: down });
    if (!down || direction !== 'up') for (const l of this.down[i]!) l.set({ blackhole: down });
  }

  /** ISP `i` carries packets both ways now. */
  works(i: number): boolean {
    return this.up[i]!.every((l) => !l.params.blackhole) && this.down[i]!.every((l) => !l.params.blackhole);
  }
}

/** One step of an outage schedule: at `at` (ms after the schedule starts), ISP `isp` goes down or up. */
export interface OutageStep {
  at: number;
  isp: number;
  down: boolean;
  direction?: Direction;
}

/** Applies `steps` from `t0` on (world time). */
export function schedule(ip: IspPair, t0: number, steps: readonly OutageStep[]): void {
  for (const s of steps) ip.world.at(t0 + s.at, () => ip.set(s.isp, s.down, s.direction));
}

/**
 * The lab's flapping schedule (issue #15): ISP 0 down at 0; every `period`
 * ms the outage moves to the other ISP (the healed one heals at the same
 * instant the other fails), `moves` times; after the last move both work.
 */
export function alternating(period: number, moves: number): OutageStep[] {
  const steps: OutageStep[] = [{ at: 0, isp: 0, down: true }];
  let down = 0;
  for (let k = 1; k <= moves; k++) {
    steps.push({ at: k * period, isp: down, down: false });
    down = 1 - down;
    if (k < moves) steps.push({ at: k * period, isp: down, down: true });
  }
  return steps;
}

/** ISP `isp` down for `downMs` every `everyMs`, `count` times (the others stay up). */
export function repeated(isp: number, downMs: number, everyMs: number, count: number): OutageStep[] {
  const steps: OutageStep[] = [];
  for (let k = 0; k < count; k++) {
    steps.push({ at: k * everyMs, isp, down: true }, { at: k * everyMs + downMs, isp, down: false });
  }
  return steps;
}

/**
 * A random schedule over `horizon` ms on `n` ISPs: segments of 50 ms to
 * 2.5 s, in each a random set of ISPs down (both ways or one way), never
 * all of them: at every moment at least one ISP carries packets both ways.
 * At `horizon` every ISP heals.
 */
export function randomSchedule(rng: Rng, n: number, horizon: number): OutageStep[] {
  const steps: OutageStep[] = [];
  const state: Array<Direction | null> = new Array(n).fill(null);
  let t = 0;
  while (t < horizon) {
    // Which ISPs are down in this segment: each with probability 1/2, but one stays up.
    const keep = rng.int(0, n - 1);
    for (let i = 0; i < n; i++) {
      const wantDown = i !== keep && rng.chance(0.5);
      const direction: Direction = rng.chance(0.2) ? rng.pick(['up', 'down'] as const) : 'both';
      const next = wantDown ? direction : null;
      if (next === state[i]) continue;
      // A change of direction heals first (healing is both ways).
      if (state[i] !== null) steps.push({ at: t, isp: i, down: false });
      if (next !== null) steps.push({ at: t, isp: i, down: true, direction: next });
      state[i] = next;
    }
    // Short segments are common (flapping), long ones rarer.
    const len = rng.chance(0.4) ? rng.int(50, 350) : rng.int(300, 2500);
    t += len;
  }
  for (let i = 0; i < n; i++) if (state[i] !== null) steps.push({ at: horizon, isp: i, down: false });
  return steps;
}

/** Checks that at every moment of `steps` at least one ISP of `n` works both ways. */
export function alwaysOneWorks(steps: readonly OutageStep[], n: number): boolean {
  const down: Array<Direction | null> = new Array(n).fill(null);
  const byTime = [...steps].sort((a, b) => a.at - b.at);
  for (let k = 0; k < byTime.length; k++) {
    const s = byTime[k]!;
    down[s.isp] = s.down ? (s.direction ?? 'both') : null;
    // Judge once every step of this instant is applied.
    if (k + 1 < byTime.length && byTime[k + 1]!.at === s.at) continue;
    if (down.every((d) => d !== null)) return false;
  }
  return true;
}

/**
 * An application writing `bytesPerTick` every `tickMs` on `conn` until
 * `total` bytes are written (no FIN). Returns the bytes it wrote, for
 * comparing with what arrived; call `stop()` to end early.
 */
export class PacedWriter {
  /** Every byte written, in order. */
  readonly written: Uint8Array;
  /** Bytes handed to the connection so far. */
  offset = 0;

  constructor(
    private readonly ip: IspPair,
    private readonly side: Side,
    readonly total: number,
    private readonly bytesPerTick: number,
    private readonly tickMs: number,
    seed: number,
  ) {
    this.written = new Uint8Array(total);
    let x = seed >>> 0 || 1;
    for (let i = 0; i < total; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.written[i] = x & 0xff;
    }
  }

  /** Starts writing now. */
  start(): void {
    this.tick();
  }

  /** The paced writes are done (the connection may still hold unsent bytes). */
  get done(): boolean {
    return this.offset >= this.total;
  }

  private tick(): void {
    const conn = this.side.connection;
    if (conn === null || conn.isClosed) return;
    const end = Math.min(this.total, this.offset + this.bytesPerTick);
    // The send buffer may be full (an outage): what does not fit waits for the next tick.
    if (end > this.offset) this.offset += conn.write(this.written.subarray(this.offset, end));
    this.side.endpoint.touch(conn);
    if (!this.done) this.ip.world.after(this.tickMs, () => this.tick());
  }
}

/**
 * Longest stretch without in-order delivery to `side` between the first
 * delivery at or after `from` and the moment `until` (or the last delivery
 * when `until` is null): what the application waited for its next byte.
 */
export function longestStall(side: Side, from: number, until: number | null): { ms: number; at: number } {
  let last = -1;
  let worst = { ms: 0, at: from };
  for (const d of side.deliveries) {
    if (d.time < from) continue;
    if (last >= 0 && d.time - last > worst.ms) worst = { ms: d.time - last, at: last };
    last = d.time;
  }
  if (until !== null && last >= 0 && until - last > worst.ms) worst = { ms: until - last, at: last };
  return worst;
}

/** All bytes of `side` so far, concatenated. */
export function receivedBytes(side: Side): Uint8Array {
  const out = new Uint8Array(side.receivedBytes);
  let pos = 0;
  for (const c of side.received) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

/** First index where `a` and `b` differ within their common length, or -1. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Path states of a connection, e.g. "0:active 1:failed". */
export function pathStates(conn: Connection | null): string {
  if (conn === null) return '-';
  return conn.pathList.map((p) => `${p.id}:${p.state}`).join(' ');
}

/** The 'closed' event of a side, with its time, or null. */
export function closedEvent(side: Side): { time: number; code: string } | null {
  const e = side.events.find((x) => x.event.type === 'closed');
  if (e === undefined || e.event.type !== 'closed') return null;
  return { time: e.time, code: e.event.code };
}
