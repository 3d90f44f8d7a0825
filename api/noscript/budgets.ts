/**
 * Per-minute ceilings for the no-JavaScript path, which carries no proof of work (no script to
 * compute one). Two separate budgets per instance, with nothing about the client (no IP, no
 * cookie), so nothing can be attributed to a person:
 *
 * - reading (a lookup, and the key derivation of a follow-up): every well-formed attempt counts,
 *   BEFORE the Argon2id derivation it pays for, since that derivation is the cost to bound;
 * - submitting (a new request or a follow-up): only a submission that passed every check counts,
 *   just before it is written, so malformed or repeated forms never use up the budget.
 *
 * A flood of lookups therefore exhausts only the reading budget: a valid submission still goes
 * through (tests/noscript.test.ts, "budgets").
 */
export class MinuteBudget {
  #window: number[] = [];

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one slot. @returns false (and takes nothing) when the last minute is full. */
  take(): boolean {
    const cutoff = this.now() - 60_000;
    while (this.#window.length > 0 && this.#window[0]! <= cutoff) this.#window.shift();
    if (this.#window.length >= this.perMinute) return false;
    this.#window.push(this.now());
    return true;
  }

  /** Gives back the last slot taken: the write it was taken for did not happen. */
  refund(): void {
    this.#window.pop();
  }
}
