/**
 * Shared empty containers for per-connection maps and sets that most
 * connections never fill (an empty Map or Set costs about 180 bytes of
 * heap; an idle connection kept half a dozen). A field starts as the
 * shared empty one and its writer replaces it with its own before the
 * first entry. The shared ones refuse every write, so a writer that forgot
 * to replace it fails at once instead of leaking entries between
 * connections.
 */

class EmptyMap<K, V> extends Map<K, V> {
  override set(): this {
    throw new Error('write to the shared empty map');
  }
}

class EmptySet<T> extends Set<T> {
  override add(): this {
    throw new Error('write to the shared empty set');
  }
}

const EMPTY_MAP: Map<unknown, unknown> = new EmptyMap();
const EMPTY_SET: Set<unknown> = new EmptySet();

/** The shared empty map (read-only). */
export function emptyMap<K, V>(): Map<K, V> {
  return EMPTY_MAP as Map<K, V>;
}

/** The shared empty set (read-only). */
export function emptySet<T>(): Set<T> {
  return EMPTY_SET as Set<T>;
}

/** `m` if it is a map of its own, else a new one to replace the shared empty map with. */
export function ownMap<K, V>(m: Map<K, V>): Map<K, V> {
  return m === EMPTY_MAP ? new Map<K, V>() : m;
}

/** `s` if it is a set of its own, else a new one to replace the shared empty set with. */
export function ownSet<T>(s: Set<T>): Set<T> {
  return s === EMPTY_SET ? new Set<T>() : s;
}
