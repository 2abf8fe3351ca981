/**
 * Spoofed and junk Initials against the sans-IO server endpoint (issue 9):
 * nothing is announced before a handshake completes from a validated
 * address, junk creates nothing and counts toward the retry threshold, a
 * flood turns into stateless Retries, one source cannot hold more than its
 * share, and what half-open handshakes hold is small and bounded.
 */
import { describe, expect, it, vi } from 'vitest';
import { Connection } from '../../src/core/connection.js';
import { EndpointCore } from '../../src/core/endpoint.js';
import type { SocketAddress } from '../../src/core/types.js';
import { Rng } from '../../lab/random.js';
import { heapAfterGc } from './gc.js';

const SERVER: SocketAddress = { address: '10.0.0.1', port: 443 };

/** A well-formed Initial from a fresh client connection, as a spoofer would send it. */
function initial(rng: Rng, cookie?: Uint8Array): Uint8Array {
  const client = new EndpointCore({ random: rng.source(), server: false });
  client.connect({ localAddresses: [{ address: '10.9.0.1', port: 1 }], remoteAddresses: [SERVER] }, 0);
  void cookie;
  return client.pollTransmit(0)!.data;
}

function spoofed(i: number): SocketAddress {
  return { address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 1024 + (i % 60000) };
}

function server(rng: Rng, extra: Partial<ConstructorParameters<typeof EndpointCore>[0]> = {}): EndpointCore {
  return new EndpointCore({ random: rng.source(), server: true, localAddresses: [SERVER], ...extra });
}

/** Drains everything the endpoint wants to send; returns the datagrams and 'accepted' events. */
function drain(ep: EndpointCore, now: number): { sent: Uint8Array[]; accepted: number } {
  const sent: Uint8Array[] = [];
  for (let t = ep.pollTransmit(now); t !== null; t = ep.pollTransmit(now)) sent.push(t.data);
  let accepted = 0;
  for (let e = ep.pollEvent(); e !== null; e = ep.pollEvent()) if (e.type === 'accepted') accepted++;
  return { sent, accepted };
}

describe('spoofed Initials', () => {
  it('announce nothing, turn into Retries past the threshold, hold a small bounded amount of memory, and expire', () => {
    const rng = new Rng(1);
    const ep = server(rng, { retryThreshold: 200 });
    const initials = Array.from({ length: 1000 }, () => initial(rng));
    const before = heapAfterGc();
    let accepted = 0;
    for (let i = 0; i < initials.length; i++) {
      ep.handleDatagram(initials[i]!, SERVER, spoofed(i), 1000);
      accepted += drain(ep, 1000).accepted;
    }
    const held = heapAfterGc() - before;
    const stats = ep.stats();
    expect(accepted).toBe(0);
    expect(stats.accepted).toBe(0);
    // State for the first 200, stateless Retries for the rest.
    expect(stats.halfOpen).toBe(200);
    expect(stats.retriesSent).toBe(800);
    const perHalfOpen = held / stats.halfOpen;
    console.log(`memory held per half-open handshake: ${(perHalfOpen / 1024).toFixed(1)} KiB (${stats.halfOpen} held, ${stats.retriesSent} retries)`);
    expect(perHalfOpen).toBeLessThan(16 * 1024);
    // Ten seconds later every half-open handshake is gone, silently.
    ep.handleTimeout(1000 + 10_001);
    drain(ep, 1000 + 10_001);
    expect(ep.stats().halfOpen).toBe(0);
    expect(ep.stats().connections).toBe(0);
    expect(ep.stats().drops['half-open-expired']).toBe(200);
  });

  it('one source holds at most its share of half-open handshakes; beyond it, Retry (auto) or refusal (never)', () => {
    const rng = new Rng(2);
    const from: SocketAddress = { address: '10.66.0.1', port: 4000 };
    for (const mode of ['auto', 'never'] as const) {
      const ep = server(rng, { retry: mode, maxHalfOpenPerSource: 8 });
      for (let i = 0; i < 50; i++) ep.handleDatagram(initial(rng), SERVER, { ...from, port: 4000 + i }, 1000);
      drain(ep, 1000);
      expect(ep.stats().halfOpen).toBe(8);
      if (mode === 'auto') expect(ep.stats().retriesSent).toBe(42);
      else expect(ep.stats().drops['half-open-per-source']).toBe(42);
    }
  });
});

