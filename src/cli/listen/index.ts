/**
 * `mpudp listen`: netcat's `nc -l` over mpudp. Serves on every given address
 * (default: every address of the host), accepts one connection, joins it to
 * stdin/stdout, and exits when it closes.
 */
import { createServer } from '../../api/server.js';
import { addresses, list, parse, port, UsageError } from '../args.js';
import type { CliCommand } from '../command.js';
import { netcat } from '../netcat.js';
import { CONNECTION_FLAGS, CONNECTION_HELP, connectionOptions } from '../options.js';

const USAGE = `usage: mpudp listen [PORT] [options]

Waits for one mpudp connection and joins it to stdin and stdout, like
\`nc -l\`: what arrives is written to stdout, stdin is sent, the end of stdin
half-closes the connection. Exits when the connection closes (status 1 after
an error). Path events go to stderr.

  PORT, -p, --port N    UDP port on every address (default 0: any free port,
                        printed on stderr)
  -a, --address IP      address to serve on; repeatable or comma-separated
                        (default: every address of the host)
  --key KEY             the server's private key (from mpudp keygen); clients
                        may pin it (default: a new key, fingerprint on stderr)
  -q, --quiet           print nothing on stderr but errors
${CONNECTION_HELP}

example:
  mpudp listen 4433 > received.bin
  mpudp connect 127.0.0.1 4433 --local 127.0.0.1,127.0.0.2 < file.bin
`;

const OPTIONS = {
  ...CONNECTION_FLAGS,
  port: { type: 'string', short: 'p' },
  address: { type: 'string', short: 'a', multiple: true },
  quiet: { type: 'boolean', short: 'q' },
  key: { type: 'string' },
} as const;

async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, OPTIONS);
  if (positionals.length > 1) throw new UsageError(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
  if (positionals.length === 1 && v.port !== undefined) throw new UsageError('give the port once (PORT or --port)');
  const listenPort = port(positionals[0] ?? v.port ?? '0', 'PORT', true);
  const served = addresses(list(v.address), 'address');
  const options = connectionOptions(v);
  const quiet = v.quiet === true;
  return new Promise((resolve) => {
    const server = createServer({ ...options, allowHalfOpen: true, ...(v.key !== undefined ? { key: v.key } : {}) }, (socket) => {
      server.close();
      void netcat(socket, quiet, 'listen').then(resolve);
    });
    server.on('error', (err: NodeJS.ErrnoException) => {
      process.stderr.write(`mpudp listen: ${err.code ?? ''} ${err.message}\n`);
      resolve(1);
    });
    server.listen({ port: listenPort, ...(served.length > 0 ? { addresses: served } : {}) }, () => {
      if (quiet) return;
      for (const a of server.addresses()) process.stderr.write(`listening on ${a.address} port ${a.port}\n`);
      process.stderr.write(`server key fingerprint ${server.fingerprint}\n`);
    });
  });
}

export const listen: CliCommand = {
  name: 'listen',
  summary: 'wait for one connection and join it to stdin/stdout (like nc -l)',
  usage: USAGE,
  run,
  exitWhenIdle: true,
};
