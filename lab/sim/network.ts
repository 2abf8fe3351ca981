/**
 * The simulated network: which node owns which address, the directional links
 * between addresses, and NAT port rebinding. It turns a node's Transmit into
 * a delivery event on the world's heap and hands it to the destination node
 * when the event comes due.
 *
 * Ports are free: any port on an attached address reaches the owning node.
 */
import type { SocketAddress, Transmit } from '../../src/core/types.js';
import { Rng, deriveSeed, hashString } from '../random.js';
import type { EventHeap } from '../heap.js';
import { Link, type LinkParams } from '../link/index.js';

/** What the simulator drives; EndpointCore satisfies it structurally. */
export interface SimNode {
  handleDatagram(data: Uint8Array, local: SocketAddress, remote: SocketAddress, now: number): void;
  handleTimeout(now: number): void;
  pollTransmit(now: number): Transmit | null;
  /** Absolute virtual time (ms) of the next wake-up, or null. */
  pollTimeout(): number | null;
}

/**
 * Drops the network (not a link) counts: 'no-route' = no link to the
 * destination, or nobody owns the destination address when the datagram
 * arrives; 'no-source' = the sender does not own the source address;
 * 'nat' = sent to a NAT port that rebind() retired.
 */
export type NetworkDropReason = 'no-route' | 'no-source' | 'nat';

export type TraceKind = 'send' | 'deliver' | 'drop';
/** Debug hook: one call per send, delivery and drop (no allocation when unset). */
export type TraceHook = (
  kind: TraceKind,
  time: number,
  src: string,
  srcPort: number,
  dst: string,
  dstPort: number,
  bytes: number,
  reason: string | null,
) => void;

/** A heap entry: a datagram in flight (kind 'deliver') or a scheduled callback. */
export class SimEvent {
  /** 0 = deliver a datagram, 1 = call fn. */
  kind = 0;
  /** Link the datagram travels on. */
  link: Link | null = null;
  /** The link's epoch when the datagram was admitted (a blackhole opened since loses it). */
  epoch = 0;
  /** The datagram (the simulator's own copy). */
  data: Uint8Array | null = null;
  /** Source address as the receiver sees it. */
  srcAddr = '';
  /** Source port as the receiver sees it (after NAT). */
  srcPort = 0;
  /** Destination address. */
  dstAddr = '';
  /** Destination port at the receiving node (after NAT). */
  dstPort = 0;
  /** Callback for kind 1. */
  fn: (() => void) | null = null;
}

/** Size of the slabs datagram copies are carved from. */
const SLAB_BYTES = 256 * 1024;

export class Network {
  /** Drops not attributable to a link. */
  readonly drops: Record<NetworkDropReason, number> = { 'no-route': 0, 'no-source': 0, nat: 0 };
  /** Debug trace hook, or null. */
  trace: TraceHook | null = null;

  /** Owner of each attached address. */
  private readonly owners = new Map<string, SimNode>();
  /** Links by source address, then destination address. */
  private readonly linksFrom = new Map<string, Map<string, Link>>();
  /** NAT outbound: address -> (node's port -> port the peer sees). */
  private readonly natOut = new Map<string, Map<number, number>>();
  /** NAT inbound: address -> (port the peer sends to -> node's port, or -1 = retired). */
  private readonly natIn = new Map<string, Map<number, number>>();
  /** Recycled delivery events. */
  private readonly pool: SimEvent[] = [];
  /** Current slab datagram copies are carved from (never reused once full). */
  private slab = new Uint8Array(SLAB_BYTES);
  /** Next free byte in the slab. */
  private slabOffset = 0;

  constructor(
    /** Seed the links' generators derive from. */
    private readonly seed: number,
    /** The world's event queue. */
    private readonly heap: EventHeap<SimEvent>,
    /** Told when a node first gains an address (the world registers it). */
    private readonly onAttach: ((node: SimNode) => void) | null = null,
  ) {}

  /** Gives `address` to `node`. Throws if another node owns it. */
  attach(node: SimNode, address: string): void {
    const owner = this.owners.get(address);
    if (owner !== undefined && owner !== node) throw new Error(`Network.attach: ${address} is owned by another node`);
    this.owners.set(address, node);
    if (this.onAttach !== null) this.onAttach(node);
  }

