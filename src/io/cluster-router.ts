/**
 * ClusterRouter: one `node:cluster` worker's part in sharing a public port.
 *
 * Every worker holds the shared port's sockets (the primary's handle; the
 * kernel hands each datagram to one worker) and a port of its own, its
 * slot's: `firstPort + slot` on the same addresses. A connection belongs to
 * the worker whose slot its CIDs carry (src/core/cid/format.ts), and moves
 * to that worker's own port after its first round trip (the client learns
 * the port from the worker's address advertisements; docs/protocol.md,
 * "Cluster"). What still reaches the shared port is routed here:
 *
 * - An Initial goes to the live slot that wins a rendezvous hash of its
 *   destination CID, so every copy of a client's first flight (raced over
 *   several address pairs, repeated after a loss or a retry) reaches the
 *   same worker and only one handshake is made.
 * - Any other packet goes to the slot its destination CID names.
 * - A packet for this worker, or whose CID names no slot, goes to the core.
 *
 * A datagram for another worker is forwarded once, in an envelope with the
 * client's address (cluster-envelope.ts), from the shared port to the
 * owner's port on the address it arrived at, and counted. The owner
 * believes envelopes only from one of the host's own addresses and the
 * shared port: Linux drops a packet that arrives from the network with a
 * local source address (accept_local is 0 by default), and on this host
 * only the cluster's shared socket holds that port.
 *
 * Workers learn which slots are live from a beat each sends every
 * BEAT_INTERVAL to every other slot's port; a slot not heard for
 * LIVE_WINDOW takes no more handshakes (a crashed worker's, until the
 * primary's replacement claims the slot and beats).
 */
import { CidFormat } from '../core/cid/format.js';
import type { SocketAddress } from '../core/types.js';
import { peekPacketType } from '../wire/header.js';
import { CID_LENGTH, PacketType } from '../wire/types.js';
import type { Clock } from './clock.js';
import { decodeEnvelope, encodeBeat, encodeForward } from './cluster-envelope.js';

/** How often a worker tells the others it is alive (ms). */
export const BEAT_INTERVAL = 250;
/** A slot not heard from for this long takes no handshakes (ms). */
export const LIVE_WINDOW = 1000;

/** What the router needs of the io loop it sits in. */
export interface ClusterHost {
  /** Hands a datagram to this worker's core, as if it came from `remote` to `local`. */
  deliver(msg: Uint8Array, local: SocketAddress, remote: SocketAddress): void;
  /** Sends from the shared port's socket on `from`; false if there is none. */
  sendShared(data: Uint8Array, from: string, to: SocketAddress): boolean;
}

export interface ClusterRouterOptions {
  /** The shared (public) port. */
  sharedPort: number;
  /** This worker's slot. */
  slot: number;
  /** Number of slots (workers the primary runs). */
  slots: number;
  /** Port of slot 0; slot s owns firstPort + s. */
  firstPort: number;
  /** The CIDs of this host (any worker's CID reads back to its slot). */
  format: CidFormat;
  clock: Clock;
}

/** Counters of one worker's routing. */
export interface ClusterStats {
  slot: number;
  slots: number;
  sharedPort: number;
  ownPort: number;
  /** Slots heard within the live window (this one included). */
  liveSlots: number[];
  /** Datagrams that reached the shared port (at this worker). */
  sharedReceived: number;
  /** Of those, handed to this worker's core. */
  sharedKept: number;
  /** Forwarded to the owning worker, by packet kind. */
  forwardedOut: { initial: number; other: number };
  /** Envelopes received from other workers and handed to the core. */
  forwardedIn: number;
  beatsSent: number;
  beatsReceived: number;
  /** Dropped: an envelope that did not decode, a datagram from the shared port that was no envelope, a forward that found no socket. */
  drops: Record<string, number>;
}

