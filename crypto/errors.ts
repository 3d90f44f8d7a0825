/**
 * The closed set of errors the crypto layer throws.
 *
 * Every failure a caller can see is one of these subclasses, each with a stable `code`
 * that the API maps to `{error:{code,message}}`. Messages are fixed strings chosen here:
 * they never contain key material, ciphertext, passphrases or user text, so an error
 * that ends up in a log or an HTTP answer leaks nothing (STYLE.md rule 10).
 */

export type CryptoErrorCode =
  | 'unknown_version'
  | 'unsupported_version'
  | 'malformed'
  | 'decryption_failed'
  | 'bad_signature'
  | 'weak_input'
  | 'not_supported'
  // v2 signed statements (crypto/v2): a validity window and a per-team serial floor
  | 'expired_statement'
  | 'not_yet_valid'
  | 'rolled_back';

export class CryptoError extends Error {
  readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Byte 0 names a protocol version this code has never heard of. */
export class UnknownVersionError extends CryptoError {
  constructor(message = 'unknown protocol version') {
    super('unknown_version', message);
  }
}

/** A known but retired version: kept distinct so clients can say "please update/re-encrypt". */
export class UnsupportedVersionError extends CryptoError {
  constructor(message = 'unsupported protocol version') {
    super('unsupported_version', message);
  }
}

/** Wrong length, wrong type byte, trailing bytes, bad encoding, out-of-range field. */
export class MalformedError extends CryptoError {
  constructor(message = 'malformed input') {
    super('malformed', message);
  }
}

/** AEAD authentication failed: wrong key, tampered bytes, or moved associated data. */
export class DecryptionError extends CryptoError {
  constructor(message = 'decryption failed') {
    super('decryption_failed', message);
  }
}

/** An Ed25519 signature did not verify, or a signed field differs from what was expected. */
export class SignatureError extends CryptoError {
  constructor(message = 'bad signature') {
    super('bad_signature', message);
  }
}

/** Input too weak to use safely: all-zero DH output, Argon2id params below minimum, tiny word list. */
export class WeakInputError extends CryptoError {
  constructor(message = 'weak input') {
    super('weak_input', message);
  }
}

/** The backend cannot do this (e.g. secretstream attachments on the pure-JS noble path). */
export class NotSupportedError extends CryptoError {
  constructor(message = 'operation not supported by this backend') {
    super('not_supported', message);
  }
}

/**
 * A signed statement (v2 team key statement, invitation) whose validity has ended. Distinct from
 * a bad signature: the statement was genuine, so the page can say "this key has expired, the
 * organisation must renew it" instead of "someone tampered with this".
 */
export class ExpiredStatementError extends CryptoError {
  constructor(message = 'statement has expired') {
    super('expired_statement', message);
  }
}

/** A signed statement issued in the future (beyond one hour of clock skew): refuse rather than trust a wrong clock. */
export class NotYetValidError extends CryptoError {
  constructor(message = 'statement is not yet valid') {
    super('not_yet_valid', message);
  }
}

/**
 * A genuine but OLDER statement than one this client has already seen (serial below the floor
 * it remembers): the server is replaying a retired key, e.g. one whose secret has leaked.
 */
export class RolledBackError extends CryptoError {
  constructor(message = 'statement is older than one already seen') {
    super('rolled_back', message);
  }
}
