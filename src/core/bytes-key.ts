/**
 * A Map key for a byte string (a connection ID, a reset token): its length,
 * then two bytes per UTF-16 unit, so no two byte strings share a key. An
 * 8-byte CID (looked up for every datagram that does not go to the same
 * connection as the one before it) is one call building one 5-unit string
 * (a string built byte by byte took 1.5-1.8x as long).
 */
export function bytesKey(b: Uint8Array): string {
  if (b.length === 8) return String.fromCharCode(8, b[0]! | (b[1]! << 8), b[2]! | (b[3]! << 8), b[4]! | (b[5]! << 8), b[6]! | (b[7]! << 8));
  let s = String.fromCharCode(b.length);
  for (let i = 0; i < b.length; i += 2) s += String.fromCharCode(b[i]! | ((b[i + 1] ?? 0) << 8));
  return s;
}
