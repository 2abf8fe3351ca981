/**
 * The client side of `mpudp tunnel`: a local TCP listener; each accepted TCP
 * connection is carried over its own mpudp connection, opened from every
 * local address to every server address, to the tunnel server, which
 * connects it on to the target.
 */
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { connect } from '../../api/connect.js';
import type { ConnectOptions, ConnectionOptionsInput, RemoteAddressInput } from '../../api/validate.js';
import { splice, type SpliceResult } from './splice.js';

export interface TunnelClientConfig {
  /** Where the local TCP listener binds. */
  listen: { host: string; port: number };
  /** The tunnel server: one host name (every address it resolves to) or its addresses. */
  server: { host: string } | { addresses: RemoteAddressInput[] };
  /** The tunnel server's UDP port. */
  port: number;
  /** Local addresses for mpudp (default: the host's usable addresses). */
  localAddresses?: string[];
  /** Connection options of every mpudp connection. */
  connection: ConnectionOptionsInput;
  /** One line per event, or nothing. */
  log: (line: string) => void;
}

export interface TunnelClient {
  /** The TCP listener's address (its real port when 0 was asked). */
  readonly address: AddressInfo;
  /** Connections carried so far, and open now. */
  readonly counts: { accepted: number; open: number };
  /** Stops listening; open connections go on; resolves once they are all closed. */
  close(): Promise<void>;
}

export async function startTunnelClient(config: TunnelClientConfig): Promise<TunnelClient> {
  const counts = { accepted: 0, open: 0 };
  const done = new Set<Promise<SpliceResult>>();
  const options: ConnectOptions = {
    ...config.connection,
    ...config.server,
    port: config.port,
    allowHalfOpen: true,
    ...(config.localAddresses !== undefined ? { localAddresses: config.localAddresses } : {}),
  };
  const tcpServer: TcpServer = createTcpServer({ allowHalfOpen: true, pauseOnConnect: false }, (tcp) => {
    const id = ++counts.accepted;
    counts.open++;
    const from = `${tcp.remoteAddress}:${tcp.remotePort}`;
    const mp = connect(options);
    mp.on('connect', () => config.log(`#${id} ${from}: connected over ${mp.paths.length} path(s)`));
    mp.on('path-up', (p) => config.log(`#${id} path up ${p.localAddress} -> ${p.remoteAddress}`));
    mp.on('path-down', (p, reason) => config.log(`#${id} path down ${p.localAddress} -> ${p.remoteAddress} (${reason})`));
    const spliced = splice(tcp, mp);
    done.add(spliced);
    void spliced.then((r) => {
      done.delete(spliced);
      counts.open--;
      config.log(`#${id} ${from}: closed, ${r.up} bytes up, ${r.down} down${r.error ? ` (${(r.error as NodeJS.ErrnoException).code ?? ''} ${r.error.message})` : ''}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcpServer.once('error', reject);
    tcpServer.listen(config.listen.port, config.listen.host, () => {
      tcpServer.removeListener('error', reject);
      resolve();
    });
  });
  const address = tcpServer.address() as AddressInfo;
  config.log(`listening on tcp ${address.address} port ${address.port}`);
  return {
    address,
    counts,
    close: async () => {
      await new Promise<void>((resolve) => tcpServer.close(() => resolve()));
      await Promise.all(done);
    },
  };
}
