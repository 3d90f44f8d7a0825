/**
 * The anonymous requester's secret: a generated word passphrase (>= 100 bits), forgiving
 * normalisation, and what it derives: a lookup token (the server stores only its hash) and
 * an X25519 reply key (public half travels inside the encrypted request).
 *
 * The passphrase is GENERATED (never chosen), so its strength is the >= 100 bits of uniform
 * word choice; Argon2id here is defence in depth, sized so the pure-JS path stays usable in
 * Tor Browser without WebAssembly or JIT (figures in docs/BENCHMARKS.md).
 */
import { utf8Encode } from '../encoding.ts';
import { MalformedError, WeakInputError } from '../errors.ts';
import type { Primitives } from '../primitives.ts';
import { checkArgon2Params, type Argon2Params } from './account.ts';
import { checkId, Kdf, Personal } from './constants.ts';

/**
 * Requester Argon2id parameter sets, by id. The id (and the params) travel with what needs
 * them: the request body records {ops, memKiB}; a returning requester's client sends the
 * param set id with its lookup and, on "not found", retries older sets newest first. To raise
 * the cost later, add set 2 and make it current; old threads keep working.
 *
 * Set 1: t=1, 2 MiB. The pure-JS path only runs where WebAssembly is off, which in practice is
 * Tor Browser "Safer", which also turns the JIT off. Measured on the 2-core server with
 * node --jitless: ~0.5 s (8 MiB took ~2 s); a low-end phone is ~4x slower, so ~2 s there.
 * With WebAssembly (libsodium) it is a few ms. The params cannot depend on the backend: a
 * returning requester may use another browser and must derive the same lookup token.
 * The >= 100-bit generated passphrase is the real strength; Argon2id is defence in depth.
 */
export const REQUESTER_PARAM_SETS: Readonly<Record<number, Readonly<Argon2Params>>> = Object.freeze({
  1: Object.freeze({ ops: 1, memKiB: 2048 }),
});
export const CURRENT_REQUESTER_PARAM_SET = 1;
export const REQUESTER_MIN_PARAMS: Readonly<Argon2Params> = Object.freeze({ ops: 1, memKiB: 2048 });

/**
 * Forgiving, idempotent normalisation so "Apple  banana, Cherry" == "apple banana cherry":
 * NFKC, lower case, Cyrillic ё -> е (Russian writers often omit the dots), every run of
 * characters that is not a letter, combining mark or digit becomes one space, trimmed.
 */
export function normalizePassphrase(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .normalize('NFKC')
    .replace(/ё/g, 'е')
    .replace(/[^\p{L}\p{M}\p{N}]+/gu, ' ')
    .trim();
}

const checkedLists = new WeakMap<readonly string[], true>();

/** A word list is usable only if every word survives normalisation unchanged and no two collide. */
function checkWordList(words: readonly string[]): void {
  if (checkedLists.has(words)) return;
  if (words.length < 2) throw new WeakInputError('word list too short');
  const seen = new Set<string>();
  for (const w of words) {
    if (normalizePassphrase(w) !== w || w.includes(' ') || w.length === 0) {
      throw new WeakInputError('word list contains a word that does not normalise to itself');
    }
    if (seen.has(w)) throw new WeakInputError('word list contains duplicates');
    seen.add(w);
  }
  checkedLists.set(words, true);
}

/** Uniform integer in [0, n) by rejection sampling (no modulo bias). */
export function uniformInt(p: Primitives, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new MalformedError('bad range');
  const limit = 2 ** 32 - (2 ** 32 % n);
  for (;;) {
    const b = p.randomBytes(4);
    const x = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    if (x < limit) return x % n;
  }
}

/** Number of words needed for `minBits` from a list of `listLength` words. */
export function passphraseWordCount(listLength: number, minBits = 100): number {
  return Math.ceil(minBits / Math.log2(listLength));
}

/**
 * ceil(minBits / log2(words.length)) words chosen uniformly, joined by single spaces.
 * @throws WeakInputError if the list is too short, has duplicates or non-normalised words.
 */
export function generatePassphrase(p: Primitives, words: readonly string[], minBits = 100): string {
  checkWordList(words);
  const n = passphraseWordCount(words.length, minBits);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(words[uniformInt(p, words.length)]!);
  return out.join(' ');
}

/** Argon2id salt for requesters: BLAKE2b-128(orgId, personal "haven-req-salt"). Per org, public. */
export function requesterSalt(p: Primitives, orgId: Uint8Array): Uint8Array {
  checkId(orgId);
  return p.blake2b(16, orgId, { personal: Personal.requesterSalt });
}

export interface RequesterKeys {
  lookupToken: Uint8Array;
  replySecret: Uint8Array;
  replyPublic: Uint8Array;
}

/**
 * master = Argon2id(utf8(normalizePassphrase(passphrase)), requesterSalt(orgId), params, 32);
 * lookupToken = kdf(32, 1, "hvnreq01", master); replySecret = kdf(32, 2, "hvnreq01", master).
 * @throws WeakInputError if the normalised passphrase is empty or params are below `minimum`.
 */
export async function deriveRequesterKeys(
  p: Primitives,
  passphrase: string,
  orgId: Uint8Array,
  params: Argon2Params = REQUESTER_PARAM_SETS[CURRENT_REQUESTER_PARAM_SET]!,
  minimum: Argon2Params = REQUESTER_MIN_PARAMS,
): Promise<RequesterKeys> {
  const norm = normalizePassphrase(passphrase);
  if (norm.length === 0) throw new WeakInputError('empty passphrase');
  checkArgon2Params(params, minimum);
  const master = await p.argon2id(32, utf8Encode(norm), requesterSalt(p, orgId), params.ops, params.memKiB * 1024);
  const lookupToken = p.kdfDerive(32, Kdf.requesterLookupTokenId, Kdf.requesterContext, master);
  const replySecret = p.kdfDerive(32, Kdf.requesterReplyKeyId, Kdf.requesterContext, master);
  master.fill(0);
  return { lookupToken, replySecret, replyPublic: p.x25519PublicFromSecret(replySecret) };
}

/** What the server stores and looks up: BLAKE2b-256(token, personal "haven-lookup-v1"). */
export function lookupTokenHash(p: Primitives, token: Uint8Array): Uint8Array {
  if (token.length !== 32) throw new MalformedError('token must be 32 bytes');
  return p.blake2b(32, token, { personal: Personal.lookupToken });
}
