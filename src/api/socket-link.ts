/**
 * ConnectionLink: a socket's hold on its core connection, and what the
 * socket knows of that connection's life (handshake done, how it closed).
 * Every call from the socket into the connection goes through run(), so a
 * throw inside the core ends that connection alone (fault-capture.ts).
 */
import type { Connection } from '../core/connection.js';
import type { ConnectionStats } from '../core/stats.js';
import type { PathInfo } from '../core/types.js';
import type { ClientLease } from '../io/client-endpoints.js';
import type { UdpEndpoint } from '../io/udp-endpoint.js';
import { FAULT, type Fault } from '../io/fault-capture.js';
import type { ClosedEvent } from './close-errors.js';

export class ConnectionLink {
  /** The core connection, once the local sockets are bound. */
  connection: Connection | null = null;
  /** The io loop that drives the connection. */
  endpoint: UdpEndpoint | null = null;
  /** Client: this connection's share of the process's client endpoint, given back when the connection ends. */
  lease: ClientLease | null = null;
  /** A call into the connection threw: its 'error' is on the way, and nothing more is read (never a clean EOF). */
  faulted = false;
  /** The handshake completed. */
  established = false;
  /** The core's 'closed' event, once seen. */
  closeEvent: ClosedEvent | null = null;
  /** The error derived from closeEvent, if any. */
  closeError: Error | null = null;

  attach(endpoint: UdpEndpoint, connection: Connection, lease: ClientLease | null): void {
    this.endpoint = endpoint;
    this.connection = connection;
    this.lease = lease;
  }

  /**
   * Runs one call into the connection: if the core throws, the connection
   * alone ends with ERR_MPUDP_INTERNAL (its 'error' follows on the next
   * flush) and FAULT comes back (src/io/fault-capture.ts).
   */
  run<T>(fn: (connection: Connection) => T): T | Fault {
    const connection = this.connection;
    const endpoint = this.endpoint;
    if (connection === null || endpoint === null) return FAULT;
    const result = endpoint.run(connection, fn);
    if (result === FAULT) this.faulted = true;
    return result;
  }

  /** The application acted on the connection: the io loop polls it for datagrams. */
  touch(): void {
    const connection = this.connection;
    if (connection !== null) this.endpoint?.touch(connection);
  }
}

// The calls into the connection that need no argument (no closure per call).
export const readChunk = (c: Connection): Uint8Array | null => c.read();
export const endConnection = (c: Connection): void => c.end();
export const listPaths = (c: Connection): PathInfo[] => c.paths();
export const connectionStats = (c: Connection): ConnectionStats => c.stats();
