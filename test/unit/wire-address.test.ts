import { describe, expect, it } from 'vitest';
import { canonicalIp, formatIpv6 } from '../../src/wire/ip.js';
import { encodeFrame, frameLength } from '../../src/wire/frames.js';
import { decodeFrame } from '../../src/wire/frame-decode.js';
import { Reader } from '../../src/wire/varint.js';
import { WireError } from '../../src/wire/errors.js';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('IP address text', () => {
  // [input, canonical form] — canonical forms per RFC 5952 §4 and §5.
  const valid: [string, string][] = [
    ['192.0.2.1', '192.0.2.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:DB8::A', '2001:db8::a'],
    ['::', '::'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    // §4.2.2: a single 16-bit zero field is not shortened.
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    // §4.2.1: the longest run is shortened.
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    // §4.2.3: on a tie, the first run.
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['fe80:0:0:0:1:2:3:4', 'fe80::1:2:3:4'],
    // §5: IPv4-mapped addresses in mixed notation, whatever the input form.
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['::FFFF:c000:0201', '::ffff:192.0.2.1'],
    ['0:0:0:0:0:ffff:10.0.0.1', '::ffff:10.0.0.1'],
    // Other embedded IPv4 is formatted as hex.
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['::1.2.3.4', '::102:304'],
  ];
  it.each(valid)('%s -> %s', (input, canonical) => {
    expect(canonicalIp(input)).toBe(canonical);
  });

  const invalid = [
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3.-4',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    '1::2::3',
    ':::',
    ':1::',
    '1::2:',
    ':1:2:3:4:5:6:7:8',
    '12345::',
    'g::1',
    '::1%eth0',
    'fe80::1%1',
    '1.2.3.4::',
    '::1.2.3',
    '::256.1.1.1',
    '::1.2.3.4:5',
    '1:2:3:4:5:6:7:1.2.3.4',
    'localhost',
  ];
  it.each(invalid)('refuses %j', (input) => {
    expect(canonicalIp(input)).toBeNull();
  });

  it('formats every zero-run position canonically', () => {
    // All 256 patterns of zero / non-zero groups. The output must reparse to
    // itself, and '::' must stand for the longest zero run (>= 2 groups),
    // the first one on a tie: explicit zero runs before it are shorter,
    // those after it are no longer.
    const longestRun = (groups: string[]): number => {
      let best = 0;
      let run = 0;
      for (const g of groups) {
        run = g === '0' ? run + 1 : 0;
        best = Math.max(best, run);
      }
      return best;
    };
    for (let mask = 0; mask < 256; mask++) {
      const b = new Uint8Array(16);
      for (let g = 0; g < 8; g++) if (mask & (1 << g)) b[2 * g + 1] = g + 1;
      const text = formatIpv6(b);
      expect(canonicalIp(text), text).toBe(text);
      const parts = text.split('::');
      expect(parts.length, text).toBeLessThanOrEqual(2);
      const before = parts[0] === '' ? [] : parts[0]!.split(':');
      const after = parts.length < 2 || parts[1] === '' ? [] : parts[1]!.split(':');
      const zeros = 8 - before.length - after.length;
      const zeroGroups = 8 - Array.from({ length: 8 }, (_, g) => mask & (1 << g)).filter(Boolean).length;
      if (parts.length === 1) {
        expect(zeros, text).toBe(0);
        expect(longestRun(before), text).toBeLessThanOrEqual(1);
      } else {
        expect(zeros, text).toBeGreaterThanOrEqual(2);
        expect(longestRun(before), text).toBeLessThan(zeros);
        expect(longestRun(after), text).toBeLessThanOrEqual(zeros);
        expect(zeroGroups, text).toBeGreaterThanOrEqual(zeros);
      }
    }
  });

  it('ADD_ADDRESS carries the canonical form', () => {
    const frame = { type: 'add_address', addressId: 1, seq: 0, address: '2001:DB8:0:0::1', port: 1, backup: false } as const;
    const buf = new Uint8Array(frameLength(frame));
    encodeFrame(frame, buf, 0);
    expect(toHex(buf.subarray(3, 20))).toBe('0220010db8000000000000000000000001');
    const back = decodeFrame(new Reader(buf));
    expect(back).toMatchObject({ address: '2001:db8::1' });
  });

  it('ADD_ADDRESS refuses bad addresses with WIRE_BAD_VALUE', () => {
    for (const address of ['1::2::3', '::1%eth0', 'example.com']) {
      try {
        frameLength({ type: 'add_address', addressId: 1, seq: 0, address, port: 1, backup: false });
        expect.unreachable(address);
      } catch (e) {
        expect(e).toBeInstanceOf(WireError);
        expect((e as WireError).code).toBe('WIRE_BAD_VALUE');
      }
    }
  });
});
