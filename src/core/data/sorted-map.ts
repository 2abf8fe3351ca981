/**
 * SortedMap: an AVL tree from number keys to values, for the assembler's
 * out-of-order chunks. Every operation is O(log n) in the worst case,
 * whatever order the keys come in (an attacker chooses the offsets, so a
 * structure that degrades on some order is not an option), and taking the
 * k smallest entries at once (takeBelow) is O(k + log n), not O(k log n).
 * `visits` counts the nodes every operation touched, so tests can check
 * these bounds by counting work instead of timing it.
 */

class Node<V> {
  left: Node<V> | null = null;
  right: Node<V> | null = null;
  height = 1;
  constructor(
    public key: number,
    public value: V,
  ) {}
}

function h<V>(n: Node<V> | null): number {
  return n === null ? 0 : n.height;
}

function fix<V>(n: Node<V>): void {
  const l = h(n.left);
  const r = h(n.right);
  n.height = (l > r ? l : r) + 1;
}

function rotateRight<V>(n: Node<V>): Node<V> {
  const l = n.left!;
  n.left = l.right;
  l.right = n;
  fix(n);
  fix(l);
  return l;
}

function rotateLeft<V>(n: Node<V>): Node<V> {
  const r = n.right!;
  n.right = r.left;
  r.left = n;
  fix(n);
  fix(r);
  return r;
}

/**
 * The tree of `l`, `m` and `r` (every key of l < m.key < every key of r,
 * whatever their heights), balanced: O(|h(l) - h(r)| + 1). The taller side
 * is descended along its inner spine until the heights are within one,
 * and each level on the way back needs at most one (double) rotation.
 */
function join<V>(l: Node<V> | null, m: Node<V>, r: Node<V> | null, work: { visits: number }): Node<V> {
  work.visits++;
  const hl = h(l);
  const hr = h(r);
  if (hl > hr + 1) {
    l!.right = join(l!.right, m, r, work);
    return balance(l!);
  }
  if (hr > hl + 1) {
    r!.left = join(l, m, r!.left, work);
    return balance(r!);
  }
  m.left = l;
  m.right = r;
  fix(m);
  return m;
}

function balance<V>(n: Node<V>): Node<V> {
  fix(n);
  const bf = h(n.left) - h(n.right);
  if (bf > 1) {
    if (h(n.left!.left) < h(n.left!.right)) n.left = rotateLeft(n.left!);
    return rotateRight(n);
  }
  if (bf < -1) {
    if (h(n.right!.right) < h(n.right!.left)) n.right = rotateRight(n.right!);
    return rotateLeft(n);
  }
  return n;
}

export class SortedMap<V> {
  private root: Node<V> | null = null;
  private count = 0;
  /** Nodes touched by every operation so far (tests bound the work per operation with it). */
  visits = 0;

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** Sets `key` to `value` (replacing an existing entry). */
  set(key: number, value: V): void {
    this.root = this.insert(this.root, key, value);
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: number): boolean {
    const before = this.count;
    this.root = this.remove(this.root, key);
    return this.count < before;
  }

  /**
   * Removes every entry with a key below `key` and returns them in key
   * order: O(k + log n) for k entries taken, by splitting the tree (one
   * join per level of the path to `key`) instead of k removals.
   */
  takeBelow(key: number): Array<[number, V]> {
    const taken: Array<[number, V]> = [];
    this.root = this.splitAtLeast(this.root, key, taken);
    this.count -= taken.length;
    return taken;
  }

  /**
   * Removes the `count` entries with a key below `key`, which the caller
   * has just walked (forEachWhile) and so knows how many there are: O(log n),
   * the removed subtrees are dropped without being visited.
   */
  dropBelow(key: number, count: number): void {
    this.root = this.splitAtLeast(this.root, key, null);
    this.count -= count;
  }

  /** The value at `key`, or undefined. */
  get(key: number): V | undefined {
    let n = this.root;
    while (n !== null) {
      this.visits++;
      if (key < n.key) n = n.left;
      else if (key > n.key) n = n.right;
      else return n.value;
    }
    return undefined;
  }

  /** The entry with the largest key <= `key`, or null. */
  floor(key: number): [number, V] | null {
    let n = this.root;
    let best: Node<V> | null = null;
    while (n !== null) {
      this.visits++;
      if (n.key <= key) {
        best = n;
        n = n.right;
      } else n = n.left;
    }
    return best === null ? null : [best.key, best.value];
  }

