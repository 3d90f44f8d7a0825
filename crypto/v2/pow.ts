/**
 * Proof of work, version 2: SHA-256, an effort the client chooses, no difficulty in the
 * challenge.
 *
 * Why a new version (v1: BLAKE2b, difficulty fixed in the challenge, 30-minute lifetime):
 * - BLAKE2b had to run in pure JS on the requester page (no WebAssembly at Tor Browser's Safer
 *   level): about 8,000 hashes/s, while an attacker's native code ran hundreds of times faster.
 *   SHA-256 is in every browser as `crypto.subtle.digest`, which is native code even with the
 *   JIT and WebAssembly off, so the honest page and the attacker hash at comparable speeds.
 * - The work input is one SHA-256 block (37 bytes: below the 55-byte single-block limit) and
 *   the nonce is inside it: there is no fixed first block whose midstate a native solver could
 *   cache while WebCrypto cannot, so native code gains no factor of two from the layout.
 * - The challenge carries no difficulty: the difficulty a solution must meet is the server's at
 *   SUBMISSION time. A solution states the effort it was solved for (bound into the hash), so
 *   the server can rank submissions by it (api/intake/effort-queue.ts) and refuse one below
 *   today's minimum however it was obtained, stockpiled challenges included.
 *
 * Layout (docs/PROTOCOL.md section 15.2):
 *   challenge = 0x02 | 0x60 | challengeId(16) | expiresAt(u32, Unix seconds) | mac(32)   (54 bytes)
 *   work      = SHA-256("haven-pow-v2" | challengeId | effort(u8) | nonce(8))
 *   valid iff work starts with `effort` zero bits (most significant bit of byte 0 first).
 *
 * Hashing is passed in (`Sha256` / `Sha256Batch`): crypto/ stays free of I/O and platform
 * APIs; the server passes node:crypto, the page WebCrypto (or noble's sha256 without it).
 */
import { ByteReader, ByteWriter, utf8Encode } from '../encoding.ts';
import { MalformedError } from '../errors.ts';
import type { Primitives } from '../primitives.ts';
import { readVersionAndTypeV2, VERSION_V2 } from './constants.ts';

export const POW_V2_TYPE = 0x60;
export const POW_V2_CHALLENGE_BYTES = 2 + 16 + 4 + 32;
export const POW_V2_NONCE_BYTES = 8;
/** 2^32 expected hashes: far beyond anything a page is asked for; keeps numbers exact in JS. */
export const POW_V2_MAX_EFFORT = 32;

const PERSONAL_MAC_KEY = utf8Encode('haven-powkey-v2');
const PERSONAL_MAC = utf8Encode('haven-powmac-v2');
/** Domain prefix of the work hash, so no other SHA-256 in the world doubles as a solution. */
export const POW_V2_DOMAIN = utf8Encode('haven-pow-v2');
export const POW_V2_WORK_INPUT_BYTES = POW_V2_DOMAIN.length + 16 + 1 + POW_V2_NONCE_BYTES;

/** One SHA-256 (synchronous: node:crypto, noble). */
export type Sha256 = (data: Uint8Array) => Uint8Array;
/** Many SHA-256 at once (the page's WebCrypto: one promise per digest, awaited together). */
export type Sha256Batch = (inputs: readonly Uint8Array[]) => Promise<readonly Uint8Array[]>;

export interface PowChallengeV2 {
  challengeId: Uint8Array;
  /** Unix seconds after which the server refuses the challenge. */
  expiresAt: number;
}

export interface PowSolutionV2 {
  effort: number;
  nonce: Uint8Array;
}

/** The MAC key: a BLAKE2b of the server secret under its own personalisation. */
export function powMacKeyV2(p: Primitives, serverSecret: Uint8Array): Uint8Array {
  return p.blake2b(32, serverSecret, { personal: PERSONAL_MAC_KEY });
}

function checkEffort(effort: number): void {
  if (!Number.isInteger(effort) || effort < 0 || effort > POW_V2_MAX_EFFORT) throw new MalformedError('effort out of range');
}

/** Creates a MACed challenge. @throws MalformedError on out-of-range fields. */
export function createPowChallengeV2(p: Primitives, macKey: Uint8Array, c: PowChallengeV2): Uint8Array {
  const body = new ByteWriter().u8(VERSION_V2).u8(POW_V2_TYPE).bytes(c.challengeId, 16).u32(c.expiresAt).finish();
  const mac = p.blake2b(32, body, { key: macKey, personal: PERSONAL_MAC });
  return new ByteWriter().bytes(body).bytes(mac).finish();
}

/**
 * Parses a challenge without checking its MAC (what a solver needs).
 * @throws UnsupportedVersionError / UnknownVersionError / MalformedError (a v1 challenge is
 *   `malformed` here: a known version, but not this function's; see `powChallengeVersion`).
 */
export function parsePowChallengeV2(bytes: Uint8Array): PowChallengeV2 {
  const r = new ByteReader(bytes);
  readVersionAndTypeV2(r, POW_V2_TYPE);
  const challengeId = r.bytes(16);
  const expiresAt = r.u32();
  r.bytes(32);
  r.end();
  return { challengeId, expiresAt };
}

/**
 * Checks the MAC of a challenge this server (or a sibling with the same secret) issued.
 * @returns the parsed challenge, or null when the MAC does not verify.
 * @throws as parsePowChallengeV2.
 */
