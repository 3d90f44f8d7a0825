/**
 * Issues and checks proof-of-work challenges. Stateless: any instance checks any other's
 * challenge (they share HAVEN_SERVER_SECRET); replays are stopped by the `pow_spent` table,
 * which every instance shares.
 *
 * Difficulty rises with load: each instance counts the submissions it accepted in the last
 * minute (a number, no client attribute) and adds one bit of work per doubling above a
 * comfortable rate, up to the configured ceiling. Nothing here is per-IP.
 */
import { createPowChallenge, parsePowChallenge, powMacKey, checkPowSolution, verifyPowChallenge } from '../../crypto/v1/pow.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { AppError } from '../errors.ts';

export const CHALLENGE_LIFETIME_MINUTES = 30;
/** Submissions per minute per instance that need no extra work. */
const COMFORTABLE_RATE = 60;

export class ProofError extends AppError {
  constructor(code: 'proof_required' | 'proof_invalid' | 'proof_replayed', message: string) {
    super(code, message, code === 'proof_replayed' ? 409 : 400);
  }
}

export interface CheckedProof {
  challengeId: Uint8Array;
  expiresAtMinute: number;
}

export class PowService {
  readonly #macKey: Uint8Array;
  #window: number[] = [];

  constructor(
    private readonly crypto: Primitives,
    serverSecret: Uint8Array,
    private readonly baseDifficulty: number,
    private readonly maxDifficulty: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#macKey = powMacKey(crypto, serverSecret);
  }

  /** Records one accepted submission for the load estimate. */
  noteAccepted(): void {
    this.#window.push(this.now());
  }

  currentDifficulty(): number {
    const cutoff = this.now() - 60_000;
    while (this.#window.length > 0 && this.#window[0]! < cutoff) this.#window.shift();
    const rate = this.#window.length;
    const extra = rate <= COMFORTABLE_RATE ? 0 : Math.ceil(Math.log2(rate / COMFORTABLE_RATE));
    return Math.min(this.maxDifficulty, this.baseDifficulty + extra);
  }

  issue(): Uint8Array {
    return createPowChallenge(this.crypto, this.#macKey, {
      challengeId: this.crypto.randomBytes(16),
      difficulty: this.currentDifficulty(),
      expiresAtMinute: Math.floor(this.now() / 60_000) + CHALLENGE_LIFETIME_MINUTES,
    });
  }

  /**
   * Checks MAC, expiry and work. The caller must still spend the id (replay check).
   * @throws ProofError
   */
  check(challenge: Uint8Array, nonce: Uint8Array): CheckedProof {
    let parsed;
    try {
      parsed = verifyPowChallenge(this.crypto, this.#macKey, challenge);
    } catch {
      throw new ProofError('proof_invalid', 'The proof-of-work challenge is malformed.');
    }
    if (!parsed) throw new ProofError('proof_invalid', 'The proof-of-work challenge was not issued by this service.');
    if (parsed.expiresAtMinute < Math.floor(this.now() / 60_000)) {
      throw new ProofError('proof_invalid', 'The proof-of-work challenge has expired; fetch a new one.');
    }
    if (!checkPowSolution(this.crypto, challenge, nonce)) {
      throw new ProofError('proof_invalid', 'The proof-of-work solution is wrong.');
    }
    return { challengeId: parsed.challengeId, expiresAtMinute: parsed.expiresAtMinute };
  }
}

export { parsePowChallenge };
