/**
 * IPv4 / IPv6 text <-> bytes, for ADD_ADDRESS. src/wire may not import
 * node:net, so the parser and the canonical formatter live here.
 *
 * Parsing accepts the text forms of RFC 4291 §2.2 (full, '::'-compressed,
 * mixed with a trailing dotted IPv4) with hex digits of either case, and
 * dotted-decimal IPv4 without leading zeros (as node:net isIPv4 does). Zone
 * IDs ('%eth0') are refused: they mean nothing to the peer.
 *
 * Formatting follows RFC 5952 §4 (and §5 for IPv4-mapped addresses), which is
 * what node:dgram reports (libuv's inet_ntop) for every address except the
 * deprecated IPv4-compatible ones in ::/96, which libuv prints as ::a.b.c.d.
 */

/** Dotted-decimal octet without leading zeros: 0..255. */
const OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
/** One IPv6 group: 1 to 4 hex digits. */
const GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses dotted-decimal IPv4 into out[pos..pos+4); false if invalid. */
function parseIpv4Into(text: string, out: Uint8Array, pos: number): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!OCTET.test(part)) return false;
    const n = Number(part);
    if (n > 255) return false;
    out[pos + i] = n;
  }
  return true;
}

/**
 * Parses a list of colon-separated groups into 16-bit values. The last item
 * may be dotted IPv4 when `allowV4` (it counts as two groups). Null if invalid.
 */
function parseGroups(text: string, allowV4: boolean): number[] | null {
  if (text === '') return [];
  const items = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (allowV4 && i === items.length - 1 && item.includes('.')) {
      const v4 = new Uint8Array(4);
      if (!parseIpv4Into(item, v4, 0)) return null;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!GROUP.test(item)) return null;
      groups.push(parseInt(item, 16));
    }
  }
  return groups;
}

/** Parses IPv6 text into out[pos..pos+16); false if invalid. */
function parseIpv6Into(text: string, out: Uint8Array, pos: number): boolean {
  // RFC 4291 §2.2: "The use of '::' indicates one or more groups of 16 bits
  // of zeros. The '::' can only appear once in an address."
  const gap = text.indexOf('::');
  let groups: number[] | null;
  if (gap < 0) {
    groups = parseGroups(text, true);
    if (groups === null || groups.length !== 8) return false;
  } else {
    if (text.indexOf('::', gap + 1) >= 0) return false;
    const tail = text.slice(gap + 2);
    const head = parseGroups(text.slice(0, gap), false);
    const rest = parseGroups(tail, true);
    if (head === null || rest === null || head.length + rest.length > 7) return false;
    groups = head.concat(new Array<number>(8 - head.length - rest.length).fill(0), rest);
  }
  for (let i = 0; i < 8; i++) {
    out[pos + 2 * i] = groups[i]! >>> 8;
    out[pos + 2 * i + 1] = groups[i]! & 0xff;
  }
  return true;
}

/**
 * Parses `text` as IPv4 (writing 4 bytes) or IPv6 (16 bytes) at `pos` in
 * `out`; returns the byte count, or 0 if `text` is neither. `out` must have
 * room for 16 bytes at `pos`.
 */
export function parseIpInto(text: string, out: Uint8Array, pos: number): 0 | 4 | 16 {
  if (typeof text !== 'string' || text.length > 45) return 0;
  if (text.includes(':')) return parseIpv6Into(text, out, pos) ? 16 : 0;
  return parseIpv4Into(text, out, pos) ? 4 : 0;
}

/** Scratch space for ipByteLength. */
const scratch = new Uint8Array(16);

/** 4 for IPv4 text, 16 for IPv6 text, 0 if `text` is neither. */
export function ipByteLength(text: string): 0 | 4 | 16 {
  return parseIpInto(text, scratch, 0);
}

/** Dotted-decimal text of 4 bytes at `b[pos..]`. */
export function formatIpv4(b: Uint8Array, pos = 0): string {
  return `${b[pos]}.${b[pos + 1]}.${b[pos + 2]}.${b[pos + 3]}`;
}

/**
 * RFC 5952 text of 16 bytes at `b[pos..]`. §4.1: leading zeros suppressed;
 * §4.2: '::' replaces the longest run of two or more zero groups, the first
 * one on a tie, never a single group; §4.3: lowercase; §5: IPv4-mapped
 * addresses (::ffff:0:0/96) in mixed notation.
 */
export function formatIpv6(b: Uint8Array, pos = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[pos + 2 * i]! << 8) | b[pos + 2 * i + 1]!);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIpv4(b, pos + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    g
      .slice(from, to)
      .map((x) => x.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** The canonical text of IPv4 or IPv6 `text` (RFC 5952 for IPv6), or null if it is neither. */
export function canonicalIp(text: string): string | null {
  const n = parseIpInto(text, scratch, 0);
  if (n === 0) return null;
  return n === 4 ? formatIpv4(scratch) : formatIpv6(scratch);
}
