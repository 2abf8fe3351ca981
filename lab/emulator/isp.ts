/**
 * IspEmulator: one emulated ISP as a UDP relay, in userspace (no root, no
 * netem). It listens on `listen` and forwards every datagram to `target`;
 * the target's replies go back to whichever client source sent. Like a NAT,
 * each client source (address, port) gets its own upstream socket, bound to
 * `upstreamAddress` on an ephemeral port, so the target sees one distinct
 * source per client source, and only datagrams from `target` are relayed back.
 *
 * Each direction (`forward`: client → target, `reverse`: target → client) is
 * a LinkShaper (delay, jitter, loss, rate with a FIFO queue, state); datagrams
 * wait for their delivery time in one DeliveryQueue behind a single timer.
 *
 *   const isp = await IspEmulator.start({
 *     listen: { address: '127.0.0.11', port: 7000 },
 *     target: { address: '127.0.0.1', port: 4433 },
 *     delayMs: 10, rateBps: 100e6,
 *   });
 *   isp.schedule([{ atMs: 5000, action: 'cut' }, { atMs: 8000, action: 'heal' }]);
 *
 * Events: 'state' ({ direction, state }) on every state change, 'action'
 * (the ScheduledAction) when a scheduled action runs, 'mapping' (client
 * HostPort) for each new client source, 'error', 'close'.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Rng, deriveSeed } from '../random.js';
import { DeliveryQueue, DEFAULT_SLACK_MS } from './delivery-queue.js';
import { LinkShaper, validateLinkParams, type LinkParams, type LinkState, type LinkStats } from './link-shaper.js';
import type { HostPort } from './units.js';

/** One direction of the relay. */
export type Direction = 'forward' | 'reverse';

/** A direction, or both. */
export type DirectionSelector = Direction | 'both';

/** Parameters for both directions, with per-direction overrides. */
export interface IspParams extends Partial<LinkParams> {
  /** Overrides for client → target. */
  forward?: Partial<LinkParams>;
  /** Overrides for target → client. */
  reverse?: Partial<LinkParams>;
}

/** Options of a relay. */
export interface IspOptions extends IspParams {
  /** Where clients send (port 0 = ephemeral; see `address()`). */
  listen: HostPort;
  /** Where datagrams are relayed to. */
  target: HostPort;
  /**
   * Local address of the upstream sockets (what the target sees as source).
   * Default: the listen address when it is a specific address of the target's
   * family that can reach the target (loopback to loopback), else the wildcard.
   */
  upstreamAddress?: string;
  /** A name for logs and stats. */
  name?: string;
  /** Seed of the loss/jitter generator (default: Math.random). */
  seed?: number;
  /** Forget a client source after this long without datagrams (ms). Default 60 s. */
  mappingTimeoutMs?: number;
  /** Most client sources at once; datagrams from further ones are dropped. Default 1024. */
  maxMappings?: number;
  /**
   * Ingress filter (BCP 38): only datagrams from these client addresses are
   * relayed; others are dropped and counted (`droppedFiltered`). Default: any.
   */
  allowSources?: string[];
}

/** Something to do at a time after `schedule()` was called. */
export type ScheduledAction =
  | { atMs: number; action: 'cut' | 'heal' | 'blackhole'; direction?: DirectionSelector }
  | { atMs: number; action: 'set'; params: IspParams };

/** Counters of the relay. */
export interface IspStats {
  /** The relay's name. */
  name: string;
  /** Bound listen address. */
  listen: HostPort;
  /** The target. */
  target: HostPort;
  /** 'down' when a direction is cut, else 'blackhole' when one is blackholed, else 'up'. */
  state: 'up' | 'down' | 'blackhole';
  /** Client sources known. */
  mappings: number;
  /** Datagrams from clients dropped because `maxMappings` was reached. */
  droppedNoMapping: number;
  /** Datagrams on an upstream socket not from the target (dropped). */
  droppedForeign: number;
  /** Datagrams from client addresses not in `allowSources` (dropped). */
  droppedFiltered: number;
  /** Client → target. */
  forward: LinkStats;
  /** Target → client. */
  reverse: LinkStats;
}

/** One client source and its upstream socket. */
interface Mapping {
  /** Client address. */
  address: string;
  /** Client port. */
  port: number;
  /** Socket towards the target. */
  upstream: Socket;
  /** Last datagram from the client (ms). */
  lastSeen: number;
  /** Forgotten: datagrams still queued for it are dropped. */
  closed: boolean;
}

/** A datagram waiting in the delivery queue. */
interface Pending {
  /** 0 = forward, 1 = reverse. */
  dir: 0 | 1;
  /** Epoch of its link when accepted (a cut in between loses it). */
  epoch: number;
  /** The datagram. */
  data: Buffer;
  /** Whose it is. */
  mapping: Mapping;
}

