/**
 * The sans-IO core's surface types. The io layer (and the simulator) talk to
 * a Connection only through these: datagrams and time in, datagrams, a
 * wake-up time and events out.
 *
 * Time is a number of milliseconds (fractional allowed) on any monotonic
 * clock the caller chooses; the core never reads a clock.
 */

/** A UDP address: textual IPv4 or IPv6 address and a port. */
export interface SocketAddress {
  address: string;
  port: number;
  /**
   * A local address only: the MTU of the interface that holds it, when
   * the io layer could read it (src/io/link-mtu.ts). Path MTU discovery
   * never probes above it (pmtud.ts, pmtuCeiling).
   */
  mtu?: number;
}

/** One datagram the core wants sent from `local` to `remote`. */
export interface Transmit {
  data: Uint8Array;
  local: SocketAddress;
  remote: SocketAddress;
}

/** Source of random bytes; injected so tests and the simulator are replayable. */
export type RandomSource = (length: number) => Uint8Array;

export type PathStateName = 'validating' | 'active' | 'suspect' | 'failed' | 'closed';

/** What the application sees of one path. */
export interface PathInfo {
  id: number;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: PathStateName;
  backup: boolean;
  smoothedRtt: number;
  congestionWindow: number;
  bytesInFlight: number;
  bytesSent: number;
  bytesReceived: number;
  /** Largest datagram (UDP payload bytes) this path sends now, found by path MTU discovery. */
  mtu: number;
}

export type ConnectionEvent =
  /** Handshake complete: data may flow. */
  | { type: 'connected' }
  /** In-order bytes can be read with `read()`. */
  | { type: 'readable' }
  /** The send buffer has room again after `write()` accepted less than asked. */
  | { type: 'writable' }
  /** The peer's FIN was reached: every byte has been read. */
  | { type: 'end' }
  /** All our bytes including FIN were acknowledged. */
  | { type: 'finished' }
  | { type: 'path-up'; path: PathInfo }
  | { type: 'path-down'; path: PathInfo; reason: string }
  /** The connection is over; no more events follow. */
  | { type: 'closed'; code: string; errorCode: number; reason: string; remote: boolean };
