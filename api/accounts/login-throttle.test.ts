import { describe, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { solvePow } from '../../crypto/v1/pow.ts';
import { FADE_MINUTES, FREE_FAILURES, LoginThrottle, THROTTLE_BUCKETS } from './login-throttle.ts';

const p = await loadSodiumPrimitives();

describe('LoginThrottle', () => {
  it('[bounded memory] holds a fixed table however many names are tried, and never locks: it asks for work', () => {
    const t = new LoginThrottle(p, p.randomBytes(32), 2);
    const bytes = () => (t as unknown as { failures: Uint32Array; lastMinute: Uint32Array }).failures.byteLength;
    expect(bytes()).toBe(THROTTLE_BUCKETS * 4);
    for (let i = 0; i < 50_000; i++) t.fail(`guess-${i}`);
    expect(bytes()).toBe(THROTTLE_BUCKETS * 4);
    // Collisions with the 50,000 guesses may throttle a name sooner, never later.
    for (let i = 0; i < FREE_FAILURES; i++) t.fail('owner.name');
    expect(t.throttled('owner.name')).toBe(true);
    const challenge = t.issue();
    expect(t.check(challenge, solvePow(p, challenge)).challengeId).toHaveLength(16);
  });

  it('forgets a name after FADE_MINUTES without a failure', () => {
    let now = 1_000_000_000_000;
    const t = new LoginThrottle(p, p.randomBytes(32), 2, () => now);
    for (let i = 0; i < FREE_FAILURES; i++) t.fail('someone');
    expect(t.throttled('someone')).toBe(true);
    now += (FADE_MINUTES - 1) * 60_000;
    expect(t.throttled('someone')).toBe(true);
    now += 60_000;
    expect(t.throttled('someone')).toBe(false);
  });

  it('refuses a challenge from another key, an expired one, and one below the configured work', () => {
    let now = 1_000_000_000_000;
    const key = p.randomBytes(32);
    const t = new LoginThrottle(p, key, 4, () => now);
    const other = new LoginThrottle(p, p.randomBytes(32), 4, () => now);
    const foreign = other.issue();
    expect(() => t.check(foreign, solvePow(p, foreign))).toThrow(/not issued/);
    const weak = new LoginThrottle(p, key, 0, () => now).issue();
    // A nonce that works for difficulty 0 but (almost surely) not 4: search for one.
    let nonce = solvePow(p, weak);
    const strong = new LoginThrottle(p, key, 4, () => now);
    expect(() => strong.check(weak, nonce)).toThrow(/wrong/);
    const c = t.issue();
    nonce = solvePow(p, c);
    now += 11 * 60_000;
    expect(() => t.check(c, nonce)).toThrow(/expired/);
  });
});
