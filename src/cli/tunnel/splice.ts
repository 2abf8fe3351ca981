/**
 * Joins a TCP socket and an mpudp socket into one end-to-end stream, the way
 * a TCP proxy does: bytes both ways with backpressure (pipe), a FIN on one
 * side becomes a FIN on the other (half-close: both sockets allow half-open
 * connections), and an abort on one side aborts the other (a TCP RST, an
 * mpudp ECONNRESET), so an application never takes a cut stream for a
 * whole one.
 */
import type { Socket as TcpSocket } from 'node:net';
import type { MultipathSocket } from '../../api/socket.js';

/** What one tunnelled connection moved, reported when both sockets closed. */
export interface SpliceResult {
  /** Bytes from the TCP side into mpudp, and from mpudp to the TCP side. */
  up: number;
  down: number;
  /** The first error either side had, or null. */
  error: Error | null;
}

/** Splices `tcp` and `mp`; resolves when both are closed. */
export function splice(tcp: TcpSocket, mp: MultipathSocket): Promise<SpliceResult> {
  let error: Error | null = null;
  tcp.pipe(mp);
  mp.pipe(tcp);
  tcp.on('error', (err) => {
    error ??= err;
    // The application's connection broke: the far end must not see a clean end.
    if (!mp.destroyed) mp.destroy(err);
  });
  mp.on('error', (err) => {
    error ??= err;
    if (!tcp.destroyed) tcp.resetAndDestroy();
  });
  const closed = (s: NodeJS.EventEmitter & { closed: boolean }): Promise<void> =>
    s.closed ? Promise.resolve() : new Promise((resolve) => s.once('close', () => resolve()));
  return Promise.all([closed(tcp), closed(mp)]).then(() => ({ up: tcp.bytesRead, down: tcp.bytesWritten, error }));
}
