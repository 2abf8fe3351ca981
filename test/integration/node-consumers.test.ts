/**
 * Node's own consumers of net.Socket, run over MultipathSocket on loopback:
 * tls in both directions with either side closing first, http with a
 * keep-alive Agent (three requests on one socket), and stream.pipeline with
 * a half-close in the middle. Each must end with no error on any socket.
 */
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { connect, createServer, type MultipathSocket } from '../../src/index.js';
import { CLIENT_ADDRESSES, cleanup, useLoopback } from '../support/loopback.js';

useLoopback();

const KEY = readFileSync(new URL('../fixtures/tls-key.pem', import.meta.url));
const CERT = readFileSync(new URL('../fixtures/tls-cert.pem', import.meta.url));
/** The fixture's fingerprint: the client pins it (so the test does not depend on the certificate's dates). */
const FINGERPRINT = new X509Certificate(CERT).fingerprint256;

/** Every error any watched socket emits. */
function errorLog(): { errors: string[]; watch: <T extends NodeJS.EventEmitter>(name: string, s: T) => T } {
  const errors: string[] = [];
  return {
    errors,
    watch: (name, s) => {
      s.on('error', (err: NodeJS.ErrnoException) => errors.push(`${name}: ${err.code ?? ''} ${err.message}`));
      return s;
    },
  };
}

