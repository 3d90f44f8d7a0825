/**
 * The low-level operations the Haven protocol needs, as one interface with two
 * implementations: `sodium.ts` (libsodium.js, WebAssembly) and `noble.ts` (pure JS, for
 * Tor Browser's Safer level where WebAssembly is off). Every protocol function takes a
 * `Primitives` as its first argument, so both backends run exactly the same protocol
 * code, and the shared test vectors prove they agree byte for byte.
 *
 * Conventions (identical in both backends):
 * - X25519 secrets are 32 raw bytes (clamped inside the scalar multiplication, RFC 7748).
 * - Ed25519 secrets are 32-byte seeds (RFC 8032); the 64-byte libsodium form never leaves sodium.ts.
 * - `blake2b` `personal` is at most 16 bytes and is zero-padded to 16 (libsodium requires
 *   exactly 16); `salt` likewise at most 16, zero-padded.
 */
import { MalformedError } from './errors.ts';

export interface X25519Keypair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface Ed25519Keypair {
  publicKey: Uint8Array;
  /** the 32-byte RFC 8032 seed */
  seed: Uint8Array;
}

export interface Blake2bOptions {
  key?: Uint8Array;
  salt?: Uint8Array;
  personal?: Uint8Array;
}

/** libsodium crypto_secretstream_xchacha20poly1305 tags. */
export const SECRETSTREAM_TAG_MESSAGE = 0;
export const SECRETSTREAM_TAG_FINAL = 3;

export interface SecretStreamPush {
  push(message: Uint8Array, ad: Uint8Array, tag: number): Uint8Array;
}
export interface SecretStreamPull {
  /** @throws DecryptionError on a forged, reordered or truncated chunk. */
  pull(ciphertext: Uint8Array, ad: Uint8Array): { message: Uint8Array; tag: number };
}
export interface SecretStream {
  readonly headerBytes: 24;
  readonly aBytes: 17;
  initPush(key: Uint8Array): { header: Uint8Array; state: SecretStreamPush };
  /** @throws DecryptionError on a bad header. */
  initPull(header: Uint8Array, key: Uint8Array): SecretStreamPull;
}

export interface Primitives {
  readonly name: 'sodium' | 'noble';
  /** CSPRNG bytes (crypto.getRandomValues in both environments). */
  randomBytes(n: number): Uint8Array;

  x25519Keypair(): X25519Keypair;
  x25519PublicFromSecret(secretKey: Uint8Array): Uint8Array;
  /**
   * X25519(secret, public).
   * @throws WeakInputError when the result is all zero (small-order public key): such a
   *   "shared secret" is known to everyone, so deriving a key from it would be a silent failure.
   */
  x25519SharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array;

  ed25519KeypairFromSeed(seed: Uint8Array): Ed25519Keypair;
  ed25519Sign(message: Uint8Array, seed: Uint8Array): Uint8Array;
  /** false on any failure, including malformed keys or signatures (never throws). */
  ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;

  /** BLAKE2b with output length `outLen` (1..64), optional key (16..64 bytes), salt, personal. */
  blake2b(outLen: number, message: Uint8Array, opts?: Blake2bOptions): Uint8Array;
  /** = libsodium crypto_kdf_derive_from_key (BLAKE2b keyed, salt = LE64(id)||0^8, personal = ctx||0^8). */
  kdfDerive(subkeyLen: number, subkeyId: number, context: string, masterKey: Uint8Array): Uint8Array;

  /** XChaCha20-Poly1305-IETF: returns ciphertext || 16-byte tag. */
  aeadEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array;
  /** @throws DecryptionError on authentication failure. */
  aeadDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array;

  /**
   * = libsodium crypto_pwhash(ALG_ARGON2ID13): Argon2id v1.3, parallelism 1,
   * t = opsLimit, m = memLimitBytes / 1024 KiB. Async so the browser can stay responsive.
   */
  argon2id(
    outLen: number,
    password: Uint8Array,
    salt: Uint8Array,
    opsLimit: number,
    memLimitBytes: number,
  ): Promise<Uint8Array>;

  /** Constant-time equality; false (not an exception) for different lengths. */
  constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean;

  /** crypto_secretstream_xchacha20poly1305 (attachments): both backends, byte-identical. */
  readonly secretstream?: SecretStream;
}

/** Shared by both backends: checks a fixed-length input before handing it to a library. */
export function checkLength(b: Uint8Array, n: number): void {
  if (!(b instanceof Uint8Array) || b.length !== n) {
    throw new MalformedError('input has wrong length');
  }
}

/** Pads a <=16-byte BLAKE2b salt/personal to 16 bytes. */
export function pad16(b: Uint8Array): Uint8Array {
  if (b.length > 16) throw new MalformedError('blake2b salt/personal longer than 16 bytes');
  const out = new Uint8Array(16);
  out.set(b);
  return out;
}

/** Pure-JS constant-time compare (no early exit on the first differing byte). */
export function constantTimeEqualJs(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export function isAllZero(b: Uint8Array): boolean {
  let d = 0;
  for (const x of b) d |= x;
  return d === 0;
}

/** Subkey context for crypto_kdf: exactly 8 ASCII bytes. */
export function kdfContextBytes(context: string): Uint8Array {
  if (!/^[\x20-\x7e]{8}$/.test(context)) throw new MalformedError('kdf context must be 8 ASCII chars');
  return new TextEncoder().encode(context);
}
