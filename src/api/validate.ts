/**
 * The shapes of the public options and their checks. Every check throws a
 * TypeError (wrong type, value not allowed) or a RangeError (out of range)
 * with a Node-style `code` before anything reaches the core, which trusts
 * what it is given. The ranges are listed in docs/api.md.
 */
import { isIP } from 'node:net';
import { CIPHER_NAMES, type CipherName } from '../core/crypto/aead.js';
import type { CongestionControlName, ConnectionOptions } from '../core/options.js';
import { PATH_POLICY_NAMES, type PathPolicy, type PathPolicyName } from '../core/pm/path-manager.js';
import { SCHEDULER_NAMES, type Scheduler, type SchedulerName } from '../core/sched/index.js';
import { hostAddresses } from '../io/interfaces.js';
import type { ClusterOptionsInput, QuicLbOptionsInput } from './cluster-options.js';
import {
  badPort,
  invalidArgType,
  invalidArgValue,
  missingArgs,
  outOfRange,
} from './errors.js';
import { validatePrivateKey, validateServerKey } from './keys.js';

/** Connection options an application may set (all optional; defaults in the core). */
export interface ConnectionOptionsInput {
  /** Receive window in bytes (flow control); 64 KiB..1 GiB. */
  receiveWindow?: number;
  maxReceiveWindow?: number;
  /** Most bytes written but not yet acknowledged; 64 KiB..1 GiB. */
  sendBufferSize?: number;
  /** Congestion controller of every path. */
  congestionControl?: CongestionControlName;
  /** Close after this many ms without hearing from the peer; 0 = never. */
  idleTimeout?: number;
  /** Client: give up connecting after this many ms (no server answered); 1..2^31-1. Default 10,000. */
  connectTimeout?: number;
  /** Most paths of one connection, all states counted; 1..64. */
  maxPaths?: number;
  /** Interval (ms) at which idle paths are probed; 10..3,600,000. */
  keepAliveInterval?: number;
  /** Largest UDP payload sent; 1200..65507. */
  maxDatagramSize?: number;
  /** Which path carries each data packet: 'min-rtt', 'round-robin', 'redundant', 'blest', 'ecf' (or, for connect(), your own Scheduler). */
  scheduler?: SchedulerName | Scheduler;
  /** Which (local, server) address pairs get a path: 'full-mesh' (default), 'one-per-local', or your own PathPolicy (connect() only). */
  pathManager?: PathPolicyName | PathPolicy;
  /** Server: advertise every address it serves on to its clients (ADD_ADDRESS). Default true. */
  advertiseAddresses?: boolean;
  /** Client: the AEAD protecting every packet: 'aes-128-gcm' (default) or 'chacha20-poly1305'. A server follows its client's choice. */
  cipher?: CipherName;
  /** Most addresses of the peer kept from its advertisements; 1..64, default 16. */
  maxPeerAddresses?: number;
  /** bbr, cubic, newreno: carry paths found behind one bottleneck as one flow there. Default true. */
  sharedBottleneckDetection?: boolean;
  /** How often (ms) the host's addresses are checked for changes; 0 = never. Default 1000. */
  addressWatchInterval?: number;
  /** Where the host's addresses come from (default: os.networkInterfaces()); for tests and special setups. */
  addressSource?: () => readonly string[];
}

/** Options of `createServer()`. */
export interface ServerOptions extends ConnectionOptionsInput {
  /** Keep the writable side open after the peer ended its side (like net). Default false. */
  allowHalfOpen?: boolean;
  /** Most connections at once; further ones are refused. 1..1,048,576. */
  maxConnections?: number;
  /** node:cluster worker: share the public port, serve on a port of its own (on by default in a worker; false: off). */
  cluster?: boolean | ClusterOptionsInput;
  /** This host's QUIC-LB server ID in every CID it issues (ID-routing balancers). */
  quicLb?: QuicLbOptionsInput | null;
  /** The server's long-term private key (base64url text from `mpudp keygen`, or 32 bytes). Default: a new key per server object. */
  key?: string | Uint8Array;
  /** Stateless retry (address validation before any state): 'auto' (default: under load, and for busy sources), 'always', 'never'. */
  retry?: 'auto' | 'always' | 'never';
  /** Half-open handshakes plus recent junk Initials at which 'auto' retry starts; 1..1,048,576, default 256. */
  retryThreshold?: number;
}