/** Floats in [0, 1) from the project's seeded generator, one stream per salt. */
function seededRandom(seed: number, salt: number): () => number {
  const rng = new Rng(deriveSeed(seed, salt));
  return () => rng.next();
}

/** True for 127.0.0.0/8 and ::1. */
function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

/** True for 0.0.0.0 and ::. */
function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

const clock = (): number => performance.now();

export class IspEmulator extends EventEmitter {
  /** Name for logs and stats. */
  readonly name: string;
  /** Where datagrams are relayed to. */
  readonly target: HostPort;
  /** The two directions: [forward, reverse]. */
  private readonly links: [LinkShaper, LinkShaper];
  /** Datagrams queued per direction (FIFO: deliver at once only when none wait). */
  private readonly pending: [number, number] = [0, 0];
  /** Datagrams waiting for their time. */
  private readonly queue: DeliveryQueue<Pending>;
  /** The socket clients send to. */
  private readonly socket: Socket;
  /** Client sources by `address|port`. */
  private readonly mappings = new Map<string, Mapping>();
  /** Address of the upstream sockets. */
  private readonly upstreamAddress: string;
  /** Socket type for the upstream sockets. */
  private readonly upstreamType: 'udp4' | 'udp6';
  /** Forget idle client sources after this long (ms). */
  private readonly mappingTimeoutMs: number;
  /** Most client sources. */
  private readonly maxMappings: number;
  /** Timers of scheduled actions and the mapping sweep. */
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Dropped for lack of a mapping slot. */
  private droppedNoMapping = 0;
  /** Dropped on an upstream socket because not from the target. */
  private droppedForeign = 0;
  /** Dropped by the ingress filter. */
  private droppedFiltered = 0;
  /** Client addresses allowed (null = any). */
  private readonly allowSources: Set<string> | null;
  /** The listen address once bound. */
  private bound: HostPort | null = null;
  /** close() was called. */
  private closed = false;

