/**
 * IspEmulator: one emulated ISP as a UDP relay, in userspace (no root, no
 * netem). It listens on `listen` and forwards every datagram to `target`;
 * the target's replies go back to whichever client source sent. Like a NAT,
 * each client source (address, port) gets its own upstream socket, bound to
 * `upstreamAddress` on an ephemeral port, so the target sees one distinct
 * source per client source, and only datagrams from `target` are relayed back.
 *
 * Each direction (`forward`: client → target, `reverse`: target → client) is
 * a Link, the simulator's own model (../link: delay, jitter, loss, rate with
 * a FIFO queue, reordering, duplication, blackhole), run on the real clock;
 * datagrams wait for their delivery time in one DeliveryQueue behind a
 * single timer. A relay carries UDP over IPv4, so its links count 28 bytes
 * of headers per datagram (`overheadBytes`) unless told otherwise.
 *
 * A cut and a blackhole are the same on a relay: the link's blackhole, which
 * drops what is offered and what was in flight. (lab.sh's cut takes an
 * interface down, which the endpoints' kernels notice; a relay cannot.)
 *
 *   const isp = await IspEmulator.start({
 *     listen: { address: '127.0.0.11', port: 7000 },
 *     target: { address: '127.0.0.1', port: 4433 },
 *     delayMs: 10, rateBps: 100e6,
 *   });
 *   isp.schedule([{ atMs: 5000, action: 'cut' }, { atMs: 8000, action: 'heal' }]);
 *
 * Events: 'state' ({ direction, state: 'up' | 'blackhole' }) on every change, 'action'
 * (the ScheduledAction) when a scheduled action runs, 'mapping' (client
 * HostPort) for each new client source, 'error', 'close'.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Rng, deriveSeed } from '../random.js';
import { LINK_PARAM_NAMES, Link, validateLinkParams, type LinkParams, type LinkSnapshot } from '../link/index.js';
import { DeliveryQueue, DEFAULT_SLACK_MS } from './delivery-queue.js';
import type { HostPort } from './units.js';

/** IPv4 and UDP headers: what a relayed datagram adds on the wire, counted by the rate unless set otherwise. */
export const RELAY_OVERHEAD_BYTES = 28;

/** The link parameters a relay takes (its blackhole is driven by cut / blackhole / heal). */
export type RelayLinkParams = Omit<LinkParams, 'blackhole'>;

/** State of one direction. */
export type LinkState = 'up' | 'blackhole';

/** One direction's parameters, counters (../link's snapshot) and state. */
export interface LinkStats extends LinkSnapshot {
  /** Current state. */
  state: LinkState;
}

/** One direction of the relay. */
export type Direction = 'forward' | 'reverse';

/** A direction, or both. */
export type DirectionSelector = Direction | 'both';