describe('junk Initials', () => {
  it('create nothing, are counted, and push the server into retry mode', () => {
    const rng = new Rng(3);
    const ep = server(rng, { retryThreshold: 100 });
    const junk = new Uint8Array(1200);
    for (let i = 0; i < 150; i++) {
      junk.set(rng.bytes(1200));
      junk[0] = 0x40; // "Initial"
      ep.handleDatagram(junk, SERVER, spoofed(i), 1000);
    }
    expect(drain(ep, 1000).sent.length).toBe(0);
    expect(ep.stats().connections).toBe(0);
    expect(ep.stats().drops['bad-initial']).toBe(150);
    // A real Initial now gets a Retry: junk counted toward the threshold.
    ep.handleDatagram(initial(rng), SERVER, spoofed(999), 1500);
    expect(ep.stats().retriesSent).toBe(1);
    expect(ep.stats().halfOpen).toBe(0);
    // Two quiet seconds later the junk no longer counts.
    ep.handleDatagram(initial(rng), SERVER, spoofed(1000), 3500);
    expect(ep.stats().halfOpen).toBe(1);
  });

  it('reach no Connection and no key agreement: what made one cost 670 µs is never done for junk or for an Initial answered by Retry', () => {
    const rng = new Rng(5);
    // Every server Connection is run on its Initial at once (EndpointCore.accept), so this counts the connections created.
    const run = vi.spyOn(Connection.prototype, 'handleDatagram');
    try {
      const ep = server(rng, { retry: 'always' });
      for (let i = 0; i < 500; i++) {
        const d = rng.bytes(1200);
        d[0] = 0x40;
        ep.handleDatagram(d, SERVER, spoofed(i), 1000);
      }
      for (let i = 0; i < 100; i++) ep.handleDatagram(initial(rng), SERVER, spoofed(1000 + i), 1000);
      expect(run).not.toHaveBeenCalled();
      expect(ep.stats().retriesSent).toBe(100);
      // The same well-formed Initial without retry does reach one: the spy sees it.
      const open = server(rng, { retry: 'never' });
      open.handleDatagram(initial(rng), SERVER, spoofed(2000), 1000);
      expect(run).toHaveBeenCalledTimes(1);
    } finally {
      run.mockRestore();
    }
  });

  it('a fault in the connection a checked Initial creates is that connection\'s alone: counted, nothing left half-open, the endpoint goes on', () => {
    const rng = new Rng(6);
    // A controller name the core does not know makes every new server connection throw on its first datagram.
    const ep = server(rng, { retry: 'never', connectionDefaults: { congestionControl: 'bogus' as never } });
    for (let i = 0; i < 3; i++) ep.handleDatagram(initial(rng), SERVER, spoofed(i), 1000);
    expect(drain(ep, 1000).accepted).toBe(0);
    expect(ep.stats()).toMatchObject({ internalErrors: 3, connections: 0, halfOpen: 0 });
    expect(ep.stats().drops['internal-error']).toBe(3);
    expect(ep.lastInternalError?.message).toContain('unknown congestion controller');
    // The endpoint itself still works: junk is still counted.
    const d = rng.bytes(1200);
    d[0] = 0x40;
    ep.handleDatagram(d, SERVER, spoofed(9), 1000);
    expect(ep.stats().drops['bad-initial']).toBe(1);
  });

  it('each costs little server CPU (measured, not asserted: see the closing note and bench)', () => {
    const rng = new Rng(4);
    const ep = server(rng);
    const datagrams = Array.from({ length: 2000 }, () => {
      const d = rng.bytes(1200);
      d[0] = 0x40;
      return d;
    });
    const t0 = performance.now();
    for (let i = 0; i < datagrams.length; i++) ep.handleDatagram(datagrams[i]!, SERVER, spoofed(i), 1000);
    const us = ((performance.now() - t0) * 1000) / datagrams.length;
    console.log(`junk Initial: ${us.toFixed(1)} µs of server CPU each`);
    expect(ep.stats().connections).toBe(0);
    expect(ep.stats().drops['bad-initial']).toBe(2000);
  });
});
