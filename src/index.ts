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
  ORPHAN_LINGER_MS,
  type MultipathSocketOptions,
  type SocketStats,
} from './api/socket.js';
export type { MultipathServerEvents, MultipathSocketEvents } from './api/events.js';
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
export { hostAddresses, type AddressFamily, type HostAddress, type HostAddressOptions } from './io/interfaces.js';
export type { UdpEndpointStats } from './io/udp-endpoint.js';
export type { EndpointStats } from './core/endpoint.js';
export { DEFAULT_OPTIONS, type CongestionControlName, type ConnectionOptions } from './core/options.js';
export type { ConnectionStats, PathStats } from './core/stats.js';
export type { PathInfo, PathStateName, SocketAddress } from './core/types.js';
// What a custom scheduler or path policy implements (docs/api.md).
export { SCHEDULER_NAMES, type Scheduler, type SchedulerContext, type SchedulerName, type SchedulerOption, type SchedulerPath } from './core/sched/index.js';
export { PATH_POLICY_NAMES, type AddressPair, type PathPolicy, type PathPolicyName } from './core/pm/path-manager.js';
