/**
 * The pure-JS backend: THE ONLY file that imports @noble/* (audited, dependency-free).
 *
 * Why it exists: Tor Browser's Safer level disables WebAssembly, and libsodium.js cannot
 * run without it. The requester page, which frightened people open in Tor Browser, uses
 * this backend so it works there. Shared test vectors (tests/vectors/) prove its output is
 * byte-identical to libsodium's. It has no secretstream, so attachments are not offered on
 * this path (see docs/PROTOCOL.md).
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes } from '@noble/hashes/utils.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { DecryptionError, MalformedError, WeakInputError } from './errors.ts';
import {
  checkLength,
  constantTimeEqualJs,
  isAllZero,
  kdfContextBytes,
  pad16,
  type Blake2bOptions,
  type Primitives,
} from './primitives.ts';

function nobleBlake2b(outLen: number, message: Uint8Array, opts: Blake2bOptions = {}): Uint8Array {
  if (!Number.isInteger(outLen) || outLen < 1 || outLen > 64) throw new MalformedError('bad blake2b length');
  if (opts.key && (opts.key.length < 16 || opts.key.length > 64)) throw new MalformedError('bad blake2b key length');
  return blake2b(message, {
    dkLen: outLen,
    ...(opts.key ? { key: opts.key } : {}),
    // libsodium always feeds a 16-byte salt/personal (zeros when absent); zero-padding here
    // gives the same parameter block, so outputs match with and without them.
    ...(opts.salt ? { salt: pad16(opts.salt) } : {}),
    ...(opts.personal ? { personalization: pad16(opts.personal) } : {}),
  });
}

/**
 * Ed25519 verification with libsodium's rule (crypto_sign_verify_detached, libsodium 1.0.22 as
 * shipped in libsodium-wrappers-sumo 0.8.4; src/libsodium/crypto_sign/ed25519/ref10/open.c):
 *   1. S must be canonical (S < L);
 *   2. R must not be one of the small-order encodings (checked on the BYTES, sign bit ignored,
 *      including the non-canonical encodings y = p and y = p + 1);
 *   3. A must be canonical (y < p) and not of small order (same byte check);
 *   4. A must decode to a curve point;
 *   5. COFACTORLESS equation: encode([S]B - [k]A) must equal the 32 R bytes, k = SHA-512(R||A||M) mod L.
 * noble's own ed25519.verify checks the COFACTORED equation ([8]([S]B - R - [k]A) = 0) even with
 * zip215: false, so it accepts signatures under mixed-order keys (A + a torsion point) that
 * libsodium rejects. One signature must never be valid in one browser and invalid in the other
 * (the requester page runs noble, the dashboard libsodium): a signed statement or message that
 * one side accepts and the other refuses splits what two people believe. So we do not call
 * ed25519.verify at all; we recompute libsodium's rule on noble's Point API.
 * Comparing encode([S]B - [k]A) with R's bytes also rejects every non-canonical R (an encoding
 * is canonical by construction). Nothing here is secret, so variable-time arithmetic is fine.
 * Proven equal to libsodium on crafted edge vectors: tests/vectors/ed25519-edge.json.
 */
const Point = ed25519.Point;
const L = Point.Fn.ORDER;

/** libsodium ge25519_has_small_order: the y bytes (sign bit ignored, y taken mod p) are those of a point of order 1, 2, 4 or 8. */
function hasSmallOrderEncoding(encoded: Uint8Array): boolean {
  let pt;
  try {
    // zip215 decoding accepts y >= p and x = 0 with the sign bit set, exactly the encodings
    // libsodium's byte blocklist also catches; a y that is not on the curve is not small-order.
    pt = Point.fromBytes(encoded, true);
  } catch {
    return false;
  }
  return pt.isSmallOrder();
}

/** libsodium ge25519_is_canonical: y (sign bit cleared) < p. */
function isCanonicalY(encoded: Uint8Array): boolean {
  const y = encoded.slice();
  y[31]! &= 0x7f;
  return bytesToNumberLE(y) < Point.Fp.ORDER;
}

