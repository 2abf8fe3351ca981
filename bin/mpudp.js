#!/usr/bin/env node
// mpudp: netcat over a multipath connection (needs `npm run build` first).
//
//   mpudp listen [--port N] [--address IP]...          serve one connection: socket <-> stdin/stdout
//   mpudp connect HOST PORT [--local IP]... [--server IP]...
import { parseArgs } from 'node:util';
import { connect, createServer } from '../dist/index.js';

// `mpudp bench ...`: the iperf3-like measuring tool (docs/bench.md).
if (process.argv[2] === 'bench') {
  const { main } = await import('../dist/cli/bench.js');
  process.exit(await main(process.argv.slice(3)));
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: '0' },
    address: { type: 'string', multiple: true },
    local: { type: 'string', multiple: true },
    server: { type: 'string', multiple: true },
  },
});
const [command, host, port] = positionals;

/** Pipes the socket to stdout and stdin to the socket; path changes go to stderr. */
function attach(socket) {
  socket.on('path-up', (p) => console.error(`path-up ${p.id} ${p.localAddress} -> ${p.remoteAddress}`));
  socket.on('path-down', (p, reason) => console.error(`path-down ${p.id} ${p.localAddress} -> ${p.remoteAddress} (${reason})`));
  socket.on('error', (err) => {
    console.error(`mpudp: ${err.code ?? ''} ${err.message}`);
    process.exitCode = 1;
  });
  socket.pipe(process.stdout);
  process.stdin.pipe(socket);
}

if (command === 'listen') {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    server.close();
    attach(socket);
  });
  server.listen({ port: Number(values.port), ...(values.address ? { addresses: values.address } : {}) }, () => {
    for (const a of server.addresses()) console.error(`listening on ${a.address} port ${a.port}`);
  });
} else if (command === 'connect' && host !== undefined && port !== undefined) {
  const remote = values.server ? { addresses: [host, ...values.server] } : { host };
  const socket = connect({ ...remote, port: Number(port), allowHalfOpen: true, ...(values.local ? { localAddresses: values.local } : {}) });
  attach(socket);
} else {
  console.error('usage: mpudp listen [--port N] [--address IP]...\n       mpudp connect HOST PORT [--local IP]... [--server IP]...');
  process.exit(2);
}
