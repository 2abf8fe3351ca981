/**
 * The simulation driver: a virtual clock, the event heap, the network and the
 * nodes, all deterministic from one seed.
 *
 * A step:
 *  1. drain every node's pollTransmit(now) (picks up work done from outside,
 *     e.g. a scenario calling write() between runs);
 *  2. pick the earliest of the next heap event and every node's
 *     pollTimeout(); advance `now` to it (never backwards);
 *  3. run every event due by `now`, in (time, insertion) order: datagram
 *     deliveries (handleDatagram) and world.at() callbacks;
 *  4. handleTimeout(now) on every node whose pollTimeout() <= now;
 *  5. drain every node's pollTransmit(now) into the network.
 */
import type { RandomSource } from '../../src/core/types.js';
import { Rng, deriveSeed } from '../random.js';
import { EventHeap } from '../heap.js';
import type { Link, LinkParams } from '../link/index.js';
import { Network, SimEvent, type SimNode } from './network.js';

export interface WorldOptions {
  /** Seed of every random choice in the run. */
  seed: number;
  /** Virtual time at the start (ms); default 1000 so zero-time bugs show. */
  startTime?: number;
  /** Livelock guard: most steps in one runUntil/runFor/runUntilIdle call (default 5 000 000). */
  maxSteps?: number;
  /** Most datagrams one node may emit in one drain before it is deemed stuck (default 1 000 000). */
  maxTransmitsPerDrain?: number;
}

/** Marks errors already tagged with the seed. */
const TAGGED = Symbol('sim-tagged');

export class World {
  /** The run's seed (printed in every failure). */
  readonly seed: number;
  /** Generator for the scenario's own choices (separate from links and nodes). */
  readonly rng: Rng;
  /** Pending deliveries and callbacks. */
  readonly heap = new EventHeap<SimEvent>();
  /** Addresses, links and NAT. */
  readonly network: Network;
  /** Steps taken since creation. */
  steps = 0;

  /** Virtual time (ms). */
  private clock: number;
  /** Every driven node, in the order added. */
  private readonly nodes: SimNode[] = [];
  /** Streams handed out by random(). */
  private randomStreams = 0;
  /** Livelock guard per run call. */
  private readonly maxSteps: number;
  /** Stuck-sender guard per drain. */
  private readonly maxTransmitsPerDrain: number;

  constructor(options: WorldOptions) {
    this.seed = options.seed >>> 0;
    this.clock = options.startTime ?? 1000;
    this.maxSteps = options.maxSteps ?? 5_000_000;
    this.maxTransmitsPerDrain = options.maxTransmitsPerDrain ?? 1_000_000;
    this.rng = new Rng(deriveSeed(this.seed, 1));
    this.network = new Network(this.seed, this.heap, (node) => this.register(node));
  }

  /** Current virtual time (ms). */
  get now(): number {
    return this.clock;
  }

  /** Drives `node` and gives it `addresses`; returns the node. */
  addNode<T extends SimNode>(node: T, ...addresses: string[]): T {
    this.register(node);
    for (const a of addresses) this.network.attach(node, a);
    return node;
  }

  /** Stops driving `node` and detaches its addresses. */
  removeNode(node: SimNode): void {
    for (const a of this.network.addressesOf(node)) this.network.detach(a);
    const i = this.nodes.indexOf(node);
    if (i >= 0) this.nodes.splice(i, 1);
  }

  /** A fresh deterministic RandomSource (e.g. EndpointConfig.random); each call is an independent stream. */
  random(): RandomSource {
    return new Rng(deriveSeed(this.seed, 0x5eed0000 + ++this.randomStreams)).source();
  }

  /** Runs `fn` at virtual time `time` (absolute ms, not in the past). */
  at(time: number, fn: () => void): void {
    if (!(time >= this.clock)) throw new Error(`World.at(${time}): in the past (now ${this.clock}) [seed=${this.seed}]`);
    const ev = new SimEvent();
    ev.kind = 1;
    ev.fn = fn;
    this.heap.push(time, ev);
  }

  /** Runs `fn` `delayMs` from now. */
  after(delayMs: number, fn: () => void): void {
    this.at(this.clock + delayMs, fn);
  }

