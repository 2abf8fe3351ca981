/**
 * pollTimeout is a question, not an event: asking for the next deadline
 * changes nothing in the connection (no pacer refilled, no path marked).
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/core/connection.js';
import { Pair, payload } from './scenario.js';

const MiB = 1024 * 1024;

/** What a deadline question could move: every path's pacer, window-limited mark and loss/ack timers. */
function snapshot(conn: Connection): string {
  return JSON.stringify(
    conn.pathList.map((p) => ({
      pacer: { ...p.pacer },
      windowLimited: p.windowLimited,
      lossTime: p.sent.lossTime,
      ackDeadline: p.received.ackDeadline,
      state: p.state,
    })),
  );
}

describe('pollTimeout', () => {
  it('changes nothing while a paced bulk transfer is under way, asked at any time', () => {
    const pair = new Pair({ seed: 41, links: [{ delayMs: 10, rateBps: 20e6 }, { delayMs: 25, rateBps: 20e6 }] });
    const conn = pair.connect();
    const data = payload(4 * MiB, 41);
    let offset = 0;
    let asked = 0;
    let paced = 0;
    pair.world.runUntil(() => {
      while (offset < data.length && conn.writableBytes > 0) {
        const n = conn.write(data.subarray(offset, Math.min(offset + 256 * 1024, data.length)));
        if (n === 0) break;
        offset += n;
      }
      pair.client.endpoint.touch(conn);
      if (conn.state === 'established' && conn.pathList.length === 2) {
        // Asked after an event at the world's time with no pollTransmit in
        // between (a timer that fired early, which is harmless): the
        // answer is the same twice and nothing moved.
        conn.handleTimeout(pair.world.now);
        const before = snapshot(conn);
        const first = conn.pollTimeout();
        const second = conn.pollTimeout();
        expect(second).toBe(first);
        expect(snapshot(conn)).toBe(before);
        asked++;
        if (first !== null && first > conn.now) paced++;
      }
      return offset === data.length && pair.server.receivedBytes === data.length;
    }, 60_000);
    expect(pair.server.receivedBytes).toBe(data.length);
    expect(asked).toBeGreaterThan(100);
    // The deadlines asked for included pacing ones (a future time while data waited).
    expect(paced).toBeGreaterThan(10);
  });

  it('says "now", not "no timer", while a path challenge is due at once (new or urged)', () => {
    const pair = new Pair({ seed: 42, links: [{ delayMs: 10, rateBps: 20e6 }] });
    const conn = pair.connect();
    pair.world.runUntil(() => conn.state === 'established', 10_000);
    const path = conn.pathList[0]!;
    // A challenge not sent yet (challengeDue: -Infinity), then one urged by the peer's packets.
    path.challenge = new Uint8Array(8);
    path.challengeAttempts = 0;
    expect(conn.pollTimeout()).toBe(conn.now);
    path.challengeAttempts = 1;
    path.challengeSentAt = conn.now;
    path.challengeUrgent = true;
    expect(conn.pollTimeout()).toBe(conn.now);
  });
});
