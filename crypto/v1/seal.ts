/**
 * Haven's sealed box WITH associated data (libsodium's crypto_box_seal has no AD, so nothing
 * could be bound to it: a sealed content key could be cut from one record and pasted into
 * another). Anonymous sender, like crypto_box_seal; see docs/PROTOCOL.md "Sealed box".
 *
 *   esk, epk   = fresh X25519 keypair (per seal)
 *   shared     = X25519(esk, rpk)                   (all-zero result rejected)
 *   key        = BLAKE2b-256(shared || epk || rpk, personal "haven-seal-v1")
 *   nonce      = BLAKE2b-192(epk || rpk, personal "haven-sealnon-v1")
 *   sealed     = epk || XChaCha20-Poly1305(key, nonce, plaintext, ad)
 */
import { concat } from '../encoding.ts';
import { DecryptionError, MalformedError, WeakInputError } from '../errors.ts';
import type { Primitives } from '../primitives.ts';
import { Personal } from './constants.ts';

export const SEAL_OVERHEAD = 32 + 16;

function sealKeyAndNonce(p: Primitives, shared: Uint8Array, epk: Uint8Array, rpk: Uint8Array) {
  // Hashing both public keys in binds the key to this exact pair (as crypto_box_seal's nonce does).
  const key = p.blake2b(32, concat(shared, epk, rpk), { personal: Personal.sealKey });
  // The key is already unique per ephemeral keypair; a derived nonce costs nothing and means
  // a bad RNG for the nonce cannot be the failure point.
  const nonce = p.blake2b(24, concat(epk, rpk), { personal: Personal.sealNonce });
  return { key, nonce };
}

/**
 * Seals `plaintext` to `recipientPublic`, authenticating `ad` (not encrypted, not included).
 * @throws MalformedError if the public key is not 32 bytes; WeakInputError if it is a small-order point.
 */
export function seal(p: Primitives, recipientPublic: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
  if (recipientPublic.length !== 32) throw new MalformedError('public key must be 32 bytes');
  const eph = p.x25519Keypair();
  const shared = p.x25519SharedSecret(eph.secretKey, recipientPublic);
  eph.secretKey.fill(0);
  const { key, nonce } = sealKeyAndNonce(p, shared, eph.publicKey, recipientPublic);
  shared.fill(0);
  const ct = p.aeadEncrypt(key, nonce, plaintext, ad);
  key.fill(0);
  return concat(eph.publicKey, ct);
}

/**
 * Opens a sealed box with the recipient's X25519 secret and the same `ad`.
 * `recipientPublic`, when the caller already holds the public key of `recipientSecret`, saves
 * deriving it (a scalar multiplication, a quarter of the cost of opening a list row); a wrong
 * one changes the derived key, so the box then fails to open like any wrong key.
 * @throws MalformedError if shorter than 48 bytes; DecryptionError on wrong key, wrong ad or tampering.
 */
export function open(p: Primitives, recipientSecret: Uint8Array, sealed: Uint8Array, ad: Uint8Array, recipientPublic?: Uint8Array): Uint8Array {
  if (sealed.length < SEAL_OVERHEAD) throw new MalformedError('sealed box too short');
  if (recipientSecret.length !== 32) throw new MalformedError('secret key must be 32 bytes');
  const epk = sealed.slice(0, 32);
  const rpk = recipientPublic ?? p.x25519PublicFromSecret(recipientSecret);
  let shared: Uint8Array;
  try {
    shared = p.x25519SharedSecret(recipientSecret, epk);
  } catch (e) {
    // an attacker-chosen small-order epk: nothing sealed to us, just a forgery
    if (e instanceof WeakInputError) throw new DecryptionError();
    throw e;
  }
  const { key, nonce } = sealKeyAndNonce(p, shared, epk, rpk);
  shared.fill(0);
  try {
    return p.aeadDecrypt(key, nonce, sealed.subarray(32), ad);
  } finally {
    key.fill(0);
  }
}
