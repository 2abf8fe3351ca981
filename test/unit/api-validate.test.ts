/**
 * Every bad argument of the public API throws synchronously, before any
 * socket exists, with the right class (TypeError / RangeError / MpudpError)
 * and a stable `code`.
 */
import { describe, expect, it } from 'vitest';
import { connect, createServer, MpudpError, type ConnectOptions } from '../../src/index.js';

type ErrorClass = typeof TypeError | typeof RangeError | typeof MpudpError;

/** Runs `fn` and checks that it throws `cls` with `code`. */
function expectThrow(fn: () => unknown, cls: ErrorClass, code: string): void {
  let thrown: unknown = null;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected ${cls.name} ${code}`).toBeInstanceOf(cls);
  expect((thrown as { code?: string }).code).toBe(code);
}

const T = TypeError;
const R = RangeError;

/** Connection options shared by createServer() and connect(): [name, value, class, code]. */
const BAD_CONNECTION_OPTIONS: [string, unknown, ErrorClass, string][] = [
  ['receiveWindow', '1000000', T, 'ERR_INVALID_ARG_TYPE'],
  ['receiveWindow', 1024, R, 'ERR_OUT_OF_RANGE'],
  ['receiveWindow', 65536.5, R, 'ERR_OUT_OF_RANGE'],
  ['receiveWindow', 2 * 1024 ** 3, R, 'ERR_OUT_OF_RANGE'],
  ['receiveWindow', NaN, R, 'ERR_OUT_OF_RANGE'],
  ['sendBufferSize', null, T, 'ERR_INVALID_ARG_TYPE'],
  ['sendBufferSize', 65535, R, 'ERR_OUT_OF_RANGE'],
  ['sendBufferSize', 1024 ** 3 + 1, R, 'ERR_OUT_OF_RANGE'],
  ['congestionControl', 1, T, 'ERR_INVALID_ARG_TYPE'],
  ['pathManager', 'star', T, 'ERR_INVALID_ARG_VALUE'],
  ['pathManager', 7, T, 'ERR_INVALID_ARG_TYPE'],
  ['advertiseAddresses', 'yes', T, 'ERR_INVALID_ARG_TYPE'],
  ['addressWatchInterval', -5, R, 'ERR_OUT_OF_RANGE'],
  ['addressWatchInterval', '1s', T, 'ERR_INVALID_ARG_TYPE'],
  ['addressSource', ['127.0.0.1'], T, 'ERR_INVALID_ARG_TYPE'],
  ['congestionControl', 'vegas', T, 'ERR_INVALID_ARG_VALUE'],
  ['idleTimeout', '30s', T, 'ERR_INVALID_ARG_TYPE'],
  ['idleTimeout', -1, R, 'ERR_OUT_OF_RANGE'],
  ['idleTimeout', Infinity, R, 'ERR_OUT_OF_RANGE'],
  ['connectTimeout', '10s', T, 'ERR_INVALID_ARG_TYPE'],
  ['connectTimeout', 0, R, 'ERR_OUT_OF_RANGE'],
  ['connectTimeout', 2 ** 31, R, 'ERR_OUT_OF_RANGE'],
  ['maxPaths', true, T, 'ERR_INVALID_ARG_TYPE'],
  ['maxPaths', 0, R, 'ERR_OUT_OF_RANGE'],
  ['maxPaths', 65, R, 'ERR_OUT_OF_RANGE'],
  ['maxPaths', 2.5, R, 'ERR_OUT_OF_RANGE'],
  ['keepAliveInterval', {}, T, 'ERR_INVALID_ARG_TYPE'],
  ['keepAliveInterval', 0, R, 'ERR_OUT_OF_RANGE'],
  ['keepAliveInterval', 3_600_001, R, 'ERR_OUT_OF_RANGE'],
  ['maxDatagramSize', '1500', T, 'ERR_INVALID_ARG_TYPE'],
  ['maxDatagramSize', 1199, R, 'ERR_OUT_OF_RANGE'],
  ['maxDatagramSize', 65508, R, 'ERR_OUT_OF_RANGE'],
  ['allowHalfOpen', 'yes', T, 'ERR_INVALID_ARG_TYPE'],
  ['scheduler', 'fastest', T, 'ERR_INVALID_ARG_VALUE'],
  ['scheduler', 7, T, 'ERR_INVALID_ARG_TYPE'],
  ['scheduler', { name: 'mine' }, T, 'ERR_INVALID_ARG_TYPE'],
];

describe('createServer() arguments', () => {
  it.each(BAD_CONNECTION_OPTIONS)('options.%s = %o → %O %s', (name, value, cls, code) => {
    expectThrow(() => createServer({ [name]: value } as never), cls, code);
  });

  it('rejects non-object options and a non-function listener', () => {
    expectThrow(() => createServer('x' as never), T, 'ERR_INVALID_ARG_TYPE');
    expectThrow(() => createServer(null as never), T, 'ERR_INVALID_ARG_TYPE');
    expectThrow(() => createServer([] as never), T, 'ERR_INVALID_ARG_TYPE');
    expectThrow(() => createServer({}, 42 as never), T, 'ERR_INVALID_ARG_TYPE');
  });

  it('checks maxConnections', () => {
    expectThrow(() => createServer({ maxConnections: '10' as never }), T, 'ERR_INVALID_ARG_TYPE');
    expectThrow(() => createServer({ maxConnections: 0 }), R, 'ERR_OUT_OF_RANGE');
    expectThrow(() => createServer({ maxConnections: 1.5 }), R, 'ERR_OUT_OF_RANGE');
  });

  it('refuses a scheduler object (one object cannot serve many connections)', () => {
    const scheduler = { name: 'mine', choose: () => null };
    expectThrow(() => createServer({ scheduler }), T, 'ERR_INVALID_ARG_TYPE');
  });

  it('accepts good options and a listener as first argument', () => {
    expect(() => createServer({ receiveWindow: 65536, congestionControl: 'newreno', idleTimeout: 0, maxPaths: 64 })).not.toThrow();
    expect(() => createServer({ congestionControl: 'olia', scheduler: 'blest', sendBufferSize: 1024 ** 3 })).not.toThrow();
    expect(() => createServer(() => undefined)).not.toThrow();
  });
});

describe('server.listen() arguments', () => {
  const cases: [string, unknown, ErrorClass, string][] = [
    ['a string port', '8080', T, 'ERR_INVALID_ARG_TYPE'],
    ['a negative port', -1, R, 'ERR_SOCKET_BAD_PORT'],
    ['port 65536', 65536, R, 'ERR_SOCKET_BAD_PORT'],
    ['a fractional port', 80.5, R, 'ERR_SOCKET_BAD_PORT'],
    ['options.port as a string', { port: '80' }, T, 'ERR_INVALID_ARG_TYPE'],
    ['options.port out of range', { port: 70000 }, R, 'ERR_SOCKET_BAD_PORT'],
    ['options.addresses not an array', { addresses: '127.0.0.1' }, T, 'ERR_INVALID_ARG_TYPE'],
    ['options.addresses empty', { addresses: [] }, R, 'ERR_OUT_OF_RANGE'],
    ['options.addresses too long', { addresses: Array(65).fill('127.0.0.1') }, R, 'ERR_OUT_OF_RANGE'],
    ['a non-IP address', { addresses: ['localhost'] }, T, 'ERR_INVALID_ARG_VALUE'],
    ['a non-string address', { addresses: [127001] }, T, 'ERR_INVALID_ARG_TYPE'],
    ['options.host not an IP', { host: 'example.com' }, T, 'ERR_INVALID_ARG_VALUE'],
    ['options.host with addresses', { host: '127.0.0.1', addresses: ['127.0.0.1'] }, T, 'ERR_INVALID_ARG_VALUE'],
    ['null options', null, T, 'ERR_INVALID_ARG_TYPE'],
  ];
  it.each(cases)('%s → %O %s', (_what, arg, cls, code) => {
    const server = createServer();
    expectThrow(() => server.listen(arg as never), cls, code);
    expect(server.listening).toBe(false);
  });

  it('rejects a non-function callback, a host that is not an address, a bad backlog', () => {
    expectThrow(() => createServer().listen({ port: 0 }, 'cb' as never), T, 'ERR_INVALID_ARG_TYPE');
    expectThrow(() => createServer().listen(0, 'cb'), T, 'ERR_INVALID_ARG_VALUE');
    expectThrow(() => createServer().listen(0, '127.0.0.1', -1), R, 'ERR_OUT_OF_RANGE');
    expectThrow(() => createServer().listen(0, '127.0.0.1', 'x' as never), T, 'ERR_INVALID_ARG_TYPE');
  });

  it("takes net's forms: (port, host, backlog, cb), (port, host, cb), (port, cb), (cb)", async () => {
    for (const args of [[0, '127.0.0.1', 511], [0, '127.0.0.1'], [0], []] as const) {
      const server = createServer();
      await new Promise<void>((resolve) => (server.listen as (...a: unknown[]) => unknown)(...args, resolve));
      expect(server.address()!.port).toBeGreaterThan(0);
      if (args.length > 1) expect(server.addresses().map((a) => a.address)).toEqual(['127.0.0.1']);
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('throws ERR_MPUDP_SERVER_RUNNING on a second listen()', async () => {
    const server = createServer();
    server.listen({ port: 0, addresses: ['127.0.0.1'] });
    expectThrow(() => server.listen(0), MpudpError, 'ERR_MPUDP_SERVER_RUNNING');
    await new Promise((resolve) => server.close(resolve));
  });

  it('close() of a server that is not running passes ERR_MPUDP_SERVER_NOT_RUNNING', async () => {
    const err = await new Promise((resolve) => createServer().close(resolve));
    expect(err).toBeInstanceOf(MpudpError);
    expect((err as MpudpError).code).toBe('ERR_MPUDP_SERVER_NOT_RUNNING');
  });
});

describe('connect() arguments', () => {
  it.each(BAD_CONNECTION_OPTIONS)('options.%s = %o → %O %s', (name, value, cls, code) => {
    expectThrow(() => connect({ port: 9, host: '127.0.0.1', [name]: value } as ConnectOptions), cls, code);
  });

  const cases: [string, unknown, ErrorClass, string][] = [
    ['no options', undefined, T, 'ERR_MISSING_ARGS'],
    ['a string', '127.0.0.1:9', T, 'ERR_INVALID_ARG_TYPE'],
    ['no port', { host: '127.0.0.1' }, T, 'ERR_MISSING_ARGS'],
    ['port 0', { port: 0, host: '127.0.0.1' }, R, 'ERR_SOCKET_BAD_PORT'],
    ['port 65536', { port: 65536 }, R, 'ERR_SOCKET_BAD_PORT'],
    ['a string port', { port: '9' }, T, 'ERR_INVALID_ARG_TYPE'],
    ['a non-string host', { port: 9, host: 127 }, T, 'ERR_INVALID_ARG_TYPE'],
    ['an empty host', { port: 9, host: '' }, T, 'ERR_INVALID_ARG_VALUE'],
    ['host and addresses', { port: 9, host: 'a', addresses: ['127.0.0.1'] }, T, 'ERR_INVALID_ARG_VALUE'],
    ['addresses not an array', { port: 9, addresses: '127.0.0.1' }, T, 'ERR_INVALID_ARG_TYPE'],
    ['addresses empty', { port: 9, addresses: [] }, R, 'ERR_OUT_OF_RANGE'],
    ['a non-IP address', { port: 9, addresses: ['server.example'] }, T, 'ERR_INVALID_ARG_VALUE'],
    ['an address without any port', { addresses: ['127.0.0.1'] }, T, 'ERR_MISSING_ARGS'],
    ['an address object without port', { addresses: [{ address: '127.0.0.1' }] }, T, 'ERR_MISSING_ARGS'],
    ['an address object with a bad port', { addresses: [{ address: '127.0.0.1', port: 0 }] }, R, 'ERR_SOCKET_BAD_PORT'],
    ['an address object with a bad address', { port: 9, addresses: [{ address: '1.2.3' }] }, T, 'ERR_INVALID_ARG_VALUE'],
    ['an address of the wrong type', { port: 9, addresses: [42] }, T, 'ERR_INVALID_ARG_TYPE'],
    ['localAddresses not an array', { port: 9, localAddresses: '127.0.0.1' }, T, 'ERR_INVALID_ARG_TYPE'],
    ['localAddresses empty', { port: 9, localAddresses: [] }, R, 'ERR_OUT_OF_RANGE'],
    ['a non-IP local address', { port: 9, localAddresses: ['eth0'] }, T, 'ERR_INVALID_ARG_VALUE'],
    ['backupAddresses not an array', { port: 9, backupAddresses: '127.0.0.2' }, T, 'ERR_INVALID_ARG_TYPE'],
    ['a non-IP backup address', { port: 9, backupAddresses: ['wlan0'] }, T, 'ERR_INVALID_ARG_VALUE'],
  ];
  it.each(cases)('%s → %O %s', (_what, options, cls, code) => {
    expectThrow(() => connect(options as ConnectOptions), cls, code);
  });

  it('rejects a non-function connectListener', () => {
    expectThrow(() => connect({ port: 9, host: '127.0.0.1' }, {} as never), T, 'ERR_INVALID_ARG_TYPE');
    expectThrow(() => connect(9, '127.0.0.1', {} as never), T, 'ERR_INVALID_ARG_TYPE');
    expectThrow(() => connect(9, (() => undefined) as never, (() => undefined) as never), T, 'ERR_INVALID_ARG_TYPE');
  });

  it("takes net's forms: connect(port, host, listener) and connect(port, listener)", async () => {
    const server = createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = server.address()!.port;
    await new Promise<void>((resolve, reject) => connect(port, '127.0.0.1', resolve).on('error', reject).resume());
    expectThrow(() => connect(0, '127.0.0.1'), R, 'ERR_SOCKET_BAD_PORT');
    expectThrow(() => connect('9' as never, '127.0.0.1'), T, 'ERR_INVALID_ARG_TYPE');
    await new Promise((resolve) => server.close(resolve));
  });

  it('reports no common address family asynchronously with ERR_MPUDP_NO_ADDRESS', async () => {
    const socket = connect({ port: 9, addresses: ['::1'], localAddresses: ['127.0.0.1'] });
    const err = await new Promise((resolve) => socket.once('error', resolve));
    expect(err).toBeInstanceOf(MpudpError);
    expect((err as MpudpError).code).toBe('ERR_MPUDP_NO_ADDRESS');
  });
});
