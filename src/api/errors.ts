/**
 * Errors of the public API. Every error carries a stable `code` (the table is
 * in docs/api.md); messages may change, codes do not.
 *
 * Argument errors follow Node's own conventions (`net`, `dgram`): a value of
 * the wrong type is a TypeError, a number out of range a RangeError, and
 * both carry a Node-style code such as 'ERR_INVALID_ARG_TYPE'. Errors of the
 * connection itself are MpudpError with an 'ERR_MPUDP_...' code.
 */

/** Codes of argument errors (thrown synchronously by the API). */
export type ArgumentErrorCode =
  /** An argument or option has the wrong type (TypeError). */
  | 'ERR_INVALID_ARG_TYPE'
  /** An argument has the right type but a value that is not allowed (TypeError). */
  | 'ERR_INVALID_ARG_VALUE'
  /** A number or a list length is outside its range (RangeError). */
  | 'ERR_OUT_OF_RANGE'
  /** A port is not an integer in 0..65535 (1..65535 to connect) (RangeError). */
  | 'ERR_SOCKET_BAD_PORT'
  /** A required argument is missing (TypeError). */
  | 'ERR_MISSING_ARGS';

/** Codes of MpudpError. */
export type MpudpErrorCode =
  /** No usable local or remote address (none found, or no address family in common). */
  | 'ERR_MPUDP_NO_ADDRESS'
  /** `listen()` on a server that is already listening. */
  | 'ERR_MPUDP_SERVER_RUNNING'
  /** `close()` on a server that is not listening. */
  | 'ERR_MPUDP_SERVER_NOT_RUNNING'
  /**
   * Nothing listens: every server address answered the handshake with an
   * ICMP port unreachable, or the server refused it (it is closing, or full).
   */
  | 'ECONNREFUSED'
  /**
   * The peer is gone: no server answered the handshake within
   * `connectTimeout` (message `connect ETIMEDOUT`), or nothing was heard from
   * the peer on any path for `idleTimeout` ms (message `read ETIMEDOUT`).
   */
  | 'ETIMEDOUT'
  /**
   * The peer aborted the connection (its `destroy(err)` or
   * `resetAndDestroy()`, or its destroy() while bytes it had been given were
   * still unsent); `errorCode` and `message` carry its code and reason.
   */
  | 'ECONNRESET'
  /** One side broke the protocol (flow control, bad FIN, bad handshake) and the connection was closed. */
  | 'ERR_MPUDP_PROTOCOL_VIOLATION'
  /** The server proved a long-term key other than the client's `serverKey`; the handshake was refused. */
  | 'ERR_MPUDP_SERVER_KEY_MISMATCH'
  /** The AEAD usage limits were reached (too many forged packets, or no key update possible). */
  | 'ERR_MPUDP_AEAD_LIMIT'
  /** The peer had lost the connection's state and ended it with its stateless reset token. */
  | 'ERR_MPUDP_STATELESS_RESET'
  /**
   * A fault inside mpudp (a bug: the message says where). On a socket: its
   * connection's own code threw and closed it; other connections go on. On
   * a server (and on every socket it held): its endpoint's code threw, and
   * the server closed (src/io/fault-capture.ts).
   */
  | 'ERR_MPUDP_INTERNAL'
  /** The connection closed for a reason this version does not name. */
  | 'ERR_MPUDP_CLOSED'
  /** A write or end on a socket whose connection is already closed. */
  | 'ERR_STREAM_DESTROYED';

/** An error of the connection or the server, with a stable code. */
export class MpudpError extends Error {
  /** Stable machine-readable code. */
  readonly code: MpudpErrorCode;
  /** The application error code of a CLOSE (peer abort), when there was one. */
  readonly errorCode?: number;
  /** The core's own close code (e.g. 'ERR_MPUDP_IDLE_TIMEOUT'), when the error comes from a close. */
  readonly closeCode?: string;

  constructor(
    code: MpudpErrorCode,
    message: string,
    extra: { cause?: unknown; errorCode?: number; closeCode?: string } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'MpudpError';
    this.code = code;
    if (extra.errorCode !== undefined) this.errorCode = extra.errorCode;
    if (extra.closeCode !== undefined) this.closeCode = extra.closeCode;
  }
}

/** A TypeError with a code, as Node's own argument checks throw. */
export class MpudpTypeError extends TypeError {
  /** Stable machine-readable code. */
  readonly code: ArgumentErrorCode;

  constructor(code: ArgumentErrorCode, message: string) {
    super(message);
    this.name = 'TypeError';
    this.code = code;
  }
}

/** A RangeError with a code, as Node's own argument checks throw. */
export class MpudpRangeError extends RangeError {
  /** Stable machine-readable code. */
  readonly code: ArgumentErrorCode;

  constructor(code: ArgumentErrorCode, message: string) {
    super(message);
    this.name = 'RangeError';
    this.code = code;
  }
}

/** Short text of a received value for messages, as Node prints it. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    if (Array.isArray(value)) return 'an instance of Array';
    const name = (value as object).constructor?.name;
    return name ? `an instance of ${name}` : 'an object';
  }
  let text = typeof value === 'string' ? `'${value}'` : String(value);
  if (text.length > 28) text = `${text.slice(0, 25)}...`;
  return `type ${typeof value} (${text})`;
}

/** 'ERR_INVALID_ARG_TYPE': `name` must be `expected`. */
export function invalidArgType(name: string, expected: string, value: unknown): MpudpTypeError {
  return new MpudpTypeError(
    'ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be ${expected}. Received ${describeValue(value)}`,
  );
}

/** 'ERR_INVALID_ARG_VALUE': `name` has a value that is not allowed. */
export function invalidArgValue(name: string, value: unknown, reason: string): MpudpTypeError {
  return new MpudpTypeError(
    'ERR_INVALID_ARG_VALUE',
    `The argument '${name}' ${reason}. Received ${describeValue(value)}`,
  );
}

/** 'ERR_OUT_OF_RANGE': `name` is outside `range`. */
export function outOfRange(name: string, range: string, value: unknown): MpudpRangeError {
  return new MpudpRangeError(
    'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${describeValue(value)}`,
  );
}

/** 'ERR_SOCKET_BAD_PORT': `name` is not a valid port. */
export function badPort(name: string, value: unknown, allowZero: boolean): MpudpRangeError {
  return new MpudpRangeError(
    'ERR_SOCKET_BAD_PORT',
    `${name} should be an integer >= ${allowZero ? 0 : 1} and < 65536. Received ${describeValue(value)}`,
  );
}

/** 'ERR_MISSING_ARGS': none of `names` was given. */
export function missingArgs(...names: string[]): MpudpTypeError {
  return new MpudpTypeError(
    'ERR_MISSING_ARGS',
    `The ${names.map((n) => `"${n}"`).join(' or ')} argument must be specified`,
  );
}
