/**
 * The libsodium backend: THE ONLY file that imports libsodium-wrappers-sumo (STYLE.md rule 7).
 *
 * Used by the dashboard, the API (for tests and server-side checks) and the requester page
 * when WebAssembly is available. `-sumo` because the standard build has no crypto_pwhash.
 * Also provides crypto_secretstream (attachments); the pure-JS backend rebuilds it byte for byte.
 *
 * libsodium is loaded by a DYNAMIC import inside loadSodiumPrimitives(): merely importing
 * crypto/index.ts must not start instantiating WebAssembly, because where WebAssembly is off
 * (Tor Browser Safer, node --jitless) that rejects and can take the page or process down.
 */
import type SodiumModule from 'libsodium-wrappers-sumo';
import { DecryptionError, MalformedError, WeakInputError } from './errors.ts';
import {
  checkLength,
  isAllZero,
  kdfContextBytes,
  pad16,
  type Blake2bOptions,
  type Primitives,
  type SecretStream,
} from './primitives.ts';

/** The raw Emscripten module, for the one call the wrapper does not expose (see blake2b). */
interface RawModule {
  _malloc(n: number): number;
  _free(p: number): void;
  HEAPU8: Uint8Array;
  _crypto_generichash_blake2b_salt_personal(
    out: number,
    outLen: number,
    input: number,
    inLenLo: number,
    inLenHi: number,
    key: number,
    keyLen: number,
    salt: number,
    personal: number,
  ): number;
}

type Sodium = typeof SodiumModule;
let sodium: Sodium;

function raw(): RawModule {
  return (sodium as unknown as { libsodium: RawModule }).libsodium;
}

/**
 * BLAKE2b with salt and personal over a message. libsodium.js only wraps
 * crypto_generichash_blake2b_salt_personal WITHOUT a message argument, so we call the
 * C function directly. Memory is copied in, hashed, copied out and zeroed before free.
 */
function blake2bSaltPersonal(
  outLen: number,
  message: Uint8Array,
  key: Uint8Array | undefined,
  salt: Uint8Array,
  personal: Uint8Array,
): Uint8Array {
  const m = raw();
  const keyLen = key?.length ?? 0;
  const total = outLen + message.length + keyLen + 32;
  const base = m._malloc(Math.max(total, 1));
  if (!base) throw new Error('out of memory');
  try {
    const pOut = base;
    const pIn = pOut + outLen;
    const pKey = pIn + message.length;
    const pSalt = pKey + keyLen;
    const pPers = pSalt + 16;
    m.HEAPU8.set(message, pIn);
    if (key) m.HEAPU8.set(key, pKey);
    m.HEAPU8.set(salt, pSalt);
    m.HEAPU8.set(personal, pPers);
    const rc = m._crypto_generichash_blake2b_salt_personal(
      pOut, outLen, pIn, message.length, 0, keyLen ? pKey : 0, keyLen, pSalt, pPers,
    );
    if (rc !== 0) throw new MalformedError('blake2b parameters rejected');
    return m.HEAPU8.slice(pOut, pOut + outLen);
  } finally {
    m.HEAPU8.fill(0, base, base + total);
    m._free(base);
  }
}

function makeSecretStream(): SecretStream {
  const s = sodium;
  return {
    headerBytes: 24,
    aBytes: 17,
    initPush(key) {
      checkLength(key, 32);
      const { state, header } = s.crypto_secretstream_xchacha20poly1305_init_push(key);
      return {
        header,
        state: {
          push: (message, ad, tag) =>
            s.crypto_secretstream_xchacha20poly1305_push(state, message, ad, tag),
        },
      };
    },
    initPull(header, key) {
      checkLength(key, 32);
      if (header.length !== 24) throw new DecryptionError();
      let state: ReturnType<typeof s.crypto_secretstream_xchacha20poly1305_init_pull>;
      try {
        state = s.crypto_secretstream_xchacha20poly1305_init_pull(header, key);
      } catch {
        throw new DecryptionError();
      }
      return {
        pull(ciphertext, ad) {
          let r: { message: Uint8Array; tag: number } | false;
          try {
            r = s.crypto_secretstream_xchacha20poly1305_pull(state, ciphertext, ad);
          } catch {
            throw new DecryptionError();
          }
          // the wrapper returns false on a forged chunk
          if (!r) throw new DecryptionError();
          return { message: r.message, tag: r.tag };
        },
      };
    },
  };
}