/** Options of `server.listen()`. */
export interface ListenOptions {
  /** Port of every address; 0 = an ephemeral port chosen by the first bind. Default 0. */
  port?: number;
  /** Local addresses to serve on (IP text). Default: every address of the host but link-local ones. */
  addresses?: string[];
  /**
   * One local address to serve on (shorthand for `addresses: [host]`);
   * '0.0.0.0' serves every IPv4 address of the host, '::' every address,
   * 'localhost' the loopback ones.
   */
  host?: string;
  /** Accepted for net.Server compatibility, unused (there is no accept queue). */
  backlog?: number;
}

/** A server address given to `connect()`: IP text, or IP text and port. */
export type RemoteAddressInput = string | { address: string; port?: number };

/** Options of `connect()`. */
export interface ConnectOptions extends ConnectionOptionsInput {
  /** The server's port (for every address given without its own port). */
  port?: number;
  /** The server: one IP address or a host name (every address it resolves to is used). */
  host?: string;
  /** The server's addresses; first contact is raced over all of them. Exclusive with `host`. */
  addresses?: RemoteAddressInput[];
  /** The client's own addresses (IP text). Default: the host's usable addresses. */
  localAddresses?: string[];
  /** Keep the writable side open after the peer ended its side (like net). Default false. */
  allowHalfOpen?: boolean;
  /** Local addresses whose paths start as backups (carry data only while no other path works); bound too. */
  backupAddresses?: string[];
  /**
   * The server's public key (base64url text or 32 bytes) or its fingerprint
   * ('SHA256:...', `server.fingerprint`): the handshake completes only with
   * the holder of that key (else ERR_MPUDP_SERVER_KEY_MISMATCH). Without it
   * the connection is encrypted but the server is not authenticated.
   */
  serverKey?: string | Uint8Array;
}

/** Most addresses in one list (local or remote). */
export const MAX_ADDRESSES = 64;
/** Smallest and largest receive window and send buffer. */
export const MIN_WINDOW = 64 * 1024;
export const MAX_WINDOW = 1024 * 1024 * 1024;
/** Congestion controllers the core implements. */
export const CONGESTION_CONTROLLERS: readonly CongestionControlName[] = ['cubic', 'newreno', 'lia', 'olia', 'bbr'];

/** Throws unless `value` is a plain object (not null, not an array). */
export function validateObject(value: unknown, name: string): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgType(name, 'of type object', value);
  }
}

/** Throws unless `value` is undefined or a function. */
export function validateOptionalFunction(value: unknown, name: string): asserts value is ((...args: never[]) => unknown) | undefined {
  if (value !== undefined && typeof value !== 'function') throw invalidArgType(name, 'of type function', value);
}

/** Throws unless `value` is a boolean. */
export function validateBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value);
}

/** Throws unless `value` is an integer in [min, max]. */
export function validateInteger(value: unknown, name: string, min: number, max: number): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(name, `an integer >= ${min} and <= ${max}`, value);
  }
}

/** Throws unless `value` is a finite number in [min, max]. */
export function validateNumber(value: unknown, name: string, min: number, max: number): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw outOfRange(name, `>= ${min} and <= ${max}`, value);
  }
}

/** Throws unless `value` is a port: an integer in 0..65535 (1..65535 unless `allowZero`). */
export function validatePort(value: unknown, name: string, allowZero: boolean): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1) || value > 65535) {
    throw badPort(name, value, allowZero);
  }
}

/** Throws unless `value` is textual IPv4 or IPv6 address. */
export function validateIpAddress(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value);
  if (isIP(value) === 0) throw invalidArgValue(name, value, 'must be an IPv4 or IPv6 address');
}

