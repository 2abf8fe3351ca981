/**
 * `mpudp tunnel` in the two-ISP lab: Node's http server in the server
 * namespace and Node's http client in the client namespace, knowing nothing
 * of mpudp, talk through the tunnel (client side on a TCP port, one mpudp
 * connection over ISP A and ISP B, server side connecting to the http
 * server). ISP A is blackholed mid-download: the http client sees no error
 * and every byte arrives (SHA-256 against the server's).
 *
 * Needs root, ip, tc and nft: skipped with the reason where they are
 * missing, fails naming them under MPUDP_LAB=required.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADDR, labDown, labUp, runInNs, type Lab } from '../../lab/harness/netns.js';
import { REPO, type Report, type RoleProcess } from '../../lab/harness/process.js';
import { missingForLab } from '../../lab/harness/requirements.js';
import { describeNeeding } from './requirements.js';

const MiB = 1024 * 1024;
const SIZE = 48 * MiB;
const ROLE_HTTP = join(REPO, 'test/lab/roles/http.ts');
/** The command line itself: `mpudp tunnel` logs to stderr, which the harness reads as reports. */
const MPUDP = join(REPO, 'src/cli/main.ts');

describeNeeding('root, ip, tc, nft', missingForLab(), 'mpudp tunnel in the two-ISP lab', () => {
  let lab: Lab | undefined;
  const roles: RoleProcess[] = [];
  const start = (ns: string, script: string, args: string[]): RoleProcess => {
    const r = runInNs(ns, script, args, undefined, script === MPUDP);
    roles.push(r);
    return r;
  };
  const logged = (pattern: RegExp) => (r: Report): boolean => r.type === 'stderr' && pattern.test(String(r.text));

  beforeAll(async () => {
    lab = await labUp();
    const web = start(lab.srv, ROLE_HTTP, ['server', '--port', '8080']);
    await web.waitFor((r) => r.type === 'listening', 20_000, 'the http server');
    const server = start(lab.srv, MPUDP, ['tunnel', 'server', '--port', '4433', '--address', `${ADDR.serverA},${ADDR.serverB}`, '--target', '127.0.0.1:8080', '--max-datagram', '1472']);
    await server.waitFor(logged(/listening on udp/), 20_000, 'the tunnel server');
    const client = start(lab.cli, MPUDP, ['tunnel', 'client', '--listen', '8081', '--server', `${ADDR.serverA},${ADDR.serverB}`, '--port', '4433', '--local', `${ADDR.clientA},${ADDR.clientB}`, '--max-datagram', '1472']);
    await client.waitFor(logged(/listening on tcp/), 20_000, 'the tunnel client');
  }, 60_000);

  afterAll(async () => {
    for (const r of roles) await r.kill();
    await labDown(lab);
  }, 30_000);

  it('an http download through the tunnel survives ISP A blackholed mid-transfer: no error, every byte', async () => {
    const l = lab!;
    const get = start(l.cli, ROLE_HTTP, ['get', '--url', `http://127.0.0.1:8081/${SIZE}`, '--progress-every', String(MiB)]);
    await get.waitFor((r) => r.type === 'progress' && (r.bytes as number) >= 8 * MiB, 30_000, '8 MiB over both ISPs');
    await l.sh('blackhole', 'A');
    const mark = get.reports.length;
    const result = await get.waitFor((r) => r.type === 'result' || r.type === 'error', 90_000, 'the end of the download', mark);
    expect(result, JSON.stringify(result)).toMatchObject({ type: 'result', ok: true, bytes: SIZE });
    expect((await get.exited).code).toBe(0);
    // The tunnel carried one connection and closed it without an error.
    const tunnelClient = roles[2]!;
    const closed = await tunnelClient.waitFor(logged(/closed/), 20_000, 'the tunnelled connection to close');
    expect(String(closed.text)).not.toMatch(/\(/);
  }, 150_000);
});
