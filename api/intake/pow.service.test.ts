import { describe, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { nobleSha256 } from '../../crypto/noble.ts';
import { retiredPowV1Challenge } from '../../crypto/testing.ts';
import { solvePowV2Sync } from '../../crypto/v2/pow.ts';
import { ValidationError } from '../errors.ts';
import { EffortQueue, OutrankedError } from './effort-queue.ts';
import { PowService, ProofError, ProofTooWeakError, type QueuePressure } from './pow.service.ts';

const p = await loadSodiumPrimitives();
const secret = new Uint8Array(32).fill(7);

function solve(challenge: Uint8Array, effort: number) {
  return { challenge, ...solvePowV2Sync(nobleSha256, challenge, effort, p.randomBytes(4)) };
}

describe('proof-of-work service (v2)', () => {
  it('issues challenges without a difficulty, and offers the floor while the intake has room', () => {
    const pow = new PowService(p, secret, 6, 12);
    const offer = pow.offer();
    expect(offer.challenge).toHaveLength(54);
    expect(offer).toMatchObject({ difficulty: 6, effort: 6 });
    expect(pow.check(solve(offer.challenge, 6)).effort).toBe(6);
    // More effort than required is always fine (and ranks higher in the queue).
    expect(pow.check(solve(pow.issue(), 9)).effort).toBe(9);
  });

  it('decides the difficulty at submission: a proof stockpiled while idle is refused once the queue is full', () => {
    let bar = 0;
    const pressure: QueuePressure = { bar: () => bar, recentBar: () => bar };
    const pow = new PowService(p, secret, 4, 10).watch(pressure);
    const stockpiled = solve(pow.issue(), 4); // solved while the intake was idle
    bar = 7; // a flood fills the queue with effort-6 work: entering now takes 7
    const err = (() => {
      try {
        pow.check(stockpiled);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ProofTooWeakError);
    expect(err).toMatchObject({ code: 'proof_too_weak', status: 409, details: { difficulty: 7, effort: 7 } });
    // A fresh challenge solved at the stated difficulty passes.
    expect(pow.check(solve(pow.offer().challenge, 7)).effort).toBe(7);
    // The required difficulty is capped at the ceiling; the queue still ranks anything above it.
    bar = 25;
    expect(pow.requiredDifficulty()).toBe(10);
    expect(pow.suggestedEffort()).toBe(25);
    // And it falls back as soon as the queue drains: nothing an attacker did earlier lingers.
    bar = 0;
    expect(pow.check(stockpiled).effort).toBe(4);
  });

  it('has no counter of accepted submissions: a thousand cheap proofs checked do not raise the difficulty', () => {
    const pow = new PowService(p, secret, 3, 20).watch(new EffortQueue({ concurrency: 1, maxWaiting: 4, maxWaitMs: 1000 }));
    for (let i = 0; i < 1000; i++) pow.check(solve(pow.issue(), 3));
    expect(pow.requiredDifficulty()).toBe(3);
    expect(pow.suggestedEffort()).toBe(3);
  });

  it('refuses an expired challenge even with a correct solution (5-minute lifetime)', () => {
    let now = 1_800_000_000_000;
    const pow = new PowService(p, secret, 2, 2, () => now);
    const proof = solve(pow.issue(), 2);
    now += 4 * 60_000;
    expect(pow.check(proof).challengeId).toHaveLength(16);
    now += 2 * 60_000;
    expect(() => pow.check(proof)).toThrow(expect.objectContaining({ code: 'proof_expired' }));
  });

  it('refuses a challenge issued under another secret, a wrong nonce, and an effort claimed above the work', () => {
    const other = new PowService(p, new Uint8Array(32).fill(8), 0, 0);
    const pow = new PowService(p, secret, 0, 0);
    expect(() => pow.check(solve(other.issue(), 1))).toThrow(/not issued by this service/);
    const good = solve(pow.issue(), 6);
    expect(() => pow.check({ ...good, nonce: new Uint8Array(8).fill(0xff) })).toThrow(ProofError);
    expect(() => pow.check({ ...good, effort: 7 })).toThrow(/solution is wrong/);
  });

  it('refuses a version 1 challenge with unsupported_version, correctly MACed under its own secret and at difficulty 0 (any nonce solves it)', () => {
    const v1 = retiredPowV1Challenge(p, secret);
    const pow = new PowService(p, secret, 0, 0);
    expect(() => pow.check({ challenge: v1, effort: 0, nonce: new Uint8Array(8) })).toThrow(ValidationError);
    expect(() => pow.check({ challenge: v1, effort: 0, nonce: new Uint8Array(8) })).toThrow(expect.objectContaining({ code: 'unsupported_version' }));
  });

  it('claims a challenge once per instance until released', () => {
    const pow = new PowService(p, secret, 0, 0);
    const checked = pow.check(solve(pow.issue(), 1));
    expect(pow.claim(checked)).toBe(true);
    expect(pow.claim(checked)).toBe(false);
    pow.release(checked);
    expect(pow.claim(checked)).toBe(true);
  });

  it('suggests one more than the effort the full queue dropped lately', async () => {
    let now = 0;
    const queue = new EffortQueue({ concurrency: 1, maxWaiting: 1, maxWaitMs: 60_000, now: () => now });
    const pow = new PowService(p, secret, 2, 20, () => 1_800_000_000_000).watch(queue);
    const release = await queue.admit(5); // the one slot is busy
    const waiting = queue.admit(5); // the one waiting place is taken
    expect(pow.requiredDifficulty()).toBe(6);
    await expect(queue.admit(5)).rejects.toBeInstanceOf(OutrankedError);
    release();
    (await waiting)();
    expect(pow.requiredDifficulty()).toBe(2); // room again: the floor
    expect(pow.suggestedEffort()).toBe(6); // but effort 5 was dropped a moment ago
    now += 31_000;
    expect(pow.suggestedEffort()).toBe(2);
  });
});
