/**
 * The QUIC-LB four-pass encryption (draft-ietf-quic-load-balancers §5.4.2):
 * a four-round Feistel network whose round function is AES-ECB, for a
 * server ID plus nonce of any length from 5 to 19 bytes but 16 (16 bytes
 * are one AES block: single-pass, in quic-lb.ts).
 *
 * "The server concatenates the server ID and nonce into a single field,
 * which is then split into equal halves. In successive passes, one of these
 * halves is expanded into a 16B plaintext, encrypted with AES-ECB, and the
 * result XORed with the other half."
 */
import { AES_BLOCK, type AesBlock } from './aes-block.js';

/** Shortest and longest block the four passes take (server ID + nonce bytes). */
export const FEISTEL_MIN = 5;
export const FEISTEL_MAX = 19;

/**
 * "The expand(length, pass, input_bytes) function concatenates three
 * arguments and outputs 16 zero-padded octets": the half first, zeros, then
 * the total length in the fifteenth octet and the pass in the sixteenth.
 */
export function expand(length: number, pass: number, half: Uint8Array): Uint8Array {
  const block = new Uint8Array(AES_BLOCK);
  block.set(half, 0);
  block[14] = length;
  block[15] = pass;
  return block;
}

/** One pass: `target` XOR the first half-length bytes of AES(expand(length, pass, source)). */
function pass(aes: AesBlock, length: number, passNo: number, source: Uint8Array, target: Uint8Array): Uint8Array {
  const mask = aes.encrypt(expand(length, passNo, source));
  const out = new Uint8Array(target.length);
  for (let i = 0; i < out.length; i++) out[i] = target[i]! ^ mask[i]!;
  return out;
}

/**
 * "If plaintext_len is odd, right_0 clears its first four bits, and left_0
 * clears its last four bits": the middle byte's high nibble belongs to the
 * left half, its low nibble to the right half.
 */
function clearLeft(left: Uint8Array, odd: boolean): Uint8Array {
  if (odd) left[left.length - 1]! &= 0xf0;
  return left;
}
function clearRight(right: Uint8Array, odd: boolean): Uint8Array {
  if (odd) right[0]! &= 0x0f;
  return right;
}

function split(block: Uint8Array): { left: Uint8Array; right: Uint8Array; odd: boolean } {
  const half = Math.ceil(block.length / 2);
  const odd = block.length % 2 === 1;
  return {
    left: clearLeft(block.slice(0, half), odd),
    right: clearRight(block.slice(block.length - half), odd),
    odd,
  };
}

/** Joins two halves; for an odd length the shared middle byte takes one nibble of each. */
function join(left: Uint8Array, right: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const half = left.length;
  out.set(left, 0);
  if (length % 2 === 1) {
    out[half - 1] = left[half - 1]! | right[0]!;
    out.set(right.subarray(1), half);
  } else {
    out.set(right, half);
  }
  return out;
}

function checkLength(n: number): void {
  if (!Number.isInteger(n) || n < FEISTEL_MIN || n > FEISTEL_MAX || n === AES_BLOCK) {
    throw new RangeError(`four-pass encryption takes ${FEISTEL_MIN} to ${FEISTEL_MAX} bytes but ${AES_BLOCK}, not ${n}`);
  }
}

/** Encrypts server ID ‖ nonce (steps 1 to 12 of §5.4.2.3). */
export function feistelEncrypt(aes: AesBlock, plaintext: Uint8Array): Uint8Array {
  const length = plaintext.length;
  checkLength(length);
  const { left: left0, right: right0, odd } = split(plaintext);
  const right1 = clearRight(pass(aes, length, 1, left0, right0), odd);
  const left1 = clearLeft(pass(aes, length, 2, right1, left0), odd);
  const right2 = clearRight(pass(aes, length, 3, left1, right1), odd);
  const left2 = clearLeft(pass(aes, length, 4, right2, left1), odd);
  return join(left2, right2, length);
}

/**
 * The inverse: the four passes in reverse order (§5.5.2). A load balancer
 * may stop after three when the server ID fits in the left half; we always
 * run four, since the cluster's worker slot sits after the server ID.
 */
export function feistelDecrypt(aes: AesBlock, ciphertext: Uint8Array): Uint8Array {
  const length = ciphertext.length;
  checkLength(length);
  const { left: left2, right: right2, odd } = split(ciphertext);
  const left1 = clearLeft(pass(aes, length, 4, right2, left2), odd);
  const right1 = clearRight(pass(aes, length, 3, left1, right2), odd);
  const left0 = clearLeft(pass(aes, length, 2, right1, left1), odd);
  const right0 = clearRight(pass(aes, length, 1, left0, right1), odd);
  return join(left0, right0, length);
}
