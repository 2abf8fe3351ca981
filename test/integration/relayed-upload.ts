/**
 * One upload through the ISP emulator, in this process: a server on
 * 127.0.0.1, the relay on 127.0.0.11 with the given link, and a client
 * connected through it that writes `data` once connected. Shared by the
 * integration tests that need a shaped path over real sockets.
 */
import { once } from 'node:events';
import { IspEmulator, type IspOptions } from '../../lab/emulator/isp.js';
import { connect, createServer, type MultipathServer, type MultipathSocket } from '../../src/index.js';

export interface RelayedUpload {
  client: MultipathSocket;
  server: MultipathServer;
  isp: IspEmulator;
  /** Bytes the server read, and the first one that differed from `data` (-1: none). */
  received: number;
  mismatchAt: number;
}

/**
 * Resolves once the server has read `data.length` bytes, or rejects after
 * `timeoutMs` saying how far it got. Closers for the server, the relay and
 * the client go to `cleanup` (the caller runs them after the test).
 */
export async function relayedUpload(data: Buffer, link: Partial<IspOptions>, cleanup: (() => unknown)[], timeoutMs: number): Promise<RelayedUpload> {
  const result = { received: 0, mismatchAt: -1 } as RelayedUpload;
  const done = new Promise<void>((resolve) => {
    const server = createServer({ advertiseAddresses: false }, (s: MultipathSocket) => {
      s.on('data', (d: Buffer) => {
        if (result.mismatchAt < 0 && !d.equals(data.subarray(result.received, result.received + d.length))) {
          let k = 0;
          while (k < d.length && d[k] === data[result.received + k]) k++;
          result.mismatchAt = result.received + k;
        }
        result.received += d.length;
        if (result.received >= data.length) resolve();
      });
      s.on('error', () => {});
    });
    result.server = server;
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    server.listen(0, '127.0.0.1', () => {
      void (async () => {
        const port = server.addresses()[0]!.port;
        const isp = await IspEmulator.start({ listen: { address: '127.0.0.11', port: 0 }, target: { address: '127.0.0.1', port }, ...link });
        result.isp = isp;
        cleanup.push(() => isp.close());
        const sock = connect({ host: '127.0.0.11', port: isp.address()!.port, localAddresses: ['127.0.0.1'] });
        cleanup.push(() => sock.destroy());
        sock.on('error', () => {});
        await once(sock, 'connect');
        result.client = sock;
        sock.write(data);
      })();
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${result.received} of ${data.length} bytes`)), timeoutMs);
  });
  try {
    await Promise.race([done, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return result;
}
