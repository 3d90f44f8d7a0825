import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../sodium.ts';
import { noblePrimitives, nobleSha256 } from '../noble.ts';
import { MalformedError, UnknownVersionError } from '../errors.ts';
import { retiredPowV1Challenge } from '../testing.ts';
import {
  POW_V2_CHALLENGE_BYTES, POW_V2_WORK_INPUT_BYTES, checkPowSolutionV2, createPowChallengeV2, leadingZeroBits, parsePowChallengeV2, powMacKeyV2,
  powWorkInputV2, solvePowV2, solvePowV2Sync, verifyPowChallengeV2, type Sha256Batch,
} from './pow.ts';

const sodium = await loadSodiumPrimitives();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

/** WebCrypto, as the page's worker uses it (Node has the same API on globalThis). */
const webCryptoBatch: Sha256Batch = (inputs) =>
  Promise.all(inputs.map(async (i) => new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', i as Uint8Array<ArrayBuffer>))));

/**
 * The known answer printed in docs/PROTOCOL.md section 15.2 (computed once with libsodium's
 * BLAKE2b for the MAC and noble's SHA-256 for the work, and checked here on every backend).
 */
const VECTOR = {
  serverSecret: '2a'.repeat(32),
  challengeId: '000102030405060708090a0b0c0d0e0f',
  expiresAt: 1_800_000_000,
  macKey: 'd26991053304faf7b972775518ec9d58df860af04e2ff86294aec4d8666d0968',
  challenge: '0260000102030405060708090a0b0c0d0e0f6b49d20050829e589ee08b4632cab6e091dcfc58f0be644ed804f807a9b76ab8ebc342b6',
  effort: 12,
  nonce: '00000000000022ba',
  workInput: '686176656e2d706f772d7632000102030405060708090a0b0c0d0e0f0c00000000000022ba',
  work: '00097dfb0be08af252a262bd0f6e2c5ff98c167de09b35a289e2946dcbae014f',
};

describe.each([
  ['sodium', sodium],
  ['noble', noblePrimitives],
] as const)('proof of work v2 [%s]', (_name, p) => {
  const key = powMacKeyV2(p, unhex(VECTOR.serverSecret));

  it('reproduces the known answer of PROTOCOL.md 15.2', () => {
    expect(hex(key)).toBe(VECTOR.macKey);
    const challenge = createPowChallengeV2(p, key, { challengeId: unhex(VECTOR.challengeId), expiresAt: VECTOR.expiresAt });
    expect(hex(challenge)).toBe(VECTOR.challenge);
    expect(challenge).toHaveLength(POW_V2_CHALLENGE_BYTES);
    expect(verifyPowChallengeV2(p, key, challenge)).toEqual({ challengeId: unhex(VECTOR.challengeId), expiresAt: VECTOR.expiresAt });
  });

  it('rejects a challenge with any bit changed, or MACed under another secret', () => {
    const bytes = unhex(VECTOR.challenge);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: POW_V2_CHALLENGE_BYTES - 1 }), fc.integer({ min: 0, max: 7 }), (i, bit) => {
        const tampered = bytes.slice();
        tampered[i]! ^= 1 << bit;
        try {
          return verifyPowChallengeV2(p, key, tampered) === null;
        } catch (err) {
          // bytes 0-1 (version, type) fail the parse instead
          return i < 2 && err instanceof Error && 'code' in err;
        }
      }),
    );
    expect(verifyPowChallengeV2(p, powMacKeyV2(p, new Uint8Array(32).fill(1)), bytes)).toBeNull();
  });

  it('refuses a version 1 challenge, an unknown version and trailing bytes', () => {
    const v1 = retiredPowV1Challenge(p, new Uint8Array(32));
    expect(() => parsePowChallengeV2(v1)).toThrow(MalformedError);
    const unknown = unhex(VECTOR.challenge);
    unknown[0] = 3;
    expect(() => parsePowChallengeV2(unknown)).toThrow(UnknownVersionError);
    expect(() => parsePowChallengeV2(new Uint8Array([...unhex(VECTOR.challenge), 0]))).toThrow(MalformedError);
  });
});

describe('proof of work v2: the work', () => {
  const challenge = unhex(VECTOR.challenge);
  const solution = { effort: VECTOR.effort, nonce: unhex(VECTOR.nonce) };

  it('hashes the 37-byte input of the known answer to the known digest, with noble and with WebCrypto', async () => {
    const input = powWorkInputV2(unhex(VECTOR.challengeId), VECTOR.effort, unhex(VECTOR.nonce));
    expect(input).toHaveLength(POW_V2_WORK_INPUT_BYTES);
    expect(hex(input)).toBe(VECTOR.workInput);
    expect(hex(nobleSha256(input))).toBe(VECTOR.work);
    expect(hex((await webCryptoBatch([input]))[0]!)).toBe(VECTOR.work);
    expect(leadingZeroBits(unhex(VECTOR.work))).toBeGreaterThanOrEqual(VECTOR.effort);
    expect(checkPowSolutionV2(nobleSha256, challenge, solution)).toBe(true);
  });

  it('binds the effort into the hash: the same nonce claimed at another effort does not check', () => {
    // The known answer has 12 zero bits; claiming 13 (or a lower effort) hashes another input.
    expect(leadingZeroBits(unhex(VECTOR.work))).toBe(12);
    expect(checkPowSolutionV2(nobleSha256, challenge, { ...solution, effort: 13 })).toBe(false);
    expect(checkPowSolutionV2(nobleSha256, challenge, { ...solution, effort: 40 })).toBe(false);
    expect(checkPowSolutionV2(nobleSha256, challenge, { ...solution, effort: -1 })).toBe(false);
    expect(checkPowSolutionV2(nobleSha256, challenge, { ...solution, nonce: new Uint8Array(7) })).toBe(false);
  });

  it('the document prints the same known answer', () => {
    const doc = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');
    for (const value of [VECTOR.macKey, VECTOR.challenge, VECTOR.nonce, VECTOR.workInput, VECTOR.work]) expect(doc).toContain(value);
  });

  it('the batched solver (WebCrypto) and the synchronous one (noble) find solutions the checker accepts', async () => {
    const found = await solvePowV2(webCryptoBatch, challenge, 10, { batch: 64, randomPrefix: new Uint8Array([1, 2, 3, 4]) });
    expect(found.nonce.subarray(0, 4)).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(checkPowSolutionV2(nobleSha256, challenge, found)).toBe(true);
    const sync = solvePowV2Sync(nobleSha256, challenge, 10, new Uint8Array([9, 9, 9, 9]));
    expect(checkPowSolutionV2(nobleSha256, challenge, sync)).toBe(true);
    // About 1 in 1024 random nonces solves effort 10; most of 64 random ones must fail.
    let bad = 0;
    for (let i = 0; i < 64; i++) if (!checkPowSolutionV2(nobleSha256, challenge, { effort: 10, nonce: noblePrimitives.randomBytes(8) })) bad++;
    expect(bad).toBeGreaterThan(50);
  });

  it('a solver stops when told to (a fresh challenge replaced this one)', async () => {
    const signal = { aborted: false };
    const run = solvePowV2(webCryptoBatch, challenge, 32, { batch: 16, signal, onProgress: () => (signal.aborted = true) });
    await expect(run).rejects.toThrow('aborted');
  });

  it('refuses an effort outside 0..32 before hashing anything', async () => {
    expect(() => solvePowV2Sync(nobleSha256, challenge, 33)).toThrow(MalformedError);
    await expect(solvePowV2(webCryptoBatch, challenge, 1.5)).rejects.toThrow(MalformedError);
  });
});