  constructor(private readonly options: IspOptions) {
    super();
    const { listen, target } = options;
    if (isIP(listen.address) === 0) throw new RangeError(`listen.address is not an IP address: ${listen.address}`);
    if (isIP(target.address) === 0) throw new RangeError(`target.address is not an IP address: ${target.address}`);
    this.name = options.name ?? `isp ${listen.address}:${listen.port}`;
    this.target = { address: target.address, port: target.port };
    const base = IspEmulator.splitParams(options);
    const rnd = options.seed === undefined ? [Math.random, Math.random] : [seededRandom(options.seed, 0), seededRandom(options.seed, 1)];
    this.links = [
      new LinkShaper({ ...base.common, ...base.forward }, rnd[0]),
      new LinkShaper({ ...base.common, ...base.reverse }, rnd[1]),
    ];
    this.upstreamType = isIP(target.address) === 6 ? 'udp6' : 'udp4';
    const listenFamily = isIP(listen.address) === 6 ? 'udp6' : 'udp4';
    this.upstreamAddress =
      options.upstreamAddress ??
      (!isWildcard(listen.address) && listenFamily === this.upstreamType && isLoopback(listen.address) === isLoopback(target.address)
        ? listen.address
        : this.upstreamType === 'udp6' ? '::' : '0.0.0.0');
    this.mappingTimeoutMs = options.mappingTimeoutMs ?? 60_000;
    this.maxMappings = options.maxMappings ?? 1024;
    this.allowSources = options.allowSources ? new Set(options.allowSources) : null;
    this.queue = new DeliveryQueue<Pending>(this.deliver, clock);
    this.socket = createSocket({ type: listenFamily, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    this.socket.on('message', this.fromClient);
    this.socket.on('error', (err) => this.onSocketError(1, err));
  }

  /** Creates a relay and waits until it listens. */
  static async start(options: IspOptions): Promise<IspEmulator> {
    const isp = new IspEmulator(options);
    await isp.listen();
    return isp;
  }

  /** Binds the listen socket; resolves with the bound address. */
  listen(): Promise<HostPort> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.socket.once('error', onError);
      this.socket.bind({ address: this.options.listen.address, port: this.options.listen.port, exclusive: true }, () => {
        this.socket.off('error', onError);
        const a = this.socket.address();
        this.bound = { address: a.address, port: a.port };
        this.startSweep();
        this.emit('listening', this.bound);
        resolve(this.bound);
      });
    });
  }

  /** The bound listen address (null before `listen()` finished). */
  address(): HostPort | null {
    return this.bound;
  }

  /** Changes parameters (both directions, then per-direction overrides). */
  set(params: IspParams): void {
    const p = IspEmulator.splitParams(params);
    this.links[0].set({ ...p.common, ...p.forward });
    this.links[1].set({ ...p.common, ...p.reverse });
  }

  /** Link down: drop both directions (or one), including what is in flight. */
  cut(direction: DirectionSelector = 'both'): void {
    const now = clock();
    for (const d of this.select(direction)) {
      this.links[d].cut(now);
      this.emitState(d);
    }
  }

  /** Silently drop both directions (or one) from now on. */
  blackhole(direction: DirectionSelector = 'both'): void {
    for (const d of this.select(direction)) {
      this.links[d].blackhole();
      this.emitState(d);
    }
  }

  /** Back to forwarding after a cut or blackhole. */
  heal(direction: DirectionSelector = 'both'): void {
    for (const d of this.select(direction)) {
      this.links[d].heal();
      this.emitState(d);
    }
  }

  /** State of one direction. */
  state(direction: Direction): LinkState {
    return this.links[direction === 'forward' ? 0 : 1].state;
  }

  /**
   * Runs each action `atMs` after now; emits 'action' for each. Returns a
   * function that cancels those not yet run.
   */
  schedule(actions: ScheduledAction[]): () => void {
    for (const a of actions) {
      if (!(a.atMs >= 0) || !Number.isFinite(a.atMs)) throw new RangeError(`atMs must be a finite number >= 0, got ${a.atMs}`);
      if (a.action === 'set') {
        const p = IspEmulator.splitParams(a.params);
        validateLinkParams(p.common);
        validateLinkParams(p.forward);
        validateLinkParams(p.reverse);
      } else if (!['cut', 'heal', 'blackhole'].includes(a.action)) {
        throw new RangeError(`unknown action: ${String((a as { action: unknown }).action)}`);
      }
    }
    const mine = new Set<NodeJS.Timeout>();
    for (const a of actions) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        mine.delete(t);
        if (this.closed) return;
        this.run(a);
        this.emit('action', a);
      }, a.atMs);
      this.timers.add(t);
      mine.add(t);
    }
    return () => {
      for (const t of mine) {
        clearTimeout(t);
        this.timers.delete(t);
      }
      mine.clear();
    };
  }

  /** Counters of both directions. */
  stats(): IspStats {
    const now = clock();
    const forward = this.links[0].stats(now);
    const reverse = this.links[1].stats(now);
    const states = [forward.state, reverse.state];
    return {
      name: this.name,
      listen: this.bound ?? { ...this.options.listen },
      target: { ...this.target },
      state: states.includes('cut') ? 'down' : states.includes('blackhole') ? 'blackhole' : 'up',
      mappings: this.mappings.size,
      droppedNoMapping: this.droppedNoMapping,
      droppedForeign: this.droppedForeign,
      droppedFiltered: this.droppedFiltered,
      forward,
      reverse,
    };
  }

  /** Stops relaying and closes every socket. Datagrams still queued are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const p of this.queue.clear()) this.links[p.dir].lostInFlight('cut');
    this.queue.close();
    const closing: Promise<void>[] = [];
    for (const m of this.mappings.values()) closing.push(this.closeMapping(m));
    this.mappings.clear();
    if (this.bound !== null) closing.push(new Promise((resolve) => this.socket.close(() => resolve())));
    else {
      try {
        this.socket.close();
      } catch {
        // never bound
      }
    }
    await Promise.all(closing);
    this.emit('close');
  }

  /** Lets the process exit while only this relay runs. */
  unref(): this {
    this.socket.unref();
    this.queue.unref();
    for (const m of this.mappings.values()) m.upstream.unref();
    return this;
  }

  // ---- the datapath ----

  /** A datagram from a client. */
  private fromClient = (data: Buffer, rinfo: RemoteInfo): void => {
    if (this.allowSources !== null && !this.allowSources.has(rinfo.address)) {
      this.droppedFiltered++;
      return;
    }
    const key = `${rinfo.address}|${rinfo.port}`;
    let m = this.mappings.get(key);
    if (m === undefined) {
      if (this.mappings.size >= this.maxMappings || this.closed) {
        this.droppedNoMapping++;
        return;
      }
      m = this.openMapping(key, rinfo);
    }
    const now = clock();
    m.lastSeen = now;
    this.offer(0, data, m, now);
  };

  /** Puts a datagram into direction `dir`: drop, send now, or queue. */
  private offer(dir: 0 | 1, data: Buffer, m: Mapping, now: number): void {
    const link = this.links[dir];
    const at = link.offer(data.length, now);
    if (typeof at === 'string') return;
    if (at <= now + DEFAULT_SLACK_MS && (this.pending[dir] === 0 || link.params.reorder)) {
      this.transmit(dir, data, m);
      return;
    }
    this.pending[dir]++;
    this.queue.push(at, { dir, epoch: link.epoch, data, mapping: m });
  }

  /** The delivery queue says a datagram is due. */
  private deliver = (p: Pending): void => {
    this.pending[p.dir]--;
    const link = this.links[p.dir];
    if (p.epoch !== link.epoch) link.lostInFlight('cut');
    else if (p.mapping.closed) link.lostInFlight('error');
    else this.transmit(p.dir, p.data, p.mapping);
  };

  /** Sends a datagram out of the far end of direction `dir`. */
  private transmit(dir: 0 | 1, data: Buffer, m: Mapping): void {
    const link = this.links[dir];
    try {
      if (dir === 0) m.upstream.send(data, this.target.port, this.target.address);
      else this.socket.send(data, m.port, m.address);
      link.forwarded(data.length);
    } catch {
      link.lostInFlight('error');
    }
  }

  /** A new client source: its own upstream socket. */
  private openMapping(key: string, rinfo: RemoteInfo): Mapping {
    const upstream = createSocket({ type: this.upstreamType, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    const m: Mapping = { address: rinfo.address, port: rinfo.port, upstream, lastSeen: clock(), closed: false };
    upstream.on('message', (data: Buffer, from: RemoteInfo) => {
      if (from.port !== this.target.port || from.address !== this.target.address) {
        this.droppedForeign++;
        return;
      }
      this.offer(1, data, m, clock());
    });
    upstream.on('error', (err) => this.onSocketError(0, err));
    // send() before the bind completes is queued by node:dgram.
    upstream.bind({ address: this.upstreamAddress, port: 0, exclusive: true });
    this.mappings.set(key, m);
    this.emit('mapping', { address: rinfo.address, port: rinfo.port });
    return m;
  }

  /** Closes a client source's upstream socket. */
  private closeMapping(m: Mapping): Promise<void> {
    m.closed = true;
    return new Promise((resolve) => {
      try {
        m.upstream.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  /** Forgets idle client sources now and then. */
  private startSweep(): void {
    const every = Math.max(100, Math.min(10_000, this.mappingTimeoutMs / 2));
    const t = setInterval(() => {
      const limit = clock() - this.mappingTimeoutMs;
      for (const [key, m] of this.mappings) {
        if (m.lastSeen < limit) {
          this.mappings.delete(key);
          void this.closeMapping(m);
        }
      }
    }, every);
    t.unref();
    this.timers.add(t);
  }

  /** A socket error: a failed send counts as an error drop; a bind error is reported. */
  private onSocketError(dir: 0 | 1, err: NodeJS.ErrnoException): void {
    if (err.syscall === 'send' || err.syscall === 'sendto') {
      this.links[dir].sendFailed();
      return;
    }
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** Runs one scheduled action. */
  private run(a: ScheduledAction): void {
    switch (a.action) {
      case 'cut':
        this.cut(a.direction);
        break;
      case 'heal':
        this.heal(a.direction);
        break;
      case 'blackhole':
        this.blackhole(a.direction);
        break;
      case 'set':
        this.set(a.params);
        break;
    }
  }

  /** Emits 'state' for direction `d`. */
  private emitState(d: 0 | 1): void {
    this.emit('state', { direction: d === 0 ? 'forward' : 'reverse', state: this.links[d].state });
  }

  /** Indices of the selected directions. */
  private select(direction: DirectionSelector): (0 | 1)[] {
    if (direction === 'forward') return [0];
    if (direction === 'reverse') return [1];
    if (direction === 'both') return [0, 1];
    throw new RangeError(`direction must be 'forward', 'reverse' or 'both', got ${String(direction)}`);
  }

  /** Splits IspParams into common and per-direction parts (only link fields). */
  private static splitParams(p: IspParams): { common: Partial<LinkParams>; forward: Partial<LinkParams>; reverse: Partial<LinkParams> } {
    const pick = (o: Partial<LinkParams> | undefined): Partial<LinkParams> => {
      const out: Partial<LinkParams> = {};
      if (o === undefined) return out;
      for (const k of ['delayMs', 'jitterMs', 'reorder', 'lossRate', 'rateBps', 'queueBytes', 'overheadBytes'] as const) {
        if (o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k];
      }
      return out;
    };
    const out = { common: pick(p), forward: pick(p.forward), reverse: pick(p.reverse) };
    validateLinkParams(out.common);
    validateLinkParams(out.forward);
    validateLinkParams(out.reverse);
    return out;
  }
}
