/**
 * A packet number per path ID, for the few paths of one connection: a flat
 * array of (path ID, number) pairs searched in order. An idle connection
 * keeps two of these (crypto/key-phases.ts); an empty Map costs about 180
 * bytes, this about 40 plus 16 per path.
 */
/** Never written: set() replaces it first. */
const NONE: number[] = [];

export class PathNumbers {
  /** [id0, n0, id1, n1, ...]; the shared empty NONE until the first set (an empty array grows to 17 slots on its first push). */
  private pairs: number[] = NONE;

  get size(): number {
    return this.pairs.length >> 1;
  }

  get(pathId: number): number | undefined {
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) if (p[i] === pathId) return p[i + 1];
    return undefined;
  }

  has(pathId: number): boolean {
    return this.get(pathId) !== undefined;
  }

  set(pathId: number, n: number): void {
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) {
      if (p[i] === pathId) {
        p[i + 1] = n;
        return;
      }
    }
    if (p === NONE) this.pairs = [pathId, n];
    else p.push(pathId, n);
  }

  delete(pathId: number): void {
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) {
      if (p[i] === pathId) {
        p.splice(i, 2);
        return;
      }
    }
  }

  clear(): void {
    this.pairs = NONE;
  }
}
