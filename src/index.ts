/**
 * mpudp: a multipath reliable byte stream over UDP, with an API shaped like
 * `node:net`. See docs/api.md.
 */
export { connect } from './api/connect.js';
export { createServer, MultipathServer, type ServerAddress } from './api/server.js';
export {
  MultipathSocket,
  ERROR_CODE_DESTROYED,
  ERROR_CODE_FAILED,
  MAX_APPLICATION_ERROR_CODE,
  type MultipathSocketOptions,
  type SocketStats,
} from './api/socket.js';
export {
  MpudpError,
  MpudpRangeError,
  MpudpTypeError,
  type ArgumentErrorCode,
  type MpudpErrorCode,
} from './api/errors.js';
export { generateKeyPair, type KeyPair } from './api/keys.js';
export type {
  ConnectOptions,
  ConnectionOptionsInput,
  ListenOptions,
  RemoteAddressInput,
  ServerOptions,
} from './api/validate.js';
export { hostAddresses, type HostAddress, type HostAddressOptions } from './io/interfaces.js';
export type { UdpEndpointStats } from './io/udp-endpoint.js';
export { DEFAULT_OPTIONS, type CongestionControlName, type ConnectionOptions } from './core/options.js';
export type { ConnectionStats, PathStats } from './core/stats.js';
export type { PathInfo, PathStateName } from './core/types.js';
