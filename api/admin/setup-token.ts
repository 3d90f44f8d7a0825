/**
 * The one-time token of the first-run setup link (`npm start` on an empty database prints
 * `<triage URL>#setup=<token>`; POST /api/v1/setup takes it in the body).
 *
 * Why it is safe to trust (docs/THREAT-MODEL.md, "First run"): the token is 32 random bytes
 * made by this process and shown only on its own console, the operator's. It never reaches a
 * log (the request log records the route pattern only, the token travels in the URL fragment,
 * which browsers never send, and then in a POST body, which nothing logs), and it is never
 * stored: this process keeps only its SHA-256 in memory, compares in constant time, and
 * spends it on the first setup that gets as far as the database. With several instances the
 * link works on the instance that printed it; the database lock in setup (`lockOrganisations`)
 * makes sure that whatever happens, at most one organisation is ever created.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SETUP_TOKEN_BYTES = 32;

export type ClaimResult = 'claimed' | 'wrong' | 'busy' | 'spent';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

export class SetupToken {
  private readonly hash: Buffer;
  private state: 'open' | 'busy' | 'spent' = 'open';

  private constructor(hash: Buffer) {
    this.hash = hash;
  }

  /** A fresh token: the text goes to the console once, only its hash stays here. */
  static create(): { token: SetupToken; text: string } {
    const text = randomBytes(SETUP_TOKEN_BYTES).toString('base64url');
    return { token: new SetupToken(digest(text)), text };
  }

  get spent(): boolean {
    return this.state === 'spent';
  }

  /** Whether `presented` is this token (constant-time); holds nothing. */
  matches(presented: string): boolean {
    // Hashing both sides gives equal lengths, so the comparison is constant-time.
    return timingSafeEqual(digest(presented), this.hash);
  }

  /**
   * Checks a presented token and, when right, holds it for one setup attempt. Synchronous, so
   * two requests can never both hold it (the second gets 'busy'). A wrong token is told
   * 'wrong' whatever the state, so guessing learns nothing about other attempts.
   */
  claim(presented: string): ClaimResult {
    if (!this.matches(presented)) return 'wrong';
    if (this.state === 'spent') return 'spent';
    if (this.state === 'busy') return 'busy';
    this.state = 'busy';
    return 'claimed';
  }

  /** The held attempt failed before the database refused or accepted it: the link works again. */
  release(): void {
    if (this.state === 'busy') this.state = 'open';
  }

  /** The organisation exists (made with this token or not): the link is dead for good. */
  spend(): void {
    this.state = 'spent';
  }
}