/** Parameters for both directions, with per-direction overrides. */
export interface IspParams extends Partial<RelayLinkParams> {
  /** Overrides for client → target. */
  forward?: Partial<RelayLinkParams>;
  /** Overrides for target → client. */
  reverse?: Partial<RelayLinkParams>;
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
  /**
   * Seed of the links' generators (default: a random seed): the forward
   * link's is deriveSeed(seed, 0), the reverse link's deriveSeed(seed, 1)
   * (lab/random.ts), so a simulated link can replay either.
   */
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

/**
 * Debug hook: one call when a datagram is offered to a direction's link and
 * one when the relay sends it on (`now` on the relay's clock, ms; for a
 * send, `due` is the time its link gave it, else NaN).
 */
export type RelayTraceHook = (kind: 'offer' | 'send', direction: Direction, now: number, data: Buffer, due: number) => void;

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
  /** 'blackhole' when a direction is cut or blackholed, else 'up'. */
  state: LinkState;
  /** Client sources known. */
  mappings: number;
  /** Datagrams from clients dropped because `maxMappings` was reached. */
  droppedNoMapping: number;
  /** Datagrams on an upstream socket not from the target (dropped). */
  droppedForeign: number;
  /** Datagrams from client addresses not in `allowSources` (dropped). */
  droppedFiltered: number;
  /** Datagrams a link delivered that the relay could not send (socket error, client forgotten). */
  droppedSendError: number;
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
  /** Epoch of its link when admitted (a blackhole opened since loses it). */
  epoch: number;
  /** When its link delivers it (ms, relay clock). */
  due: number;
  /** The datagram. */
  data: Buffer;
  /** Whose it is. */
  mapping: Mapping;
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
  /** Debug trace hook, or null (see RelayTraceHook). */
  trace: RelayTraceHook | null = null;
  /** The two directions: [forward, reverse]. */
  private readonly links: [Link, Link];
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
  /** Delivered by a link, not sent by the relay. */
  private droppedSendError = 0;
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
    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
    const common = { overheadBytes: RELAY_OVERHEAD_BYTES, ...base.common };
    this.links = [
      new Link(`${this.name} forward`, 'target', new Rng(deriveSeed(seed, 0)), { ...common, ...base.forward }),
      new Link(`${this.name} reverse`, 'client', new Rng(deriveSeed(seed, 1)), { ...common, ...base.reverse }),
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
    this.socket.on('error', (err) => this.onSocketError(err));
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

  /** Link down: both directions (or one) drop what is offered and what is in flight. */
  blackhole(direction: DirectionSelector = 'both'): void {
    this.setBlackhole(direction, true);
  }

  /** The same as blackhole() (see the file comment). */
  cut(direction: DirectionSelector = 'both'): void {
    this.setBlackhole(direction, true);
  }

  /** Back to forwarding after a cut or blackhole. */
  heal(direction: DirectionSelector = 'both'): void {
    this.setBlackhole(direction, false);
  }

  /** State of one direction. */
  state(direction: Direction): LinkState {
    return this.links[direction === 'forward' ? 0 : 1].params.blackhole ? 'blackhole' : 'up';
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
    const forward: LinkStats = { ...this.links[0].snapshot(now), state: this.state('forward') };
    const reverse: LinkStats = { ...this.links[1].snapshot(now), state: this.state('reverse') };
    return {
      name: this.name,
      listen: this.bound ?? { ...this.options.listen },
      target: { ...this.target },
      state: forward.state === 'up' && reverse.state === 'up' ? 'up' : 'blackhole',
      mappings: this.mappings.size,
      droppedNoMapping: this.droppedNoMapping,
      droppedForeign: this.droppedForeign,
      droppedFiltered: this.droppedFiltered,
      droppedSendError: this.droppedSendError,
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
    this.queue.clear();
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

  /** Puts a datagram into direction `dir`: drop, send now, or queue (twice if the link duplicates it). */
  private offer(dir: 0 | 1, data: Buffer, m: Mapping, now: number): void {
    const link = this.links[dir];
    if (this.trace !== null) this.trace('offer', dir === 0 ? 'forward' : 'reverse', now, data, NaN);
    const at = link.admit(data.length, now);
    if (at < 0) return;
    const epoch = link.epoch;
    const copies = link.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      if (at <= now + DEFAULT_SLACK_MS && (this.pending[dir] === 0 || link.params.reorder)) {
        this.transmit({ dir, epoch, due: at, data, mapping: m }, now);
        continue;
      }
      this.pending[dir]++;
      this.queue.push(at, { dir, epoch, due: at, data, mapping: m });
    }
  }

  /** The delivery queue says a datagram is due. */
  private deliver = (p: Pending): void => {
    this.pending[p.dir]--;
    this.transmit(p, clock());
  };

  /** Hands a due datagram to its link's far end (which may drop it) and sends it. */
  private transmit(p: Pending, now: number): void {
    if (!this.links[p.dir].arrive(p.data.length, now, p.epoch)) return;
    if (p.mapping.closed) {
      this.droppedSendError++;
      return;
    }
    if (this.trace !== null) this.trace('send', p.dir === 0 ? 'forward' : 'reverse', now, p.data, p.due);
    try {
      if (p.dir === 0) p.mapping.upstream.send(p.data, this.target.port, this.target.address);
      else this.socket.send(p.data, p.mapping.port, p.mapping.address);
    } catch {
      this.droppedSendError++;
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
    upstream.on('error', (err) => this.onSocketError(err));
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
  private onSocketError(err: NodeJS.ErrnoException): void {
    if (err.syscall === 'send' || err.syscall === 'sendto') {
      this.droppedSendError++;
      return;
    }
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** Runs one scheduled action. */
  private run(a: ScheduledAction): void {
    if (a.action === 'set') this.set(a.params);
    else this[a.action](a.direction);
  }

  /** Opens or closes the blackhole of the selected directions; emits 'state' for each. */
  private setBlackhole(direction: DirectionSelector, blackhole: boolean): void {
    for (const d of this.select(direction)) {
      this.links[d].set({ blackhole });
      const name: Direction = d === 0 ? 'forward' : 'reverse';
      this.emit('state', { direction: name, state: this.state(name) });
    }
  }

  /** Indices of the selected directions. */
  private select(direction: DirectionSelector): (0 | 1)[] {
    if (direction === 'forward') return [0];
    if (direction === 'reverse') return [1];
    if (direction === 'both') return [0, 1];
    throw new RangeError(`direction must be 'forward', 'reverse' or 'both', got ${String(direction)}`);
  }

  /** Splits IspParams into common and per-direction parts (only link fields). */
  private static splitParams(p: IspParams): { common: Partial<RelayLinkParams>; forward: Partial<RelayLinkParams>; reverse: Partial<RelayLinkParams> } {
    const pick = (o: Partial<RelayLinkParams> | undefined): Partial<RelayLinkParams> => {
      const out: Partial<RelayLinkParams> = {};
      if (o === undefined) return out;
      for (const k of LINK_PARAM_NAMES) {
        if (k !== 'blackhole' && o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k];
      }
      return out;
    };
    const out = { common: pick(p), forward: pick(p.forward), reverse: pick(p.reverse) };
    validateLinkParams(out.common, 'isp');
    validateLinkParams(out.forward, 'isp forward');
    validateLinkParams(out.reverse, 'isp reverse');
    return out;
  }
}