  /** Takes `address` away from its node: datagrams to or from it are dropped. */
  detach(address: string): void {
    this.owners.delete(address);
  }

  /** The node owning `address`, if any. */
  ownerOf(address: string): SimNode | undefined {
    return this.owners.get(address);
  }

  /** Addresses `node` currently owns. */
  addressesOf(node: SimNode): string[] {
    const out: string[] = [];
    for (const [addr, owner] of this.owners) if (owner === node) out.push(addr);
    return out;
  }

  /**
   * Creates the link from -> to (or updates its parameters) and returns it.
   * Its generator's seed is derived from the world's seed and the two
   * addresses, unless `seed` gives it (to replay a link seeded elsewhere,
   * e.g. an emulator's).
   */
  link(from: string, to: string, params?: Partial<LinkParams>, seed?: number): Link {
    let byTo = this.linksFrom.get(from);
    if (byTo === undefined) {
      byTo = new Map();
      this.linksFrom.set(from, byTo);
    }
    let l = byTo.get(to);
    if (l === undefined) {
      const rng = new Rng(seed ?? deriveSeed(this.seed, hashString(`${from}>${to}`)));
      l = new Link(from, to, rng, params);
      byTo.set(to, l);
    } else if (params) {
      l.set(params);
    }
    return l;
  }

  /**
   * A bottleneck that is not itself a route: a transmitter (rateBps,
   * queueBytes) for shareLink(). Its other parameters are unused. Named for
   * traces and errors only.
   */
  bottleneck(name: string, params: Partial<LinkParams>): Link {
    const rng = new Rng(deriveSeed(this.seed, hashString(`bottleneck:${name}`)));
    return new Link(`bottleneck:${name}`, `bottleneck:${name}`, rng, params);
  }

  /**
   * A shared bottleneck: the links of every [from, to] pair (created if
   * missing, with `params` if given) queue in `bottleneck`'s one FIFO at its
   * rate, each keeping its own delay, loss, jitter and so on (see
   * Link.shareBottleneck). `bottleneck` may be one of the pairs' links, or
   * one made by bottleneck(). Returns the pairs' links, in order.
   */
  shareLink(bottleneck: Link, pairs: ReadonlyArray<readonly [string, string]>, params?: Partial<LinkParams>): Link[] {
    return pairs.map(([from, to]) => this.link(from, to, params).shareBottleneck(bottleneck));
  }

  /** Both directions between a and b with the same parameters: [a->b, b->a]. */
  path(a: string, b: string, params?: Partial<LinkParams>): [Link, Link] {
    return [this.link(a, b, params), this.link(b, a, params)];
  }

  /** The link from -> to, if it exists. */
  getLink(from: string, to: string): Link | undefined {
    return this.linksFrom.get(from)?.get(to);
  }

  /** Removes the link from -> to; datagrams in flight on it are dropped ('no-route'). */
  unlink(from: string, to: string): void {
    const l = this.linksFrom.get(from)?.get(to);
    if (l === undefined) return;
    l.removed = true;
    this.linksFrom.get(from)!.delete(to);
  }

  /** Every link. */
  links(): Link[] {
    const out: Link[] = [];
    for (const byTo of this.linksFrom.values()) for (const l of byTo.values()) out.push(l);
    return out;
  }

  /**
   * NAT rebinding at `address`: datagrams the node sends from `oldPort` now
   * appear to come from `newPort`; datagrams to `newPort` reach the node's
   * `oldPort`; the previous public port for `oldPort` is retired (datagrams
   * to it are dropped, counted 'nat').
   */
  rebind(address: string, oldPort: number, newPort: number): void {
    let out = this.natOut.get(address);
    let inn = this.natIn.get(address);
    if (out === undefined || inn === undefined) {
      out = new Map();
      inn = new Map();
      this.natOut.set(address, out);
      this.natIn.set(address, inn);
    }
    const previous = out.get(oldPort) ?? oldPort;
    if (previous !== newPort) inn.set(previous, -1);
    out.set(oldPort, newPort);
    inn.set(newPort, oldPort);
  }

  /** Forgets every NAT mapping at `address`. */
  clearRebind(address: string): void {
    this.natOut.delete(address);
    this.natIn.delete(address);
  }