/** An mpudp server on 127.0.0.1 handing each socket to `onSocket`. */
async function mpudpServer(onSocket: (socket: MultipathSocket) => void): Promise<number> {
  const server = createServer(onSocket);
  cleanup.push(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server.address()!.port;
}

const dialRaw = (port: number): MultipathSocket => connect({ port, host: '127.0.0.1', localAddresses: CLIENT_ADDRESSES });

/** Resolves with whether 'close' said hadError. */
const closeOf = (s: NodeJS.EventEmitter): Promise<boolean> => once(s, 'close').then(([hadError]) => hadError === true);

/** The TLS server side of a test: answers 'hello', closing first or after the client. */
function tlsServerSide(raw: MultipathSocket, closer: 'tls server' | 'tls client', log: ReturnType<typeof errorLog>, name: string): Promise<{ got: string; raw: boolean; tls: boolean }> {
  log.watch(`${name} mpudp`, raw);
  const secure = log.watch(`${name} tls`, new tls.TLSSocket(raw, { isServer: true, key: KEY, cert: CERT }));
  let got = '';
  secure.setEncoding('utf8');
  secure.on('data', (d: string) => {
    got += d;
    if (closer === 'tls server' && got === 'hello') secure.end('bye'); // as an HTTPS server does
  });
  secure.on('end', () => {
    if (closer === 'tls client') secure.end(`you said ${got}`);
  });
  return Promise.all([closeOf(raw), closeOf(secure)]).then(([rawErr, tlsErr]) => ({ got, raw: rawErr, tls: tlsErr }));
}

/** The TLS client side: pins the certificate, says 'hello', reads the reply. */
async function tlsClientSide(raw: MultipathSocket, closer: 'tls server' | 'tls client', log: ReturnType<typeof errorLog>, name: string): Promise<{ reply: string; raw: boolean; tls: boolean }> {
  log.watch(`${name} mpudp`, raw);
  const secure = log.watch(`${name} tls`, tls.connect({ socket: raw, servername: 'localhost', rejectUnauthorized: false }));
  await once(secure, 'secureConnect');
  expect(secure.getPeerX509Certificate()!.fingerprint256).toBe(FINGERPRINT);
  let reply = '';
  secure.setEncoding('utf8');
  secure.on('data', (d: string) => (reply += d));
  if (closer === 'tls server') secure.write('hello');
  else secure.end('hello');
  const [rawErr, tlsErr] = await Promise.all([closeOf(raw), closeOf(secure)]);
  return { reply, raw: rawErr, tls: tlsErr };
}

describe('tls over mpudp', () => {
  // TLS in both directions: the TLS server on the mpudp server's side, or on the mpudp client's.
  for (const tlsServerOn of ['mpudp server', 'mpudp client'] as const) {
    for (const closer of ['tls server', 'tls client'] as const) {
      it(`the TLS server on the ${tlsServerOn}'s side, the ${closer} closing first: no error anywhere`, async () => {
        const log = errorLog();
        let accepted!: (socket: MultipathSocket) => void;
        const serverSocket = new Promise<MultipathSocket>((resolve) => (accepted = resolve));
        const port = await mpudpServer((socket) => accepted(socket));
        const clientSocket = dialRaw(port);
        const [tlsServerRaw, tlsClientRaw] = tlsServerOn === 'mpudp server' ? [await serverSocket, clientSocket] : [clientSocket, await serverSocket];
        const [server, client] = await Promise.all([
          tlsServerSide(tlsServerRaw, closer, log, 'tls server'),
          tlsClientSide(tlsClientRaw, closer, log, 'tls client'),
        ]);
        expect(log.errors).toEqual([]);
        expect(client.reply).toBe(closer === 'tls server' ? 'bye' : 'you said hello');
        expect(server.got).toBe('hello');
        expect([client.raw, client.tls, server.raw, server.tls]).toEqual([false, false, false, false]);
      });
    }
  }
});

describe('http over mpudp', () => {
  it('a keep-alive Agent sends three requests over one socket', async () => {
    const log = errorLog();
    const web = http.createServer((req, res) => res.end(`hello ${req.url}`));
    const port = await mpudpServer((socket) => web.emit('connection', log.watch('server mpudp', socket)));
    let sockets = 0;
    class MpudpAgent extends http.Agent {
      override createConnection(): MultipathSocket {
        sockets++;
        return log.watch('client mpudp', dialRaw(port));
      }
    }
    const agent = new MpudpAgent({ keepAlive: true, maxSockets: 1 });
    cleanup.push(() => agent.destroy());
    const get = (path: string): Promise<{ body: string; reused: boolean }> =>
      new Promise((resolve, reject) => {
        const req = http.get({ host: 'localhost', path, agent }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ body, reused: req.reusedSocket }));
        });
        req.on('error', reject);
      });
    const answers = [];
    for (const path of ['/a', '/b', '/c']) answers.push(await get(path));
    expect(answers).toEqual([
      { body: 'hello /a', reused: false },
      { body: 'hello /b', reused: true },
      { body: 'hello /c', reused: true },
    ]);
    expect(sockets).toBe(1);
    agent.destroy();
    expect(log.errors).toEqual([]);
  });
});

describe('stream.pipeline over mpudp', () => {
  it('pipes 2 MiB up, through an upper-casing server, and back, ending cleanly', async () => {
    const log = errorLog();
    const upper = (): Transform =>
      new Transform({ transform: (chunk: Buffer, _enc, cb) => cb(null, Buffer.from(chunk.toString('latin1').toUpperCase(), 'latin1')) });
    const port = await mpudpServer((socket) => {
      void pipeline(log.watch('server mpudp', socket), upper(), socket).catch((err: Error) => log.errors.push(`server pipeline: ${err.message}`));
    });
    const client = log.watch('client mpudp', dialRaw(port));
    const text = randomBytes(1024 * 1024).toString('hex');
    const sentHash = createHash('sha256').update(text.toUpperCase(), 'latin1').digest('hex');
    const gotHash = createHash('sha256');
    await Promise.all([
      pipeline(Readable.from([text.slice(0, text.length / 2), text.slice(text.length / 2)]), client),
      pipeline(client, new Writable({ write: (chunk: Buffer, _enc, cb) => (gotHash.update(chunk), cb()) })),
    ]);
    expect(gotHash.digest('hex')).toBe(sentHash);
    expect(log.errors).toEqual([]);
  });
});
