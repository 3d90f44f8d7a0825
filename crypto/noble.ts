/**
 * The pure-JS backend: THE ONLY file that imports @noble/* (audited, dependency-free).
 *
 * Why it exists: Tor Browser's Safer level disables WebAssembly, and libsodium.js cannot
 * run without it. The requester page, which frightened people open in Tor Browser, uses
 * this backend so it works there. Shared test vectors (tests/vectors/) prove its output is
 * byte-identical to libsodium's, secretstream (attachments) included: libsodium's
 * crypto_secretstream_xchacha20poly1305 rebuilt below from noble's ChaCha20, HChaCha20 and
 * Poly1305, proven equal by tests/vectors/secretstream.json and cross-decryption tests.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes } from '@noble/hashes/utils.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { chacha20, hchacha, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { DecryptionError, MalformedError, WeakInputError } from './errors.ts';
import {
  checkLength,
  constantTimeEqualJs,
  isAllZero,
  kdfContextBytes,
  pad16,
  type Blake2bOptions,
  type Primitives,
  type SecretStream,
  type SecretStreamPush,
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

// ---------------------------------------------------------------- secretstream

/**
 * libsodium's crypto_secretstream_xchacha20poly1305 (src/libsodium/crypto_secretstream/
 * xchacha20poly1305/secretstream_xchacha20poly1305.c), step for step:
 * state = subkey k (HChaCha20 of the key and header[0..16]) and a 12-byte ChaCha20-IETF nonce
 * = 4-byte little-endian counter (starts at 1) | 8-byte inonce (header[16..24]). Per message:
 * Poly1305 key = keystream block 0; the tag byte is encrypted as byte 0 of block 1; the message
 * from block 2; MAC over ad | pad | the 64-byte tag block | ciphertext | (mlen mod 16 zeros) |
 * le64(adlen) | le64(64 + mlen). Then inonce ^= mac[0..8], counter += 1, and a rekey on the REKEY bit or a
 * counter wrap.
 */
const SS_TAG_REKEY = 2;
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);

function wordsLE(b: Uint8Array): Uint32Array {
  const w = new Uint32Array(b.length / 4);
  for (let i = 0; i < w.length; i++) w[i] = b[4 * i]! | (b[4 * i + 1]! << 8) | (b[4 * i + 2]! << 16) | (b[4 * i + 3]! << 24);
  return w;
}

function bytesLE(w: Uint32Array): Uint8Array {
  const b = new Uint8Array(w.length * 4);
  for (let i = 0; i < w.length; i++) for (let j = 0; j < 4; j++) b[4 * i + j] = (w[i]! >>> (8 * j)) & 0xff;
  return b;
}

function le64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

/** The zeros that bring a length of n up to a multiple of 16. */
const polyPad = (n: number) => new Uint8Array((16 - (n % 16)) % 16);
/**
 * libsodium pads the message part with `(0x10 - 64 + mlen) & 0xf` zeros, which is mlen mod 16
 * (not the complement that would align it): a quirk of the reference, kept for equal bytes.
 */
const libsodiumMessagePad = (mlen: number) => new Uint8Array((0x10 - 64 + mlen) & 0xf);

class SecretStreamState {
  #k: Uint8Array;
  /** counter(4, little-endian) | inonce(8) */
  #nonce = new Uint8Array(12);

  constructor(key: Uint8Array, header: Uint8Array) {
    const out = new Uint32Array(8);
    hchacha(SIGMA, wordsLE(key), wordsLE(header.subarray(0, 16)), out);
    this.#k = bytesLE(out);
    this.#resetCounter();
    this.#nonce.set(header.subarray(16, 24), 4);
  }

  #resetCounter(): void {
    this.#nonce.fill(0, 0, 4);
    this.#nonce[0] = 1;
  }

  #mac(ad: Uint8Array, tagBlock: Uint8Array, c: Uint8Array): Uint8Array {
    const polyKey = chacha20(this.#k, this.#nonce, new Uint8Array(64)).subarray(0, 32);
    return poly1305(concatBytes(ad, polyPad(ad.length), tagBlock, c, libsodiumMessagePad(c.length), le64(ad.length), le64(64 + c.length)), polyKey);
  }

  #advance(mac: Uint8Array, tag: number): void {
    for (let i = 0; i < 8; i++) this.#nonce[4 + i]! ^= mac[i]!;
    let carry = 1;
    for (let i = 0; i < 4; i++) {
      const v = this.#nonce[i]! + carry;
      this.#nonce[i] = v & 0xff;
      carry = v >> 8;
    }
    const wrapped = this.#nonce[0] === 0 && this.#nonce[1] === 0 && this.#nonce[2] === 0 && this.#nonce[3] === 0;
    if ((tag & SS_TAG_REKEY) !== 0 || wrapped) this.#rekey();
  }

  #rekey(): void {
    const fresh = chacha20(this.#k, this.#nonce, concatBytes(this.#k, this.#nonce.subarray(4, 12)));
    this.#k = fresh.slice(0, 32);
    this.#nonce.set(fresh.subarray(32, 40), 4);
    this.#resetCounter();
  }

  push(message: Uint8Array, ad: Uint8Array, tag: number): Uint8Array {
    if (!Number.isInteger(tag) || tag < 0 || tag > 255) throw new MalformedError('bad secretstream tag');
    const block = new Uint8Array(64);
    block[0] = tag;
    const tagBlock = chacha20(this.#k, this.#nonce, block, undefined, 1);
    const c = chacha20(this.#k, this.#nonce, message, undefined, 2);
    const mac = this.#mac(ad, tagBlock, c);
    this.#advance(mac, tag);
    return concatBytes(tagBlock.subarray(0, 1), c, mac);
  }

  pull(input: Uint8Array, ad: Uint8Array): { message: Uint8Array; tag: number } {
    if (input.length < 17) throw new DecryptionError();
    const block = new Uint8Array(64);
    block[0] = input[0]!;
    const clear = chacha20(this.#k, this.#nonce, block, undefined, 1);
    const tag = clear[0]!;
    const tagBlock = new Uint8Array(64);
    tagBlock.set(clear.subarray(1), 1);
    // The MAC covers the block as sent: its first byte is the encrypted tag, the rest the keystream.
    tagBlock[0] = input[0]!;
    const c = input.subarray(1, input.length - 16);
    if (!constantTimeEqualJs(this.#mac(ad, tagBlock, c), input.subarray(input.length - 16))) throw new DecryptionError();
    const message = chacha20(this.#k, this.#nonce, c, undefined, 2);
    this.#advance(input.subarray(input.length - 16), tag);
    return { message, tag };
  }
}

/** TEST-ONLY door: the push side with a given header, so vectors can pin libsodium's bytes. */
export function nobleSecretStreamPushWithHeader(key: Uint8Array, header: Uint8Array): SecretStreamPush {
  checkLength(key, 32);
  checkLength(header, 24);
  return new SecretStreamState(key, header);
}

const nobleSecretStream: SecretStream = {
  headerBytes: 24,
  aBytes: 17,
  initPush(key) {
    checkLength(key, 32);
    const header = randomBytes(24);
    return { header, state: new SecretStreamState(key, header) };
  },
  initPull(header, key) {
    checkLength(key, 32);
    if (header.length !== 24) throw new DecryptionError();
    return new SecretStreamState(key, header);
  },
};

export const noblePrimitives: Primitives = Object.freeze({
  name: 'noble' as const,
  secretstream: nobleSecretStream,
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
