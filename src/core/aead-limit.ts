/**
 * RFC 9001 §6.6: with no key update possible, or after too many packets
 * that failed authentication, the endpoint "MUST stop using the connection
 * once any limit is reached". Both the sender (packet-writer.ts) and the
 * receiver (receive.ts) end the connection here.
 */
import type { Connection } from './connection.js';
import { CloseCode, TransportError } from './errors.js';
import { countDrop } from './stats.js';
import { startClosing } from './close.js';

/** The keys must not be used any longer: counted, and the connection closes. */
export function aeadLimitReached(conn: Connection): void {
  countDrop(conn.drops, 'aead-limit');
  startClosing(conn, TransportError.AEAD_LIMIT_REACHED, 'AEAD limit reached', {
    type: 'closed',
    code: CloseCode.AEAD_LIMIT_REACHED,
    errorCode: TransportError.AEAD_LIMIT_REACHED,
    reason: 'AEAD limit reached',
    remote: false,
  });
}
