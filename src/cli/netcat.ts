/**
 * What `mpudp listen` and `mpudp connect` share: one connection joined to
 * the terminal like netcat. stdin goes to the socket, the socket to stdout;
 * the end of stdin half-closes the connection (FIN) and the peer's FIN ends
 * stdout, so `mpudp connect ... < file` and `mpudp listen > file` copy a
 * file. Path events and errors go to stderr.
 */
import type { MultipathSocket } from '../api/socket.js';

/** Joins `socket` to stdin/stdout; resolves with the exit code once it closed. */
export function netcat(socket: MultipathSocket, quiet: boolean, name: string): Promise<number> {
  return new Promise((resolve) => {
    let failed = false;
    const say = (line: string): void => {
      if (!quiet) process.stderr.write(`${line}\n`);
    };
    socket.on('connect', () => say(`connected to ${socket.remoteAddress} port ${socket.remotePort}`));
    socket.on('path-up', (p) => say(`path-up ${p.id} ${p.localAddress} -> ${p.remoteAddress}`));
    socket.on('path-down', (p, reason) => say(`path-down ${p.id} ${p.localAddress} -> ${p.remoteAddress} (${reason})`));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      failed = true;
      process.stderr.write(`mpudp ${name}: ${err.code ?? ''} ${err.message}\n`);
    });
    socket.on('close', () => {
      // stdin must not keep the process alive; the connection may still be
      // delivering its last bytes in the background (the process ends after).
      process.stdin.unpipe(socket);
      process.stdin.destroy();
      resolve(failed ? 1 : 0);
    });
    socket.pipe(process.stdout, { end: false });
    socket.on('end', () => {
      // stdout stays open (it may be the terminal); nothing more comes.
    });
    process.stdin.pipe(socket);
  });
}
