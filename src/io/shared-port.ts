/**
 * SharedPort: a cluster worker's sockets on the shared (public) port, one
 * per address. They are the primary's handles, shared by every worker
 * (a non-exclusive bind). What reaches them goes through the worker's
 * ClusterRouter, which keeps it or forwards it to the worker whose slot
 * the connection ID names (cluster-router.ts). The core never advertises
 * these addresses: a connection's later paths use the worker's own port.
 */
import type { Socket as DgramSocket } from 'node:dgram';
import { countDrop } from '../core/stats.js';
import type { SocketAddress } from '../core/types.js';
import { bindSocket } from './bind-socket.js';
import type { ClusterHost, ClusterRouter } from './cluster-router.js';

/** What the shared sockets need from the endpoint that holds them. */
export interface SharedPortHooks {
  /** A datagram for the endpoint's core (kept by the router, or out of an envelope). */
  deliver(msg: Uint8Array, local: SocketAddress, remote: SocketAddress): void;
  /** Completion of a send. */
  onSent(err: Error | null): void;
  /** A bound socket's address as the core sees it (with its interface's MTU where known). */
  localOf(address: string, port: number): SocketAddress;
  /** Sizes a new socket's kernel buffers. */
  sizeBuffers(socket: DgramSocket): void;
  /** The application wants the endpoint to keep the process alive. */
  refed(): boolean;
  /** The endpoint is closed: a socket bound now is closed at once. */
  closed(): boolean;
  /** The endpoint's counters this class adds to. */
  readonly counters: { drops: Record<string, number>; socketErrors: number };
}

export class SharedPort implements ClusterHost {
  /** The shared port's sockets by local IP text. */
  private readonly sockets = new Map<string, { socket: DgramSocket; local: SocketAddress }>();
  /** Routes what reaches the shared port (attach()); null before the worker has a slot. */
  private routing: ClusterRouter | null = null;

  constructor(private readonly host: SharedPortHooks) {}

  /** The router, once attached. */
  get router(): ClusterRouter | null {
    return this.routing;
  }

  /**
   * Binds the shared port on each address (with port 0 the primary picks
   * one port for all). Tolerant: addresses that do not bind are skipped;
   * only a total failure throws.
   */
  async bind(addresses: readonly string[], port: number): Promise<SocketAddress[]> {
    const bound: SocketAddress[] = [];
    let nextPort = port;
    let firstError: unknown = null;
    for (const address of addresses) {
      let socket: DgramSocket;
      try {
        socket = await bindSocket(address, nextPort, false, false);
      } catch (err) {
        firstError ??= err;
        continue;
      }
      if (this.host.closed()) {
        socket.close();
        return [];
      }
      const local = this.host.localOf(address, socket.address().port);
      nextPort = local.port;
      this.adopt(socket, local);
      bound.push({ ...local });
    }
    if (bound.length === 0) throw firstError ?? new Error('no address to bind');
    return bound;
  }

  /** What reaches the shared port goes through `router` from now on. */
  attach(router: ClusterRouter): void {
    this.routing = router;
    for (const address of this.sockets.keys()) router.addAddress(address);
    router.start(this);
  }

  /** The shared port's addresses. */
  addresses(): SocketAddress[] {
    return [...this.sockets.values()].map((b) => ({ ...b.local }));
  }

  /** The shared socket a datagram from `local` leaves by, if `local` is on the shared port. */
  socketFor(local: SocketAddress): DgramSocket | undefined {
    if (this.routing === null || local.port !== this.routing.sharedPort) return undefined;
    return this.sockets.get(local.address)?.socket;
  }

  /** ClusterHost: a datagram for this worker's core. */
  deliver(msg: Uint8Array, local: SocketAddress, remote: SocketAddress): void {
    this.host.deliver(msg, local, remote);
  }

  /** ClusterHost: sends from the shared port's socket on `from`; false if there is none. */
  sendShared(data: Uint8Array, from: string, to: SocketAddress): boolean {
    const bound = this.sockets.get(from);
    if (bound === undefined || this.host.closed()) return false;
    try {
      bound.socket.send(data, to.port, to.address, this.host.onSent);
    } catch (err) {
      this.host.onSent(err as Error);
      return false;
    }
    return true;
  }

  /** Lets the process exit while only these sockets are open, or not. */
  setRef(refed: boolean): void {
    for (const b of this.sockets.values()) {
      if (refed) b.socket.ref();
      else b.socket.unref();
    }
  }

  /** Stops routing and hands back every socket to close. */
  close(): DgramSocket[] {
    this.routing?.stop();
    const sockets = [...this.sockets.values()].map((b) => b.socket);
    this.sockets.clear();
    return sockets;
  }

  private adopt(socket: DgramSocket, local: SocketAddress): void {
    const entry = { socket, local };
    this.sockets.set(local.address, entry);
    this.host.sizeBuffers(socket);
    if (!this.host.refed()) socket.unref();
    this.routing?.addAddress(local.address);
    socket.on('message', (msg, rinfo) => {
      const remote = { address: rinfo.address, port: rinfo.port };
      // Before the worker has its slot and CID format, nothing is taken (the client repeats its Initial).
      if (this.routing !== null) this.routing.fromShared(msg, local, remote);
      else countDrop(this.host.counters.drops, 'cluster-not-ready');
    });
    socket.on('error', () => {
      this.host.counters.socketErrors++;
      this.remove(local.address);
    });
    socket.on('close', () => {
      if (this.sockets.get(local.address) === entry) this.remove(local.address);
    });
  }

  private remove(address: string): void {
    const bound = this.sockets.get(address);
    if (bound === undefined) return;
    this.sockets.delete(address);
    this.routing?.removeAddress(address);
    try {
      bound.socket.close();
    } catch {
      // Already closed.
    }
  }
}
