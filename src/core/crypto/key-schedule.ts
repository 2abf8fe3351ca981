/**
 * The key schedule: from the handshake's Diffie-Hellman results and its
 * transcript to the connection's secrets, and from a traffic secret to its
 * packet key and the next generation's secret (key update).
 *
 *   th      = SHA-256(client HELLO without cookie ‖ server HELLO ‖ IDENTITY)
 *   okm     = HKDF-SHA256(ikm = X25519(e_c, e_s) ‖ X25519(e_c, s_s), salt = th,
 *                         info = "mpudp v2 handshake", 96 bytes)
 *   client secret = okm[0..32]    (client → server packets)
 *   server secret = okm[32..64]   (server → client packets)
 *   finishedKey   = okm[64..96]; FINISHED = HMAC-SHA256(finishedKey, th)
 *
 *   key ‖ iv    = HKDF-SHA256(secret, salt = "", info = "mpudp v2 key", keyLength + 12)
 *   next secret = HKDF-SHA256(secret, salt = "", info = "mpudp v2 ku", 32)
 *
 * The second Diffie-Hellman binds the server's long-term key: only its
 * holder (or the holder of the client's ephemeral key) derives these
 * secrets, so a FINISHED that verifies proves the server holds `s_s`
 * (Noise's NK/XK patterns authenticate a responder the same way).
 */
import { createHash, createHmac } from 'node:crypto';
import { hkdfSha256 } from './hkdf.js';
import { KEY_LENGTH, IV_LENGTH, PacketKey, type CipherName } from './aead.js';

export interface HandshakeSecrets {
  /** Protects client → server packets (generation 0). */
  clientSecret: Uint8Array;
  /** Protects server → client packets (generation 0). */
  serverSecret: Uint8Array;
  /** Keys FINISHED. */
  finishedKey: Uint8Array;
  /** SHA-256 of the handshake transcript. */
  transcriptHash: Uint8Array;
}

const HANDSHAKE_INFO = Buffer.from('mpudp v2 handshake');
const KEY_INFO = Buffer.from('mpudp v2 key');
const UPDATE_INFO = Buffer.from('mpudp v2 ku');
const NO_SALT = Buffer.alloc(0);

export function handshakeSecrets(dhEphemeral: Uint8Array, dhStatic: Uint8Array, transcript: readonly Uint8Array[]): HandshakeSecrets {
  const h = createHash('sha256');
  for (const part of transcript) h.update(part);
  const transcriptHash = new Uint8Array(h.digest());
  const ikm = new Uint8Array(dhEphemeral.length + dhStatic.length);
  ikm.set(dhEphemeral, 0);
  ikm.set(dhStatic, dhEphemeral.length);
  const okm = hkdfSha256(ikm, transcriptHash, HANDSHAKE_INFO, 96);
  return {
    clientSecret: okm.subarray(0, 32),
    serverSecret: okm.subarray(32, 64),
    finishedKey: okm.subarray(64, 96),
    transcriptHash,
  };
}

/** FINISHED's MAC: the server's proof that it derived the same secrets. */
export function finishedMac(secrets: HandshakeSecrets): Uint8Array {
  return new Uint8Array(createHmac('sha256', secrets.finishedKey).update(secrets.transcriptHash).digest());
}

/** The packet key of a traffic secret. */
export function packetKey(cipher: CipherName, secret: Uint8Array): PacketKey {
  const n = KEY_LENGTH[cipher];
  const okm = hkdfSha256(secret, NO_SALT, KEY_INFO, n + IV_LENGTH);
  return new PacketKey(cipher, okm.subarray(0, n), okm.subarray(n));
}

/** The secret of the next key phase (RFC 9001 §6.1 derives it from the current one the same way). */
export function nextSecret(secret: Uint8Array): Uint8Array {
  return hkdfSha256(secret, NO_SALT, UPDATE_INFO, 32);
}