/** Throws unless `value` is an array of 1..MAX_ADDRESSES entries; returns it typed. */
function validateAddressArray(value: unknown, name: string): unknown[] {
  if (!Array.isArray(value)) throw invalidArgType(name, 'an instance of Array', value);
  if (value.length < 1 || value.length > MAX_ADDRESSES) {
    throw outOfRange(`${name}.length`, `>= 1 and <= ${MAX_ADDRESSES}`, value.length);
  }
  return value;
}

/** Throws unless `value` is a list of IP addresses; returns them without duplicates. */
export function validateAddressList(value: unknown, name: string): string[] {
  const list = validateAddressArray(value, name);
  list.forEach((entry, i) => validateIpAddress(entry, `${name}[${i}]`));
  return [...new Set(list as string[])];
}

/**
 * Checks the connection options present in `options`; returns only those,
 * typed. A custom Scheduler object is allowed only where it serves one
 * connection (`allowSchedulerObject`): schedulers keep per-connection state.
 */
export function validateConnectionOptions(options: Record<string, unknown>, name: string, allowSchedulerObject = false): Partial<ConnectionOptions> {
  const out: Partial<ConnectionOptions> = {};
  const o = options;
  if (o.receiveWindow !== undefined) {
    validateInteger(o.receiveWindow, `${name}.receiveWindow`, MIN_WINDOW, MAX_WINDOW);
    out.receiveWindow = o.receiveWindow;
  }
  if (o.maxReceiveWindow !== undefined) {
    validateInteger(o.maxReceiveWindow, `${name}.maxReceiveWindow`, MIN_WINDOW, MAX_WINDOW);
    out.maxReceiveWindow = o.maxReceiveWindow;
  }
  if (o.sendBufferSize !== undefined) {
    validateInteger(o.sendBufferSize, `${name}.sendBufferSize`, MIN_WINDOW, MAX_WINDOW);
    out.sendBufferSize = o.sendBufferSize;
  }
  if (o.congestionControl !== undefined) {
    const cc = o.congestionControl;
    if (typeof cc !== 'string') throw invalidArgType(`${name}.congestionControl`, 'of type string', cc);
    if (!(CONGESTION_CONTROLLERS as readonly string[]).includes(cc)) {
      throw invalidArgValue(`${name}.congestionControl`, cc, `must be one of ${CONGESTION_CONTROLLERS.map((c) => `'${c}'`).join(', ')}`);
    }
    out.congestionControl = cc as CongestionControlName;
  }
  if (o.idleTimeout !== undefined) {
    validateNumber(o.idleTimeout, `${name}.idleTimeout`, 0, 2 ** 31 - 1);
    out.idleTimeout = o.idleTimeout;
  }
  if (o.connectTimeout !== undefined) {
    validateNumber(o.connectTimeout, `${name}.connectTimeout`, 1, 2 ** 31 - 1);
    out.connectTimeout = o.connectTimeout;
  }
  if (o.maxPaths !== undefined) {
    validateInteger(o.maxPaths, `${name}.maxPaths`, 1, 64);
    out.maxPaths = o.maxPaths;
  }
  if (o.keepAliveInterval !== undefined) {
    validateNumber(o.keepAliveInterval, `${name}.keepAliveInterval`, 10, 3_600_000);
    out.keepAliveInterval = o.keepAliveInterval;
  }
  if (o.maxDatagramSize !== undefined) {
    validateInteger(o.maxDatagramSize, `${name}.maxDatagramSize`, 1200, 65507);
    out.maxDatagramSize = o.maxDatagramSize;
  }
  if (o.scheduler !== undefined) out.scheduler = validateScheduler(o.scheduler, `${name}.scheduler`, allowSchedulerObject);
  if (o.pathManager !== undefined) {
    const pm = o.pathManager;
    if (typeof pm === 'string') {
      if (!(PATH_POLICY_NAMES as readonly string[]).includes(pm)) {
        throw invalidArgValue(`${name}.pathManager`, pm, `must be one of ${PATH_POLICY_NAMES.map((n) => `'${n}'`).join(', ')}`);
      }
      out.pathManager = pm as PathPolicyName;
    } else if (allowSchedulerObject && pm !== null && typeof pm === 'object' && typeof (pm as PathPolicy).select === 'function' && typeof (pm as PathPolicy).name === 'string') {
      out.pathManager = pm as PathPolicy;
    } else {
      throw invalidArgType(`${name}.pathManager`, allowSchedulerObject ? 'a policy name or an object with a name and a select() method' : 'of type string', pm);
    }
  }
  if (o.sharedBottleneckDetection !== undefined) {
    validateBoolean(o.sharedBottleneckDetection, `${name}.sharedBottleneckDetection`);
    out.sharedBottleneckDetection = o.sharedBottleneckDetection;
  }
  if (o.advertiseAddresses !== undefined) {
    validateBoolean(o.advertiseAddresses, `${name}.advertiseAddresses`);
    out.advertiseAddresses = o.advertiseAddresses;
  }
  if (o.maxPeerAddresses !== undefined) {
    validateInteger(o.maxPeerAddresses, `${name}.maxPeerAddresses`, 1, 64);
    out.maxPeerAddresses = o.maxPeerAddresses;
  }
  if (o.cipher !== undefined) {
    const c = o.cipher;
    if (typeof c !== 'string') throw invalidArgType(`${name}.cipher`, 'of type string', c);
    if (!(CIPHER_NAMES as readonly string[]).includes(c)) {
      throw invalidArgValue(`${name}.cipher`, c, `must be one of ${CIPHER_NAMES.map((n) => `'${n}'`).join(', ')}`);
    }
    out.cipher = c as CipherName;
  }
  return out;
}