function libsodiumEd25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  const rBytes = signature.subarray(0, 32);
  const s = bytesToNumberLE(signature.subarray(32, 64));
  if (s >= L) return false;
  if (hasSmallOrderEncoding(rBytes)) return false;
  if (!isCanonicalY(publicKey) || hasSmallOrderEncoding(publicKey)) return false;
  let A;
  try {
    A = Point.fromBytes(publicKey, false);
  } catch {
    return false;
  }
  const k = bytesToNumberLE(sha512(concatBytes(rBytes, publicKey, message))) % L;
  const check = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k)).toBytes();
  return constantTimeEqualJs(check, rBytes);
}

export const noblePrimitives: Primitives = Object.freeze({
  name: 'noble' as const,
  randomBytes: (n: number) => randomBytes(n),
  x25519Keypair() {
    const secretKey = randomBytes(32);
    return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
  },
  x25519PublicFromSecret(secretKey: Uint8Array) {
    checkLength(secretKey, 32);
    return x25519.getPublicKey(secretKey);
  },
  x25519SharedSecret(secretKey: Uint8Array, publicKey: Uint8Array) {
    checkLength(secretKey, 32);
    checkLength(publicKey, 32);
    let out: Uint8Array;
    try {
      out = x25519.getSharedSecret(secretKey, publicKey);
    } catch {
      throw new WeakInputError('x25519 result is all zero');
    }
    if (isAllZero(out)) throw new WeakInputError('x25519 result is all zero');
    return out;
  },
  ed25519KeypairFromSeed(seed: Uint8Array) {
    checkLength(seed, 32);
    return { publicKey: ed25519.getPublicKey(seed), seed: seed.slice() };
  },
  ed25519Sign(message: Uint8Array, seed: Uint8Array) {
    checkLength(seed, 32);
    return ed25519.sign(message, seed);
  },
  ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) {
    try {
      return libsodiumEd25519Verify(signature, message, publicKey);
    } catch {
      return false; // never throws, like the libsodium backend
    }
  },
  blake2b: nobleBlake2b,
  kdfDerive(subkeyLen: number, subkeyId: number, context: string, masterKey: Uint8Array) {
    checkLength(masterKey, 32);
    if (subkeyLen < 16 || subkeyLen > 64) throw new MalformedError('bad kdf subkey length');
    if (!Number.isSafeInteger(subkeyId) || subkeyId < 0) throw new MalformedError('bad kdf subkey id');
    // crypto_kdf_derive_from_key: salt = LE64(subkey_id) || 0^8, personal = ctx || 0^8.
    const salt = new Uint8Array(16);
    let id = subkeyId;
    for (let i = 0; i < 8; i++) {
      salt[i] = id % 256;
      id = Math.floor(id / 256);
    }
    return nobleBlake2b(subkeyLen, new Uint8Array(0), {
      key: masterKey,
      salt,
      personal: kdfContextBytes(context),
    });
  },
  aeadEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array) {
    checkLength(key, 32);
    checkLength(nonce, 24);
    return xchacha20poly1305(key, nonce, ad).encrypt(plaintext);
  },
  aeadDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array) {
    checkLength(key, 32);
    checkLength(nonce, 24);
    if (ciphertext.length < 16) throw new DecryptionError();
    try {
      return xchacha20poly1305(key, nonce, ad).decrypt(ciphertext);
    } catch {
      throw new DecryptionError();
    }
  },
  async argon2id(outLen: number, password: Uint8Array, salt: Uint8Array, opsLimit: number, memLimitBytes: number) {
    checkLength(salt, 16);
    // Same limits libsodium enforces, so both backends refuse the same inputs.
    if (!Number.isInteger(opsLimit) || opsLimit < 1 || !Number.isInteger(memLimitBytes) || memLimitBytes < 8192) {
      throw new WeakInputError('argon2id parameters below libsodium minimum');
    }
    return argon2idAsync(password, salt, {
      t: opsLimit,
      m: Math.floor(memLimitBytes / 1024),
      p: 1,
      dkLen: outLen,
      maxmem: 2 ** 31,
    });
  },
  constantTimeEqual: constantTimeEqualJs,
});

/**
 * SHA-256 in pure JS: the proof of work's fallback on a page without WebCrypto (crypto/v2/pow.ts).
 * Not part of `Primitives`: only the proof of work hashes with SHA-256, and the server uses
 * node:crypto for it.
 */
export function nobleSha256(data: Uint8Array): Uint8Array {
  return sha256(data);
}
