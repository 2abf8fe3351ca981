import { describe, expect, it } from 'vitest';
import { RttEstimator } from '../../src/core/path/rtt.js';
import {
  K_PACKET_THRESHOLD,
  K_TIME_THRESHOLD,
  LOST_KEPT,
  LOST_MEMORY_RTTS,
  MAX_PACKET_THRESHOLD,
  MAX_TIME_THRESHOLD,
  SentPackets,
} from '../../src/core/path/sent-packets.js';
import { CongestionUndo } from '../../src/core/cc/congestion-undo.js';

const MAD = 25;

/** Sends packets first..last, one every `gap` ms from t0, 1000 bytes each. */
function sendRun(sp: SentPackets<string>, first: number, last: number, t0: number, gap: number): void {
  for (let pn = first; pn <= last; pn++) sp.onSent(pn, t0 + (pn - first) * gap, 1000, true, true, `p${pn}`);
}

const pns = (list: readonly { packetNumber: number }[]): number[] => list.map((p) => p.packetNumber);

describe('spurious losses and adaptive reordering thresholds (RFC 9002 §6.1)', () => {
  it('a packet declared lost that an ACK later covers is spurious, and the thresholds grow to what would have spared it', () => {
    const sp = new SentPackets<string>();
    const rtt = new RttEstimator();
    sendRun(sp, 0, 29, 0, 0.1);
    // Packet 0 is overtaken by 29 others: RFC 9002's threshold of 3 declares it lost.
    const first = sp.onAck([{ smallest: 1, largest: 29 }], 20, rtt, 0, MAD);
    expect(pns(first.lost)).toEqual([0]);
    expect(first.spurious).toEqual([]);
    expect(sp.packetThreshold).toBe(K_PACKET_THRESHOLD);
    expect(sp.timeThreshold).toBe(K_TIME_THRESHOLD);
    // It arrives 2 ms later: the next ACK covers it.
    const second = sp.onAck([{ smallest: 0, largest: 29 }], 22, rtt, 0, MAD);
    expect(second.acked).toEqual([]);
    expect(second.spurious).toEqual([{ packetNumber: 0, timeSent: 0, lostAt: 20, inFlight: true }]);
    // Distance: 29 was acknowledged while 0 was missing, so 30 packets must be tolerated.
    expect(sp.packetThreshold).toBe(30);
    // Time: it took 22 ms against an RTT of 17.1 ms.
    expect(sp.timeThreshold).toBeCloseTo(22 / 17.1, 6);
    // The same reordering again is no loss.
    sendRun(sp, 30, 59, 30, 0.1);
    const third = sp.onAck([{ smallest: 31, largest: 59 }], 48, rtt, 0, MAD);
    expect(third.lost).toEqual([]);
    const fourth = sp.onAck([{ smallest: 30, largest: 59 }], 50, rtt, 0, MAD);
    expect(pns(fourth.acked)).toEqual([30]);
    expect(fourth.spurious).toEqual([]);
  });

  it('still declares a real loss, by the time threshold, and it is not spurious', () => {
    const sp = new SentPackets<string>();
    const rtt = new RttEstimator();
    sendRun(sp, 0, 29, 0, 0.1);
    sp.onAck([{ smallest: 1, largest: 29 }], 20, rtt, 0, MAD);
    sp.onAck([{ smallest: 0, largest: 29 }], 22, rtt, 0, MAD);
    expect(sp.packetThreshold).toBe(30);
    // Packet 30 never arrives; the packets after it do.
    sendRun(sp, 30, 59, 30, 0.1);
    expect(sp.onAck([{ smallest: 31, largest: 59 }], 48, rtt, 0, MAD).lost).toEqual([]);
    expect(sp.lossTime).not.toBeNull();
    const due = sp.lossTime!;
    expect(due).toBeLessThan(30 + MAX_TIME_THRESHOLD * 17.1 + 1e-9);
    expect(pns(sp.detectLost(due, rtt))).toEqual([30]);
    // A later ACK that does not cover it proves nothing.
    sendRun(sp, 60, 61, due, 0.1);
    expect(sp.onAck([{ smallest: 60, largest: 61 }, { smallest: 31, largest: 59 }], due + 18, rtt, 0, MAD).spurious).toEqual([]);
  });

  it('grows the thresholds only up to their caps, subtracts the ACK delay, and starts again after resetReordering', () => {
    const sp = new SentPackets<string>();
    const rtt = new RttEstimator();
    sendRun(sp, 0, 999, 0, 0.01);
    sp.onAck([{ smallest: 1, largest: 999 }], 20, rtt, 0, MAD);
    sp.onAck([{ smallest: 0, largest: 999 }], 60, rtt, 0, MAD); // 60 ms against an RTT of 10 ms
    expect(sp.packetThreshold).toBe(MAX_PACKET_THRESHOLD);
    expect(sp.timeThreshold).toBe(MAX_TIME_THRESHOLD);
    sp.resetReordering();
    expect(sp.packetThreshold).toBe(K_PACKET_THRESHOLD);
    expect(sp.timeThreshold).toBe(K_TIME_THRESHOLD);

    const other = new SentPackets<string>();
    const r2 = new RttEstimator();
    sendRun(other, 0, 9, 0, 0.1);
    other.onAck([{ smallest: 1, largest: 9 }], 20, r2, 0, MAD); // RTT 19.1
    // Covered 30 ms after it was sent, but the ACK waited 8 ms at the receiver: 22 ms is what it took.
    other.onAck([{ smallest: 0, largest: 9 }], 30, r2, 8, MAD);
    expect(other.timeThreshold).toBeCloseTo(22 / 19.1, 6);
  });

  it(`forgets a loss after ${LOST_MEMORY_RTTS} RTTs and the ACK delay`, () => {
    const sp = new SentPackets<string>();
    const rtt = new RttEstimator();
    sendRun(sp, 0, 9, 0, 0.1);
    sp.onAck([{ smallest: 1, largest: 9 }], 20, rtt, 0, MAD); // 0 lost at 20; RTT 19.1
    const horizon = 20 + LOST_MEMORY_RTTS * 19.1 + MAD;
    sendRun(sp, 10, 10, horizon - 1, 0);
    // Still remembered just before the horizon; an ACK that does not cover it keeps it.
    expect(sp.onAck([{ smallest: 10, largest: 10 }, { smallest: 1, largest: 9 }], horizon - 1 + 19.1, rtt, 0, MAD).spurious).toEqual([]);
    const late = new SentPackets<string>();
    const r2 = new RttEstimator();
    sendRun(late, 0, 9, 0, 0.1);
    late.onAck([{ smallest: 1, largest: 9 }], 20, r2, 0, MAD);
    // Covered only after the horizon: forgotten, nothing learnt.
    expect(late.onAck([{ smallest: 0, largest: 9 }], horizon + 1, r2, 0, MAD).spurious).toEqual([]);
    expect(late.packetThreshold).toBe(K_PACKET_THRESHOLD);
    // Covered in time: spurious.
    const soon = new SentPackets<string>();
    const r3 = new RttEstimator();
    sendRun(soon, 0, 9, 0, 0.1);
    soon.onAck([{ smallest: 1, largest: 9 }], 20, r3, 0, MAD);
    expect(pns(soon.onAck([{ smallest: 0, largest: 9 }], horizon - 1, r3, 0, MAD).spurious)).toEqual([0]);
  });

  it(`remembers the newest ${LOST_KEPT} losses`, () => {
    const sp = new SentPackets<string>();
    const rtt = new RttEstimator();
    // The even packets below 2 * (LOST_KEPT + 10) are overtaken by the odd ones.
    const lostCount = LOST_KEPT + 10;
    sendRun(sp, 0, 2 * lostCount + 3, 0, 0.01);
    const odd = [];
    for (let pn = 2 * lostCount + 3; pn >= 1; pn -= 2) odd.push({ smallest: pn, largest: pn });
    const res = sp.onAck(odd, 20, rtt, 0, MAD);
    expect(res.lost.length).toBe(lostCount + 1);
    // Every one arrives after all: only the newest LOST_KEPT are still known.
    const late = sp.onAck([{ smallest: 0, largest: 2 * lostCount + 3 }], 25, rtt, 0, MAD);
    expect(late.spurious.length).toBe(LOST_KEPT);
    expect(late.spurious[0]!.packetNumber).toBe(2 * (lostCount + 1 - LOST_KEPT));
  });
});

