/**
 * `mpudp connect`: netcat's client over mpudp. Opens one connection from
 * every local address to every server address, joins it to stdin/stdout,
 * and exits when it closes.
 */
import { connect as connectSocket } from '../../api/connect.js';
import { addresses, list, parse, port, UsageError } from '../args.js';
import type { CliCommand } from '../command.js';
import { netcat } from '../netcat.js';
import { CONNECTION_FLAGS, CONNECTION_HELP, connectionOptions } from '../options.js';

const USAGE = `usage: mpudp connect HOST[,HOST...] PORT [options]

Opens one mpudp connection and joins it to stdin and stdout, like \`nc\`:
stdin is sent, the end of stdin half-closes the connection, what arrives is
written to stdout. Exits when the connection closes (status 1 after an
error, such as ECONNREFUSED when nothing listens). Path events go to stderr.

  HOST                  the server: a name (every address it resolves to is
                        tried) or IP addresses, comma-separated
  PORT                  the server's UDP port
  -s, --server IP       one more server address; repeatable
  -l, --local IP        local address, one path from each; repeatable or
                        comma-separated (default: the host's usable addresses)
  --backup IP           local address whose paths are backups (used only
                        while no other path works); repeatable
  --server-key KEY      the server's public key or fingerprint (mpudp keygen):
                        connect only to the holder of that key
  -q, --quiet           print nothing on stderr but errors
${CONNECTION_HELP}

example:
  mpudp connect 192.0.2.1,198.51.100.1 4433 --local 192.0.2.10,198.51.100.10 < file.bin
`;

const OPTIONS = {
  ...CONNECTION_FLAGS,
  server: { type: 'string', short: 's', multiple: true },
  local: { type: 'string', short: 'l', multiple: true },
  backup: { type: 'string', multiple: true },
  quiet: { type: 'boolean', short: 'q' },
  'server-key': { type: 'string' },
} as const;

async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, OPTIONS);
  const [host, portText, ...extra] = positionals;
  if (host === undefined || portText === undefined) throw new UsageError('give the server and its port: mpudp connect HOST PORT');
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const serverPort = port(portText, 'PORT', false);
  const hosts = list(host);
  const extraServers = addresses(list(v.server), 'server');
  const locals = addresses(list(v.local), 'local');
  const backups = addresses(list(v.backup), 'backup');
  const remote =
    hosts.length === 1 && extraServers.length === 0
      ? { host: hosts[0]! }
      : { addresses: [...addresses(hosts, 'HOST'), ...extraServers] };
  const socket = connectSocket({
    ...connectionOptions(v),
    ...remote,
    port: serverPort,
    allowHalfOpen: true,
    ...(locals.length > 0 ? { localAddresses: locals } : {}),
    ...(backups.length > 0 ? { backupAddresses: backups } : {}),
    ...(v['server-key'] !== undefined ? { serverKey: v['server-key'] } : {}),
  });
  return netcat(socket, v.quiet === true, 'connect');
}

export const connect: CliCommand = {
  name: 'connect',
  summary: 'connect to a server and join the connection to stdin/stdout (like nc)',
  usage: USAGE,
  run,
  exitWhenIdle: true,
};
