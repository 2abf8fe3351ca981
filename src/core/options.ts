/**
 * Connection options: what an application may tune, with defaults. Validated
 * by the api layer (stable error codes) before they reach the core.
 */
import type { PathPolicy, PathPolicyName } from './pm/path-manager.js';
import type { SchedulerOption } from './sched/index.js';
import type { RandomSource, SocketAddress } from './types.js';

/**
 * 'lia' (RFC 6356) and 'olia' couple the windows of a connection's paths;
 * 'cubic' and 'newreno' are per path; 'bbr' is model-based (BBRv3), per path.
 */
export type CongestionControlName = 'cubic' | 'newreno' | 'lia' | 'olia' | 'bbr';

export interface ConnectionOptions {
  /** Receive window in bytes of the data sequence space (flow control), at the start. */
  receiveWindow: number;
  /**
   * The most the receive window grows to by auto-tuning (twice the bytes
   * read per round trip of the slowest path; src/core/data/flow-control.ts).
   * At most `receiveWindow` disables auto-tuning.
   */
  maxReceiveWindow: number;
  /** Most bytes the send buffer holds (written, not yet acknowledged). */
  sendBufferSize: number;
  /** Congestion controller for every path. */
  congestionControl: CongestionControlName;
  /**
   * Find paths that share a bottleneck and carry them as one flow there
   * (src/core/cc/shared-bottleneck.ts). Applies to the uncoupled
   * controllers ('cubic', 'newreno', 'bbr'); 'lia' and 'olia' are coupled
   * already.
   */
  sharedBottleneckDetection: boolean;
  /** Close the connection after this long without hearing from the peer (ms; 0 = never). */
  idleTimeout: number;
  /** Client: give up the handshake after this long (ms). */
  connectTimeout: number;
  /** Most paths, all states counted. */
  maxPaths: number;
  /** Largest UDP payload we send. */
  maxDatagramSize: number;
  /** Interval (ms) at which paths that carry no data are probed. */
  keepAliveInterval: number;
  /** Which path carries each data packet: a built-in by name, or your own. */
  scheduler: SchedulerOption;
  /** Which (local, server) address pairs get a path: a built-in by name, or your own. */
  pathManager: PathPolicyName | PathPolicy;
  /** Server: advertise every address it serves on (ADD_ADDRESS). */
  advertiseAddresses: boolean;
}

export const DEFAULT_OPTIONS: ConnectionOptions = {
  receiveWindow: 4 * 1024 * 1024,
  maxReceiveWindow: 16 * 1024 * 1024,
  sendBufferSize: 4 * 1024 * 1024,
  congestionControl: 'bbr',
  sharedBottleneckDetection: true,
  idleTimeout: 30_000,
  connectTimeout: 10_000,
  maxPaths: 8,
  maxDatagramSize: 1200,
  keepAliveInterval: 1_000,
  scheduler: 'ecf',
  pathManager: 'full-mesh',
  advertiseAddresses: true,
};

/** What a client connection is built from. */
export interface ClientConfig extends Partial<ConnectionOptions> {
  /** The client's own addresses (each bound by the io layer). */
  localAddresses: SocketAddress[];
  /** Local addresses whose paths start as backups (no data while an active path works). */
  backupAddresses?: string[];
  /** The server's addresses; first contact is raced over all of them. */
  remoteAddresses: SocketAddress[];
}

/** What the endpoint core is built from. */
export interface EndpointConfig {
  /** Random bytes for keys, connection IDs, nonces. */
  random: RandomSource;
  /** Accept incoming connections (server role). */
  server: boolean;
  /** Defaults for the connections this endpoint accepts. */
  connectionDefaults?: Partial<ConnectionOptions>;
  /** Server: the addresses it serves on, advertised to every client. */
  localAddresses?: SocketAddress[];
  /** Most connections at once (server); further Initials are refused and counted. */
  maxConnections?: number;
  /**
   * Stateless retry: 'always' answers every new Initial with a cookie the
   * client must echo (proving its address); 'under-load' does so once
   * `retryThreshold` handshakes are half-open; 'never' disables it.
   */
  retry?: 'always' | 'under-load' | 'never';
  /** Half-open handshakes above which 'under-load' retry starts (default 1000). */
  retryThreshold?: number;
}
