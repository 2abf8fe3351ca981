/**
 * What a side that only receives gets acknowledged: its window updates ask
 * for an ACK with a PING (the peer counts a DATA_ACK as not ack-eliciting).
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

describe('a side that only receives', () => {
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
