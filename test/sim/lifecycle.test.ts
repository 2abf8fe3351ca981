/**
 * Connection lifecycle in the simulator: half-close both ways, graceful
 * close, abort, idle timeout, handshake timeout, retry cookies, flow control.
 */
import { describe, expect, it } from 'vitest';
import { EndpointCore } from '../../src/core/endpoint.js';
import { Pair, payload, sha256, transfer, SERVER_PORT } from './scenario.js';

const fast = { delayMs: 10, rateBps: 50e6 };

describe('connection lifecycle', () => {
  it('half-close: client ends first, server keeps writing, both sides end and close cleanly', () => {
    const pair = new Pair({ seed: 21, links: [fast, fast] });
    const up = payload(200_000, 1);
    expect(transfer(pair, up, 10_000)).toBe(true);
    const server = pair.server.connection!;
    // After the client's FIN the server can still send.
    const down = payload(300_000, 2);
    let off = 0;
    const feed = (): void => {
      while (off < down.length) {
        const n = server.write(down.subarray(off));
        if (n === 0) break;
        off += n;
      }
      if (off === down.length) server.end();
      pair.server.endpoint.touch(server);
    };
    feed();
    const ok = pair.world.runUntil(() => {
      feed();
      return pair.has(pair.client, 'closed') && pair.has(pair.server, 'closed');
    }, 20_000);
    expect(ok, 'both sides closed').toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(up));
    expect(sha256(pair.client.received)).toBe(sha256(down));
    const closed = pair.client.events.find((e) => e.event.type === 'closed')!.event;
    expect(closed).toMatchObject({ code: 'NO_ERROR' });
    expect(pair.server.events.find((e) => e.event.type === 'closed')!.event).toMatchObject({ code: 'NO_ERROR' });
    expect(pair.client.endpoint.connectionCount).toBe(0);
    expect(pair.server.endpoint.connectionCount).toBe(0);
  });

  it('half-close: server ends first, client keeps writing', () => {
    const pair = new Pair({ seed: 22, links: [fast, fast] });
    const client = pair.connect();
    pair.world.runUntil(() => pair.server.connection !== null && pair.has(pair.client, 'connected'), 5_000);
    const server = pair.server.connection!;
    server.write(payload(50_000, 3));
    server.end();
    pair.server.endpoint.touch(server);
    expect(pair.world.runUntil(() => pair.has(pair.client, 'end'), 5_000)).toBe(true);
    const up = payload(500_000, 4);
    expect(transfer(pair, up, 10_000)).toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(up));
    expect(pair.world.runUntil(() => client.isClosed && server.isClosed, 5_000)).toBe(true);
  });

  it('abort reaches the peer with its code', () => {
    const pair = new Pair({ seed: 23, links: [fast, fast] });
    const client = pair.connect();
    client.write(payload(100_000));
    pair.client.endpoint.touch(client);
    pair.world.runUntil(() => pair.server.receivedBytes > 0, 5_000);
    client.close(7, 'bye');
    pair.client.endpoint.touch(client);
    expect(pair.world.runUntil(() => pair.has(pair.server, 'closed'), 5_000)).toBe(true);
    expect(pair.server.events.find((e) => e.event.type === 'closed')!.event).toMatchObject({
      code: 'ERR_MPUDP_PEER_ABORTED',
      errorCode: 7,
      reason: 'bye',
      remote: true,
    });
    expect(pair.world.runUntil(() => client.isClosed, 5_000)).toBe(true);
    expect(pair.client.events.find((e) => e.event.type === 'closed')!.event).toMatchObject({ code: 'ERR_MPUDP_ABORTED' });
  });

  it('idle timeout closes both sides when the network goes silent', () => {
    const pair = new Pair({ seed: 24, links: [fast, fast], options: { idleTimeout: 3_000 } });
    pair.connect();
    pair.world.runUntil(() => pair.has(pair.client, 'connected'), 5_000);
    // Keep-alives hold an idle connection open...
    pair.world.runFor(10_000);
    expect(pair.client.connection!.isClosed).toBe(false);
    // ...until every link is cut.
    for (const l of pair.world.network.links()) l.set({ blackhole: true });
    const cutAt = pair.world.now;
    expect(pair.world.runUntil(() => pair.has(pair.client, 'closed') && pair.has(pair.server, 'closed'), 10_000)).toBe(true);
    const ev = pair.client.events.find((e) => e.event.type === 'closed')!;
    expect(ev.event).toMatchObject({ code: 'ERR_MPUDP_IDLE_TIMEOUT' });
    expect(ev.time - cutAt).toBeLessThanOrEqual(3_000 + 1);
  });

  it('handshake times out when no server address answers', () => {
    const pair = new Pair({ seed: 25 });
    for (const l of pair.world.network.links()) l.set({ blackhole: true });
    const client = pair.connect();
    expect(pair.world.runUntil(() => client.isClosed, 30_000)).toBe(true);
    expect(pair.client.events.at(-1)!.event).toMatchObject({ code: 'ERR_MPUDP_HANDSHAKE_TIMEOUT' });
  });

  it('connects through a stateless retry when the server demands a cookie', () => {
    const pair = new Pair({ seed: 26 });
    // Swap in a server that always asks for a cookie.
    const retrying = new EndpointCore({ random: pair.world.random(), server: true, retry: 'always' });
    (pair.server as { endpoint: EndpointCore }).endpoint = retrying;
    pair.world.removeNode(pair.world.network.ownerOf('10.0.0.1')!);
    pair.world.addNode(
      {
        handleDatagram: (d, l, r, now) => {
          retrying.handleDatagram(d, l, r, now);
          pair.pump(pair.server);
        },
        handleTimeout: (now) => {
          retrying.handleTimeout(now);
          pair.pump(pair.server);
        },
        pollTransmit: (now) => retrying.pollTransmit(now),
        pollTimeout: () => retrying.pollTimeout(),
      },
      '10.0.0.1',
    );
    const data = payload(100_000);
    expect(transfer(pair, data, 10_000)).toBe(true);
    // One Initial per client address, so one retry each; the first cookie wins.
    expect(retrying.stats().retriesSent).toBe(2);
    expect(sha256(pair.server.received)).toBe(sha256(data));
  });

  it('a slow reader bounds the sender: flow control holds bytes in the send buffer, then all arrive', () => {
    const pair = new Pair({ seed: 27, links: [fast, fast], options: { receiveWindow: 256 * 1024, sendBufferSize: 512 * 1024 } });
    pair.server.paused = true;
    const client = pair.connect();
    const data = payload(4 * 1024 * 1024, 5);
    let off = 0;
    const feed = (): void => {
      while (off < data.length) {
        const n = client.write(data.subarray(off, off + 65536));
        if (n === 0) break;
        off += n;
      }
      if (off === data.length) client.end();
      pair.client.endpoint.touch(client);
    };
    feed();
    pair.world.runUntil(() => {
      feed();
      return false;
    }, 3_000);
    // The sender took no more than its buffer, and sent no more than the window.
    expect(off).toBeLessThanOrEqual(512 * 1024 + 256 * 1024 + 65536);
    expect(client.sendBuffer.sendOffset).toBeLessThanOrEqual(256 * 1024);
    expect(client.writableBytes).toBe(0);
    pair.server.paused = false;
    pair.read(pair.server);
    expect(pair.world.runUntil(() => {
      feed();
      return pair.has(pair.server, 'end');
    }, 60_000)).toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(data));
    void SERVER_PORT;
  });
});
