/**
 * The server side of `mpudp tunnel`: an mpudp server; each connection is
 * connected on to the target TCP address and spliced to it.
 */
import { connect as tcpConnect } from 'node:net';
import { createServer, type ServerAddress } from '../../api/server.js';
import type { ConnectionOptionsInput } from '../../api/validate.js';
import { splice, type SpliceResult } from './splice.js';

export interface TunnelServerConfig {
  /** UDP port of every served address (0: any free one). */
  port: number;
  /** Addresses to serve on (default: every address of the host). */
  addresses?: string[];
  /** Where each connection goes. */
  target: { host: string; port: number };
  /** Connection options of every mpudp connection. */
  connection: ConnectionOptionsInput;
  /** One line per event, or nothing. */
  log: (line: string) => void;
}

export interface TunnelServer {
  /** The addresses served, with their port. */
  readonly addresses: ServerAddress[];
  /** Connections carried so far, and open now. */
  readonly counts: { accepted: number; open: number };
  /** Stops accepting; resolves once every open connection closed. */
  close(): Promise<void>;
}

export async function startTunnelServer(config: TunnelServerConfig): Promise<TunnelServer> {
  const counts = { accepted: 0, open: 0 };
  const done = new Set<Promise<SpliceResult>>();
  const server = createServer({ ...config.connection, allowHalfOpen: true }, (mp) => {
    const id = ++counts.accepted;
    counts.open++;
    const from = `${mp.remoteAddress}:${mp.remotePort}`;
    const tcp = tcpConnect({ host: config.target.host, port: config.target.port, allowHalfOpen: true });
    tcp.setNoDelay(true);
    const spliced = splice(tcp, mp);
    done.add(spliced);
    config.log(`#${id} ${from}: to ${config.target.host}:${config.target.port}`);
    void spliced.then((r) => {
      done.delete(spliced);
      counts.open--;
      config.log(`#${id} ${from}: closed, ${r.down} bytes to the target, ${r.up} back${r.error ? ` (${(r.error as NodeJS.ErrnoException).code ?? ''} ${r.error.message})` : ''}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: config.port, ...(config.addresses !== undefined ? { addresses: config.addresses } : {}) }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const addresses = server.addresses();
  for (const a of addresses) config.log(`listening on udp ${a.address} port ${a.port}`);
  return {
    addresses,
    counts,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(done);
    },
  };
}
