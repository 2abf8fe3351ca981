/**
 * `mpudp tunnel` over loopback, no root needed: Node's http client and
 * server talk through the tunnel (client side on a local TCP port, two
 * mpudp paths, server side connecting to the target); a half-close crosses
 * it in both directions; an abort on one side reaches the other as an abort;
 * and the command line starts both roles.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as http from 'node:http';
import { connect as tcpConnect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startTunnelClient, type TunnelClient } from '../../src/cli/tunnel/client.js';
import { startTunnelServer, type TunnelServer } from '../../src/cli/tunnel/server.js';

const stops: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** A tunnel from a local TCP port to `target`, over two loopback paths. */
async function tunnelTo(target: number): Promise<{ client: TunnelClient; server: TunnelServer; port: number }> {
  const server = await startTunnelServer({ port: 0, addresses: ['127.0.0.1'], target: { host: '127.0.0.1', port: target }, connection: {}, log: () => undefined });
  stops.push(() => server.close());
  const client = await startTunnelClient({
    listen: { host: '127.0.0.1', port: 0 },
    server: { addresses: ['127.0.0.1'] },
    port: server.addresses[0]!.port,
    localAddresses: ['127.0.0.1', '127.0.0.2'],
    connection: {},
    log: () => undefined,
  });
  stops.push(() => client.close());
  return { client, server, port: client.address.port };
}

/** A TCP server on 127.0.0.1 (allowing half-open connections). */
async function tcpServer(onSocket: (s: Socket) => void): Promise<number> {
  const server = createTcpServer({ allowHalfOpen: true }, onSocket);
  stops.push(() => new Promise((resolve) => server.close(resolve)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('mpudp tunnel over loopback', () => {
  it("carries Node's http client and server: a 4 MiB upload, every byte, no error", async () => {
    const body = randomBytes(4 * 1024 * 1024);
    const web = http.createServer((req, res) => {
      const hash = createHash('sha256');
      req.on('data', (d: Buffer) => hash.update(d));
      req.on('end', () => res.end(JSON.stringify({ sha256: hash.digest('hex'), echo: body.toString('base64').length })));
    });
    stops.push(() => new Promise((resolve) => web.close(resolve)));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const { port, client } = await tunnelTo((web.address() as AddressInfo).port);
    const agent = new http.Agent({ keepAlive: false });
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve(text));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(JSON.parse(answer)).toEqual({ sha256: createHash('sha256').update(body).digest('hex'), echo: body.toString('base64').length });
    expect(client.counts.accepted).toBe(1);
  });

  it('a half-close crosses the tunnel: the target answers after the end of the request', async () => {
    const target = await tcpServer((s) => {
      let got = 0;
      s.on('data', (d: Buffer) => (got += d.length));
      // Answers only once the client's FIN arrived, then ends its side.
      s.on('end', () => s.end(`got ${got} bytes`));
    });
    const { port } = await tunnelTo(target);
    const app = tcpConnect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let reply = '';
    app.setEncoding('utf8');
    app.on('data', (d: string) => (reply += d));
    app.end(Buffer.alloc(1_000_000, 1));
    await once(app, 'end');
    expect(reply).toBe('got 1000000 bytes');
    const [hadError] = (await once(app, 'close')) as [boolean];
    expect(hadError).toBe(false);
  });

  it('an abort of the target reaches the application as a reset, not a clean end', async () => {
    const target = await tcpServer((s) => s.once('data', () => s.resetAndDestroy()));
    const { port } = await tunnelTo(target);
    const app = tcpConnect({ host: '127.0.0.1', port });
    app.write('hello');
    const [err] = (await once(app, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNRESET');
  });

  it('the command line runs both roles', async () => {
    const target = await tcpServer((s) => s.end('from the target'));
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const run = (args: string[]) => {
      const child = spawn(process.execPath, ['--import', 'tsx', main, 'tunnel', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      stops.push(() => {
        child.kill('SIGTERM');
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d));
      return { child, stderr: () => err };
    };
    const until = async (f: () => RegExpMatchArray | null, what: string): Promise<RegExpMatchArray> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const m = f();
        if (m !== null) return m;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const server = run(['server', '--port', '0', '--address', '127.0.0.1', '--target', `127.0.0.1:${target}`]);
    const [, udpPort] = await until(() => /listening on udp 127\.0\.0\.1 port (\d+)/.exec(server.stderr()), 'the tunnel server');
    const client = run(['client', '--listen', '127.0.0.1:0', '--server', '127.0.0.1', '--port', udpPort!, '--local', '127.0.0.1']);
    const [, tcpPort] = await until(() => /listening on tcp 127\.0\.0\.1 port (\d+)/.exec(client.stderr()), 'the tunnel client');
    const app = tcpConnect({ host: '127.0.0.1', port: Number(tcpPort) });
    let reply = '';
    app.setEncoding('utf8');
    app.on('data', (d: string) => (reply += d));
    await once(app, 'end');
    expect(reply).toBe('from the target');
    app.destroy();
    client.child.kill('SIGTERM');
    const [code] = (await once(client.child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
