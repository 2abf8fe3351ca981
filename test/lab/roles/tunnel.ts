/**
 * Lab role: one end of `mpudp tunnel` (src/cli/tunnel), reporting JSON lines
 * (listening, log) so the harness can follow it.
 *
 *   node --import tsx test/lab/roles/tunnel.ts server --port 4433 --addresses A,B --target 127.0.0.1:8080
 *   node --import tsx test/lab/roles/tunnel.ts client --listen 8081 --servers A,B --port 4433 --locals A,B
 */
import { parseArgs } from 'node:util';
import { startTunnelClient } from '../../../src/cli/tunnel/client.js';
import { startTunnelServer } from '../../../src/cli/tunnel/server.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string' },
    addresses: { type: 'string' },
    target: { type: 'string' },
    listen: { type: 'string' },
    servers: { type: 'string' },
    locals: { type: 'string' },
    'max-datagram': { type: 'string' },
  },
});
const report = (r: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(r)}\n`);
const log = (text: string): void => report({ type: 'log', text });
const connection = values['max-datagram'] ? { maxDatagramSize: Number(values['max-datagram']) } : {};

if (positionals[0] === 'server') {
  const [host, port] = values.target!.split(':');
  const t = await startTunnelServer({ port: Number(values.port), addresses: values.addresses!.split(','), target: { host: host!, port: Number(port) }, connection, log });
  report({ type: 'listening', addresses: t.addresses });
} else {
  const t = await startTunnelClient({
    listen: { host: '127.0.0.1', port: Number(values.listen) },
    server: { addresses: values.servers!.split(',') },
    port: Number(values.port),
    localAddresses: values.locals!.split(','),
    connection,
    log,
  });
  report({ type: 'listening', port: t.address.port });
}
