/**
 * Version-1 constants: object type bytes, BLAKE2b personalisations, KDF contexts.
 * Every value here is part of the wire protocol (docs/PROTOCOL.md); changing one is a new version.
 */
import { UnknownVersionError, UnsupportedVersionError, MalformedError } from '../errors.ts';
import { ByteReader, utf8Encode } from '../encoding.ts';

export const VERSION = 0x01;

/** Object type (byte 1 of every v1 object). Distinct per object so no blob parses as another. */
export const ObjectType = {
  teamKeyCert: 0x10,
  responderCert: 0x11,
  grant: 0x12,
  accountBundle: 0x20,
  /** A passkey key wrap (passkey-wrap.ts): the account secrets under passphrase + WebAuthn PRF. */
  passkeyWrap: 0x21,
  auditSignature: 0x30,
  message: 0x40,
  attachment: 0x50,
} as const;

/** BLAKE2b personalisations (ASCII, zero-padded to 16 bytes): one per purpose, for domain separation. */
export const Personal = {
  sealKey: utf8Encode('haven-seal-v1'),
  sealNonce: utf8Encode('haven-sealnon-v1'),
  rootFingerprint: utf8Encode('haven-rootfp-v1'),
  accountFingerprint: utf8Encode('haven-acctfp-v1'),
  loginVerifier: utf8Encode('haven-login-v1'),
  fakeSalt: utf8Encode('haven-fksalt-v1'),
  requesterSalt: utf8Encode('haven-req-salt'),
  lookupToken: utf8Encode('haven-lookup-v1'),
  audit: utf8Encode('haven-audit-v1'),
} as const;

/** crypto_kdf contexts (exactly 8 chars) and subkey ids. */
export const Kdf = {
  accountContext: 'hvnacct1',
  accountWrapKeyId: 1,
  accountLoginVerifierId: 2,
  requesterContext: 'hvnreq01',
  requesterLookupTokenId: 1,
  requesterReplyKeyId: 2,
} as const;

export const ID_BYTES = 16;

/**
 * Versions that once existed and are now refused (none yet: 1 is the first). A blob carrying
 * one gets UnsupportedVersionError ("re-encrypt / update"), distinct from a version we have
 * never heard of. A "downgrade" to a version that never existed (e.g. 0) is simply unknown.
 */
export const RETIRED_VERSIONS: ReadonlySet<number> = new Set<number>();

/**
 * Reads and checks bytes 0 and 1.
 * @throws UnsupportedVersionError for a retired version, UnknownVersionError for any other
 *   version but 1, MalformedError for the wrong object type.
 */
export function readVersionAndType(r: ByteReader, expectedType: number): void {
  checkVersionByte(r.u8());
  if (r.u8() !== expectedType) throw new MalformedError('wrong object type');
}

/** @throws UnsupportedVersionError (retired), UnknownVersionError (anything else but 1). */
export function checkVersionByte(v: number, retired: ReadonlySet<number> = RETIRED_VERSIONS): void {
  if (retired.has(v)) throw new UnsupportedVersionError();
  if (v !== VERSION) throw new UnknownVersionError();
}

/** A random 16-byte record id (never time-ordered: ids must not reveal when a record was made). */
export function checkId(id: Uint8Array): void {
  if (!(id instanceof Uint8Array) || id.length !== ID_BYTES) throw new MalformedError('id must be 16 bytes');
}

export function checkU32(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new MalformedError('u32 out of range');
}
