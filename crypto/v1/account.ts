/**
 * Responder/admin accounts: passphrase -> Argon2id -> crypto_kdf subkeys (a key that wraps the
 * account's X25519 + Ed25519 secrets, and a separate login verifier), the wrapped key bundle,
 * the verifier hash the server stores, and deterministic fake salts for unknown user names.
 *
 * Threats: server seizure (the bundle is useless without the passphrase; the server never sees
 * the wrap key, only a hash of a different subkey); account enumeration (unknown names get a
 * stable fake salt, so "no such user" looks like "wrong passphrase"); a malicious server
 * offering weak Argon2id parameters to make the verifier cheap to crack (checked minimum).
 */
import { ByteReader, ByteWriter, utf8Encode } from '../encoding.ts';
import { MalformedError, WeakInputError } from '../errors.ts';
import type { Primitives } from '../primitives.ts';
import { Kdf, ObjectType, Personal, readVersionAndType, VERSION } from './constants.ts';

export interface Argon2Params {
  /** Argon2id iterations (libsodium opslimit) */
  ops: number;
  /** memory in KiB (libsodium memlimit / 1024) */
  memKiB: number;
}

/** RFC 9106's second recommended setting: t=3, 64 MiB. About 0.2-0.35 s with libsodium. */
export const RESPONDER_DEFAULT_PARAMS: Readonly<Argon2Params> = Object.freeze({ ops: 3, memKiB: 65536 });
/** OWASP's floor for Argon2id (t=2, 19 MiB). Anything below is refused (server downgrade). */
export const RESPONDER_MIN_PARAMS: Readonly<Argon2Params> = Object.freeze({ ops: 2, memKiB: 19456 });
/** Upper bound so a hostile server cannot make a browser allocate gigabytes or spin for minutes. */
export const ARGON2_MAX_PARAMS: Readonly<Argon2Params> = Object.freeze({ ops: 10, memKiB: 1048576 });

/**
 * @throws WeakInputError below `minimum`; MalformedError if not integers or above the maximum.
 */
export function checkArgon2Params(params: Argon2Params, minimum: Argon2Params): void {
  const { ops, memKiB } = params;
  if (!Number.isInteger(ops) || !Number.isInteger(memKiB)) throw new MalformedError('argon2 params not integers');
  if (ops > ARGON2_MAX_PARAMS.ops || memKiB > ARGON2_MAX_PARAMS.memKiB) throw new MalformedError('argon2 params too large');
  // 8 KiB and 1 pass are libsodium's own floor; `minimum` is ours.
  if (ops < Math.max(1, minimum.ops) || memKiB < Math.max(8, minimum.memKiB)) {
    throw new WeakInputError('argon2 params below minimum');
  }
}

export interface AccountSecrets {
  wrapKey: Uint8Array;
  loginVerifier: Uint8Array;
}

/** Responder passphrases are chosen by people: only NFKC (so the same text typed on two keyboards matches). */
export function normalizeAccountPassphrase(s: string): string {
  return s.normalize('NFKC');
}

/**
 * master = Argon2id(NFKC(passphrase), salt16, ops, memKiB*1024, 32 bytes);
 * wrapKey = kdf(32, 1, "hvnacct1", master); loginVerifier = kdf(32, 2, "hvnacct1", master).
 * Two subkeys so what the server sees at login (the verifier) can never unwrap the bundle.
 * @param minimum lower bound for params (default RESPONDER_MIN_PARAMS; tests pass tiny values).
 * @throws WeakInputError for a passphrase under 8 characters or weak params; MalformedError for a bad salt.
 */
export async function deriveAccountSecrets(
  p: Primitives,
  passphrase: string,
  salt: Uint8Array,
  params: Argon2Params,
  minimum: Argon2Params = RESPONDER_MIN_PARAMS,
): Promise<AccountSecrets> {
  if (salt.length !== 16) throw new MalformedError('salt must be 16 bytes');
  const norm = normalizeAccountPassphrase(passphrase);
  if ([...norm].length < 8) throw new WeakInputError('passphrase too short');
  checkArgon2Params(params, minimum);
  const master = await p.argon2id(32, utf8Encode(norm), salt, params.ops, params.memKiB * 1024);
  const wrapKey = p.kdfDerive(32, Kdf.accountWrapKeyId, Kdf.accountContext, master);
  const loginVerifier = p.kdfDerive(32, Kdf.accountLoginVerifierId, Kdf.accountContext, master);
  master.fill(0);
  return { wrapKey, loginVerifier };
}

