/**
 * Passkey key wraps (`0x21`): the account's secrets wrapped under a key that needs both the
 * passphrase and a passkey's WebAuthn PRF output (docs/PROTOCOL.md 6.2).
 *
 * Threat: a copy of the database plus the passphrase (guessed, shoulder-surfed, coerced). The
 * passphrase-only bundle (`0x20`) opens with the passphrase alone; a passkey wrap also needs
 * the PRF output, which only the authenticator can compute (hmac-secret under a key that never
 * leaves it) and which the browser never sends to the server. Once an account has a passkey
 * wrap, the server replaces its `0x20` bundle by a retired one (`retireAccountBundle`): the
 * same header, so sign-in still finds the salt and Argon2id parameters, but a ciphertext that
 * no key opens.
 */
import { ByteReader, ByteWriter, utf8Encode } from '../encoding.ts';
import { MalformedError } from '../errors.ts';
import type { Primitives } from '../primitives.ts';
import { parseAccountBundleHeader, ACCOUNT_BUNDLE_BYTES } from './account.ts';
import { checkId, ObjectType, readVersionAndType, VERSION } from './constants.ts';

export const PASSKEY_WRAP_BYTES = 2 + 24 + 64 + 16;
export const PRF_OUTPUT_BYTES = 32;
const HEADER_BYTES = 26;

const PRF_SALT_PERSONAL = utf8Encode('haven-prfsalt-v1');
const PRF_KEY_PERSONAL = utf8Encode('haven-prfwrap-v1');
const CREDENTIAL_PERSONAL = utf8Encode('haven-credid-v1');

/**
 * The PRF input (`prf.eval.first`) for an account: fixed per account, so every sign-in with a
 * given passkey yields the same output. BLAKE2b-32(accountId; personal "haven-prfsalt-v1").
 * (The browser hashes it again with "WebAuthn PRF" || 0x00 before the authenticator sees it.)
 */
export function prfSalt(p: Primitives, accountId: Uint8Array): Uint8Array {
  checkId(accountId);
  return p.blake2b(32, accountId, { personal: PRF_SALT_PERSONAL });
}

/**
 * The key of a passkey wrap: BLAKE2b-32(prfOutput; key = wrapKey, personal "haven-prfwrap-v1").
 * Keyed by the passphrase's wrap key over the PRF output: neither alone gives it.
 * @throws MalformedError for a PRF output or wrap key that is not 32 bytes.
 */
export function passkeyWrapKey(p: Primitives, wrapKey: Uint8Array, prfOutput: Uint8Array): Uint8Array {
  if (wrapKey.length !== 32) throw new MalformedError('wrap key must be 32 bytes');
  if (prfOutput.length !== PRF_OUTPUT_BYTES) throw new MalformedError('PRF output must be 32 bytes');
  return p.blake2b(32, prfOutput, { key: wrapKey, personal: PRF_KEY_PERSONAL });
}

function associatedData(p: Primitives, header: Uint8Array, accountId: Uint8Array, credentialId: Uint8Array): Uint8Array {
  checkId(accountId);
  if (credentialId.length === 0 || credentialId.length > 1023) throw new MalformedError('credential id must be 1-1023 bytes');
  const credentialHash = p.blake2b(32, credentialId, { personal: CREDENTIAL_PERSONAL });
  return new ByteWriter().bytes(header).bytes(accountId, 16).bytes(credentialHash, 32).finish();
}

/**
 * version | 0x21 | nonce(24) | AEAD(key, nonce, x25519Secret(32) || ed25519Seed(32),
 * AD = the 26 header bytes || accountId(16) || BLAKE2b-32(credentialId; personal "haven-credid-v1")).
 * The AD binds the wrap to one account and one passkey. `nonce` is for known-answer tests only.
 */
export function wrapForPasskey(
  p: Primitives,
  a: { key: Uint8Array; accountId: Uint8Array; credentialId: Uint8Array; x25519Secret: Uint8Array; ed25519Seed: Uint8Array },
  nonce: Uint8Array = p.randomBytes(24),
): Uint8Array {
  const header = new ByteWriter().u8(VERSION).u8(ObjectType.passkeyWrap).bytes(nonce, 24).finish();
  const secrets = new ByteWriter().bytes(a.x25519Secret, 32).bytes(a.ed25519Seed, 32).finish();
  const ct = p.aeadEncrypt(a.key, nonce, secrets, associatedData(p, header, a.accountId, a.credentialId));
  secrets.fill(0);
  return new ByteWriter().bytes(header).bytes(ct).finish();
}

/** Checks the structure only (the server does this before storing one). @throws version errors, MalformedError. */
export function checkPasskeyWrap(wrap: Uint8Array): void {
  const r = new ByteReader(wrap);
  readVersionAndType(r, ObjectType.passkeyWrap);
  r.bytes(24);
  r.bytes(80);
  r.end();
}

/**
 * @throws version errors / MalformedError on structure; DecryptionError for a wrong key (wrong
 *   passphrase or another passkey's PRF output), another account or credential, or tampering.
 */
export function unwrapFromPasskey(
  p: Primitives,
  key: Uint8Array,
  wrap: Uint8Array,
  accountId: Uint8Array,
  credentialId: Uint8Array,
): { x25519Secret: Uint8Array; ed25519Seed: Uint8Array } {
  checkPasskeyWrap(wrap);
  const header = wrap.subarray(0, HEADER_BYTES);
  const pt = p.aeadDecrypt(key, header.subarray(2, 26), wrap.subarray(HEADER_BYTES), associatedData(p, header, accountId, credentialId));
  const out = { x25519Secret: pt.slice(0, 32), ed25519Seed: pt.slice(32, 64) };
  pt.fill(0);
  return out;
}

/**
 * A retired account bundle: the header of `bundle` (salt, Argon2id parameters) with a fresh
 * nonce and 80 random bytes where the ciphertext was, so nothing opens it (the AEAD tag is
 * random: a forgery chance of 2^-128 per key tried). Sign-in keeps working (22.2 reads the
 * header) and the row keeps its size, so a retired bundle costs the login query what a live one does.
 * @throws version errors, MalformedError for a bundle that is not a `0x20` bundle.
 */
export function retireAccountBundle(p: Primitives, bundle: Uint8Array): Uint8Array {
  const { salt, params } = parseAccountBundleHeader(bundle);
  const out = new ByteWriter()
    .u8(VERSION).u8(ObjectType.accountBundle).u32(params.ops).u32(params.memKiB).bytes(salt, 16)
    .bytes(p.randomBytes(24), 24).bytes(p.randomBytes(80), 80)
    .finish();
  if (out.length !== ACCOUNT_BUNDLE_BYTES) throw new MalformedError('bundle size');
  return out;
}
