/**
 * The shared client endpoint's ref count (src/io/client-endpoints.ts): the
 * endpoint keeps the process alive while any lease wants it to, and hears
 * ref()/unref() only when that changes, not once per lease and release
 * (each walks every socket). Real sockets on loopback: the server address
 * is a plain UDP socket that ignores the Initials.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { leaseClientEndpoint, type LeaseRequest } from '../../src/io/client-endpoints.js';
import { UdpEndpoint } from '../../src/io/udp-endpoint.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('shared client endpoint', () => {
  it('refs and unrefs its endpoint only when the leases wanting it go from none to some and back', async () => {
    const server = createSocket('udp4');
    server.bind(0, '127.0.0.1');
    await once(server, 'listening');
    const ref = vi.spyOn(UdpEndpoint.prototype, 'ref');
    const unref = vi.spyOn(UdpEndpoint.prototype, 'unref');
    const request: LeaseRequest = {
      handler: { accepted: () => undefined, connectionEvent: () => undefined, endpointFailed: () => undefined },
      locals: ['127.0.0.1'],
      tolerant: false,
      remotes: [{ address: '127.0.0.1', port: server.address().port }],
      config: {},
      // An interval no other test uses: these leases share an endpoint of their own.
      watch: { interval: 61_237 },
      wanted: () => false,
      cancelled: () => false,
    };
    const a = (await leaseClientEndpoint(request))!;
    const b = (await leaseClientEndpoint(request))!;
    expect(b.endpoint).toBe(a.endpoint);
    // A new endpoint starts refed: two leases wanting it change nothing.
    expect(ref).toHaveBeenCalledTimes(0);
    expect(unref).toHaveBeenCalledTimes(0);

    a.unref();
    expect(unref).toHaveBeenCalledTimes(0); // b still wants it
    b.unref();
    expect(unref).toHaveBeenCalledTimes(1);
    a.unref();
    expect(unref).toHaveBeenCalledTimes(1);
    a.ref();
    b.ref();
    expect(ref).toHaveBeenCalledTimes(1);

    // A third lease on a refed endpoint, and releases while another still wants it: no call.
    const c = (await leaseClientEndpoint(request))!;
    expect(c.endpoint).toBe(a.endpoint);
    a.release();
    c.release();
    expect(ref).toHaveBeenCalledTimes(1);
    expect(unref).toHaveBeenCalledTimes(1);
    // The last one wanting it lets go.
    b.unref();
    expect(unref).toHaveBeenCalledTimes(2);
    b.release();
    expect(a.endpoint.isClosed).toBe(true);
    server.close();
  });
});