/** What the io layer keeps of the address-watch options. */
export interface ValidWatchOptions {
  interval: number;
  source: (() => readonly string[]) | undefined;
}

/** Checks `addressWatchInterval` and `addressSource`. */
export function validateWatchOptions(o: Record<string, unknown>, name: string): ValidWatchOptions {
  let interval = 1000;
  if (o.addressWatchInterval !== undefined) {
    validateNumber(o.addressWatchInterval, `${name}.addressWatchInterval`, 0, 3_600_000);
    interval = o.addressWatchInterval;
  }
  validateOptionalFunction(o.addressSource, `${name}.addressSource`);
  return { interval, source: o.addressSource as (() => readonly string[]) | undefined };
}

/** A scheduler name, or (if allowed) an object with a `choose` method and a string `name`. */
function validateScheduler(value: unknown, name: string, allowObject: boolean): SchedulerName | Scheduler {
  if (typeof value === 'string') {
    if (!(SCHEDULER_NAMES as readonly string[]).includes(value)) {
      throw invalidArgValue(name, value, `must be one of ${SCHEDULER_NAMES.map((n) => `'${n}'`).join(', ')}`);
    }
    return value as SchedulerName;
  }
  if (!allowObject) throw invalidArgType(name, 'of type string (a server\'s connections cannot share one scheduler object)', value);
  if (value === null || typeof value !== 'object' || typeof (value as Scheduler).choose !== 'function' || typeof (value as Scheduler).name !== 'string') {
    throw invalidArgType(name, 'a scheduler name or an object with a name and a choose() method', value);
  }
  return value as Scheduler;
}

/** What `createServer()` keeps of its options. */
export interface ValidServerOptions {
  connection: Partial<ConnectionOptions>;
  watch: ValidWatchOptions;
  allowHalfOpen: boolean;
  maxConnections: number | undefined;
  /** The `key` option, or undefined (the server draws one). */
  staticKey: Uint8Array | undefined;
  retry: 'auto' | 'always' | 'never' | undefined;
  retryThreshold: number | undefined;
}

