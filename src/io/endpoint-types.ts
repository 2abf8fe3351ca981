/**
 * What a UdpEndpoint is told (its options, the handler of its events) and
 * what it counts.
 */
import type { Connection } from '../core/connection.js';
import type { EndpointStats } from '../core/endpoint.js';
import type { ConnectionOptions } from '../core/options.js';
import type { ConnectionEvent } from '../core/types.js';
import type { Clock } from './clock.js';
import type { ClusterStats } from './cluster-router.js';
import type { LinkMtuSource } from './link-mtu.js';

/** Receives what the core reports. */
export interface EndpointHandler {
  /** A server accepted a new connection (its handshake has started). */
  accepted(connection: Connection): void;
  /** An event of one connection. */
  connectionEvent(connection: Connection, event: ConnectionEvent): void;
  /** A flush ended (the core's connection count is current again). */
  flushed?(): void;
  /**
   * The endpoint core itself threw (fault-capture.ts): every connection
   * was ended and the endpoint closed; the handler ends their sockets with
   * ERR_MPUDP_INTERNAL and reports `err`. Called once, from a fresh tick.
   */
  endpointFailed(err: Error): void;
}

export interface UdpEndpointOptions {
  /** Accept incoming connections. */
  server: boolean;
  /** Receives the core's events. */
  handler: EndpointHandler;
  /** Defaults for accepted connections. */
  connectionDefaults?: Partial<ConnectionOptions>;
  /** Most connections at once (server). */
  maxConnections?: number;
  /** Clock; the process's monotonic clock by default. */
  clock?: Clock;
  /** Kernel socket buffer size requested for each socket (bytes). Default 4 MiB. */
  socketBufferSize?: number;
  /** Server: its long-term private key (32 bytes); the core draws one without it. */
  staticKey?: Uint8Array;
  /** Server: stateless retry mode and threshold (EndpointConfig). */
  retry?: 'auto' | 'always' | 'never';
  retryThreshold?: number;
  /**
   * Open sockets connected to each remote beside each local socket, to hear
   * ICMP errors (peer-sockets.ts). Default: true for a client, false for a server.
   */
  connectedSockets?: boolean;
  /** Reads a local address's interface MTU (default: /sys/class/net, link-mtu.ts); the core caps path MTU discovery by it. */
  linkMtu?: LinkMtuSource;
}

/** Counters of the io layer. */
export interface UdpEndpointStats {
  /** Datagrams read from the sockets. */
  datagramsReceived: number;
  /** Bytes read from the sockets. */
  bytesReceived: number;
  /** Datagrams handed to the sockets. */
  datagramsSent: number;
  /** Bytes handed to the sockets. */
  bytesSent: number;
  /** Failed sends by error code (EPERM, ENETUNREACH, ERR_SOCKET_DGRAM_NOT_RUNNING, ...). */
  sendErrors: Record<string, number>;
  /** Errors the kernel reported for an address pair on a connected socket (ECONNREFUSED: ICMP port unreachable), by code. */
  pathErrors: Record<string, number>;
  /** Client: sockets connected to one server address each, open now. */
  connectedSockets: number;
  /** Datagrams not sent, by reason ('no-socket': the core chose a local address we have no socket for). */
  drops: Record<string, number>;
  /** Sockets whose kernel buffers are smaller than requested (setsockopt capped or refused). */
  bufferSizeCapped: number;
  /** Watched addresses that vanished (their sockets were closed). */
  addressesLost: number;
  /** Watched addresses that appeared and were bound. */
  addressesGained: number;
  /** 'error' events of the sockets (each also closed that address). */
  socketErrors: number;
  /**
   * Exceptions out of the endpoint core itself, which no one connection
   * owns (a core bug): the first ended every connection and the endpoint
   * (fault-capture.ts). A fault inside one connection is counted in
   * `core.internalErrors` instead, and ends that connection alone.
   */
  coreExceptions: number;
  /** Flushes run. */
  flushes: number;
  /** Timer expiries. */
  timeouts: number;
  /** The core's own counters. */
  core: EndpointStats;
  /** Cluster worker: the shared port's routing (cluster-router.ts); absent outside a cluster. */
  cluster?: ClusterStats;
}

/** The io layer's own counters (all but the core's and the cluster's), as a UdpEndpoint keeps them. */
export type IoCounters = Omit<UdpEndpointStats, 'core' | 'cluster'>;

/** Counters of a new endpoint: all zero. */
export function newIoCounters(): IoCounters {
  return {
    datagramsReceived: 0,
    bytesReceived: 0,
    datagramsSent: 0,
    bytesSent: 0,
    sendErrors: {},
    pathErrors: {},
    connectedSockets: 0,
    drops: {},
    bufferSizeCapped: 0,
    addressesLost: 0,
    addressesGained: 0,
    socketErrors: 0,
    coreExceptions: 0,
    flushes: 0,
    timeouts: 0,
  };
}