  /** The entry with the smallest key >= `key`, or null. */
  ceiling(key: number): [number, V] | null {
    let n = this.root;
    let best: Node<V> | null = null;
    while (n !== null) {
      this.visits++;
      if (n.key >= key) {
        best = n;
        n = n.left;
      } else n = n.right;
    }
    return best === null ? null : [best.key, best.value];
  }

  /** The entry with the smallest key, or null. */
  min(): [number, V] | null {
    let n = this.root;
    if (n === null) return null;
    while (n.left !== null) {
      this.visits++;
      n = n.left;
    }
    return [n.key, n.value];
  }

  /** The entry with the largest key, or null. */
  max(): [number, V] | null {
    let n = this.root;
    if (n === null) return null;
    while (n.right !== null) n = n.right;
    return [n.key, n.value];
  }

  /**
   * Calls `fn` on each entry in key order until it returns false: O(k + log n)
   * for the first k (no generator, no pair per entry).
   */
  forEachWhile(fn: (key: number, value: V) => boolean): void {
    const stack: Node<V>[] = [];
    let n = this.root;
    while (n !== null || stack.length > 0) {
      while (n !== null) {
        this.visits++;
        stack.push(n);
        n = n.left;
      }
      const top = stack.pop()!;
      if (!fn(top.key, top.value)) return;
      n = top.right;
    }
  }

  /** Every entry in key order (O(n); for diagnostics and tests). */
  *entries(): Generator<[number, V]> {
    const stack: Node<V>[] = [];
    let n = this.root;
    while (n !== null || stack.length > 0) {
      while (n !== null) {
        stack.push(n);
        n = n.left;
      }
      const top = stack.pop()!;
      yield [top.key, top.value];
      n = top.right;
    }
  }

  /** Height of the tree (tests check the balance). */
  get height(): number {
    return h(this.root);
  }

  /** Every node's height is right and its subtrees differ by at most one, keys in order (O(n): tests). */
  get isAvl(): boolean {
    const check = (n: Node<V> | null, lo: number, hi: number): number => {
      if (n === null) return 0;
      if (!(n.key > lo && n.key < hi)) return -1;
      const l = check(n.left, lo, n.key);
      const r = check(n.right, n.key, hi);
      if (l < 0 || r < 0 || Math.abs(l - r) > 1 || n.height !== Math.max(l, r) + 1) return -1;
      return n.height;
    };
    return check(this.root, -Infinity, Infinity) >= 0;
  }

  /** The subtree of `n` with keys >= `key`; the other entries are pushed to `taken` in key order (dropped unseen if it is null). */
  private splitAtLeast(n: Node<V> | null, key: number, taken: Array<[number, V]> | null): Node<V> | null {
    if (n === null) return null;
    this.visits++;
    if (n.key < key) {
      if (taken !== null) {
        this.collect(n.left, taken);
        taken.push([n.key, n.value]);
      }
      return this.splitAtLeast(n.right, key, taken);
    }
    const left = this.splitAtLeast(n.left, key, taken);
    const right = n.right;
    return join(left, n, right, this);
  }

  /** Pushes every entry of the subtree, in key order (O(size)). */
  private collect(n: Node<V> | null, out: Array<[number, V]>): void {
    while (n !== null) {
      this.visits++;
      this.collect(n.left, out);
      out.push([n.key, n.value]);
      n = n.right;
    }
  }

  private insert(n: Node<V> | null, key: number, value: V): Node<V> {
    this.visits++;
    if (n === null) {
      this.count++;
      return new Node(key, value);
    }
    if (key < n.key) n.left = this.insert(n.left, key, value);
    else if (key > n.key) n.right = this.insert(n.right, key, value);
    else {
      n.value = value;
      return n;
    }
    return balance(n);
  }

  private remove(n: Node<V> | null, key: number): Node<V> | null {
    if (n === null) return null;
    this.visits++;
    if (key < n.key) n.left = this.remove(n.left, key);
    else if (key > n.key) n.right = this.remove(n.right, key);
    else {
      this.count--;
      if (n.left === null) return n.right;
      if (n.right === null) return n.left;
      // Replace by the smallest node of the right subtree.
      let m = n.right;
      while (m.left !== null) m = m.left;
      n.key = m.key;
      n.value = m.value;
      this.count++; // the recursive removal below counts it once more
      n.right = this.remove(n.right, m.key);
    }
    return balance(n);
  }
}
