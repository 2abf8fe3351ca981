/**
 * Scenario helpers for connection tests in the simulator: a client and a
 * server EndpointCore on a World, with N paths, and a bulk transfer that
 * checks every byte.
 */
import { createHash } from 'node:crypto';
import { EndpointCore } from '../../src/core/endpoint.js';
import type { Connection } from '../../src/core/connection.js';
import type { ConnectionOptions, EndpointConfig } from '../../src/core/options.js';
import type { ConnectionEvent, SocketAddress } from '../../src/core/types.js';
import { World } from '../../lab/sim/world.js';
import type { LinkParams } from '../../lab/link/index.js';
import type { SimNode } from '../../lab/sim/network.js';
import { Rng, deriveSeed } from '../../lab/random.js';
import { stalled, type StallParams } from './stalled-node.js';

export const SERVER_PORT = 4433;
export const CLIENT_PORT = 50000;

export interface PairOptions {
  seed: number;
  /** Client addresses, one per path to the single server address (default two). */
  clientAddresses?: string[];
  /** Server addresses (default one). */
  serverAddresses?: string[];
  /** The MTU of client address i's local interface, as the io layer reads it (SocketAddress.mtu); unknown by default. */
  clientInterfaceMtu?: Array<number | undefined>;
  /** Link parameters for client address i → every server address (both directions). */
  links?: Array<Partial<LinkParams>>;
  options?: Partial<ConnectionOptions>;
  serverOptions?: Partial<ConnectionOptions>;
  /** More of the server endpoint's configuration (its key, retry mode...). */
  serverConfig?: Partial<EndpointConfig>;
  /**
   * A middlebox on the way in (attack tests): sees every datagram before the
   * side's endpoint does, and decides what reaches it with `deliver` (the
   * datagram as is, a changed copy, a forgery, or nothing).
   */
  tap?: Tap;
  /** Endpoints on a loaded machine: each gets the CPU only now and then (stalled-node.ts). */
  stall?: { client?: StallParams; server?: StallParams };
}

/** See PairOptions.tap. `to` is the side the datagram is about to reach. */
export type Tap = (
  to: 'client' | 'server',
  data: Uint8Array,
  local: SocketAddress,
  remote: SocketAddress,
  now: number,
  deliver: (data: Uint8Array) => void,
) => void;

/** Events seen on one side, with their virtual times. */
export interface Side {
  endpoint: EndpointCore;
  connection: Connection | null;
  events: Array<{ time: number; event: ConnectionEvent }>;
  received: Uint8Array[];
  receivedBytes: number;
  /** In-order bytes read, with the virtual time of each read. */
  deliveries: Array<{ time: number; bytes: number }>;
  /** Stop reading (slow reader). */
  paused: boolean;
}

export class Pair {
  readonly world: World;
  readonly client: Side;
  readonly server: Side;
  readonly clientAddresses: string[];
  readonly serverAddresses: string[];
  /** The simulator nodes of each side (to attach new addresses to). */
  readonly serverNode: SimNode;
  readonly clientNode: SimNode;

  constructor(readonly opts: PairOptions) {
    this.world = new World({ seed: opts.seed });
    this.clientAddresses = opts.clientAddresses ?? ['10.0.1.2', '10.0.2.2'];
    this.serverAddresses = opts.serverAddresses ?? ['10.0.0.1'];
    const serverEp = new EndpointCore({
      random: this.world.random(),
      server: true,
      localAddresses: this.serverAddresses.map((a) => ({ address: a, port: SERVER_PORT })),
      connectionDefaults: { ...opts.options, ...opts.serverOptions },
      ...opts.serverConfig,
    });
    const clientEp = new EndpointCore({ random: this.world.random(), server: false });
    this.server = { endpoint: serverEp, connection: null, events: [], received: [], receivedBytes: 0, deliveries: [], paused: false };
    this.client = { endpoint: clientEp, connection: null, events: [], received: [], receivedBytes: 0, deliveries: [], paused: false };
    const node = (side: Side, p: StallParams | undefined): SimNode =>
      p === undefined ? this.wrap(side) : stalled(this.wrap(side), this.world, new Rng(deriveSeed(opts.seed, side === this.server ? 0x57a1 : 0x57a2)), p);
    this.serverNode = this.world.addNode(node(this.server, opts.stall?.server), ...this.serverAddresses);
    this.clientNode = this.world.addNode(node(this.client, opts.stall?.client), ...this.clientAddresses);
    this.clientAddresses.forEach((ca, i) => {
      for (const sa of this.serverAddresses) {
        this.world.network.path(ca, sa, { delayMs: 10, ...(opts.links?.[i] ?? {}) });
      }
    });
  }

