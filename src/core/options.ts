/**
 * Connection options: what an application may tune, with defaults. Validated
 * by the api layer (stable error codes) before they reach the core.
 */
import type { CidFormat } from './cid/format.js';
import type { CipherName } from './crypto/aead.js';
import { DEFAULT_PACKETS_PER_KEY } from './crypto/key-phases.js';
import type { X25519KeyPair } from './crypto/keys.js';
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
  /**
   * Largest UDP payload we send on an IPv4 path (20 less on IPv6): the
   * ceiling of path MTU discovery, which starts each path at 1200 and probes
   * upward (path/pmtud.ts). 1200 turns discovery off.
   */
  maxDatagramSize: number;
  /** Interval (ms) at which paths that carry no data are probed. */
  keepAliveInterval: number;
  /** Which path carries each data packet: a built-in by name, or your own. */
  scheduler: SchedulerOption;
  /** Which (local, server) address pairs get a path: a built-in by name, or your own. */
  pathManager: PathPolicyName | PathPolicy;
  /** Server: advertise every address it serves on (ADD_ADDRESS). */
  advertiseAddresses: boolean;
  /** Most addresses of the peer kept (its advertisements beyond are refused and counted). */
  maxPeerAddresses: number;
  /** Client: the AEAD protecting every packet after the handshake (the server follows the client's choice). */
  cipher: CipherName;
  /**
   * Packets sealed under one key before a key update (RFC 9001 §6.6 caps
   * AES-GCM at 2^23; the default is half). Tests set it low to exercise
   * key updates.
   */
  keyUpdateInterval: number;
}

export const DEFAULT_OPTIONS: ConnectionOptions = {
  receiveWindow: 4 * 1024 * 1024,
  maxReceiveWindow: 16 * 1024 * 1024,
  sendBufferSize: 4 * 1024 * 1024,
  // Cubic and min-RTT, not BBR and ECF, until BBR/ECF fail over as fast
  // (docs/api.md, "Which congestion controller and scheduler").
  congestionControl: 'cubic',
  sharedBottleneckDetection: true,
  idleTimeout: 30_000,
  connectTimeout: 10_000,
  maxPaths: 8,
  maxDatagramSize: 1472,
  keepAliveInterval: 1_000,
  scheduler: 'min-rtt',
  pathManager: 'full-mesh',
  advertiseAddresses: true,
  maxPeerAddresses: 16,
  cipher: 'aes-128-gcm',
  keyUpdateInterval: DEFAULT_PACKETS_PER_KEY,
};

/**
 * A connection's options: the defaults, then the endpoint's, then the
 * connection's own, where an option given as undefined keeps what is below it.
 */
export function resolveOptions(endpoint: Partial<ConnectionOptions> | undefined, own: Partial<ConnectionOptions> = {}): ConnectionOptions {
  const out: ConnectionOptions = { ...DEFAULT_OPTIONS, ...endpoint };
  for (const [k, v] of Object.entries(own)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}

/** What a client connection is built from. */
export interface ClientConfig extends Partial<ConnectionOptions> {
  /** The client's own addresses (each bound by the io layer). */
  localAddresses: SocketAddress[];
  /** Local addresses whose paths start as backups (no data while an active path works). */
  backupAddresses?: string[];
  /** The server's addresses; first contact is raced over all of them. */
  remoteAddresses: SocketAddress[];
  /**
   * The fingerprint (crypto/keys.ts `fingerprint`) of the server's
   * long-term key: the handshake completes only with the holder of that key.
   * Without it the connection is encrypted but the server is not
   * authenticated.
   */
  serverFingerprint?: string;
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
  /** The connection IDs it issues (QUIC-LB server ID, cluster slot); default: 8 random bytes after an unroutable first octet. */
  cidFormat?: CidFormat;
  /**
   * Server: its long-term X25519 private key (32 bytes), which clients may
   * pin. Without one, the endpoint draws a key of its own at start.
   */
  staticKey?: Uint8Array;
  /** Most connections at once (server); further Initials are refused and counted. */
  maxConnections?: number;
  /**
   * Stateless retry (proving a client's address before any state is
   * kept): 'always' answers every new Initial without a cookie with a
   * Retry; 'auto' does so once `retryThreshold` is reached, and for a
   * source address that already has `maxHalfOpenPerSource` half-open
   * handshakes; 'never' disables it (such a source is then refused).
   */
  retry?: 'auto' | 'always' | 'never';
  /** Half-open handshakes plus junk Initials of the last one to two seconds at which 'auto' retry starts (default 256). */
  retryThreshold?: number;
  /** Half-open handshakes one source address may hold without a retry cookie (default 8). */
  maxHalfOpenPerSource?: number;
  /**
   * Fresh ephemeral X25519 key pairs made ahead of time (the io layer's
   * pool, src/io/key-pool.ts), or null when none is ready; each pair it
   * returns must never be returned again. Without it, or when it has none,
   * a handshake makes its key from `random`.
   */
  keyPairs?: () => X25519KeyPair | null;
}
