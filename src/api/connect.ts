/**
 * connect(): a client connection, like `net.connect()`. The socket is
 * returned at once; resolving the host, binding the local addresses and the
 * handshake follow, then 'connect'. Any failure on the way destroys the
 * socket with the error.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { defaultClientAddresses, familyOf, isLinkLocal, isLoopback } from '../io/interfaces.js';
import { leaseClientEndpoint } from '../io/client-endpoints.js';
import { MpudpError, invalidArgType } from './errors.js';
import { MultipathSocket } from './socket.js';
import {
  validateConnectOptions,
  validateOptionalFunction,
  type ConnectOptions,
  type ValidConnectOptions,
} from './validate.js';

/**
 * Opens a multipath connection; `connectListener` is added to 'connect'.
 * Takes net.connect()'s forms: `connect(options[, listener])` and
 * `connect(port[, host][, listener])`.
 */
export function connect(options: ConnectOptions, connectListener?: () => void): MultipathSocket;
export function connect(port: number, host?: string, connectListener?: () => void): MultipathSocket;
export function connect(port: number, connectListener?: () => void): MultipathSocket;
export function connect(first: ConnectOptions | number, second?: string | (() => void), third?: () => void): MultipathSocket {
  let options: unknown = first;
  let connectListener: unknown = third;
  if (typeof first === 'number') {
    if (typeof second === 'function') {
      if (third !== undefined) throw invalidArgType('host', 'of type string', second);
      options = { port: first };
      connectListener = second;
    } else {
      options = second === undefined ? { port: first } : { port: first, host: second };
    }
  } else if (typeof second === 'function' || second === undefined) {
    if (third !== undefined) throw invalidArgType('options', 'of type object', first);
    connectListener = second;
  } else {
    throw invalidArgType('connectListener', 'of type function', second);
  }
  const valid = validateConnectOptions(options);
  validateOptionalFunction(connectListener, 'connectListener');
  const socket = new MultipathSocket({ allowHalfOpen: valid.allowHalfOpen, connectionOptions: valid.connection });
  if (connectListener) socket.once('connect', connectListener);
  start(socket, valid).catch((err: Error) => socket.destroy(err));
  return socket;
}

/** Resolves, binds, starts the handshake. */
async function start(socket: MultipathSocket, valid: ValidConnectOptions): Promise<void> {
  const remotes = valid.remotes ?? (await resolve(valid.host!, valid.port!));
  if (socket.destroyed) return;
  const defaults = valid.localAddresses ?? defaultClientAddresses(remotes.map((r) => r.address));
  const locals = [...new Set([...defaults, ...valid.backupAddresses])];
  // Only pairs of one family can form a path.
  const remoteFamilies = new Set(remotes.map((r) => familyOf(r.address)));
  const usableLocals = locals.filter((a) => remoteFamilies.has(familyOf(a)));
  const localFamilies = new Set(usableLocals.map(familyOf));
  const usableRemotes = remotes.filter((r) => localFamilies.has(familyOf(r.address)));
  if (usableLocals.length === 0 || usableRemotes.length === 0) {
    throw new MpudpError(
      'ERR_MPUDP_NO_ADDRESS',
      `no local address (${locals.join(', ') || 'none'}) shares a family with the server's (${remotes.map((r) => r.address).join(', ')})`,
    );
  }
  // Explicit addresses must all bind; of the defaults, those that bind are used.
  // The process's client connections share their sockets (client-endpoints.ts).
  const explicit = new Set(usableLocals);
  const lease = await leaseClientEndpoint({
    handler: socket,
    locals: usableLocals,
    tolerant: valid.localAddresses === undefined && valid.backupAddresses.length === 0,
    remotes: usableRemotes,
    config: {
      ...valid.connection,
      ...(valid.backupAddresses.length > 0 ? { backupAddresses: valid.backupAddresses } : {}),
      ...(valid.serverFingerprint !== undefined ? { serverFingerprint: valid.serverFingerprint } : {}),
    },
    watch: valid.watch,
    // Follow the host's addresses: the ones we use may vanish and come back;
    // with the default list, any new usable address of the server's families joins.
    wanted: (address) =>
      explicit.has(address) ||
      (valid.localAddresses === undefined && remoteFamilies.has(familyOf(address)) && !isLinkLocal(address) && isLoopback(address) === usableRemotes.every((r) => isLoopback(r.address))),
    cancelled: () => socket.destroyed,
  });
  if (lease === null) return;
  socket._attach(lease.endpoint, lease.connection, lease);
}

/** Every address of `host` (IP text passes through), each with `port`. */
async function resolve(host: string, port: number): Promise<{ address: string; port: number }[]> {
  if (isIP(host) !== 0) return [{ address: host, port }];
  const found = await lookup(host, { all: true, verbatim: true });
  const unique = [...new Set(found.map((f) => f.address))];
  return unique.map((address) => ({ address, port }));
}