/** Checks `createServer()` options. */
export function validateServerOptions(value: unknown): ValidServerOptions {
  if (value === undefined) {
    return { connection: {}, watch: { interval: 1000, source: undefined }, allowHalfOpen: false, maxConnections: undefined, staticKey: undefined, retry: undefined, retryThreshold: undefined };
  }
  validateObject(value, 'options');
  const connection = validateConnectionOptions(value, 'options');
  let allowHalfOpen = false;
  if (value.allowHalfOpen !== undefined) {
    validateBoolean(value.allowHalfOpen, 'options.allowHalfOpen');
    allowHalfOpen = value.allowHalfOpen;
  }
  let maxConnections: number | undefined;
  if (value.maxConnections !== undefined) {
    validateInteger(value.maxConnections, 'options.maxConnections', 1, 1_048_576);
    maxConnections = value.maxConnections;
  }
  const staticKey = value.key === undefined ? undefined : validatePrivateKey(value.key, 'options.key');
  let retry: ValidServerOptions['retry'];
  if (value.retry !== undefined) {
    if (typeof value.retry !== 'string') throw invalidArgType('options.retry', 'of type string', value.retry);
    if (!['auto', 'always', 'never'].includes(value.retry)) throw invalidArgValue('options.retry', value.retry, "must be one of 'auto', 'always', 'never'");
    retry = value.retry as ValidServerOptions['retry'];
  }
  let retryThreshold: number | undefined;
  if (value.retryThreshold !== undefined) {
    validateInteger(value.retryThreshold, 'options.retryThreshold', 1, 1_048_576);
    retryThreshold = value.retryThreshold;
  }
  return { connection, watch: validateWatchOptions(value, 'options'), allowHalfOpen, maxConnections, staticKey, retry, retryThreshold };
}

/** What `listen()` keeps of its arguments. */
export interface ValidListenOptions {
  port: number;
  /** Undefined: every address of the host. */
  addresses: string[] | undefined;
}

/** Checks `listen()`'s first argument: a port or an options object. */
export function validateListenOptions(value: unknown): ValidListenOptions {
  if (value === undefined) return { port: 0, addresses: undefined };
  if (typeof value === 'number') {
    validatePort(value, 'port', true);
    return { port: value, addresses: undefined };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgType('options', 'of type object or number', value);
  }
  const o = value as Record<string, unknown>;
  let port = 0;
  if (o.port !== undefined) {
    validatePort(o.port, 'options.port', true);
    port = o.port;
  }
  if (o.host !== undefined && o.addresses !== undefined) {
    throw invalidArgValue('options.host', o.host, 'cannot be given together with options.addresses');
  }
  if (o.backlog !== undefined) validateInteger(o.backlog, 'options.backlog', 0, 2 ** 31 - 1);
  let addresses: string[] | undefined;
  if (o.addresses !== undefined) addresses = validateAddressList(o.addresses, 'options.addresses');
  if (o.host !== undefined) addresses = listenHost(o.host, 'options.host');
  return { port, addresses };
}

/** A listen() host: IP text, a wildcard ('0.0.0.0', '::') or 'localhost'. */
function listenHost(host: unknown, name: string): string[] | undefined {
  if (host === '::') return undefined;
  if (host === '0.0.0.0') return hostAddresses({ family: 'IPv4' }).map((a) => a.address);
  if (host === 'localhost') return hostAddresses().filter((a) => a.internal).map((a) => a.address);
  validateIpAddress(host, name);
  return [host];
}

/**
 * Checks `listen()`'s arguments in net.Server's forms:
 * `([port[, host[, backlog]]][, callback])` and `(options[, callback])`.
 */
export function validateListenArgs(args: readonly unknown[]): ValidListenOptions & { callback: (() => void) | undefined } {
  const rest = [...args];
  let callback: (() => void) | undefined;
  if (typeof rest.at(-1) === 'function') callback = rest.pop() as () => void;
  while (rest.length > 0 && rest.at(-1) === undefined) rest.pop();
  const [first, second, third, ...extra] = rest;
  if (extra.length > 0) throw invalidArgValue('args', args, 'has too many entries for listen()');
  if (first !== null && typeof first === 'object') {
    if (second !== undefined) throw invalidArgType('callback', 'of type function', second);
    return { ...validateListenOptions(first), callback };
  }
  const valid = validateListenOptions(first);
  let addresses = valid.addresses;
  for (const [i, arg] of [second, third].entries()) {
    if (arg === undefined) continue;
    if (typeof arg === 'string' && i === 0) addresses = listenHost(arg, 'host');
    else if (typeof arg === 'number') validateInteger(arg, 'backlog', 0, 2 ** 31 - 1);
    else throw invalidArgType(i === 0 ? 'host' : 'backlog', i === 0 ? 'of type string' : 'of type number', arg);
  }
  return { port: valid.port, addresses, callback };
}

