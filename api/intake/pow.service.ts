/**
 * Issues and checks proof-of-work challenges (format v2, crypto/v2/pow.ts; PROTOCOL.md 15.2).
 *
 * Stateless challenges: any instance checks any other's (they share HAVEN_SERVER_SECRET).
 * Single use: the `pow_spent` table, which every instance shares, records each stored
 * submission's challenge id; within an instance, a challenge id is also claimed in memory
 * from the moment its proof checks until its submission is stored or fails, so one valid
 * proof sent a thousand times at once takes one place in the effort queue, not a thousand.
 *
 * The difficulty is decided at SUBMISSION time, never at issue: a challenge carries none.
 * `requiredDifficulty()` = the configured floor, or, while the effort queue is full, the
 * effort needed to enter it (capped at the configured ceiling). It has no memory and no
 * counter of accepted submissions: the only way to raise it is to keep the queue full of
 * work, which costs the intake's whole capacity times 2^effort hashes every second
 * (PROTOCOL.md 15.3 gives the reasoning). Nothing here is per-IP.
 */
import { hash } from 'node:crypto';
import {
  POW_V2_MAX_EFFORT, checkPowSolutionV2, createPowChallengeV2, parsePowChallengeV2, powMacKeyV2, verifyPowChallengeV2,
} from '../../crypto/v2/pow.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { AppError, ValidationError } from '../errors.ts';

/** Short: a solution is worth only what the intake requires when it arrives, and stockpiles rot. */
export const CHALLENGE_LIFETIME_SECONDS = 5 * 60;

/** The server's SHA-256 for checking work (one hash per submission); one-shot, no hash object. */
export function nodeSha256(data: Uint8Array): Uint8Array {
  return hash('sha256', data, 'buffer');
}

export class ProofError extends AppError {
  constructor(code: 'proof_required' | 'proof_invalid' | 'proof_replayed' | 'proof_expired', message: string) {
    super(code, message, code === 'proof_replayed' ? 409 : 400);
  }
}

/**
 * The proof is genuine but below the effort required now (the intake got busier since the
 * challenge was fetched, or the proof was stockpiled). The page solves a fresh challenge at
 * `effort` (>= `difficulty`).
 */
export class ProofTooWeakError extends AppError {
  constructor(
    readonly difficulty: number,
    readonly effort: number,
  ) {
    super('proof_too_weak', 'The intake now requires more work than this proof carries; solve a new challenge at the stated difficulty.', 409);
  }
  override get details() {
    return { difficulty: this.difficulty, effort: this.effort };
  }
}

export interface Proof {
  challenge: Uint8Array;
  effort: number;
  nonce: Uint8Array;
}

export interface CheckedProof {
  challengeId: Uint8Array;
  /** Unix seconds. */
  expiresAt: number;
  effort: number;
}

/** What the intake's effort queue tells the difficulty (api/intake/effort-queue.ts). */
export interface QueuePressure {
  /** The least effort that can enter the queue now (0 while there is room). */
  bar(): number;
  /** One more than the highest effort dropped lately. */
  recentBar(): number;
}

const NO_PRESSURE: QueuePressure = { bar: () => 0, recentBar: () => 0 };

export interface PowOffer {
  challenge: Uint8Array;
  /** The least effort a submission must state if it were submitted now. */
  difficulty: number;
  /** The effort a client should solve for: enough to have entered lately, never below `difficulty`. */
  effort: number;
}

function hexKey(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export class PowService {
  readonly #macKey: Uint8Array;
  /** challenge id (hex) -> Unix ms after which the claim is moot (the challenge has expired). */
  readonly #claimed = new Map<string, number>();
  #pressure: QueuePressure = NO_PRESSURE;
  #sweptAt = 0;

  constructor(
    private readonly crypto: Primitives,
    serverSecret: Uint8Array,
    private readonly floor: number,
    private readonly ceiling: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#macKey = powMacKeyV2(crypto, serverSecret);
  }

  /** Connects the effort queue whose fullness raises the required difficulty. */
  watch(pressure: QueuePressure): this {
    this.#pressure = pressure;
    return this;
  }

  /** The difficulty a submission must meet if it arrives now. */
  requiredDifficulty(): number {
    return Math.max(this.floor, Math.min(this.ceiling, this.#pressure.bar()));
  }

  /** The effort to solve for: what would have got in lately (uncapped: the queue serves more work first). */
  suggestedEffort(): number {
    return Math.min(POW_V2_MAX_EFFORT, Math.max(this.requiredDifficulty(), this.#pressure.recentBar()));
  }

  issue(): Uint8Array {
    return createPowChallengeV2(this.crypto, this.#macKey, {
      challengeId: this.crypto.randomBytes(16),
      expiresAt: Math.floor(this.now() / 1000) + CHALLENGE_LIFETIME_SECONDS,
    });
  }

  offer(): PowOffer {
    return { challenge: this.issue(), difficulty: this.requiredDifficulty(), effort: this.suggestedEffort() };
  }

  /**
   * Checks version, MAC, expiry, the work at the stated effort, and that effort against the
   * difficulty required now, plus `extraBits` for a submission that stores more (attachments,
   * PROTOCOL.md 10.2). The caller must still claim the id and spend it when storing.
   * @throws ValidationError('unsupported_version') for a v1 challenge, ProofError, ProofTooWeakError.
   */
  check(proof: Proof, extraBits = 0): CheckedProof {
    if (proof.challenge[0] === 0x01) {
      throw new ValidationError('This proof-of-work format is no longer accepted; reload the page and solve a new challenge.', 'unsupported_version');
    }
    let parsed;
    try {
      parsed = verifyPowChallengeV2(this.crypto, this.#macKey, proof.challenge);
    } catch {
      throw new ProofError('proof_invalid', 'The proof-of-work challenge is malformed.');
    }
    if (!parsed) throw new ProofError('proof_invalid', 'The proof-of-work challenge was not issued by this service.');
    if (parsed.expiresAt < Math.floor(this.now() / 1000)) {
      throw new ProofError('proof_expired', 'The proof-of-work challenge has expired; solve a new one.');
    }
    if (!checkPowSolutionV2(nodeSha256, proof.challenge, proof)) {
      throw new ProofError('proof_invalid', 'The proof-of-work solution is wrong.');
    }
    const required = Math.min(POW_V2_MAX_EFFORT, this.requiredDifficulty() + extraBits);
    if (proof.effort < required) throw new ProofTooWeakError(required, Math.min(POW_V2_MAX_EFFORT, this.suggestedEffort() + extraBits));
    return { challengeId: parsed.challengeId, expiresAt: parsed.expiresAt, effort: proof.effort };
  }

  /**
   * Claims a checked proof's challenge in this instance until `release`. @returns false when
   * it is already claimed (the same proof is being stored right now, or was stored here).
   */
  claim(checked: CheckedProof): boolean {
    const now = this.now();
    // Claims of stored proofs live until their challenge expires (at most the intake's capacity
    // times 5 minutes of entries); swept every 10 s, not on every call.
    if (now - this.#sweptAt > 10_000) {
      this.#sweptAt = now;
      for (const [k, until] of this.#claimed) if (until < now) this.#claimed.delete(k);
    }
    const key = hexKey(checked.challengeId);
    const until = this.#claimed.get(key);
    if (until !== undefined && until >= now) return false;
    this.#claimed.set(key, checked.expiresAt * 1000 + 1000);
    return true;
  }

  /** Gives a claim back: the submission failed without spending its proof, so it may come again. */
  release(checked: CheckedProof): void {
    this.#claimed.delete(hexKey(checked.challengeId));
  }
}

export { parsePowChallengeV2 };
