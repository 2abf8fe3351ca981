/**
 * Which path IDs a server has seen opened. A path ID is used once in a
 * connection's life: a closed path is freed, and its ID must not open a
 * path again (a replayed or repeated JOIN). Like IPsec's anti-replay window
 * (RFC 4303 §3.4.3), only the highest ID and a bitmap of the 64 below it
 * are kept, so the memory is constant however many paths come and go; an
 * ID below the window is refused (the client opens paths in increasing ID
 * order, so only a very late JOIN can fall there, and it is repeated with
 * a new ID by nobody: its path simply fails to validate).
 */

/** IDs below the highest one that are still remembered individually. */
export const PATH_ID_WINDOW = 64;

export class PathIdWindow {
  /** Highest path ID seen, -1 before any. */
  private highest = -1;
  /** Bit i set: ID highest - i was seen (bit 0 is `highest` itself). */
  private seen = 0n;

  /** `id` was never used and is not below the window. */
  isNew(id: number): boolean {
    if (id > this.highest) return true;
    const back = this.highest - id;
    if (back >= PATH_ID_WINDOW) return false;
    return ((this.seen >> BigInt(back)) & 1n) === 0n;
  }

  /** Marks `id` as used. */
  use(id: number): void {
    if (id > this.highest) {
      const shift = this.highest < 0 ? PATH_ID_WINDOW : id - this.highest;
      this.seen = shift >= PATH_ID_WINDOW ? 1n : ((this.seen << BigInt(shift)) | 1n) & MASK;
      this.highest = id;
      return;
    }
    const back = this.highest - id;
    if (back < PATH_ID_WINDOW) this.seen |= 1n << BigInt(back);
  }
}

const MASK = (1n << BigInt(PATH_ID_WINDOW)) - 1n;
