/**
 * Connected UDP sockets of a client's local address: one per server
 * address it talks to, all sharing the local address and port
 * (SO_REUSEADDR). They exist for the errors only a connected socket hears:
 * Linux reports an ICMP port unreachable for a connected socket's peer as
 * ECONNREFUSED on that socket, and never on an unconnected one. The io
 * layer hands that to the core (`handlePathError`), which fails a
 * connection to a port where nothing listens in one round trip instead of
 * after connectTimeout.
 *
 * Linux delivers a datagram to the socket whose 4-tuple matches it exactly
 * in preference to the unconnected one, so each server address's datagrams
 * arrive on its connected socket, and sends to it go out through it (a
 * connected send: no address to resolve per datagram). Until a connected
 * socket is ready, the unconnected one carries the pair.
 */
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { isIP } from 'node:net';
import type { SocketAddress } from '../core/types.js';

/** Most connected sockets per local address (maxPaths caps the pairs anyway). */
export const MAX_PEERS_PER_ADDRESS = 64;

/** What the endpoint does with what a connected socket hears. */
export interface PeerHooks {
  /** A datagram from `remote` (the same object for every datagram of the socket's peer). */
  message(msg: Buffer, local: SocketAddress, remote: SocketAddress): void;
  /** The kernel reported an error for the pair (ECONNREFUSED: ICMP port unreachable). */
  pathError(local: SocketAddress, remote: SocketAddress, code: string): void;
  /** A connected send failed (counted by the endpoint). */
  sendFailed(err: Error): void;
  /** Whether new sockets keep the process alive. */
  refed(): boolean;
  /** Sizes a new socket's kernel buffers as the endpoint's own. */
  configure(socket: DgramSocket): void;
}

/** One connected socket. */
export interface PeerSocket {
  /** The dgram socket, connected to `remote`. */
  readonly socket: DgramSocket;
  /** The peer's address (handed to the core with every datagram from it). */
  readonly remote: SocketAddress;
  /** connect() completed: sends to the peer go through this socket. */
  ready: boolean;
  /** Completion of a send on this socket (one closure per socket, not per datagram). */
  readonly onSent: (err: Error | null) => void;
  /** Connections that asked for it when they started (retain()); at 0 it may be closed to make room. */
  users: number;
  /** Closed by release() or to make room (an open in progress then stops). */
  dropped: boolean;
}

/** The connected sockets of one local address. */
export class PeerSockets {
  /** Peers by remote address, then port (no string is built per datagram). */
  private readonly byAddress = new Map<string, Map<number, PeerSocket>>();
  /** Sockets open or opening. */
  private count = 0;
  /** close() was called. */
  private closed = false;

  constructor(
    /** The local address and port every socket binds. */
    private readonly local: SocketAddress,
    private readonly hooks: PeerHooks,
  ) {}

  /**
   * Opens the socket connected to `remote` and counts one more connection
   * using it; release() undoes it, and the last release closes it (a
   * client endpoint shared by many connections would otherwise keep one
   * socket per server it ever talked to).
   */
  retain(remote: SocketAddress): Promise<void> {
    const opened = this.open(remote);
    const peer = this.byAddress.get(remote.address)?.get(remote.port);
    if (peer !== undefined) peer.users++;
    return opened;
  }

  /** A connection that retained `remote` ended. */
  release(remote: SocketAddress): void {
    const peer = this.byAddress.get(remote.address)?.get(remote.port);
    if (peer === undefined || peer.users === 0) return;
    peer.users--;
    if (peer.users === 0) this.drop(peer);
  }

  /** Closes one peer's socket and forgets it: sends to it go unconnected until it is opened again. */
  private drop(peer: PeerSocket): void {
    const ports = this.byAddress.get(peer.remote.address);
    if (ports?.get(peer.remote.port) !== peer) return;
    ports.delete(peer.remote.port);
    if (ports.size === 0) this.byAddress.delete(peer.remote.address);
    this.count--;
    this.evicted++;
    peer.ready = false;
    peer.dropped = true;
    try {
      peer.socket.close();
    } catch {
      // already closed
    }
  }

  /** Sockets closed because no connection used them any more, or to make room. */
  evicted = 0;

