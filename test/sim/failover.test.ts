/**
 * Failover targets (issue #4), on two 50 Mbit/s paths with 20 ms RTT.
 */
import { describe, expect, it } from 'vitest';
import { Pair, deliveryTimeLost, payload, sha256, transfer } from './scenario.js';
import type { Side } from './scenario.js';

const MiB = 1024 * 1024;
const RATE = 50e6;
const link = { delayMs: 10, rateBps: RATE };

/** Longest stretch without in-order delivery in [t0, t1). */
function longestStall(side: Side, t0: number, t1: number): number {
  let last = t0;
  let worst = 0;
  for (const d of side.deliveries) {
    if (d.time < t0) continue;
    if (d.time >= t1) break;
    worst = Math.max(worst, d.time - last);
    last = d.time;
  }
  return Math.max(worst, t1 - last);
}

function cut(pair: Pair, clientAddr: string, blackhole: boolean): void {
  for (const [a, b] of [[clientAddr, '10.0.0.1'], ['10.0.0.1', clientAddr]] as const) {
    pair.world.network.getLink(a, b)!.set({ blackhole });
  }
}

describe('failover', () => {
  for (const seed of [31, 32, 33]) {
    it(`blackholing one path mid-transfer costs at most 100 ms of delivery (seed ${seed})`, () => {
      const pair = new Pair({ seed, links: [link, link] });
      const data = payload(40 * MiB, seed);
      const t0 = pair.world.now + 2_000;
      pair.world.at(t0, () => cut(pair, '10.0.1.2', true));
      expect(transfer(pair, data, 120_000), `seed ${seed}`).toBe(true);
      expect(sha256(pair.server.received), `seed ${seed}`).toBe(sha256(data));
      const lost = deliveryTimeLost(pair.server, t0, 2_000, RATE);
      const stall = longestStall(pair.server, t0, t0 + 2_000);
      console.log(`seed ${seed}: delivery time lost ${lost.toFixed(0)} ms, longest stall ${stall.toFixed(0)} ms`);
      expect(lost, `seed ${seed}: lost ${lost} ms`).toBeLessThanOrEqual(100);
      // No long stall hides behind a burst that makes up the bytes later.
      expect(stall, `seed ${seed}: stall ${stall} ms`).toBeLessThanOrEqual(150);
    });
  }

  for (const outage of [2_000, 30_000]) {
    it(`a path healed after a ${outage / 1000} s outage carries data again within 0.5 s`, () => {
      const seed = 40 + outage / 1000;
      const pair = new Pair({ seed, links: [link, link] });
      const conn = pair.connect();
      const chunk = payload(256 * 1024, seed);
      let written = 0;
      let ending = false;
      const feed = (): void => {
        if (ending) return;
        while (conn.write(chunk) > 0) {
          // the wrapped write below counts what was accepted
        }
        pair.client.endpoint.touch(conn);
      };
      // Count what was accepted, exactly.
      const write = conn.write.bind(conn);
      conn.write = (d: Uint8Array): number => {
        const n = write(d);
        written += n;
        return n;
      };
      const t0 = pair.world.now + 1_000;
      let healedAt = -1;
      let sentAtHeal = 0;
      let back = -1;
      const path0 = () => conn.pathList.find((p) => p.id === 0)!;
      pair.world.at(t0, () => cut(pair, '10.0.1.2', true));
      pair.world.at(t0 + outage, () => {
        cut(pair, '10.0.1.2', false);
        healedAt = pair.world.now;
        sentAtHeal = path0().counters.dataBytesSent + path0().counters.dataBytesRetransmitted;
      });
      feed();
      pair.world.runUntil(() => {
        feed();
        if (healedAt >= 0 && back < 0) {
          const p0 = path0();
          if (p0.state === 'active' && p0.counters.dataBytesSent + p0.counters.dataBytesRetransmitted > sentAtHeal + 50_000) {
            back = pair.world.now;
          }
        }
        return back >= 0 && pair.world.now > back + 1_000;
      }, outage + 10_000);
      expect(path0().state, `seed ${seed}`).not.toBe('failed');
      expect(back, `seed ${seed}: path 0 never carried data again`).toBeGreaterThan(0);
      const heal = back - healedAt;
      console.log(`outage ${outage} ms: path back carrying data ${heal.toFixed(0)} ms after heal`);
      expect(heal, `seed ${seed}`).toBeLessThanOrEqual(500);
      // Nothing lost: finish the stream and compare byte counts.
      ending = true;
      conn.end();
      pair.client.endpoint.touch(conn);
      expect(pair.world.runUntil(() => pair.has(pair.server, 'end'), 30_000)).toBe(true);
      expect(pair.server.receivedBytes).toBe(written);
    });
  }
});