  /** A SimNode that also drains events into the side after every input. */
  private wrap(side: Side) {
    const ep = side.endpoint;
    const pump = (): void => this.pump(side);
    const tap = this.opts.tap;
    const to = side === this.server ? 'server' : 'client';
    return {
      handleDatagram: (d: Uint8Array, l: SocketAddress, r: SocketAddress, now: number) => {
        if (tap === undefined) {
          ep.handleDatagram(d, l, r, now);
          pump();
          return;
        }
        tap(to, d, l, r, now, (data) => {
          ep.handleDatagram(data, l, r, now);
          pump();
        });
      },
      handleTimeout: (now: number) => {
        ep.handleTimeout(now);
        pump();
      },
      pollTransmit: (now: number) => ep.pollTransmit(now),
      pollTimeout: () => ep.pollTimeout(),
    };
  }

  /** Drains events and reads whatever is readable. */
  pump(side: Side): void {
    const ep = side.endpoint;
    for (let e = ep.pollEvent(); e !== null; e = ep.pollEvent()) {
      if (e.type === 'accepted') {
        side.connection = e.connection;
        continue;
      }
      side.events.push({ time: this.world.now, event: e.event });
    }
    this.read(side);
  }

  read(side: Side): void {
    const conn = side.connection;
    if (conn === null || side.paused) return;
    let any = false;
    for (let chunk = conn.read(); chunk !== null; chunk = conn.read()) {
      side.received.push(chunk.slice());
      side.receivedBytes += chunk.length;
      side.deliveries.push({ time: this.world.now, bytes: chunk.length });
      any = true;
    }
    if (any) side.endpoint.touch(conn);
  }

  connect(): Connection {
    const conn = this.client.endpoint.connect(
      {
        localAddresses: this.clientAddresses.map((a, i) => {
          const mtu = this.opts.clientInterfaceMtu?.[i];
          return mtu === undefined ? { address: a, port: CLIENT_PORT } : { address: a, port: CLIENT_PORT, mtu };
        }),
        remoteAddresses: this.serverAddresses.map((a) => ({ address: a, port: SERVER_PORT })),
        ...this.opts.options,
      },
      this.world.now,
    );
    this.client.connection = conn;
    return conn;
  }

  has(side: Side, type: ConnectionEvent['type']): boolean {
    return side.events.some((e) => e.event.type === type);
  }

  timeOf(side: Side, type: ConnectionEvent['type']): number | null {
    return side.events.find((e) => e.event.type === type)?.time ?? null;
  }
}

/** Deterministic payload of `size` bytes. */
export function payload(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
    if (i + 1 < size) out[i + 1] = (x >>> 8) & 0xff;
    if (i + 2 < size) out[i + 2] = (x >>> 16) & 0xff;
    if (i + 3 < size) out[i + 3] = (x >>> 24) & 0xff;
  }
  return out;
}

export function sha256(chunks: Uint8Array[] | Uint8Array): string {
  const h = createHash('sha256');
  for (const c of Array.isArray(chunks) ? chunks : [chunks]) h.update(c);
  return h.digest('hex');
}

/**
 * Client writes `data` then FIN; runs until the server saw 'end' or
 * `maxMs` of virtual time passed. Returns whether it finished.
 */
export function transfer(pair: Pair, data: Uint8Array, maxMs: number): boolean {
  const conn = pair.client.connection ?? pair.connect();
  let offset = 0;
  const feed = (): void => {
    while (offset < data.length) {
      const n = conn.write(data.subarray(offset, Math.min(offset + 256 * 1024, data.length)));
      if (n === 0) break;
      offset += n;
    }
    if (offset === data.length) conn.end();
    pair.client.endpoint.touch(conn);
  };
  feed();
  return pair.world.runUntil(() => {
    if (offset < data.length && conn.writableBytes > 0) feed();
    return pair.has(pair.server, 'end');
  }, maxMs);
}

/** Bytes delivered in [t0, t1). */
export function deliveredBetween(side: Side, t0: number, t1: number): number {
  let n = 0;
  for (const d of side.deliveries) if (d.time >= t0 && d.time < t1) n += d.bytes;
  return n;
}

/**
 * Delivery time lost after a failure at `t0`: the window's length minus the
 * time the bytes delivered in it would take at `rateBps` (the surviving
 * path's rate), as issue #6 defines it.
 */
export function deliveryTimeLost(side: Side, t0: number, windowMs: number, rateBps: number): number {
  const bytes = deliveredBetween(side, t0, t0 + windowMs);
  return Math.max(0, windowMs - (bytes * 8) / rateBps * 1000);
}
