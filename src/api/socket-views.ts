/**
 * What a socket shows of its connection: `stats()` (the core's counters and
 * the socket's own) and the addresses of its first path, which stay
 * readable after close as net.Socket's do.
 */
import type { ConnectionStats } from '../core/stats.js';
import type { PathInfo } from '../core/types.js';
import { FAULT } from '../io/fault-capture.js';
import { familyOf } from '../io/interfaces.js';
import { connectionStats, listPaths, type ConnectionLink } from './socket-link.js';

/** What `socket.stats()` returns: the core's counters and the socket's own. */
export interface SocketStats extends ConnectionStats {
  /** Bytes handed to the application ('data'). */
  bytesRead: number;
  /** Bytes accepted by the connection from `write()`. */
  bytesWritten: number;
  /** Bytes held by the core's send buffer (written, not yet acknowledged). */
  sendBufferBytes: number;
  /** Capacity of that buffer (the `sendBufferSize` option). */
  sendBufferSize: number;
  /** Bytes waiting in the stream above the core (`writableLength`). */
  writableLength: number;
}

/** The socket's own figures beside the core's. */
export interface SocketCounts {
  closed: boolean;
  bytesRead: number;
  bytesWritten: number;
  sendBufferSize: number;
  writableLength: number;
}

/** `socket.stats()`: null before the connection exists (or if the core threw). */
export function socketStats(link: ConnectionLink, own: SocketCounts): SocketStats | null {
  const connection = link.connection;
  if (connection === null) return null;
  const writable = connection.isClosed ? own.sendBufferSize : connection.writableBytes;
  const core = link.run(connectionStats);
  if (core === FAULT) return null;
  return {
    ...core,
    state: own.closed ? 'closed' : core.state,
    bytesRead: own.bytesRead,
    bytesWritten: own.bytesWritten,
    sendBufferBytes: Math.max(0, own.sendBufferSize - writable),
    sendBufferSize: own.sendBufferSize,
    writableLength: own.writableLength,
  };
}

/** Every path of the connection, in any state (empty before the connection exists). */
export function pathsOf(link: ConnectionLink): PathInfo[] {
  const paths = link.run(listPaths);
  return paths === FAULT ? [] : paths;
}

/** The first path seen, kept so the addresses stay readable after close. */
export class FirstPath {
  private first: PathInfo | null = null;

  constructor(private readonly link: ConnectionLink) {}

  /** Notes the connection's first path, if it has one. */
  note(): void {
    const paths = this.link.run(listPaths);
    const first = paths === FAULT ? undefined : paths[0];
    if (first !== undefined) this.first = first;
  }

  /** The first path now (or the last one seen, after close). */
  current(): PathInfo | null {
    if (this.link.connection !== null && this.link.closeEvent === null) this.note();
    return this.first;
  }
}

/** 'IPv4' or 'IPv6' of an address, or undefined. */
export function familyOrUndefined(address: string | undefined): string | undefined {
  return address === undefined ? undefined : (familyOf(address) ?? undefined);
}

/** net.Socket's address(): the local address of the first path. */
export function addressOf(path: PathInfo | null): { address: string; family: string; port: number } | Record<string, never> {
  if (path === null) return {};
  return { address: path.localAddress, family: familyOf(path.localAddress) ?? 'IPv4', port: path.localPort };
}
