/**
 * `mpudp keygen`: a new server identity. Prints the private key (for
 * `createServer({ key })` or `mpudp listen --key`), the public key and its
 * fingerprint (either one pins the server for a client: `serverKey`, or
 * `mpudp connect --server-key`).
 */
import { generateKeyPair } from '../../api/keys.js';
import { parse, UsageError } from '../args.js';
import type { CliCommand } from '../command.js';

const USAGE = `usage: mpudp keygen [--json]

Prints a new server identity: an X25519 key pair and the public key's
fingerprint. Keep the private key secret and give it to the server
(createServer({ key }), or mpudp listen --key); give the public key or the
fingerprint to clients (connect({ serverKey }), or mpudp connect
--server-key), which then complete the handshake only with that server.

  --json                one JSON object instead of three lines
  -h, --help            this text
`;

const OPTIONS = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  const pair = generateKeyPair();
  process.stdout.write(
    values.json === true
      ? `${JSON.stringify(pair)}\n`
      : `private key: ${pair.privateKey}\npublic key:  ${pair.publicKey}\nfingerprint: ${pair.fingerprint}\n`,
  );
  return 0;
}

export const keygen: CliCommand = {
  name: 'keygen',
  summary: 'print a new server key pair and its fingerprint (for key / serverKey)',
  usage: USAGE,
  run,
};
