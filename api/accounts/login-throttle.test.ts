import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hexDecode as unhex, hexEncode as hex } from '../../crypto/encoding.ts';
import { noblePrimitives, nobleSha256 } from '../../crypto/noble.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { createPowChallengeV2, powMacKeyV2, solvePowV2Sync } from '../../crypto/v2/pow.ts';
import { FADE_MINUTES, FREE_FAILURES, LoginThrottle, loginPowMacKey, THROTTLE_BUCKETS } from './login-throttle.ts';

const p = await loadSodiumPrimitives();
const solve = (challenge: Uint8Array, effort: number) => solvePowV2Sync(nobleSha256, challenge, effort, p.randomBytes(4));

/** Sign-in challenge known answer (PROTOCOL.md 22.3), computed with libsodium, checked with noble too. */
const VECTOR = {
  serverKey: '0707070707070707070707070707070707070707070707070707070707070707',
  macKey: 'b2c83458cc3ac3bdc078b022a764d7ce7e55080d0070d950df8360e0f874626e',
  challengeId: '000102030405060708090a0b0c0d0e0f',
  expiresAt: 1_800_000_000,
  challenge: '0260000102030405060708090a0b0c0d0e0f6b49d2008fabba2c0884df93a6a5cfad8e515c6f07ab3bf813437bca8ba37889077438e7',
  effort: 12,
  nonce: '00000000000022ba',
};

describe('LoginThrottle', () => {
  it.each([['sodium', p], ['noble', noblePrimitives]] as const)('reproduces the sign-in challenge known answer of PROTOCOL.md 22.3 [%s]', (_n, q) => {
    const key = loginPowMacKey(q, unhex(VECTOR.serverKey));
    expect(hex(key)).toBe(VECTOR.macKey);
    expect(hex(createPowChallengeV2(q, key, { challengeId: unhex(VECTOR.challengeId), expiresAt: VECTOR.expiresAt }))).toBe(VECTOR.challenge);
    const t = new LoginThrottle(q, unhex(VECTOR.serverKey), VECTOR.effort, () => (VECTOR.expiresAt - 60) * 1000);
    expect(t.check(unhex(VECTOR.challenge), { effort: VECTOR.effort, nonce: unhex(VECTOR.nonce) }).challengeId).toEqual(unhex(VECTOR.challengeId));
    // The effort is inside the hash: the same nonce presented as more work does not verify.
    expect(() => t.check(unhex(VECTOR.challenge), { effort: VECTOR.effort + 1, nonce: unhex(VECTOR.nonce) })).toThrow(/wrong/);
    const doc = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');
    for (const value of [VECTOR.macKey, VECTOR.challenge, VECTOR.nonce]) expect(doc).toContain(value);
  });

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
    expect(t.check(challenge, solve(challenge, 2)).challengeId).toHaveLength(16);
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

  it('refuses a challenge from another key or the requester site, an expired one, an effort below the configured work, and a malformed one', () => {
    let now = 1_000_000_000_000;
    const key = p.randomBytes(32);
    const t = new LoginThrottle(p, key, 4, () => now);
    const foreign = new LoginThrottle(p, p.randomBytes(32), 4, () => now).issue();
    expect(() => t.check(foreign, solve(foreign, 4))).toThrow(/not issued/);
    // The requester site's challenge under the same server key: a different MAC key.
    const intake = createPowChallengeV2(p, powMacKeyV2(p, key), { challengeId: p.randomBytes(16), expiresAt: Math.floor(now / 1000) + 60 });
    expect(() => t.check(intake, solve(intake, 4))).toThrow(/not issued/);
    const c = t.issue();
    // Well solved at effort 1, but sign-in asks for 4.
    expect(() => t.check(c, solve(c, 1))).toThrow(/wrong/);
    const good = solve(c, 4);
    expect(t.check(c, good).challengeId).toHaveLength(16);
    now += 11 * 60_000;
    expect(() => t.check(c, good)).toThrow(/expired/);
    // A malformed challenge (the retired 55-byte v1 layout) is refused as such.
    expect(() => t.check(new Uint8Array(55).fill(1), good)).toThrow(/malformed/);
  });
});
