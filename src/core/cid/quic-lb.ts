/**
 * The connection ID format of QUIC-LB (draft-ietf-quic-load-balancers):
 *
 *   QUIC-LB Connection ID {
 *     First Octet (8),          config rotation (3) ‖ length self-description (5)
 *     Plaintext Block (40..152) server ID ‖ nonce, in the clear or encrypted
 *   }
 *
 * A balancer that knows the configuration (codepoint, server ID length, key)
 * finds the server ID in the destination CID of any packet and routes by it,
 * whatever the addresses. This file holds the first octet and the block
 * cipher choice; format.ts lays out what goes in the block.
 */
import { AES_BLOCK, AesBlock } from './aes-block.js';
import { FEISTEL_MAX, FEISTEL_MIN, feistelDecrypt, feistelEncrypt } from './feistel.js';

/**
 * "A configuration MUST NOT use the reserved identifier 0b111": CIDs with
 * it are unroutable (a balancer falls back to the 4-tuple), as a server
 * without a configuration must issue them.
 */
export const UNROUTABLE_CONFIG = 0b111;
/** Highest config rotation codepoint a configuration may use. */
export const MAX_CONFIG_ID = 6;
/** "The server ID length MUST be at least 1 octet" (and the YANG model caps it at 15). */
export const MIN_SERVER_ID_LENGTH = 1;
export const MAX_SERVER_ID_LENGTH = 15;
/** "The nonce length MUST be at least 4 octets." */
export const MIN_NONCE_LENGTH = 4;
/** "the server ID and nonce lengths MUST sum to 19 octets or less." */
export const MAX_BLOCK_LENGTH = 19;
/** The key of the encrypted modes. */
export const KEY_LENGTH = AES_BLOCK;

/**
 * The first octet: "The first three bits of any connection ID MUST encode
 * an identifier for the configuration that the connection ID uses", and
 * the other five carry "the length of the following connection ID, not
 * including the first octet". We always self-describe the length (it is
 * constant per configuration, so it tells an observer nothing new).
 */
export function firstOctet(configId: number, cidLength: number): number {
  return ((configId & 0b111) << 5) | ((cidLength - 1) & 0x1f);
}

/** The config rotation codepoint of a CID (its top three bits). */
export function configIdOf(cid: Uint8Array): number {
  return cid.length === 0 ? UNROUTABLE_CONFIG : cid[0]! >>> 5;
}

/**
 * The transform of the plaintext block: none without a key; with one,
 * "When the nonce length and server ID length sum to exactly 16 octets,
 * the server MUST use a single-pass encryption algorithm" (one AES-ECB
 * block), and any other length takes the four-pass Feistel network.
 */
export class BlockCipher {
  private readonly aes: AesBlock | null;

  constructor(key: Uint8Array | null) {
    this.aes = key === null ? null : new AesBlock(key);
  }

  get encrypted(): boolean {
    return this.aes !== null;
  }

  seal(plaintext: Uint8Array): Uint8Array {
    if (this.aes === null) return plaintext.slice();
    return plaintext.length === AES_BLOCK ? this.aes.encrypt(plaintext) : feistelEncrypt(this.aes, plaintext);
  }

  open(ciphertext: Uint8Array): Uint8Array {
    if (this.aes === null) return ciphertext.slice();
    return ciphertext.length === AES_BLOCK ? this.aes.decrypt(ciphertext) : feistelDecrypt(this.aes, ciphertext);
  }
}

/** A block length the encodings take: the four passes need 5 to 19 bytes, plaintext and single pass any up to 19. */
export function blockLengthValid(n: number, encrypted: boolean): boolean {
  if (!Number.isInteger(n) || n > MAX_BLOCK_LENGTH) return false;
  return encrypted ? n === AES_BLOCK || (n >= FEISTEL_MIN && n <= FEISTEL_MAX) : n >= MIN_SERVER_ID_LENGTH + MIN_NONCE_LENGTH;
}

/** A whole CID: the first octet, then the (sealed) block. */
export function encodeCid(configId: number, cipher: BlockCipher, block: Uint8Array): Uint8Array {
  const cid = new Uint8Array(1 + block.length);
  cid[0] = firstOctet(configId, cid.length);
  cid.set(cipher.seal(block), 1);
  return cid;
}

/**
 * The plaintext block of `cid` under one configuration, or null when the
 * CID is not one of its CIDs (another length or another codepoint). Total:
 * any bytes give a block or null.
 */
export function decodeCid(configId: number, cipher: BlockCipher, blockLength: number, cid: Uint8Array): Uint8Array | null {
  if (cid.length !== 1 + blockLength || configIdOf(cid) !== configId) return null;
  return cipher.open(cid.subarray(1));
}

/**
 * A client's first destination CID: random, but for the first octet's top
 * three bits, 0b111, which "signify the connection ID is unroutable"
 * (draft-ietf-quic-load-balancers §2.2): a QUIC-LB balancer reads every
 * packet of ours as a short header, and routes this one, which names no
 * server yet, by its 4-tuple instead of decoding a server ID from chance
 * bytes. The low five bits self-describe the length, as the draft requires
 * of 0b111 CIDs.
 */
export function unroutableCid(bytes: Uint8Array): Uint8Array {
  bytes[0] = 0xe0 | ((bytes.length - 1) & 0x1f);
  return bytes;
}