/** Waits for the WebAssembly module, then returns the libsodium-backed Primitives. */
export async function loadSodiumPrimitives(): Promise<Primitives> {
  const mod = await import('libsodium-wrappers-sumo');
  const loaded = ((mod as { default?: Sodium }).default ?? mod) as Sodium;
  await loaded.ready;
  sodium = loaded;
  const s = loaded;
  const p: Primitives = {
    name: 'sodium',
    randomBytes: (n) => s.randombytes_buf(n),
    x25519Keypair() {
      const secretKey = s.randombytes_buf(32);
      return { secretKey, publicKey: s.crypto_scalarmult_base(secretKey) };
    },
    x25519PublicFromSecret(secretKey) {
      checkLength(secretKey, 32);
      return s.crypto_scalarmult_base(secretKey);
    },
    x25519SharedSecret(secretKey, publicKey) {
      checkLength(secretKey, 32);
      checkLength(publicKey, 32);
      let out: Uint8Array;
      try {
        out = s.crypto_scalarmult(secretKey, publicKey);
      } catch {
        // libsodium returns -1 exactly when the result is all zero
        throw new WeakInputError('x25519 result is all zero');
      }
      if (isAllZero(out)) throw new WeakInputError('x25519 result is all zero');
      return out;
    },
    ed25519KeypairFromSeed(seed) {
      checkLength(seed, 32);
      const kp = s.crypto_sign_seed_keypair(seed);
      s.memzero(kp.privateKey);
      return { publicKey: kp.publicKey, seed: seed.slice() };
    },
    ed25519Sign(message, seed) {
      checkLength(seed, 32);
      const kp = s.crypto_sign_seed_keypair(seed);
      try {
        return s.crypto_sign_detached(message, kp.privateKey);
      } finally {
        s.memzero(kp.privateKey);
      }
    },
    ed25519Verify(signature, message, publicKey) {
      if (signature.length !== 64 || publicKey.length !== 32) return false;
      try {
        return s.crypto_sign_verify_detached(signature, message, publicKey);
      } catch {
        return false;
      }
    },
    blake2b(outLen, message, opts: Blake2bOptions = {}) {
      if (!Number.isInteger(outLen) || outLen < 1 || outLen > 64) throw new MalformedError('bad blake2b length');
      if (opts.key && (opts.key.length < 16 || opts.key.length > 64)) throw new MalformedError('bad blake2b key length');
      if (opts.salt || opts.personal) {
        return blake2bSaltPersonal(
          outLen, message, opts.key,
          pad16(opts.salt ?? new Uint8Array(0)), pad16(opts.personal ?? new Uint8Array(0)),
        );
      }
      return s.crypto_generichash(outLen, message, opts.key ?? null);
    },
    kdfDerive(subkeyLen, subkeyId, context, masterKey) {
      checkLength(masterKey, 32);
      if (subkeyLen < 16 || subkeyLen > 64) throw new MalformedError('bad kdf subkey length');
      if (!Number.isSafeInteger(subkeyId) || subkeyId < 0) throw new MalformedError('bad kdf subkey id');
      kdfContextBytes(context);
      return s.crypto_kdf_derive_from_key(subkeyLen, subkeyId, context, masterKey);
    },
    aeadEncrypt(key, nonce, plaintext, ad) {
      checkLength(key, 32);
      checkLength(nonce, 24);
      return s.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key);
    },
    aeadDecrypt(key, nonce, ciphertext, ad) {
      checkLength(key, 32);
      checkLength(nonce, 24);
      if (ciphertext.length < 16) throw new DecryptionError();
      try {
        return s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key);
      } catch {
        throw new DecryptionError();
      }
    },
    async argon2id(outLen, password, salt, opsLimit, memLimitBytes) {
      checkLength(salt, 16);
      return s.crypto_pwhash(outLen, password, salt, opsLimit, memLimitBytes, s.crypto_pwhash_ALG_ARGON2ID13);
    },
    constantTimeEqual(a, b) {
      if (a.length !== b.length) return false;
      if (a.length === 0) return true;
      return s.memcmp(a, b);
    },
    secretstream: makeSecretStream(),
  };
  return Object.freeze(p);
}
