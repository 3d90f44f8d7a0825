/**
 * Proof of work for anonymous submissions: the only brake on a flooder when Haven must
 * not count anything per IP.
 *
 * The server hands out a stateless challenge, MACed with a key derived from its secret, so
 * any instance can check a challenge another issued. The client searches for a nonce whose
 * BLAKE2b hash over (challenge || nonce) starts with `difficulty` zero bits. Replay is
 * stopped by the server recording each spent challenge id in the database until it expires.
 *
 * Challenge layout (docs/PROTOCOL.md): version(1) | type 0x60 (1) | challengeId(16) |
 * difficulty(1) | expiresAtMinute(u32, Unix minutes) | mac(32).
 */
import { ByteReader, ByteWriter, utf8Encode } from '../encoding.ts';
import { MalformedError } from '../errors.ts';
import type { Primitives } from '../primitives.ts';
import { readVersionAndType, VERSION } from './constants.ts';

export const POW_OBJECT_TYPE = 0x60;
export const POW_CHALLENGE_BYTES = 2 + 16 + 1 + 4 + 32;
export const POW_NONCE_BYTES = 8;
export const POW_MAX_DIFFICULTY = 32;

const PERSONAL_MAC_KEY = utf8Encode('haven-powkey-v1');
const PERSONAL_MAC = utf8Encode('haven-powmac-v1');
const PERSONAL_WORK = utf8Encode('haven-pow-v1');

export interface PowChallenge {
  challengeId: Uint8Array;
  difficulty: number;
  expiresAtMinute: number;
}

/** The MAC key: a BLAKE2b of the server secret, so the secret itself is used for nothing else. */
export function powMacKey(p: Primitives, serverSecret: Uint8Array): Uint8Array {
  return p.blake2b(32, serverSecret, { personal: PERSONAL_MAC_KEY });
}

/** Creates a signed challenge. @throws MalformedError on out-of-range fields. */
export function createPowChallenge(p: Primitives, macKey: Uint8Array, c: PowChallenge): Uint8Array {
  if (!Number.isInteger(c.difficulty) || c.difficulty < 0 || c.difficulty > POW_MAX_DIFFICULTY) {
    throw new MalformedError('difficulty out of range');
  }
  const body = new ByteWriter().u8(VERSION).u8(POW_OBJECT_TYPE).bytes(c.challengeId, 16).u8(c.difficulty).u32(c.expiresAtMinute).finish();
  const mac = p.blake2b(32, body, { key: macKey, personal: PERSONAL_MAC });
  return new ByteWriter().bytes(body).bytes(mac).finish();
}

/** Parses a challenge without checking its MAC: what the solving browser needs. */
export function parsePowChallenge(bytes: Uint8Array): PowChallenge {
  const r = new ByteReader(bytes);
  readVersionAndType(r, POW_OBJECT_TYPE);
  const challengeId = r.bytes(16);
  const difficulty = r.u8();
  const expiresAtMinute = r.u32();
  r.bytes(32);
  r.end();
  if (difficulty > POW_MAX_DIFFICULTY) throw new MalformedError('difficulty out of range');
  return { challengeId, difficulty, expiresAtMinute };
}

/**
 * Checks a challenge this server (or a sibling instance) issued.
 * @returns the parsed challenge, or null when the MAC does not verify.
 * @throws MalformedError / version errors on a malformed challenge.
 */
export function verifyPowChallenge(p: Primitives, macKey: Uint8Array, bytes: Uint8Array): PowChallenge | null {
  const parsed = parsePowChallenge(bytes);
  const body = bytes.subarray(0, POW_CHALLENGE_BYTES - 32);
  const expected = p.blake2b(32, body, { key: macKey, personal: PERSONAL_MAC });
  return p.constantTimeEqual(expected, bytes.subarray(POW_CHALLENGE_BYTES - 32)) ? parsed : null;
}

function leadingZeroBits(hash: Uint8Array): number {
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

function workHash(p: Primitives, challenge: Uint8Array, nonce: Uint8Array): Uint8Array {
  const input = new Uint8Array(challenge.length + POW_NONCE_BYTES);
  input.set(challenge);
  input.set(nonce, challenge.length);
  return p.blake2b(32, input, { personal: PERSONAL_WORK });
}

/** True when `nonce` solves `challenge` at the challenge's own difficulty. */
export function checkPowSolution(p: Primitives, challenge: Uint8Array, nonce: Uint8Array): boolean {
  if (nonce.length !== POW_NONCE_BYTES) return false;
  const { difficulty } = parsePowChallenge(challenge);
  return leadingZeroBits(workHash(p, challenge, nonce)) >= difficulty;
}

/**
 * Searches for a nonce (in a Web Worker on the requester page). `onProgress` gets the
 * number of hashes tried so far every `progressEvery` attempts; expected work is 2^difficulty.
 */
export function solvePow(
  p: Primitives,
  challenge: Uint8Array,
  onProgress?: (tried: number, expected: number) => void,
  progressEvery = 4096,
): Uint8Array {
  const { difficulty } = parsePowChallenge(challenge);
  const expected = 2 ** difficulty;
  const input = new Uint8Array(challenge.length + POW_NONCE_BYTES);
  input.set(challenge);
  // A random start keeps two solvers of one challenge from doing the same work.
  input.set(p.randomBytes(4), challenge.length);
  const view = new DataView(input.buffer, input.byteOffset + challenge.length + 4, 4);
  for (let tried = 0; ; tried++) {
    view.setUint32(0, tried);
    if (leadingZeroBits(p.blake2b(32, input, { personal: PERSONAL_WORK })) >= difficulty) {
      return input.slice(challenge.length);
    }
    if (onProgress && tried % progressEvery === 0) onProgress(tried, expected);
    if (tried === 0xffffffff) throw new MalformedError('no solution in nonce space');
  }
}