export function verifyPowChallengeV2(p: Primitives, macKey: Uint8Array, bytes: Uint8Array): PowChallengeV2 | null {
  const parsed = parsePowChallengeV2(bytes);
  const split = POW_V2_CHALLENGE_BYTES - 32;
  const expected = p.blake2b(32, bytes.subarray(0, split), { key: macKey, personal: PERSONAL_MAC });
  return p.constantTimeEqual(expected, bytes.subarray(split)) ? parsed : null;
}

/** Number of leading zero bits, most significant bit of byte 0 first. */
export function leadingZeroBits(hash: Uint8Array): number {
  let bits = 0;
  for (const byte of hash) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** The 37 bytes hashed for (challengeId, effort, nonce). @throws MalformedError on bad sizes. */
export function powWorkInputV2(challengeId: Uint8Array, effort: number, nonce: Uint8Array): Uint8Array {
  checkEffort(effort);
  if (challengeId.length !== 16) throw new MalformedError('challenge id must be 16 bytes');
  if (nonce.length !== POW_V2_NONCE_BYTES) throw new MalformedError('nonce must be 8 bytes');
  const input = new Uint8Array(POW_V2_WORK_INPUT_BYTES);
  input.set(POW_V2_DOMAIN);
  input.set(challengeId, POW_V2_DOMAIN.length);
  input[POW_V2_DOMAIN.length + 16] = effort;
  input.set(nonce, POW_V2_DOMAIN.length + 17);
  return input;
}

/**
 * True when `nonce` solves `challenge` at `effort`. Never throws on a bad solution: a wrong
 * size or an effort out of range is simply not a solution.
 * @throws as parsePowChallengeV2 on a malformed challenge.
 */
export function checkPowSolutionV2(sha256: Sha256, challenge: Uint8Array, solution: PowSolutionV2): boolean {
  const { challengeId } = parsePowChallengeV2(challenge);
  if (!Number.isInteger(solution.effort) || solution.effort < 0 || solution.effort > POW_V2_MAX_EFFORT) return false;
  if (solution.nonce.length !== POW_V2_NONCE_BYTES) return false;
  return leadingZeroBits(sha256(powWorkInputV2(challengeId, solution.effort, solution.nonce))) >= solution.effort;
}

export interface SolveOptions {
  /** Digests awaited together per round (WebCrypto's per-call cost is hidden by batching). */
  batch?: number;
  /** Called after each round with hashes tried and 2^effort (the expected number). */
  onProgress?: (tried: number, expected: number) => void;
  /** 4 random bytes that start the nonce, so two solvers of one challenge never repeat work. */
  randomPrefix?: Uint8Array;
  /** Stops the search (a newer challenge replaced this one). */
  signal?: { readonly aborted: boolean };
}

/**
 * Searches for a nonce at `effort` with a batched digest (the page's worker).
 * Nonce = randomPrefix(4) | counter(u32 big-endian).
 * @throws MalformedError on a bad effort/challenge or an exhausted counter; Error('aborted').
 */
export async function solvePowV2(
  digestBatch: Sha256Batch,
  challenge: Uint8Array,
  effort: number,
  opts: SolveOptions = {},
): Promise<PowSolutionV2> {
  checkEffort(effort);
  const { challengeId } = parsePowChallengeV2(challenge);
  const batch = opts.batch ?? 256;
  const prefix = opts.randomPrefix ?? new Uint8Array(4);
  if (prefix.length !== 4) throw new MalformedError('random prefix must be 4 bytes');
  const expected = 2 ** effort;
  const nonce = new Uint8Array(POW_V2_NONCE_BYTES);
  nonce.set(prefix);
  const view = new DataView(nonce.buffer);
  for (let counter = 0; counter <= 0xffffffff; counter += batch) {
    if (opts.signal?.aborted) throw new Error('aborted');
    const inputs: Uint8Array[] = [];
    const n = Math.min(batch, 0x100000000 - counter);
    for (let i = 0; i < n; i++) {
      view.setUint32(4, counter + i);
      inputs.push(powWorkInputV2(challengeId, effort, nonce));
    }
    const digests = await digestBatch(inputs);
    for (let i = 0; i < n; i++) {
      if (leadingZeroBits(digests[i]!) >= effort) return { effort, nonce: inputs[i]!.slice(POW_V2_DOMAIN.length + 17) };
    }
    opts.onProgress?.(counter + n, expected);
  }
  throw new MalformedError('no solution in nonce space');
}

/** The synchronous search (server-side tools, tests, the bench's attackers). */
export function solvePowV2Sync(sha256: Sha256, challenge: Uint8Array, effort: number, randomPrefix: Uint8Array = new Uint8Array(4)): PowSolutionV2 {
  checkEffort(effort);
  const { challengeId } = parsePowChallengeV2(challenge);
  const input = powWorkInputV2(challengeId, effort, new Uint8Array(8));
  input.set(randomPrefix, POW_V2_DOMAIN.length + 17);
  const view = new DataView(input.buffer, POW_V2_DOMAIN.length + 17 + 4, 4);
  for (let counter = 0; counter <= 0xffffffff; counter++) {
    view.setUint32(0, counter);
    if (leadingZeroBits(sha256(input)) >= effort) return { effort, nonce: input.slice(POW_V2_DOMAIN.length + 17) };
  }
  throw new MalformedError('no solution in nonce space');
}
