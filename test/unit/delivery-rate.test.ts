import { describe, expect, it } from 'vitest';
import { DeliveryRateEstimator, type PacketDeliveryState } from '../../src/core/cc/delivery-rate.js';
import { WindowedMax } from '../../src/core/cc/windowed-max.js';

function packet(pn: number, timeSent: number, size = 1000): PacketDeliveryState {
  return { packetNumber: pn, timeSent, size, delivered: 0, deliveredTime: 0, firstSentTime: 0, appLimited: false, txInFlight: 0, lostBefore: 0 };
}

/** Sends `p` with `inflight` bytes in flight including it. */
function send(e: DeliveryRateEstimator, p: PacketDeliveryState, inflight: number): PacketDeliveryState {
  e.onPacketSent(p, inflight);
  return p;
}

function ack(e: DeliveryRateEstimator, ps: PacketDeliveryState[], now: number, minRtt = 0) {
  e.beginAck();
  for (const p of ps) e.onPacketAcked(p, now);
  return { ...e.endAck(minRtt) };
}

describe('DeliveryRateEstimator (draft-cheng-iccrg-delivery-rate-estimation)', () => {
  it('snapshots the delivery state into each packet at send time', () => {
    const e = new DeliveryRateEstimator();
    const a = send(e, packet(0, 100), 1000);
    expect(a.firstSentTime).toBe(100); // nothing was in flight: the interval starts now
    expect(a.deliveredTime).toBe(100);
    expect(a.delivered).toBe(0);
    expect(a.txInFlight).toBe(1000);
    const b = send(e, packet(1, 101), 2000);
    expect(b.firstSentTime).toBe(100); // still the first send of the flight
    expect(b.txInFlight).toBe(2000);
    ack(e, [a], 120);
    const c = send(e, packet(2, 121), 2000);
    expect(c.delivered).toBe(1000);
    expect(c.deliveredTime).toBe(120);
    expect(c.firstSentTime).toBe(100); // the send time of the packet most recently delivered
  });

  it('a window of packets acknowledged one RTT later gives the rate the pipe delivered', () => {
    const e = new DeliveryRateEstimator();
    // 10 packets of 1000 bytes paced 1 ms apart; each acknowledged 20 ms after its send.
    const ps: PacketDeliveryState[] = [];
    for (let i = 0; i < 10; i++) ps.push(send(e, packet(i, i), (i + 1) * 1000));
    let rs = ack(e, ps.slice(0, 1), 20, 20);
    expect(rs.hasData).toBe(true);
    expect(rs.rtt).toBe(20);
    for (let i = 1; i < 10; i++) rs = ack(e, [ps[i]!], 20 + i, 20);
    // The last sample: 10 packets delivered since the first was sent... over max(send 9 ms, ack 29 ms).
    expect(rs.delivered).toBe(10_000);
    expect(rs.interval).toBe(29);
    expect(rs.deliveryRate).toBeCloseTo(10_000 / 29, 6);
    expect(rs.totalDelivered).toBe(10_000);
  });

  it('takes the longer of the send and the ACK intervals (ACK compression does not inflate the rate)', () => {
    const e = new DeliveryRateEstimator();
    const ps: PacketDeliveryState[] = [];
    for (let i = 0; i < 10; i++) ps.push(send(e, packet(i, 10 * i), (i + 1) * 1000)); // sent over 90 ms
    // Every ACK arrives at once (compressed) at t = 100.
    const rs = ack(e, ps, 100);
    expect(rs.newlyAcked).toBe(10_000);
    // The newest packet (sent at 90, first of its flight at 0): send_elapsed 90, ack_elapsed 100 - 0.
    expect(rs.interval).toBe(100);
    expect(rs.deliveryRate).toBeCloseTo(100, 6);
  });

  it('gives no rate for an ACK interval that spans a change of the ACKs\' route, and rates again after it', () => {
    // 1000-byte packets sent every 0.5 ms into a bottleneck that delivers one
    // a ms, 15 ms each way. At t = 85 the receiver starts sending its ACKs
    // back on a route 14 ms shorter: the first ACK on it (t = 86) covers 15
    // packets whose ACKs on the old route were still on their way.
    const run = (noteChange: boolean): { atChange: ReturnType<typeof ack>; after: number[] } => {
      const e = new DeliveryRateEstimator();
      const ps: PacketDeliveryState[] = [];
      // The newest packet an ACK arriving at t covers (ACK frames are cumulative):
      // received by t − 15 on the old route, by t − 1 on the new one.
      const covered = (t: number): number => Math.floor(t >= 86 ? t - 16 : t - 30);
      let acked = 0;
      const done: boolean[] = [];
      let atChange: ReturnType<typeof ack> | null = null;
      const after: number[] = [];
      for (let t = 0; t <= 300; t += 0.5) {
        // The ACK frame covers every packet received so far: the first on the
        // new route newly acknowledges those whose old-route ACKs are still out.
        const newly = ps.filter((_p, i) => !done[i] && i <= covered(t));
        for (const p of newly) done[p.packetNumber] = true;
        acked += newly.length;
        if (newly.length > 0) {
          if (t === 86 && noteChange) e.onAckRouteChange(t);
          const rs = ack(e, newly, t, 20);
          if (t === 86) atChange = rs;
          // Packets sent after the change (from t = 86, index 172) are acknowledged from t = 188.
          else if (t >= 188) after.push(rs.deliveryRate);
        }
        if (ps.length < 500) ps.push(send(e, packet(ps.length, t), (ps.length + 1 - acked) * 1000));
      }
      return { atChange: atChange!, after };
    };
    const plain = run(false);
    // Across the change the ACK interval is 14 ms short: the rate reads high.
    expect(plain.atChange.newlyAcked).toBe(15_000);
    expect(plain.atChange.deliveryRate).toBeGreaterThan(1.2 * 1000);
    const noted = run(true);
    expect(noted.atChange.deliveryRate).toBe(0);
    // Samples whose ACK interval starts after the change rate again, at the bottleneck's rate.
    expect(noted.after.length).toBeGreaterThan(10);
    for (const r of noted.after) expect(r).toBeCloseTo(1000, -1);
  });

  it('gives no rate for an interval shorter than the minimum RTT', () => {
    const e = new DeliveryRateEstimator();
    const a = send(e, packet(0, 0), 1000);
    const rs = ack(e, [a], 5, 20);
    expect(rs.hasData).toBe(true);
    expect(rs.deliveryRate).toBe(0);
  });

  it('marks samples application-limited until the bubble is acknowledged', () => {
    const e = new DeliveryRateEstimator();
    const a = send(e, packet(0, 0), 1000);
    const b = send(e, packet(1, 1), 2000);
    e.markAppLimited(2000); // the bubble ends after delivered (0) + inflight (2000)
    expect(e.appLimitedUntil).toBe(2000);
    const c = send(e, packet(2, 2), 3000);
    expect(a.appLimited).toBe(false);
    expect(c.appLimited).toBe(true);
    expect(ack(e, [a, b], 20).isAppLimited).toBe(false);
    expect(e.appLimitedUntil).toBe(2000); // delivered is 2000, not beyond yet
    expect(ack(e, [c], 22).isAppLimited).toBe(true);
    expect(e.appLimitedUntil).toBe(0); // the bubble is gone
    const d = send(e, packet(3, 23), 1000);
    expect(d.appLimited).toBe(false);
  });

  it('counts lost bytes between a packet’s send and its ACK, and newly lost bytes per ACK', () => {
    const e = new DeliveryRateEstimator();
    const ps = [0, 1, 2, 3].map((i) => send(e, packet(i, i), (i + 1) * 1000));
    e.onPacketLost(ps[0]!);
    e.onPacketLost(ps[1]!);
    const rs = ack(e, [ps[2]!, ps[3]!], 25);
    expect(rs.newlyLost).toBe(2000);
    expect(rs.lost).toBe(2000); // lost after packet 3 was sent
    expect(rs.txInFlight).toBe(4000);
    expect(rs.totalLost).toBe(2000);
    expect(ack(e, [], 26).newlyLost).toBe(0);
  });
});

describe('WindowedMax', () => {
  it('keeps the maximum of the last `length` steps', () => {
    const f = new WindowedMax(2);
    expect(f.update(5, 0)).toBe(5);
    expect(f.update(3, 0)).toBe(5);
    expect(f.update(4, 1)).toBe(5); // steps 0 and 1
    expect(f.update(2, 2)).toBe(4); // step 0 left the window
    expect(f.best(3)).toBe(2);
    expect(f.best(4)).toBe(0);
  });

  it('a shorter window on a longer filter (extra_acked in Startup)', () => {
    const f = new WindowedMax(10);
    f.update(9, 0);
    expect(f.update(1, 1, 1)).toBe(1);
    expect(f.best(1)).toBe(9);
    f.reset();
    expect(f.best(1)).toBe(0);
  });
});