/** FNV-1a over the CID, then a slot-specific finalizer (murmur3's fmix32): the rendezvous weight. */
function weight(dcid: Uint8Array, slot: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < dcid.length; i++) h = Math.imul(h ^ dcid[i]!, 0x01000193);
  h ^= Math.imul(slot + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class ClusterRouter {
  readonly sharedPort: number;
  readonly slot: number;
  private readonly options: ClusterRouterOptions;
  /** The host's addresses that have a shared socket (the only sources of envelopes). */
  private readonly hostAddresses = new Set<string>();
  /** When each slot was last heard (ms, the clock's). */
  private readonly lastHeard: Float64Array;
  private host: ClusterHost | null = null;
  private beatTimer: NodeJS.Timeout | null = null;
  private readonly counters = {
    sharedReceived: 0,
    sharedKept: 0,
    forwardedOut: { initial: 0, other: 0 },
    forwardedIn: 0,
    beatsSent: 0,
    beatsReceived: 0,
    drops: {} as Record<string, number>,
  };

  constructor(options: ClusterRouterOptions) {
    this.options = options;
    this.sharedPort = options.sharedPort;
    this.slot = options.slot;
    this.lastHeard = new Float64Array(options.slots).fill(-Infinity);
  }

  /** Starts routing for `host` and beating. */
  start(host: ClusterHost): void {
    this.host = host;
    this.beat();
    this.beatTimer = setInterval(() => this.beat(), BEAT_INTERVAL);
    this.beatTimer.unref();
  }

  stop(): void {
    if (this.beatTimer !== null) clearInterval(this.beatTimer);
    this.beatTimer = null;
    this.host = null;
  }

  /** The shared port is (no longer) bound on `address`. */
  addAddress(address: string): void {
    this.hostAddresses.add(address);
  }
  removeAddress(address: string): void {
    this.hostAddresses.delete(address);
  }

  /** The port of a slot. */
  portOf(slot: number): number {
    return this.options.firstPort + slot;
  }

  /** Slots heard within the live window, this one always included. */
  liveSlots(): number[] {
    const now = this.options.clock.now();
    const out: number[] = [];
    for (let s = 0; s < this.options.slots; s++) {
      if (s === this.slot || now - this.lastHeard[s]! <= LIVE_WINDOW) out.push(s);
    }
    return out;
  }

  /** The worker that takes an Initial with this destination CID: the live slot of highest weight. */
  initialOwner(dcid: Uint8Array): number {
    let best = this.slot;
    let bestWeight = -1;
    for (const s of this.liveSlots()) {
      const w = weight(dcid, s);
      if (w > bestWeight || (w === bestWeight && s < best)) {
        best = s;
        bestWeight = w;
      }
    }
    return best;
  }

  /** A datagram that came to the shared port: kept, or forwarded once to its owner. */
  fromShared(msg: Uint8Array, local: SocketAddress, remote: SocketAddress): void {
    const host = this.host;
    if (host === null) return;
    this.counters.sharedReceived++;
    const owner = this.ownerOf(msg);
    if (owner === null || owner === this.slot) {
      this.counters.sharedKept++;
      host.deliver(msg, local, remote);
      return;
    }
    const to = { address: local.address, port: this.portOf(owner) };
    if (!host.sendShared(encodeForward(remote, msg), local.address, to)) {
      this.drop('forward-no-socket');
      return;
    }
    if (peekPacketType(msg) === PacketType.Initial) this.counters.forwardedOut.initial++;
    else this.counters.forwardedOut.other++;
  }

  /**
   * A datagram on this worker's own port from `remote`: if it comes from
   * the host's shared port it is an envelope from another worker (true:
   * handled here); anything else is a client's (false).
   */
  fromHost(msg: Uint8Array, remote: SocketAddress): boolean {
    if (remote.port !== this.sharedPort || !this.hostAddresses.has(remote.address)) return false;
    const envelope = decodeEnvelope(msg);
    if (envelope === null) {
      this.drop('bad-envelope');
      return true;
    }
    if (envelope.kind === 'beat') {
      this.counters.beatsReceived++;
      if (envelope.slot < this.options.slots) this.lastHeard[envelope.slot] = this.options.clock.now();
      return true;
    }
    this.counters.forwardedIn++;
    // The client's datagram, as it reached the shared port on this address.
    this.host?.deliver(envelope.datagram, { address: remote.address, port: this.sharedPort }, envelope.remote);
    return true;
  }

  stats(): ClusterStats {
    const c = this.counters;
    return {
      slot: this.slot,
      slots: this.options.slots,
      sharedPort: this.sharedPort,
      ownPort: this.portOf(this.slot),
      liveSlots: this.liveSlots(),
      sharedReceived: c.sharedReceived,
      sharedKept: c.sharedKept,
      forwardedOut: { ...c.forwardedOut },
      forwardedIn: c.forwardedIn,
      beatsSent: c.beatsSent,
      beatsReceived: c.beatsReceived,
      drops: { ...c.drops },
    };
  }

  /** The slot that owns a datagram, or null (not ours to route: the core decides). */
  private ownerOf(msg: Uint8Array): number | null {
    const type = peekPacketType(msg);
    if (type === null || msg.length < 1 + CID_LENGTH) return null;
    if (type === PacketType.Initial) return this.initialOwner(msg.subarray(1, 1 + CID_LENGTH));
    const cidLength = this.options.format.length;
    if (msg.length < 1 + cidLength) return null;
    const slot = this.options.format.slotOf(msg.subarray(1, 1 + cidLength));
    return slot !== null && slot < this.options.slots ? slot : null;
  }

  private beat(): void {
    const host = this.host;
    const from = this.hostAddresses.values().next().value;
    if (host === null || from === undefined) return;
    const beat = encodeBeat(this.slot);
    for (let s = 0; s < this.options.slots; s++) {
      if (s === this.slot) continue;
      if (host.sendShared(beat, from, { address: from, port: this.portOf(s) })) this.counters.beatsSent++;
    }
  }

  private drop(reason: string): void {
    this.counters.drops[reason] = (this.counters.drops[reason] ?? 0) + 1;
  }
}