  /**
   * The ready socket connected to `remote`, or null. With no socket for it
   * yet, one starts opening unless `open` is false (and null is returned:
   * send unconnected now).
   */
  lookup(remote: SocketAddress, open = true): PeerSocket | null {
    const peer = this.byAddress.get(remote.address)?.get(remote.port);
    if (peer !== undefined) return peer.ready ? peer : null;
    if (open) void this.open(remote);
    return null;
  }

  /** Opens the socket connected to `remote` (at once if one exists or the cap is reached). */
  open(remote: SocketAddress): Promise<void> {
    if (this.closed || isIP(remote.address) !== isIP(this.local.address)) return Promise.resolve();
    if (this.byAddress.get(remote.address)?.has(remote.port) === true) return Promise.resolve();
    if (this.count >= MAX_PEERS_PER_ADDRESS) {
      // Full: a socket no connection retains (one opened for an address learned later) makes room.
      let idle: PeerSocket | undefined;
      for (const peer of this.peers()) {
        if (peer.users === 0) {
          idle = peer;
          break;
        }
      }
      if (idle === undefined) return Promise.resolve();
      this.drop(idle);
    }
    let ports = this.byAddress.get(remote.address);
    if (ports === undefined) {
      ports = new Map();
      this.byAddress.set(remote.address, ports);
    }
    if (ports.has(remote.port)) return Promise.resolve();
    const socket = createSocket({ type: isIP(remote.address) === 6 ? 'udp6' : 'udp4', reuseAddr: true, ...(isIP(remote.address) === 6 ? { ipv6Only: true } : {}) });
    const peer: PeerSocket = {
      socket,
      remote: { address: remote.address, port: remote.port },
      ready: false,
      users: 0,
      dropped: false,
      onSent: (err) => {
        if (err === null) return;
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') this.hooks.pathError(this.local, peer.remote, code);
        else this.hooks.sendFailed(err);
      },
    };
    ports.set(remote.port, peer);
    this.count++;
    // Errors before connect() completed are bind/connect failures: the
    // unconnected socket keeps carrying the pair.
    const failed = (): void => {
      peer.ready = false;
      try {
        socket.close();
      } catch {
        // already closed
      }
    };
    return new Promise<void>((resolve) => {
      // Closed while opening (dropped): nothing more will come.
      socket.once('close', () => resolve());
      socket.once('error', () => {
        failed();
        resolve();
      });
      socket.bind({ address: this.local.address, port: this.local.port, exclusive: true }, () => {
        if (this.closed || peer.dropped) {
          failed();
          resolve();
          return;
        }
        socket.connect(peer.remote.port, peer.remote.address, () => {
          socket.removeAllListeners('error');
          if (this.closed || peer.dropped) {
            failed();
            resolve();
            return;
          }
          this.hooks.configure(socket);
          if (!this.hooks.refed()) socket.unref();
          // Datagrams that reached the port between bind() and connect()
          // came from anyone (Linux queued them on this socket while it was
          // the newest unconnected one there): each goes with its own source.
          // Taken for the peer's, the core saw the peer move and probed that
          // address with the peer's connection ID (issue #13).
          socket.on('message', (msg, rinfo) => {
            const from = rinfo.port === peer.remote.port && rinfo.address === peer.remote.address ? peer.remote : { address: rinfo.address, port: rinfo.port };
            this.hooks.message(msg, this.local, from);
          });
          socket.on('error', (err: NodeJS.ErrnoException) => this.hooks.pathError(this.local, peer.remote, err.code ?? err.name));
          peer.ready = true;
          resolve();
        });
      });
    });
  }

  /** Sockets open or opening. */
  get size(): number {
    return this.count;
  }

  ref(): void {
    for (const peer of this.peers()) peer.socket.ref();
  }

  unref(): void {
    for (const peer of this.peers()) peer.socket.unref();
  }

  /** Closes every socket; none opens after this. */
  close(): Promise<void> {
    this.closed = true;
    const all = [...this.peers()];
    this.byAddress.clear();
    this.count = 0;
    return Promise.all(
      all.map((peer) => new Promise<void>((resolve) => {
        peer.ready = false;
        try {
          peer.socket.close(() => resolve());
        } catch {
          resolve();
        }
      })),
    ).then(() => undefined);
  }

  private *peers(): IterableIterator<PeerSocket> {
    for (const ports of this.byAddress.values()) yield* ports.values();
  }
}