/** What the server stores for login: BLAKE2b-256(verifier, personal "haven-login-v1"). Compare in constant time. */
export function loginVerifierHash(p: Primitives, verifier: Uint8Array): Uint8Array {
  if (verifier.length !== 32) throw new MalformedError('verifier must be 32 bytes');
  return p.blake2b(32, verifier, { personal: Personal.loginVerifier });
}

/**
 * Deterministic fake salt for a user name that does not exist:
 * BLAKE2b-128(utf8(username), key = serverSecret (32 bytes), personal "haven-fksalt-v1").
 * Same name -> same salt every time, so probing cannot tell a real account from a missing one.
 * The API must apply its own user-name normalisation before calling this and before lookups.
 * @throws MalformedError if serverSecret is not 32 bytes.
 */
export function fakeSalt(p: Primitives, serverSecret: Uint8Array, username: string): Uint8Array {
  if (serverSecret.length !== 32) throw new MalformedError('server secret must be 32 bytes');
  return p.blake2b(16, utf8Encode(username), { key: serverSecret, personal: Personal.fakeSalt });
}

/** A fresh random per-account salt. */
export function newAccountSalt(p: Primitives): Uint8Array {
  return p.randomBytes(16);
}

/** New account keys, made in the browser at enrolment. */
export function createAccountKeys(p: Primitives): { x25519Secret: Uint8Array; ed25519Seed: Uint8Array } {
  return { x25519Secret: p.randomBytes(32), ed25519Seed: p.randomBytes(32) };
}

export const ACCOUNT_BUNDLE_BYTES = 2 + 4 + 4 + 16 + 24 + 64 + 16;
const BUNDLE_HEADER_BYTES = 2 + 4 + 4 + 16 + 24;

/**
 * version | 0x20 | ops(u32) | memKiB(u32) | salt(16) | nonce(24) | AEAD(wrapKey, nonce,
 * x25519Secret(32) || ed25519Seed(32), AD = the 50 header bytes). The params travel in the
 * bundle so they can be raised later (re-wrap on next login) and are authenticated by the AD.
 */
export function wrapAccountKeys(
  p: Primitives,
  a: { wrapKey: Uint8Array; salt: Uint8Array; params: Argon2Params; x25519Secret: Uint8Array; ed25519Seed: Uint8Array },
): Uint8Array {
  checkArgon2Params(a.params, { ops: 1, memKiB: 8 });
  const header = new ByteWriter()
    .u8(VERSION).u8(ObjectType.accountBundle)
    .u32(a.params.ops).u32(a.params.memKiB).bytes(a.salt, 16).bytes(p.randomBytes(24), 24)
    .finish();
  const secrets = new ByteWriter().bytes(a.x25519Secret, 32).bytes(a.ed25519Seed, 32).finish();
  const ct = p.aeadEncrypt(a.wrapKey, header.subarray(26, 50), secrets, header);
  secrets.fill(0);
  return new ByteWriter().bytes(header).bytes(ct).finish();
}

/**
 * Reads salt and params from a bundle (the server uses it to answer the pre-login query).
 * @throws version errors, MalformedError.
 */
export function parseAccountBundleHeader(bundle: Uint8Array): { salt: Uint8Array; params: Argon2Params } {
  const r = new ByteReader(bundle);
  readVersionAndType(r, ObjectType.accountBundle);
  const ops = r.u32();
  const memKiB = r.u32();
  const salt = r.bytes(16);
  r.bytes(24);
  r.bytes(80);
  r.end();
  return { salt, params: { ops, memKiB } };
}

/**
 * @throws version errors / MalformedError on structure; DecryptionError on a wrong passphrase
 *   (wrong wrap key) or a tampered bundle (including changed params or salt).
 */
export function unwrapAccountKeys(
  p: Primitives,
  wrapKey: Uint8Array,
  bundle: Uint8Array,
): { x25519Secret: Uint8Array; ed25519Seed: Uint8Array; x25519Public: Uint8Array; ed25519Public: Uint8Array } {
  parseAccountBundleHeader(bundle);
  const header = bundle.subarray(0, BUNDLE_HEADER_BYTES);
  const pt = p.aeadDecrypt(wrapKey, header.subarray(26, 50), bundle.subarray(BUNDLE_HEADER_BYTES), header);
  const x25519Secret = pt.slice(0, 32);
  const ed25519Seed = pt.slice(32, 64);
  pt.fill(0);
  return {
    x25519Secret,
    ed25519Seed,
    x25519Public: p.x25519PublicFromSecret(x25519Secret),
    ed25519Public: p.ed25519KeypairFromSeed(ed25519Seed).publicKey,
  };
}