/** What `connect()` keeps of its options; host names are resolved later. */
export interface ValidConnectOptions {
  connection: Partial<ConnectionOptions>;
  watch: ValidWatchOptions;
  allowHalfOpen: boolean;
  /** The server's port for addresses without their own. */
  port: number | undefined;
  /** A host name or address to resolve (exclusive with `remotes`). */
  host: string | undefined;
  /** The server's addresses, each with its port. */
  remotes: { address: string; port: number }[] | undefined;
  /** The client's addresses; undefined = the host's usable addresses. */
  localAddresses: string[] | undefined;
  /** Local addresses whose paths start as backups (also bound). */
  backupAddresses: string[];
  /** The fingerprint the server must prove (`serverKey`), or undefined. */
  serverFingerprint: string | undefined;
}

/** Checks `connect()` options. */
export function validateConnectOptions(value: unknown): ValidConnectOptions {
  if (value === undefined) throw missingArgs('options');
  validateObject(value, 'options');
  const connection = validateConnectionOptions(value, 'options', true);
  let allowHalfOpen = false;
  if (value.allowHalfOpen !== undefined) {
    validateBoolean(value.allowHalfOpen, 'options.allowHalfOpen');
    allowHalfOpen = value.allowHalfOpen;
  }
  let port: number | undefined;
  if (value.port !== undefined) {
    validatePort(value.port, 'options.port', false);
    port = value.port;
  }
  if (value.host !== undefined && value.addresses !== undefined) {
    throw invalidArgValue('options.host', value.host, 'cannot be given together with options.addresses');
  }
  let host: string | undefined;
  let remotes: { address: string; port: number }[] | undefined;
  if (value.addresses !== undefined) {
    const list = validateAddressArray(value.addresses, 'options.addresses');
    remotes = list.map((entry, i) => {
      const name = `options.addresses[${i}]`;
      if (typeof entry === 'string') {
        validateIpAddress(entry, name);
        if (port === undefined) throw missingArgs('options.port', `${name}.port`);
        return { address: entry, port };
      }
      validateObject(entry, name);
      validateIpAddress(entry.address, `${name}.address`);
      let entryPort = port;
      if (entry.port !== undefined) {
        validatePort(entry.port, `${name}.port`, false);
        entryPort = entry.port;
      }
      if (entryPort === undefined) throw missingArgs('options.port', `${name}.port`);
      return { address: entry.address, port: entryPort };
    });
  } else {
    if (value.host !== undefined) {
      if (typeof value.host !== 'string') throw invalidArgType('options.host', 'of type string', value.host);
      if (value.host.length === 0) throw invalidArgValue('options.host', value.host, 'must not be empty');
      host = value.host;
    } else {
      host = 'localhost';
    }
    if (port === undefined) throw missingArgs('options.port');
  }
  let localAddresses: string[] | undefined;
  if (value.localAddresses !== undefined) {
    localAddresses = validateAddressList(value.localAddresses, 'options.localAddresses');
  }
  let backupAddresses: string[] = [];
  if (value.backupAddresses !== undefined) {
    backupAddresses = validateAddressList(value.backupAddresses, 'options.backupAddresses');
  }
  const serverFingerprint = value.serverKey === undefined ? undefined : validateServerKey(value.serverKey, 'options.serverKey');
  return { connection, watch: validateWatchOptions(value, 'options'), allowHalfOpen, port, host, remotes, localAddresses, backupAddresses, serverFingerprint };
}
