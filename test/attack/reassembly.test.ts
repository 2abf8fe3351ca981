/**
 * The fragmentation attack on reassembly (issue 9), from a malicious peer
 * that holds the keys: DATA frames of one byte at every other offset of the
 * receive window, in descending order. Before, each fragment pinned its
 * datagram (283 MB of heap per connection) and each insert was O(n) (42 s
 * of blocked event loop for 200k fragments). Now fragments are copied, the
 * out-of-order store is a balanced tree, and past the chunk cap the
 * connection ends with PROTOCOL_VIOLATION, counted. (The copy was first
 * a Buffer's slice(), itself a view: a one-byte fragment still held its
 * 1.2 KB datagram, 12 MB for the 8192 chunks of the default window.)
 * The stall bound is shown by counting work, not by timing it: every
 * datagram's tree visits are bounded by its fragments times the tree's
 * height (O(log n) each), and a datagram that moves a whole window of
 * chunks into order costs O(k + log n), not O(k log n). The longest time
 * one datagram took is printed, not asserted (a loaded machine stretches
 * it); the event-loop block over real sockets is the bench's
 * (bench/reassembly-stall.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/core/connection.js';
import { sealedPacket } from '../../src/core/packet-writer.js';
import type { Frame } from '../../src/wire/types.js';
import { Pair } from '../sim/scenario.js';
import { heapAfterGc } from './gc.js';

const MiB = 1024 * 1024;

/** A connected pair; the client is the attacker. */
function connected(seed: number, receiveWindow: number): { pair: Pair; client: Connection; server: Connection } {
  const pair = new Pair({ seed, clientAddresses: ['10.0.1.2'], links: [{ delayMs: 5 }], options: { receiveWindow } });
  const client = pair.connect();
  pair.world.runUntil(() => pair.server.connection !== null && pair.server.connection.isEstablished, 2_000);
  return { pair, client, server: pair.server.connection! };
}

/** Seals `frames` as the attacker and hands the datagram to the server; returns the tree visits it cost. */
function deliver(pair: Pair, client: Connection, server: Connection, frames: Frame[]): number {
  const path = client.pathsById.get(0)!;
  const packet = sealedPacket(client, path, frames, 1500)!;
  const before = server.assembler.treeVisits;
  pair.server.endpoint.handleDatagram(packet, path.remote, path.local, pair.world.now);
  const work = server.assembler.treeVisits - before;
  pair.pump(pair.server);
  return work;
}

/** Visits one fragment may cost: a few tree operations (floor, ceiling, get, set), each one root-to-leaf walk. */
function perFragment(server: Connection): number {
  return 8 * (server.assembler.treeHeight + 1);
}

/**
 * Sends `count` one-byte DATA frames at offsets 2, 4, 6, ... in descending
 * order, `perPacket` per packet; a packet with one fragment is padded to a
 * full 1200-byte datagram, which a receiver that keeps views of what it
 * received would hold whole for each byte (the original attack: 283 MB).
 * Returns the longest time one datagram took the server (ms).
 */
function fragment(pair: Pair, client: Connection, count: number, perPacket = 160): number {
  const path = client.pathsById.get(0)!;
  const server = pair.server.connection!;
  let longest = 0;
  let sent = 0;
  for (let i = count; i > 0; ) {
    const frames: Frame[] = [];
    for (let j = 0; j < perPacket && i > 0; j++, i--) {
      frames.push({ type: 'data', offset: 2 * i, fin: false, data: new Uint8Array([0x61]) });
    }
    if (perPacket === 1) frames.push({ type: 'padding', length: 1150 });
    const packet = sealedPacket(client, path, frames, 1500)!;
    const visits = server.assembler.treeVisits;
    const t0 = performance.now();
    pair.server.endpoint.handleDatagram(packet, path.remote, path.local, pair.world.now);
    longest = Math.max(longest, performance.now() - t0);
    // The algorithmic bound, per datagram: O(log n) per fragment, whatever the order.
    if (!server.isClosed) expect(server.assembler.treeVisits - visits).toBeLessThanOrEqual(frames.length * perFragment(server));
    pair.pump(pair.server);
    // Let the simulated network carry the server's answers, so that only the server's own memory is measured.
    if (++sent % 100 === 0) pair.world.runFor(1);
  }
  return longest;
}

describe('reassembly fragmentation attack', () => {
  it('default window, one fragment per 1200-byte datagram: the chunk cap ends the connection (PROTOCOL_VIOLATION, counted) within 2x the window of memory', () => {
    const window = 4 * MiB;
    const { pair, client, server } = connected(61, window);
    const before = heapAfterGc();
    const longest = fragment(pair, client, 20_000, 1);
    const grown = heapAfterGc() - before;
    console.log(`fragmentation, 4 MiB window: ${server.assembler.pendingChunks} chunks held, heap +${(grown / 1024).toFixed(0)} KiB, longest datagram ${longest.toFixed(2)} ms`);
    expect(server.stats().drops['reassembly-cap']).toBe(1);
    const closed = pair.server.events.find((e) => e.event.type === 'closed');
    expect(closed?.event).toMatchObject({ code: 'ERR_MPUDP_PROTOCOL_VIOLATION' });
    expect(grown).toBeLessThan(2 * window);
  });

  it('a large window: 100k fragments in descending order stay O(log n) each and within 2x the window', () => {
    const window = 64 * MiB;
    const { pair, client, server } = connected(62, window);
    const before = heapAfterGc();
    const longest = fragment(pair, client, 100_000);
    const grown = heapAfterGc() - before;
    console.log(`fragmentation, 64 MiB window: ${server.assembler.pendingChunks} chunks held, heap +${(grown / 1024 / 1024).toFixed(1)} MiB, longest datagram ${longest.toFixed(2)} ms`);
    expect(server.assembler.pendingChunks).toBe(100_000);
    expect(server.isEstablished).toBe(true);
    expect(grown).toBeLessThan(2 * window);
  });

  it('a datagram that moves a whole window of chunks into order costs O(k + log n) tree visits, not O(k log n)', () => {
    const window = 4 * MiB;
    const { pair, client, server } = connected(63, window);
    // 512-byte pieces (too large to coalesce) filling [512, 4 MiB) in descending order, two per datagram: one run beyond a gap.
    const piece = new Uint8Array(512).fill(0x62);
    const chunks = window / 512 - 1;
    for (let i = chunks; i > 0; i -= 2) {
      const frames: Frame[] = [{ type: 'data', offset: i * 512, fin: false, data: piece }];
      if (i > 1) frames.push({ type: 'data', offset: (i - 1) * 512, fin: false, data: piece });
      expect(deliver(pair, client, server, frames)).toBeLessThanOrEqual(frames.length * perFragment(server));
    }
    expect(server.assembler.pendingChunks).toBe(chunks);
    const height = server.assembler.treeHeight;
    // The gap is filled: every chunk moves into order at once.
    const work = deliver(pair, client, server, [{ type: 'data', offset: 0, fin: false, data: piece }]);
    console.log(`run of ${chunks} chunks moved into order by one datagram: ${work} tree visits (${(work / chunks).toFixed(2)} per chunk, height ${height})`);
    expect(server.assembler.pendingChunks).toBe(0);
    expect(server.assembler.contiguousEnd).toBe(window);
    // One walk along the run, then one split with its joins along one path: one removal each would be about 2·height per chunk.
    expect(work).toBeLessThanOrEqual(2 * chunks + 8 * height * height);
  });
});