  /** Takes a datagram `node` wants sent at `now`. */
  send(node: SimNode, tx: Transmit, now: number): void {
    const src = tx.local.address;
    const dst = tx.remote.address;
    const bytes = tx.data.byteLength;
    let srcPort = tx.local.port;
    let dstPort = tx.remote.port;
    if (this.trace !== null) this.trace('send', now, src, srcPort, dst, dstPort, bytes, null);
    if (this.owners.get(src) !== node) return this.netDrop('no-source', now, src, srcPort, dst, dstPort, bytes);
    const link = this.linksFrom.get(src)?.get(dst);
    if (link === undefined) return this.netDrop('no-route', now, src, srcPort, dst, dstPort, bytes);
    if (this.natOut.size > 0) {
      const out = this.natOut.get(src);
      if (out !== undefined) srcPort = out.get(srcPort) ?? srcPort;
      const inn = this.natIn.get(dst);
      if (inn !== undefined) {
        const mapped = inn.get(dstPort);
        if (mapped === -1) return this.netDrop('nat', now, src, srcPort, dst, dstPort, bytes);
        if (mapped !== undefined) dstPort = mapped;
      }
    }
    const arrival = link.admit(bytes, now);
    if (arrival < 0) {
      if (this.trace !== null) this.trace('drop', now, src, srcPort, dst, dstPort, bytes, 'link');
      return;
    }
    // The sender may reuse its buffer, the receiver may decrypt in place: copy.
    this.schedule(arrival, link, this.copy(tx.data), src, srcPort, dst, dstPort);
    if (link.duplicate) this.schedule(arrival, link, this.copy(tx.data), src, srcPort, dst, dstPort);
  }

  /**
   * A private copy of `data`: a view into a shared slab (cheaper than one
   * ArrayBuffer per datagram). Receivers must honour byteOffset, as they
   * must with Node's pooled Buffers.
   */
  private copy(data: Uint8Array): Uint8Array {
    const n = data.byteLength;
    if (n > SLAB_BYTES / 4) return data.slice();
    if (this.slabOffset + n > SLAB_BYTES) {
      this.slab = new Uint8Array(SLAB_BYTES);
      this.slabOffset = 0;
    }
    const off = this.slabOffset;
    this.slab.set(data, off);
    // Keep copies 8-byte aligned so DataView/typed-array use stays cheap.
    this.slabOffset = (off + n + 7) & ~7;
    return this.slab.subarray(off, off + n);
  }

  /** Delivers a due datagram event and recycles it. */
  deliver(ev: SimEvent, now: number): void {
    const link = ev.link!;
    const data = ev.data!;
    const src = ev.srcAddr;
    const srcPort = ev.srcPort;
    const dst = ev.dstAddr;
    const dstPort = ev.dstPort;
    ev.link = null;
    ev.data = null;
    this.pool.push(ev);
    if (link.removed) return this.netDrop('no-route', now, src, srcPort, dst, dstPort, data.byteLength);
    const node = this.owners.get(dst);
    if (node === undefined) return this.netDrop('no-route', now, src, srcPort, dst, dstPort, data.byteLength);
    if (!link.arrive(data.byteLength, now, ev.epoch)) {
      if (this.trace !== null) this.trace('drop', now, src, srcPort, dst, dstPort, data.byteLength, 'blackhole');
      return;
    }
    if (this.trace !== null) this.trace('deliver', now, src, srcPort, dst, dstPort, data.byteLength, null);
    node.handleDatagram(data, { address: dst, port: dstPort }, { address: src, port: srcPort }, now);
  }

  private schedule(time: number, link: Link, data: Uint8Array, src: string, srcPort: number, dst: string, dstPort: number): void {
    const ev = this.pool.pop() ?? new SimEvent();
    ev.kind = 0;
    ev.link = link;
    ev.epoch = link.epoch;
    ev.data = data;
    ev.srcAddr = src;
    ev.srcPort = srcPort;
    ev.dstAddr = dst;
    ev.dstPort = dstPort;
    this.heap.push(time, ev);
  }

  private netDrop(reason: NetworkDropReason, now: number, src: string, srcPort: number, dst: string, dstPort: number, bytes: number): void {
    this.drops[reason]++;
    if (this.trace !== null) this.trace('drop', now, src, srcPort, dst, dstPort, bytes, reason);
  }
}
