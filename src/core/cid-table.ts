/**
 * The endpoint's connections by connection ID: a Map keyed by bytesKey(),
 * and a shortcut in front of it. A transfer's datagrams follow each other
 * to one connection, so the entry the last lookup found, with a copy of its
 * CID, is tried first by comparing the datagram's CID bytes in place: no
 * view and no string key per datagram (5,080 → 4,738 bytes allocated per
 * datagram with the Short header read in place; docs/bench.md). The
 * shortcut is dropped whenever a key is added or its entry removed, so it
 * never answers what the Map would not.
 */
import { dcidEquals } from '../wire/header.js';
import { CID_LENGTH } from '../wire/types.js';
import { bytesKey } from './bytes-key.js';

export class CidTable<E> {
  private readonly byKey = new Map<string, E>();
  /** The entry the last get() found, and its CID (a copy). */
  private last: E | null = null;
  private readonly lastCid = new Uint8Array(CID_LENGTH);

  /** The entry of the last lookup if `datagram`'s dcid is its CID, else null (then peekDcid and get()). */
  lastFor(datagram: Uint8Array): E | null {
    return this.last !== null && dcidEquals(datagram, this.lastCid) ? this.last : null;
  }

  /** The entry of `cid` (a CID_LENGTH-byte dcid), remembered for lastFor(). */
  get(cid: Uint8Array): E | undefined {
    const entry = this.byKey.get(bytesKey(cid));
    if (entry !== undefined && cid.length === CID_LENGTH) {
      this.last = entry;
      this.lastCid.set(cid);
    }
    return entry;
  }

  /** Whether a live entry uses `cid`. */
  has(cid: Uint8Array): boolean {
    return this.byKey.has(bytesKey(cid));
  }

  /** Files `entry` under each of `keys` (bytesKey() of its CIDs). */
  add(keys: readonly string[], entry: E): void {
    for (const k of keys) this.byKey.set(k, entry);
    this.last = null; // a key may have moved to this entry
  }

  /** Removes those of `keys` that still name `entry`. */
  remove(keys: readonly string[], entry: E): void {
    for (const k of keys) if (this.byKey.get(k) === entry) this.byKey.delete(k);
    if (this.last === entry) this.last = null;
  }
}
