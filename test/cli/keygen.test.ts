/** `mpudp keygen`: a key pair and fingerprint that belong together, as text and as JSON. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { keyPairFromPrivate } from '../../src/api/keys.js';
import { main } from '../../src/cli/main.js';

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, out };
}

afterEach(() => vi.restoreAllMocks());

describe('mpudp keygen', () => {
  it('prints a private key, its public key and the fingerprint; each run a new one', async () => {
    const a = await run(['keygen']);
    expect(a.code).toBe(0);
    const m = /^private key: (\S{43})\npublic key: {2}(\S{43})\nfingerprint: (SHA256:\S{43})\n$/.exec(a.out)!;
    expect(m).not.toBeNull();
    const derived = keyPairFromPrivate(new Uint8Array(Buffer.from(m[1]!, 'base64url')));
    expect(derived.publicKey).toBe(m[2]);
    expect(derived.fingerprint).toBe(m[3]);
    const b = await run(['keygen', '--json']);
    const json = JSON.parse(b.out) as { privateKey: string; publicKey: string; fingerprint: string };
    expect(json.privateKey).not.toBe(m[1]);
    expect(keyPairFromPrivate(new Uint8Array(Buffer.from(json.privateKey, 'base64url'))).fingerprint).toBe(json.fingerprint);
  });
});
