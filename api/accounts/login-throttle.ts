/**
 * Login throttling that a third party cannot turn against the account's owner, and that
 * answers the same for user names that exist and names that do not.
 *
 * Threats: (a) online guessing of a passphrase; (b) a stranger who knows a user name keeping
 * its owner out by failing on purpose (the old per-account lock-out did exactly that, renewable
 * at will); (c) telling real names from unknown ones by how the throttle reacts; (d) memory
 * exhaustion by guessing many names.
 *
 * So: a name is never locked. After FREE_FAILURES failed attempts for a name, every further
 * attempt for it must carry a fresh proof of work (crypto/v2/pow.ts: SHA-256, the same format
 * as the requester site's, under its own MAC key), spent once (pow_spent).
 * The owner pays a second or two of work; the guesser pays it for every guess. The failure
 * counts live in a fixed table of buckets indexed by a keyed hash of the name (no entry per
 * name, nothing to evict, nothing written to disk, the same for a name that has no account).
 * Two names may share a bucket: then both need a proof, which costs time, never access.
 * Counts fade: a bucket without a failure for FADE_MINUTES starts again from zero.
 *
 * Per instance: with several instances a guesser gets FREE_FAILURES free tries at each, which
 * is a constant, not a bypass.
 */
import { hash } from 'node:crypto';
import type { Primitives } from '../../crypto/primitives.ts';
import { utf8Encode } from '../../crypto/encoding.ts';
import { checkPowSolutionV2, createPowChallengeV2, POW_V2_MAX_EFFORT, powMacKeyV2, type PowSolutionV2, verifyPowChallengeV2 } from '../../crypto/v2/pow.ts';
import { ProofError } from '../intake/pow.service.ts';

/** Failed attempts for a name before each further one needs a proof of work. */
export const FREE_FAILURES = 5;
export const FADE_MINUTES = 60;
/** 2^16 buckets of 8 bytes: half a MiB, whatever happens. */
export const THROTTLE_BUCKETS = 1 << 16;
export const LOGIN_CHALLENGE_MINUTES = 10;

const BUCKET_PERSONAL = utf8Encode('haven-lthrot-v1');
// A separate MAC key from the requester site's challenges: a proof made for an intake
// submission cannot be spent on a login, nor the other way round. (v2: a v1 sign-in key is
// never reused for the new format.)
const LOGIN_POW_PERSONAL = utf8Encode('haven-lpowkey-v2');

/** The MAC key of sign-in challenges (PROTOCOL.md 22.3): distinct from the requester site's. */
export function loginPowMacKey(crypto: Primitives, serverKey: Uint8Array): Uint8Array {
  return powMacKeyV2(crypto, crypto.blake2b(32, serverKey, { personal: LOGIN_POW_PERSONAL }));
}

const nodeSha256 = (data: Uint8Array): Uint8Array => hash('sha256', data, 'buffer');

export interface LoginProof {
  challengeId: Uint8Array;
  /** Unix seconds */
  expiresAt: number;
}

export class LoginThrottle {
  private readonly failures = new Uint32Array(THROTTLE_BUCKETS);
  private readonly lastMinute = new Uint32Array(THROTTLE_BUCKETS);
  private readonly bucketKey: Uint8Array;
  private readonly macKey: Uint8Array;

  /**
   * @param difficulty the least effort a throttled attempt's proof must state and meet (leading zero bits).
   */
  constructor(
    private readonly crypto: Primitives,
    serverKey: Uint8Array,
    readonly difficulty: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > POW_V2_MAX_EFFORT) throw new RangeError('login difficulty out of range');
    this.bucketKey = crypto.blake2b(32, serverKey, { personal: BUCKET_PERSONAL });
    this.macKey = loginPowMacKey(crypto, serverKey);
  }

  private minute(): number {
    return Math.floor(this.now() / 60_000);
  }

  /** The bucket of a (normalised) name: keyed, so nobody can aim collisions at a name. */
  private bucket(name: string): number {
    const h = this.crypto.blake2b(16, utf8Encode(name), { key: this.bucketKey });
    return ((h[0]! << 8) | h[1]!) % THROTTLE_BUCKETS;
  }

  private count(b: number): number {
    return this.minute() - this.lastMinute[b]! >= FADE_MINUTES ? 0 : this.failures[b]!;
  }

  /** Whether the next attempt for `name` must carry a proof of work. */
  throttled(name: string): boolean {
    return this.count(this.bucket(name)) >= FREE_FAILURES;
  }

  /** Counts a failed attempt (a wrong passphrase, or any name without an account). */
  fail(name: string): void {
    const b = this.bucket(name);
    const next = Math.min(this.count(b) + 1, 0xffff_ffff);
    this.failures[b] = next;
    this.lastMinute[b] = this.minute();
  }

  /** A fresh challenge for a throttled attempt (solved at `difficulty`, which /login/salt states). */
  issue(): Uint8Array {
    return createPowChallengeV2(this.crypto, this.macKey, {
      challengeId: this.crypto.randomBytes(16),
      expiresAt: Math.floor(this.now() / 1000) + LOGIN_CHALLENGE_MINUTES * 60,
    });
  }

  /**
   * Checks a proof: issued by this service (any instance with the same secret), not expired,
   * solved at an effort of at least the configured difficulty (the effort is bound into the
   * hash, so stating more than was done fails). The caller must still spend its id (replays).
   * @throws ProofError
   */
  check(challenge: Uint8Array, solution: PowSolutionV2): LoginProof {
    let parsed;
    try {
      parsed = verifyPowChallengeV2(this.crypto, this.macKey, challenge);
    } catch {
      // a version 1 challenge (the old sign-in format) lands here too
      throw new ProofError('proof_invalid', 'The proof-of-work challenge is malformed.');
    }
    if (!parsed) throw new ProofError('proof_invalid', 'The proof-of-work challenge was not issued for sign-in.');
    if (parsed.expiresAt * 1000 < this.now()) throw new ProofError('proof_invalid', 'The proof-of-work challenge has expired; fetch a new one.');
    if (solution.effort < this.difficulty || !checkPowSolutionV2(nodeSha256, challenge, solution)) {
      throw new ProofError('proof_invalid', 'The proof-of-work solution is wrong.');
    }
    return { challengeId: parsed.challengeId, expiresAt: parsed.expiresAt };
  }
}
