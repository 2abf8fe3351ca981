/**
 * Every reason a datagram, a frame or a send is refused, once, with what it
 * means: the single list `stats().drops` counts under (as Linux's MIB names
 * its counters). `countDrop` takes only these names, so a new reason is
 * added here first, with its meaning; docs/api.md lists the table and a
 * test keeps the two equal.
 */
export const DROP_REASONS = {
  // Parsing and addressing.
  decode: 'the datagram or a frame in it does not parse',
  'unknown-connection': 'no connection has the destination connection ID',
  'unknown-path': 'a frame names a path the connection does not have',
  'closed-path': 'a packet for a path that is closed',
  'no-socket': 'io: no socket for the local address (it went away)',
  // Packet protection.
  'auth-failed': 'the AEAD tag does not verify: forged, corrupted or not for these keys',
  'aead-limit': 'too many forgeries, or the keys reached their usage limit with no key update possible',
  duplicate: 'a packet number already received on that path',
  'bad-version': 'a version this endpoint does not speak',
  // Handshake.
  'initial-too-small': 'an Initial shorter than the minimum datagram size (amplification guard)',
  'bad-initial': 'an Initial that fails validation before any state is created',
  'unexpected-initial': 'an Initial where none is expected',
  'initial-without-hello': 'an Initial that carries no HELLO',
  'initial-duplicate': 'a repeated Initial of a connection already answered',
  'bad-key': 'a public key that is not a valid X25519 key',
  'server-key-mismatch': 'the server answered with a key other than the pinned one',
  'handshake-duplicate': 'client: a repeated Handshake packet',
  'unexpected-handshake': 'server: a Handshake packet where none is expected',
  'handshake-incomplete': 'a Handshake packet without what completes the handshake',
  'bad-finished': 'a FINISHED whose MAC does not verify',
  'handshake-frame-in-short': 'a handshake-only frame inside a protected packet',
  'before-handshake': 'a protected packet before the handshake completed',
  'before-confirmation': 'a packet on another path before the handshake is confirmed, with no path 0 to confirm it on',
  'unexpected-retry': 'a RETRY where none is expected',
  'bad-retry-tag': 'a RETRY whose integrity tag does not verify',
  'bad-cookie': 'an Initial with a retry token that does not verify or has expired',
  'not-accepting': 'server: an Initial while the server does not accept connections',
  'too-many-connections': 'server: an Initial beyond maxConnections',
  'half-open-expired': 'server: a half-open connection never confirmed within its lifetime',
  'half-open-per-source': 'server: an Initial beyond the half-open connections allowed per source address',
  'reset-rate-limit': 'server: a stateless answer withheld by its rate limit',
  'reset-not-ours': 'no stateless reset for a connection ID this endpoint did not issue (another cluster worker\'s or host\'s, which may hold the connection)',
  'stateless-reset': 'a datagram ending a connection the peer no longer has',
  'cluster-not-ready': 'cluster worker: an Initial before the worker has its slot and connection ID format',
  // Paths and addresses.
  'address-mismatch': 'a path response from an address other than the challenged one',
  'challenge-wrong-path': 'a path challenge answered on another path',
  'stale-response': 'a path response to a challenge no longer outstanding',
  'unexpected-response': 'a path response where no challenge is outstanding',
  'stale-address': 'an address advertisement older than one already applied',
  'too-many-addresses': 'an address advertisement beyond the cap',
  'too-many-paths': 'a JOIN beyond maxPaths',
  'path-id-reused': 'a JOIN for a path ID that was used before',
  'data-on-unvalidated-path': 'stream data on a path not yet validated',
  'amplification-limit': 'a send withheld: at most three times what the address sent before it is validated',
  // Recovery and stream.
  'ack-unknown-path': 'an acknowledgement for a path the connection does not have',
  'ack-of-unsent': 'an acknowledgement of a packet number never sent',
  'optimistic-ack': 'an acknowledgement of a packet number skipped on purpose (optimistic-ACK defence)',
  'reassembly-cap': 'stream data beyond the reassembly fragment cap',
  'close-before-fin': 'a clean CLOSE before the FIN and every byte before it arrived',
  'protocol-violation': 'the peer broke the protocol; the connection closes',
  'internal-error': 'an exception inside the core; that connection closes',
  closing: 'a packet while the connection is closing',
  draining: 'a packet while the connection is draining',
} as const satisfies Record<string, string>;

/** A name of DROP_REASONS. */
export type DropReason = keyof typeof DROP_REASONS;
