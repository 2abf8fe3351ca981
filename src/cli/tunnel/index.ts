/**
 * `mpudp tunnel`: multipath for an unmodified TCP application. The client
 * side listens on a local TCP port and carries each accepted connection
 * over its own mpudp connection (every local address to every server
 * address); the server side connects each one on to a target TCP address.
 * Half-close and backpressure hold end to end.
 */
import { addresses, hostPort, list, parse, port, UsageError } from '../args.js';
import type { CliCommand } from '../command.js';
import { CONNECTION_FLAGS, CONNECTION_HELP, connectionOptions } from '../options.js';
import { startTunnelClient } from './client.js';
import { startTunnelServer } from './server.js';

const USAGE = `usage: mpudp tunnel client --listen [HOST:]PORT --server HOST[,HOST...] --port PORT [options]
       mpudp tunnel server --port PORT --target HOST:PORT [options]

Gives an unmodified TCP application multipath. On the client's machine,
\`mpudp tunnel client\` listens on a local TCP port; every TCP connection it
accepts is carried over its own mpudp connection, from every local address to
every server address, to \`mpudp tunnel server\`, which connects it on to the
target TCP address. A FIN, backpressure and an abort (RST) cross the tunnel
as they would a TCP proxy. Runs until interrupted.

Client options:
  -L, --listen [HOST:]PORT   local TCP address to accept on (default host 127.0.0.1)
  -s, --server HOST          the tunnel server: a name (every address it
                             resolves to) or IP addresses; repeatable or
                             comma-separated
  -p, --port PORT            the tunnel server's UDP port
  -l, --local IP             local address, one path from each; repeatable or
                             comma-separated (default: the host's usable addresses)
Server options:
  -p, --port PORT            UDP port to serve on (every address)
  -a, --address IP           address to serve on; repeatable or comma-separated
                             (default: every address of the host)
  -t, --target HOST:PORT     TCP address every connection is connected to
Both:
  -q, --quiet                print nothing on stderr but errors
${CONNECTION_HELP}

example (an HTTP server on 10.0.0.5:8080 reached over two ISPs):
  server$ mpudp tunnel server --port 4433 --target 10.0.0.5:8080
  client$ mpudp tunnel client --listen 8080 --server 192.0.2.1,198.51.100.1 --port 4433
  client$ curl http://127.0.0.1:8080/
`;

const OPTIONS = {
  ...CONNECTION_FLAGS,
  listen: { type: 'string', short: 'L' },
  server: { type: 'string', short: 's', multiple: true },
  port: { type: 'string', short: 'p' },
  local: { type: 'string', short: 'l', multiple: true },
  address: { type: 'string', short: 'a', multiple: true },
  target: { type: 'string', short: 't' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

/** Only the flags of the other role are refused. */
function refuse(given: Record<string, unknown>, names: string[], role: string): void {
  for (const name of names) if (given[name] !== undefined) throw new UsageError(`--${name} is not an option of the tunnel ${role}`);
}

/** Runs until SIGINT/SIGTERM; then stops accepting and waits for open connections. */
function untilInterrupted(close: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      void close().then(() => resolve(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, OPTIONS);
  const [role, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const log = v.quiet ? () => undefined : (line: string) => void process.stderr.write(`mpudp tunnel: ${line}\n`);
  const connection = connectionOptions(v);
  if (role === 'client') {
    refuse(v, ['address', 'target'], 'client');
    if (v.listen === undefined) throw new UsageError('the client needs --listen [HOST:]PORT');
    const servers = list(v.server);
    if (servers.length === 0) throw new UsageError('the client needs --server HOST');
    const locals = addresses(list(v.local), 'local');
    const tunnel = await startTunnelClient({
      listen: hostPort(v.listen, '--listen', '127.0.0.1', true),
      server: servers.length === 1 ? { host: servers[0]! } : { addresses: addresses(servers, 'server') },
      port: port(v.port, '--port', false),
      ...(locals.length > 0 ? { localAddresses: locals } : {}),
      connection,
      log,
    });
    return untilInterrupted(() => tunnel.close());
  }
  if (role === 'server') {
    refuse(v, ['listen', 'server', 'local'], 'server');
    if (v.target === undefined) throw new UsageError('the server needs --target HOST:PORT');
    const served = addresses(list(v.address), 'address');
    const tunnel = await startTunnelServer({
      port: port(v.port, '--port', true),
      ...(served.length > 0 ? { addresses: served } : {}),
      target: hostPort(v.target, '--target', '127.0.0.1'),
      connection,
      log,
    });
    return untilInterrupted(() => tunnel.close());
  }
  throw new UsageError(role === undefined ? 'say client or server' : `unknown role '${role}' (client or server)`);
}

export const tunnel: CliCommand = {
  name: 'tunnel',
  summary: 'carry TCP connections over mpudp, so unmodified TCP applications get multipath',
  usage: USAGE,
  run,
};