  /**
   * Link changes over time (rate changes, loss bursts, outages): each step's
   * `params` are applied to every link in `links` `afterMs` from now (steps
   * in any order; equal times apply in the order given).
   */
  scheduleLink(links: Link | readonly Link[], steps: ReadonlyArray<{ afterMs: number; params: Partial<LinkParams> }>): void {
    const list: readonly Link[] = Array.isArray(links) ? links : [links as Link];
    for (const step of steps) {
      const params = { ...step.params };
      this.after(step.afterMs, () => {
        for (const l of list) l.set(params);
      });
    }
  }

  /** Time of the next thing to happen (event or node wake-up), or Infinity. */
  nextTime(): number {
    let t = this.heap.peekTime();
    const nodes = this.nodes;
    for (let i = 0; i < nodes.length; i++) {
      const to = nodes[i]!.pollTimeout();
      if (to !== null && to < t) t = to;
    }
    return t;
  }

  /**
   * One step (see the file comment), unless the next thing happens after
   * `limit`: then nothing but the initial drain is done. Returns whether a
   * step was taken.
   */
  step(limit = Infinity): boolean {
    this.flush();
    const t = this.nextTime();
    if (t === Infinity || t > limit) return false;
    if (t > this.clock) this.clock = t;
    const now = this.clock;
    this.steps++;
    const heap = this.heap;
    const network = this.network;
    while (heap.peekTime() <= now) {
      const ev = heap.pop()!;
      if (ev.kind === 0) network.deliver(ev, now);
      else ev.fn!();
    }
    const nodes = this.nodes;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      const to = node.pollTimeout();
      if (to !== null && to <= now) node.handleTimeout(now);
    }
    this.flush();
    return true;
  }

  /** Sends everything the nodes have to send at `now`. */
  flush(): void {
    const nodes = this.nodes;
    const network = this.network;
    const now = this.clock;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      let n = 0;
      for (let tx = node.pollTransmit(now); tx !== null; tx = node.pollTransmit(now)) {
        network.send(node, tx, now);
        if (++n > this.maxTransmitsPerDrain) {
          throw new Error(`World: node ${i} emitted more than ${this.maxTransmitsPerDrain} datagrams at t=${now} [seed=${this.seed}]`);
        }
      }
    }
  }

  /**
   * Steps until `predicate()` is true (checked after an initial drain of the
   * nodes, then after each step) or `maxMs` of virtual time pass. Returns whether the predicate
   * became true; on timeout `now` is start + maxMs.
   */
  runUntil(predicate: () => boolean, maxMs: number): boolean {
    const deadline = this.clock + maxMs;
    return this.guard(() => {
      this.flush();
      if (predicate()) return true;
      let steps = 0;
      while (this.step(deadline)) {
        if (predicate()) return true;
        if (++steps > this.maxSteps) this.livelock();
      }
      if (deadline > this.clock) this.clock = deadline;
      return predicate();
    });
  }

  /** Runs everything due in the next `ms`, then sets `now` to start + ms. */
  runFor(ms: number): void {
    const deadline = this.clock + ms;
    this.guard(() => {
      let steps = 0;
      while (this.step(deadline)) if (++steps > this.maxSteps) this.livelock();
      if (deadline > this.clock) this.clock = deadline;
      return true;
    });
  }

  /**
   * Runs until nothing is pending (no event, no node wake-up) or `maxMs`
   * pass. Returns whether the world went idle.
   */
  runUntilIdle(maxMs: number): boolean {
    return this.runUntil(() => this.nextTime() === Infinity, maxMs);
  }

  private register(node: SimNode): void {
    if (!this.nodes.includes(node)) this.nodes.push(node);
  }

  private livelock(): never {
    throw new Error(`World: livelock guard: more than ${this.maxSteps} steps in one run, t=${this.clock} [seed=${this.seed}]`);
  }

  /** Runs `body`, tagging any error with the seed and time so it replays. */
  private guard<T>(body: () => T): T {
    try {
      return body();
    } catch (err) {
      if (err instanceof Error && !(err as unknown as Record<symbol, unknown>)[TAGGED]) {
        (err as unknown as Record<symbol, unknown>)[TAGGED] = true;
        if (!err.message.includes(`seed=${this.seed}`)) err.message += ` [sim seed=${this.seed} t=${this.clock}]`;
      }
      throw err;
    }
  }
}
