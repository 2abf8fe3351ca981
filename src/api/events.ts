/**
 * The events of MultipathSocket and MultipathServer with their arguments.
 * The classes merge typed `on`/`once`/`off`/`emit` overloads built from
 * these maps, so a misspelt event name or a listener of the wrong shape is
 * a compile error (`socket.on('path-dwon', ...)` does not compile).
 */
import type { PathInfo } from '../core/types.js';
import type { MultipathSocket } from './socket.js';

/** Events of a MultipathSocket: those of net.Socket, and its paths'. */
export interface MultipathSocketEvents {
  /** The handshake completed. */
  connect: [];
  /** Same as 'connect' (net.Socket emits both). */
  ready: [];
  /** Bytes, in order (strings after setEncoding(), as with net.Socket). */
  data: [chunk: Buffer];
  /** The peer ended its side and every byte was read. */
  end: [];
  /** write() may be called again. */
  drain: [];
  /** end() was called and every byte was handed to the connection. */
  finish: [];
  /** Nothing was read or written for the setTimeout() interval (the socket stays open). */
  timeout: [];
  /** A path was validated and may carry data (also when a failed path comes back). */
  'path-up': [path: PathInfo];
  /** A path failed or closed; `reason` says why. */
  'path-down': [path: PathInfo, reason: string];
  /** Before 'close', when the connection ended with an error. */
  error: [err: Error];
  /** The socket is closed; `hadError` is true when it was destroyed with an error. */
  close: [hadError: boolean];
  /** Readable-stream events, as on any stream.Duplex. */
  readable: [];
  pause: [];
  resume: [];
  pipe: [src: NodeJS.ReadableStream];
  unpipe: [src: NodeJS.ReadableStream];
}

/** Events of a MultipathServer: those of net.Server. */
export interface MultipathServerEvents {
  /** Every address is bound. */
  listening: [];
  /** A client completed its handshake. */
  connection: [socket: MultipathSocket];
  /** After close(), once every connection has ended. */
  close: [];
  /** A bind failed, or there was no address to listen on. */
  error: [err: Error];
}

/** A listener of event `K` of map `M`. */
export type Listener<M, K extends keyof M> = M[K] extends unknown[] ? (...args: M[K]) => void : never;

/**
 * The typed listener methods of a MultipathSocket, merged into the class;
 * a 'data' listener may also take strings, for a socket after setEncoding().
 */
declare module './socket.js' {
  interface MultipathSocket {
    on(event: 'data', listener: (chunk: Buffer) => void): this;
    on(event: 'data', listener: (chunk: string) => void): this;
    on<K extends keyof MultipathSocketEvents>(event: K, listener: Listener<MultipathSocketEvents, K>): this;
    once(event: 'data', listener: (chunk: Buffer) => void): this;
    once(event: 'data', listener: (chunk: string) => void): this;
    once<K extends keyof MultipathSocketEvents>(event: K, listener: Listener<MultipathSocketEvents, K>): this;
    off(event: 'data', listener: (chunk: Buffer) => void): this;
    off(event: 'data', listener: (chunk: string) => void): this;
    off<K extends keyof MultipathSocketEvents>(event: K, listener: Listener<MultipathSocketEvents, K>): this;
    addListener(event: 'data', listener: (chunk: Buffer) => void): this;
    addListener(event: 'data', listener: (chunk: string) => void): this;
    addListener<K extends keyof MultipathSocketEvents>(event: K, listener: Listener<MultipathSocketEvents, K>): this;
    removeListener(event: 'data', listener: (chunk: Buffer) => void): this;
    removeListener(event: 'data', listener: (chunk: string) => void): this;
    removeListener<K extends keyof MultipathSocketEvents>(event: K, listener: Listener<MultipathSocketEvents, K>): this;
    prependListener(event: 'data', listener: (chunk: Buffer) => void): this;
    prependListener(event: 'data', listener: (chunk: string) => void): this;
    prependListener<K extends keyof MultipathSocketEvents>(event: K, listener: Listener<MultipathSocketEvents, K>): this;
    prependOnceListener(event: 'data', listener: (chunk: Buffer) => void): this;
    prependOnceListener(event: 'data', listener: (chunk: string) => void): this;
    prependOnceListener<K extends keyof MultipathSocketEvents>(event: K, listener: Listener<MultipathSocketEvents, K>): this;
    emit<K extends keyof MultipathSocketEvents>(event: K, ...args: MultipathSocketEvents[K]): boolean;
  }
}
