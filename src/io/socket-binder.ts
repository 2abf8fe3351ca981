/**
 * SocketBinder: how an endpoint binds its sockets. One socket per local
 * address, on one port or each on its own; a client's beside the sockets
 * connected to each server address (SO_REUSEADDR, peer-sockets.ts); each
 * with the kernel buffers asked for, and its interface's MTU read once.
 */
import type { Socket as DgramSocket } from 'node:dgram';
import type { SocketAddress } from '../core/types.js';
import { bindSocket, freePort } from './bind-socket.js';
import type { LinkMtuSource } from './link-mtu.js';
import { PeerSockets, type PeerHooks } from './peer-sockets.js';

/** One bound socket. */
export interface BoundSocket {
  /** The dgram socket. */
  socket: DgramSocket;
  /** Its address and real port (shared object handed to the core on every datagram). */
  local: SocketAddress;
  /** Client: the sockets connected to each remote, sharing this address and port; null for a server. */
  peers: PeerSockets | null;
}

export interface SocketBinderOptions {
  /** Requested kernel buffer size, each direction. */
  socketBufferSize: number;
  /** Reads a local address's interface MTU (link-mtu.ts). */
  linkMtu: LinkMtuSource;
  /** Bind with SO_REUSEADDR and open connected sockets beside each (a client). */
  connectedSockets: boolean;
  /** What the connected sockets report. */
  peerHooks: PeerHooks;
  /** Where a refused or capped buffer size is counted. */
  counters: { bufferSizeCapped: number };
}

/** Most attempts to find a port free (on every address, when they share one). */
const BIND_ATTEMPTS = 8;

export class SocketBinder {
  constructor(private readonly options: SocketBinderOptions) {}

  /**
   * Binds one socket per address, all on `port`; with port 0 the first bind
   * picks an ephemeral port and the others share it (`sharePort`), or each
   * gets its own (client). Unless `tolerant`, one failed bind fails them all
   * (every socket bound so far is closed); if `tolerant`, addresses that do
   * not bind are skipped and only a total failure throws.
   */
  async bindAll(addresses: readonly string[], port: number, sharePort: boolean, tolerant: boolean): Promise<BoundSocket[]> {
    for (let attempt = 1; ; attempt++) {
      const bound: BoundSocket[] = [];
      let firstError: unknown = null;
      try {
        let nextPort = port;
        for (const address of addresses) {
          let b: BoundSocket;
          try {
            b = await this.bindOne(address, nextPort);
          } catch (err) {
            firstError ??= err;
            if (tolerant) continue;
            throw err;
          }
          bound.push(b);
          if (sharePort) nextPort = b.local.port;
        }
        if (bound.length === 0) throw firstError ?? new Error('no address to bind');
        return bound;
      } catch (err) {
        for (const b of bound) b.socket.close();
        const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (port === 0 && sharePort && inUse && bound.length > 0 && attempt < BIND_ATTEMPTS) continue;
        throw err;
      }
    }
  }

  /**
   * Binds one socket; resolves once it listens. A client's sockets share
   * their port with connected ones (SO_REUSEADDR), and the kernel may hand
   * an ephemeral port that another SO_REUSEADDR socket already holds to a
   * new one: so the port is first taken without SO_REUSEADDR, which the
   * kernel only gives when nobody holds it, then rebound with it.
   */
  async bindOne(address: string, port: number): Promise<BoundSocket> {
    const reuse = this.options.connectedSockets;
    for (let attempt = 1; ; attempt++) {
      const wanted = reuse && port === 0 ? await freePort(address) : port;
      try {
        const socket = await bindSocket(address, wanted, reuse, true);
        const local = this.localOf(address, socket.address().port);
        return { socket, local, peers: reuse ? new PeerSockets(local, this.options.peerHooks) : null };
      } catch (err) {
        // Someone took the free port in between: try another.
        if (!(reuse && port === 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < BIND_ATTEMPTS)) throw err;
      }
    }
  }

  /** A bound socket's address as the core sees it: with its interface's MTU where it is known. */
  localOf(address: string, port: number): SocketAddress {
    const mtu = this.options.linkMtu(address);
    return mtu === undefined ? { address, port } : { address, port, mtu };
  }

  /** Asks the kernel for socketBufferSize in each direction; counts a refusal or a cap. */
  sizeBuffers(socket: DgramSocket): void {
    const size = this.options.socketBufferSize;
    try {
      socket.setRecvBufferSize(size);
      socket.setSendBufferSize(size);
      // Linux reports twice the size it granted.
      if (socket.getRecvBufferSize() < size || socket.getSendBufferSize() < size) this.options.counters.bufferSizeCapped++;
    } catch {
      this.options.counters.bufferSizeCapped++;
    }
  }
}
