/**
 * The shared empty maps and sets of src/core/empty.ts: a write that forgot
 * to take a container of its own fails at once, and two connections that
 * fill the same field never share entries.
 */
import { describe, expect, it } from 'vitest';
import { emptyMap, emptySet, ownMap, ownSet } from '../../src/core/empty.js';
import { Pair, payload, sha256, transfer } from '../sim/scenario.js';

describe('shared empty containers', () => {
  it('refuse writes; ownMap/ownSet give a container of its own once, then keep it', () => {
    expect(() => emptyMap<number, number>().set(1, 1)).toThrow(/shared empty/);
    expect(() => emptySet<number>().add(1)).toThrow(/shared empty/);
    const m = ownMap(emptyMap<number, number>());
    m.set(1, 2);
    expect(ownMap(m)).toBe(m);
    expect(emptyMap<number, number>().size).toBe(0);
    const s = ownSet(emptySet<string>());
    s.add('a');
    expect(ownSet(s)).toBe(s);
    expect(emptySet<string>().size).toBe(0);
  });

  it('two connections of one endpoint fill their advertisement maps apart', () => {
    const pair = new Pair({ seed: 7, clientAddresses: ['10.0.1.2'], serverAddresses: ['10.0.0.1', '10.0.0.2'], links: [{ delayMs: 5 }] });
    const data = payload(64 * 1024, 7);
    expect(transfer(pair, data, 10_000)).toBe(true);
    expect(sha256(pair.server.received)).toBe(sha256(data));
    const conn = pair.client.connection!;
    // The server advertised its addresses to this client; the shared empty map stayed empty.
    expect(conn.advertisedByPeer.size).toBeGreaterThan(0);
    expect(emptyMap().size).toBe(0);
    expect(pair.server.connection!.advertisedByUs.size).toBeGreaterThan(0);
    expect(pair.server.connection!.advertisedByPeer.size).toBe(0);
  });
});
