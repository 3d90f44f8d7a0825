import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../sodium.ts';
import { noblePrimitives } from '../noble.ts';
import { MalformedError } from '../errors.ts';
import { checkPowSolution, createPowChallenge, parsePowChallenge, powMacKey, solvePow, verifyPowChallenge, POW_CHALLENGE_BYTES } from './pow.ts';

const sodium = await loadSodiumPrimitives();
const secret = new Uint8Array(32).fill(42);

describe.each([
  ['sodium', sodium],
  ['noble', noblePrimitives],
] as const)('proof of work [%s]', (_name, p) => {
  const key = powMacKey(p, secret);
  const challengeId = new Uint8Array(16).fill(3);

  it('round-trips a challenge and verifies its MAC', () => {
    const bytes = createPowChallenge(p, key, { challengeId, difficulty: 12, expiresAtMinute: 29_000_000 });
    expect(bytes).toHaveLength(POW_CHALLENGE_BYTES);
    expect(verifyPowChallenge(p, key, bytes)).toEqual({ challengeId, difficulty: 12, expiresAtMinute: 29_000_000 });
  });

  it('rejects a challenge whose difficulty, expiry or id was changed, or signed by another secret', () => {
    const bytes = createPowChallenge(p, key, { challengeId, difficulty: 12, expiresAtMinute: 29_000_000 });
    fc.assert(
      fc.property(fc.integer({ min: 2, max: POW_CHALLENGE_BYTES - 1 }), fc.integer({ min: 0, max: 7 }), (i, bit) => {
        const tampered = bytes.slice();
        tampered[i]! ^= 1 << bit;
        try {
          return verifyPowChallenge(p, key, tampered) === null;
        } catch (err) {
          return err instanceof MalformedError;
        }
      }),
    );
    expect(verifyPowChallenge(p, powMacKey(p, new Uint8Array(32).fill(1)), bytes)).toBeNull();
  });

  it('finds a solution that checks, and a wrong nonce does not', () => {
    const bytes = createPowChallenge(p, key, { challengeId, difficulty: 10, expiresAtMinute: 1 });
    const nonce = solvePow(p, bytes);
    expect(checkPowSolution(p, bytes, nonce)).toBe(true);
    // About 1 in 1024 random nonces solves a 10-bit challenge; a fixed bad one is checked directly.
    let bad = 0;
    for (let i = 0; i < 64; i++) if (!checkPowSolution(p, bytes, p.randomBytes(8))) bad++;
    expect(bad).toBeGreaterThan(50);
    expect(checkPowSolution(p, bytes, new Uint8Array(7))).toBe(false);
  });

  it('rejects trailing bytes and a difficulty over the maximum', () => {
    const bytes = createPowChallenge(p, key, { challengeId, difficulty: 1, expiresAtMinute: 1 });
    expect(() => parsePowChallenge(new Uint8Array([...bytes, 0]))).toThrow(MalformedError);
    expect(() => createPowChallenge(p, key, { challengeId, difficulty: 33, expiresAtMinute: 1 })).toThrow(MalformedError);
  });
});

it('both backends agree on the MAC key and challenge bytes', () => {
  const c = { challengeId: new Uint8Array(16).fill(5), difficulty: 16, expiresAtMinute: 123456 };
  expect(createPowChallenge(sodium, powMacKey(sodium, secret), c)).toEqual(createPowChallenge(noblePrimitives, powMacKey(noblePrimitives, secret), c));
});
