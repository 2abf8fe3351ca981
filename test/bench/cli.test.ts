/**
 * `mpudp bench` (src/cli/bench/): the command line, and one short run of
 * each test over loopback between a server and a client process, with
 * --json output parsed as the bench runner parses it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError, parseBytes, parseCommand } from '../../src/cli/bench/index.js';
import { freePort, runClientRole, spawnBench, startServer, stopServer } from '../../lab/harness/bench-roles.js';
import type { RoleProcess } from '../../lab/harness/process.js';

describe('mpudp bench command line', () => {
  it('parses a client with its defaults', () => {
    const c = parseCommand(['client', '127.0.0.1,127.0.0.2', '--local', '127.0.0.1', '--local', '127.0.0.2', '--paired', '--bytes', '10M']);
    expect(c.role).toBe('client');
    if (c.role !== 'client') return;
    expect(c.config.hosts).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(c.config.locals).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(c.config.paired).toBe(true);
    expect(c.config.bytes).toBe(10 * 1024 * 1024);
    expect(c.config.transport).toBe('mpudp');
    expect(c.config.mode).toBe('bulk');
    expect(c.config.port).toBe(5201);
    expect(c.config.timeMs).toBe(10_000);
  });

  it('parses a server serving every transport by default', () => {
    const c = parseCommand(['server', '--address', '127.0.0.1', '--scheduler', 'redundant', '--no-advertise']);
    expect(c.role).toBe('server');
    if (c.role !== 'server') return;
    expect(c.config.transports).toEqual(['mpudp', 'tcp', 'udp']);
    expect(c.config.scheduler).toBe('redundant');
    expect(c.config.advertise).toBe(false);
  });

  it('refuses bad input with a usage error naming it', () => {
    expect(() => parseCommand(['client'])).toThrow(UsageError);
    expect(() => parseCommand(['client', 'example.com'])).toThrow(/not an IP address/);
    expect(() => parseCommand(['client', '127.0.0.1', '--transport', 'quic'])).toThrow(/--transport/);
    expect(() => parseCommand(['client', '127.0.0.1', '--scheduler', 'fastest'])).toThrow(/--scheduler/);
    expect(() => parseCommand(['client', '127.0.0.1', '--parallel', '0'])).toThrow(/--parallel/);
    expect(() => parseCommand(['server', '127.0.0.1'])).toThrow(/takes no host/);
    expect(() => parseCommand(['dance'])).toThrow(/unknown role/);
    expect(() => parseCommand(['client', '127.0.0.1', '--bogus'])).toThrow(UsageError);
    expect(parseBytes('64K')).toBe(65536);
    expect(parseBytes('1.5M')).toBe(1.5 * 1024 * 1024);
    expect(() => parseBytes('lots')).toThrow(/invalid byte count/);
  });
});

describe('mpudp bench over loopback', () => {
  let server: RoleProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    server = await startServer(['--port', String(port), '--address', '127.0.0.1']);
  });
  afterAll(async () => {
    await stopServer(server);
  });
  const client = (args: string[]) => runClientRole(['127.0.0.1', '--port', String(port), '--interval', '0.2', ...args], { timeoutMs: 60_000 });

  it('verifies an mpudp upload and a TCP download byte for byte', async () => {
    const up = await client(['--local', '127.0.0.1', '--bytes', '512K', '--verify']);
    expect(up.bytes).toBe(512 * 1024);
    expect(up.intact).toBe(1);
    expect(up.bps).toBeGreaterThan(0);
    const down = await client(['--transport', 'tcp', '--reverse', '--bytes', '256K', '--bin-ms', '50']);
    expect(down.bytes).toBe(256 * 1024);
    const tl = down.timeline as { columns: string[]; rows: number[][] };
    expect(tl.columns.slice(0, 2)).toEqual(['t', 'delivered']);
    expect(tl.rows[tl.rows.length - 1]![1]).toBe(256 * 1024);
  });

  it('checks a download against the seeded pattern; an upload brings back the server\'s timeline and delivery gaps', async () => {
    const down = await client(['--local', '127.0.0.1', '--reverse', '--bytes', '300K', '--verify', '--seed', '42']);
    expect(down).toMatchObject({ bytes: 300 * 1024, intact: 1, failed: 0 });
    expect((down.receiver as { mismatchAt: unknown }).mismatchAt).toBeNull();
    const up = await client(['--local', '127.0.0.1', '--bytes', '256K', '--verify', '--bin-ms', '20']);
    const receiver = up.receiver as { intact: boolean; sha256: string; gaps: unknown[] };
    expect(receiver.intact).toBe(true);
    expect(receiver.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Array.isArray(receiver.gaps)).toBe(true);
    const tl = up.timeline as { columns: string[]; rows: number[][] };
    expect(tl.columns.slice(0, 3)).toEqual(['t', 'delivered', 'path:0']);
    expect(tl.rows[tl.rows.length - 1]![1]).toBe(256 * 1024);
  });

  it('stdin: `paths` reports the paths, `stop` ends a timed upload early, intact; path events are reported', async () => {
    // Two local addresses: the second path comes up after 'connect'.
    const role = spawnBench(['client', '127.0.0.1', '--port', String(port), '--local', '127.0.0.1,127.0.0.2', '--time', '60', '--verify', '--interval', '0.1'], { name: 'client' });
    try {
      await role.waitFor((r) => r.type === 'interval' && (r.totalBytes as number) > 256 * 1024, 20_000, '256 KiB sent');
      const up = await role.waitFor((r) => r.type === 'path-up', 10_000, 'the second path up');
      expect(up).toMatchObject({ local: '127.0.0.2', remote: '127.0.0.1', role: 'client' });
      role.send('paths');
      const paths = await role.waitFor((r) => r.type === 'paths', 10_000, 'the paths');
      expect((paths.paths as { state: string }[]).map((p) => p.state)).toEqual(['active', 'active']);
      role.send('stop');
      const result = await role.waitFor((r) => r.type === 'result', 20_000, 'the result');
      expect(result.intact).toBe(1);
      expect(result.sendMs as number).toBeLessThan(30_000);
      expect((await role.exited).code).toBe(0);
    } finally {
      await role.kill();
    }
  });

  it('counts a raw udp blast at the server', async () => {
    const r = await client(['--transport', 'udp', '--time', '0.3']);
    expect(r.datagramsSent).toBeGreaterThan(0);
    expect(r.datagramsReceived).toBeGreaterThan(0);
    expect(r.datagramsReceived as number).toBeLessThanOrEqual(r.datagramsSent as number);
    expect(r.bytes).toBe((r.datagramsReceived as number) * 1200);
  });

  it('times request/response round trips and handshakes', async () => {
    const rr = await client(['--local', '127.0.0.1', '--mode', 'rr', '--count', '50', '--warmup', '5']);
    expect(rr.count).toBe(50);
    expect(rr.p50Ms as number).toBeGreaterThan(0);
    expect(rr.p99Ms as number).toBeGreaterThanOrEqual(rr.p50Ms as number);
    const hs = await client(['--transport', 'tcp', '--mode', 'connect', '--count', '20', '--concurrency', '4']);
    expect(hs.handshakes).toBe(20);
    expect(hs.errors).toBe(0);
  });
});