describe('CongestionUndo (RFC 9438 §4.9)', () => {
  const loss = (lostAt: number, inFlight = true) => ({ packetNumber: 0, timeSent: 0, lostAt, inFlight });

  it('undoes a reduction once every in-flight loss it reacted to is proven spurious', () => {
    const u = new CongestionUndo();
    u.onLosses(2, 100, true, false);
    u.onLosses(1, 105, false, false); // more losses in the same recovery period
    expect(u.onSpurious([loss(100)])).toBe(false);
    expect(u.onSpurious([loss(100, false)])).toBe(false); // not in flight: not one of them
    expect(u.onSpurious([loss(90)])).toBe(false); // an older event's
    expect(u.onSpurious([loss(100), loss(105)])).toBe(true);
    // Once.
    expect(u.onSpurious([loss(105)])).toBe(false);
  });

  it('follows only the latest reduction, and never one that established persistent congestion or was reset', () => {
    const u = new CongestionUndo();
    u.onLosses(1, 100, true, false);
    u.onLosses(1, 200, true, false);
    expect(u.onSpurious([loss(100)])).toBe(false);
    expect(u.onSpurious([loss(200)])).toBe(true);
    u.onLosses(2, 300, true, true);
    expect(u.onSpurious([loss(300), loss(300)])).toBe(false);
    u.onLosses(1, 400, true, false);
    u.reset();
    expect(u.onSpurious([loss(400)])).toBe(false);
    // Losses with no reduction open follow nothing.
    u.onLosses(1, 500, false, false);
    expect(u.onSpurious([loss(500)])).toBe(false);
  });
});
