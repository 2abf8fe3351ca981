/**
 * SortedMap: an AVL tree from number keys to values, for the assembler's
 * out-of-order chunks. Every operation is O(log n) in the worst case,
 * whatever order the keys come in (an attacker chooses the offsets, so a
 * structure that degrades on some order is not an option).
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

  /** The value at `key`, or undefined. */
  get(key: number): V | undefined {
    let n = this.root;
    while (n !== null) {
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
    while (n.left !== null) n = n.left;
    return [n.key, n.value];
  }

  /** The entry with the largest key, or null. */
  max(): [number, V] | null {
    let n = this.root;
    if (n === null) return null;
    while (n.right !== null) n = n.right;
    return [n.key, n.value];
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

  private insert(n: Node<V> | null, key: number, value: V): Node<V> {
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
