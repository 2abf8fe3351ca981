/**
 * LocalSockets: an endpoint's bound sockets by local IP text, and on a
 * client the connected sockets beside each (peer-sockets.ts), counted per
 * connection that relies on them.
 */
import type { Socket as DgramSocket } from 'node:dgram';
import type { SocketAddress } from '../core/types.js';
import type { PeerSockets } from './peer-sockets.js';
import type { BoundSocket } from './socket-binder.js';

/** A connected socket one connection counts on (connectPeers). */
export interface PeerPair {
  peers: PeerSockets;
  remote: SocketAddress;
}

export class LocalSockets {
  /** Bound sockets by local IP text. */
  private readonly byAddress = new Map<string, BoundSocket>();
  /** Client: binds in progress by local IP text (ensureBound()). */
  private readonly binding = new Map<string, Promise<void>>();

  get(address: string): BoundSocket | undefined {
    return this.byAddress.get(address);
  }

  has(address: string): boolean {
    return this.byAddress.has(address);
  }

  set(bound: BoundSocket): void {
    this.byAddress.set(bound.local.address, bound);
  }

  delete(address: string): void {
    this.byAddress.delete(address);
  }

  /** The bound local addresses with their real ports (and interface MTUs, where known). */
  addresses(): SocketAddress[] {
    return [...this.byAddress.values()].map((b) => ({ ...b.local }));
  }

  /**
   * Client: binds each of `addresses` that has no socket yet with `bind`
   * (concurrent calls for one address share one bind) and returns those of
   * `addresses` that are bound, with their ports. Unless `tolerant`, one
   * failed bind throws; if `tolerant`, only a total failure does.
   */
  async ensureBound(addresses: readonly string[], tolerant: boolean, bind: (address: string) => Promise<void>): Promise<SocketAddress[]> {
    let firstError: unknown = null;
    await Promise.all(
      addresses.map(async (address) => {
        if (this.byAddress.has(address)) return;
        let binding = this.binding.get(address);
        if (binding === undefined) {
          binding = bind(address);
          binding.then(
            () => this.binding.delete(address),
            () => this.binding.delete(address),
          );
          this.binding.set(address, binding);
        }
        try {
          await binding;
        } catch (err) {
          firstError ??= err;
        }
      }),
    );
    const bound = addresses.flatMap((a) => {
      const b = this.byAddress.get(a);
      return b === undefined ? [] : [{ ...b.local }];
    });
    if (firstError !== null && (!tolerant || bound.length === 0)) throw firstError;
    if (bound.length === 0) throw new Error('no address to bind');
    return bound;
  }

  /**
   * Client: opens a socket connected to each of `remotes` from each of
   * `locals` (every bound address by default) of its family, so that ICMP
   * errors of first contact are heard, and counts one more user of each
   * (releasePeers() undoes it). Resolves when they are ready (failures
   * leave the unconnected socket in charge) with the pairs it counted.
   */
  async connectPeers(remotes: readonly SocketAddress[], locals?: readonly SocketAddress[]): Promise<PeerPair[]> {
    const opening: Promise<void>[] = [];
    const pairs: PeerPair[] = [];
    for (const bound of this.byAddress.values()) {
      if (bound.peers === null || (locals !== undefined && !locals.some((l) => l.address === bound.local.address && l.port === bound.local.port))) continue;
      for (const remote of remotes) {
        opening.push(bound.peers.retain(remote));
        pairs.push({ peers: bound.peers, remote: { address: remote.address, port: remote.port } });
      }
    }
    await Promise.all(opening);
    return pairs;
  }

  /** A connection that counted on these pairs ended: a connected socket nobody counts on closes. */
  releasePeers(pairs: readonly PeerPair[]): void {
    for (const { peers, remote } of pairs) peers.release(remote);
  }

  /** Connected sockets open beside the bound ones. */
  connectedCount(): number {
    let n = 0;
    for (const b of this.byAddress.values()) n += b.peers?.size ?? 0;
    return n;
  }

  /** Lets the process exit while only these sockets are open, or not. */
  setRef(refed: boolean): void {
    for (const b of this.byAddress.values()) {
      if (refed) {
        b.socket.ref();
        b.peers?.ref();
      } else {
        b.socket.unref();
        b.peers?.unref();
      }
    }
  }

  /** Forgets and closes every socket (with their connected ones, and `others`); resolves once all closed. */
  closeAll(others: readonly DgramSocket[] = []): Promise<void> {
    const all = [...this.byAddress.values(), ...others.map((socket) => ({ socket, peers: null }))];
    this.byAddress.clear();
    return Promise.all(
      all.map((b) => new Promise<void>((resolve) => {
        void b.peers?.close();
        try {
          b.socket.close(() => resolve());
        } catch {
          resolve();
        }
      })),
    ).then(() => undefined);
  }
}
