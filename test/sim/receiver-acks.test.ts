/**
 * What a side that only receives gets acknowledged. Its window updates ask
 * for an ACK with a PING (the peer counts a DATA_ACK as not ack-eliciting),
 * and it keeps its RTT estimate of each path fresh: its ACK-only packets
 * carry a PING about twice a round trip while data arrives (RFC 9000
 * §13.2.4; PathState.ackElicitingAckDue), and never once the data stops, so
 * two idle ends do not trade ACKs and PINGs.
 */
import { describe, expect, it } from 'vitest';
import { Pair, payload } from './scenario.js';

const MiB = 1024 * 1024;

/** The client writes `size` bytes without a FIN; runs until the server has read them. */
function upload(pair: Pair, size: number): void {
  const conn = pair.connect();
  const data = payload(size, 7);
  let offset = 0;
  const feed = (): void => {
    while (offset < size) {
      const n = conn.write(data.subarray(offset, Math.min(offset + 256 * 1024, size)));
      if (n === 0) break;
      offset += n;
    }
    pair.client.endpoint.touch(conn);
  };
  feed();
  expect(
    pair.world.runUntil(() => {
      if (offset < size && conn.writableBytes > 0) feed();
      return pair.server.receivedBytes >= size;
    }, 30_000),
  ).toBe(true);
}

describe('what a side that only receives gets acknowledged', () => {
  it('PINGs on its ACK-only packets go out about twice a round trip while data arrives, and its RTT follows the sender\'s queue', () => {
    // One 20 Mbit/s path, 40 ms of base RTT, a 250 KB buffer (100 ms):
    // the upload's slow start fills it, and the receiver's RTT must follow.
    const pair = new Pair({ seed: 3, clientAddresses: ['10.0.1.2'], links: [{ delayMs: 20, rateBps: 20e6, queueBytes: 250_000 }] });
    const t0 = pair.world.now;
    upload(pair, 8 * MiB);
    const elapsed = pair.world.now - t0;
    const server = pair.server.connection!;
    const client = pair.client.connection!;
    const sPath = server.pathList[0]!;
    const cPath = client.pathList[0]!;
    const pings = server.counters.rttPings;
    const msg = `${pings} PINGs in ${elapsed.toFixed(0)} ms; receiver srtt ${sPath.rtt.smoothed.toFixed(1)} ms, sender srtt ${cPath.rtt.smoothed.toFixed(1)} ms`;
    // At most one per half of the base RTT; at least one per two round trips with the queue.
    expect(pings, msg).toBeGreaterThan(elapsed / 280);
    expect(pings, msg).toBeLessThanOrEqual(elapsed / 20 + 1);
    // No PTO and no suspicion on the side that only receives.
    expect(sPath.counters.ptoCount, msg).toBe(0);
    expect(server.counters.earlySuspicions, msg).toBe(0);
    expect(client.counters.rttPings, msg).toBe(0);
    // The receiver's view of the path's RTT is the sender's, queue included.
    expect(Math.abs(sPath.rtt.smoothed - cPath.rtt.smoothed), msg).toBeLessThan(0.25 * cPath.rtt.smoothed);
    expect(sPath.rtt.smoothed, msg).toBeGreaterThan(60);
  });

  it('the PINGs stop with the data: two idle ends send no more than their keep-alives', () => {
    const pair = new Pair({ seed: 4, links: [{ delayMs: 5, rateBps: 50e6 }, { delayMs: 10, rateBps: 50e6 }] });
    upload(pair, 1 * MiB);
    // Let the last ACKs settle.
    pair.world.runUntil(() => false, 200);
    const client = pair.client.connection!;
    const server = pair.server.connection!;
    const before = client.counters.packetsSent + server.counters.packetsSent;
    const pingsBefore = client.counters.rttPings + server.counters.rttPings;
    pair.world.runUntil(() => false, 3_000);
    const sent = client.counters.packetsSent + server.counters.packetsSent - before;
    const msg = `${sent} packets in 3 s of idle`;
    // Keep-alives every second on each path from each end, and their ACKs:
    // 2 ends × 2 paths × 3 keep-alives × 2 packets. An ACK+PING exchange would be
    // one packet per 5 ms.
    expect(sent, msg).toBeLessThanOrEqual(24);
    // At most one more per path: the last DATA frame allows one, on the next ACK.
    expect(client.counters.rttPings + server.counters.rttPings - pingsBefore, msg).toBeLessThanOrEqual(2);
  });

  it('a window update is acknowledged although the peer has nothing more to send', () => {
    // The peer wrote 2 MiB and stopped: the receiver's last window updates
    // (DATA_ACK frames that count in flight) reach a peer with no packet of
    // its own to carry an ACK. Seen as not ack-eliciting there, they were
    // never acknowledged, and the receiver's PTO fired with nothing lost.
    const pair = new Pair({ seed: 5, clientAddresses: ['10.0.1.2'], links: [{ delayMs: 10, rateBps: 50e6 }], options: { receiveWindow: 256 * 1024 } });
    upload(pair, 2 * MiB);
    pair.world.runUntil(() => false, 2_000);
    const server = pair.server.connection!;
    const path = server.pathList[0]!;
    // Unacknowledged for longer than a round trip and the ACK delay: only a keep-alive just sent may be.
    const oldest = path.sent.ackElicitingInFlight === 0 ? pair.world.now : path.sent.oldestAckElicitingSentAt();
    const msg = `receiver: ${path.counters.ptoCount} PTOs, ${path.sent.ackElicitingInFlight} ack-eliciting packets unacknowledged (oldest ${(pair.world.now - oldest).toFixed(0)} ms), ${server.counters.earlySuspicions} suspicions`;
    expect(pair.world.now - oldest, msg).toBeLessThan(50);
    expect(path.counters.ptoCount, msg).toBe(0);
    expect(server.counters.earlySuspicions, msg).toBe(0);
  });
});
