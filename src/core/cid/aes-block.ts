/**
 * One AES-128 block at a time (ECB, no padding): the primitive of the
 * QUIC-LB encodings. draft-ietf-quic-load-balancers §5.4: "Encryption below
 * uses the AES-128-ECB cipher". One cipher and one decipher object are kept
 * per key and fed a block per call (ECB has no chaining, and with padding
 * off OpenSSL returns each whole block at once), so no object is built per
 * packet.
 */
import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto';

/** AES block and key size in bytes. */
export const AES_BLOCK = 16;

export class AesBlock {
  private readonly encryptor: Cipher;
  private readonly decryptor: Decipher;

  constructor(key: Uint8Array) {
    this.encryptor = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
    this.decryptor = createDecipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  }

  /** AES-ECB of exactly one 16-byte block. */
  encrypt(block: Uint8Array): Uint8Array {
    return new Uint8Array(this.encryptor.update(block));
  }

  /** The inverse of encrypt(), one 16-byte block. */
  decrypt(block: Uint8Array): Uint8Array {
    return new Uint8Array(this.decryptor.update(block));
  }
}
