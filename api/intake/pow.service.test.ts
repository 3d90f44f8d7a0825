import { describe, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { parsePowChallenge, solvePow } from '../../crypto/v1/pow.ts';
import { PowService, ProofError } from './pow.service.ts';

const p = await loadSodiumPrimitives();
const secret = new Uint8Array(32).fill(7);

describe('proof-of-work service', () => {
  it('raises the difficulty by one bit per doubling of accepted submissions above 60 a minute, up to the ceiling', () => {
    let now = 1_000_000_000_000;
    const pow = new PowService(p, secret, 16, 19, () => now);
    expect(pow.currentDifficulty()).toBe(16);
    for (let i = 0; i < 61; i++) pow.noteAccepted();
    expect(pow.currentDifficulty()).toBe(17);
    for (let i = 0; i < 60; i++) pow.noteAccepted();
    expect(pow.currentDifficulty()).toBe(18);
    for (let i = 0; i < 2000; i++) pow.noteAccepted();
    expect(pow.currentDifficulty()).toBe(19);
    expect(parsePowChallenge(pow.issue()).difficulty).toBe(19);
    now += 61_000;
    expect(pow.currentDifficulty()).toBe(16);
  });

  it('refuses an expired challenge even with a correct solution', () => {
    let now = 1_000_000_000_000;
    const pow = new PowService(p, secret, 4, 4, () => now);
    const challenge = pow.issue();
    const nonce = solvePow(p, challenge);
    expect(pow.check(challenge, nonce).challengeId).toHaveLength(16);
    now += 31 * 60_000;
    expect(() => pow.check(challenge, nonce)).toThrow(ProofError);
  });

  it('refuses a challenge issued under another server secret', () => {
    const other = new PowService(p, new Uint8Array(32).fill(8), 0, 0);
    const challenge = other.issue();
    const pow = new PowService(p, secret, 0, 0);
    expect(() => pow.check(challenge, solvePow(p, challenge))).toThrow(/not issued by this service/);
  });
});
