/**
 * Responder and admin accounts: enrolment with a one-time invitation, the pre-login salt
 * query, login with per-account throttling, and sessions. Invitations are made and signed in
 * the inviting admin's browser and stored by api/admin/admin.service.ts.
 *
 * The server never sees a passphrase or a key that unwraps anything: the browser derives a
 * wrap key and a separate login verifier from the passphrase (crypto/v1/account.ts) and sends
 * only the verifier, of which the server keeps a hash. Unknown user names are answered
 * exactly like known ones (a deterministic fake salt, the same 401, the same lock-out), so
 * nobody can list the accounts.
 */
import type { Kysely } from 'kysely';
import {
  checkArgon2Params, fakeSalt, loginVerifierHash, parseAccountBundleHeader, RESPONDER_DEFAULT_PARAMS, RESPONDER_MIN_PARAMS,
  type Argon2Params,
} from '../../crypto/v1/account.ts';
import { WeakInputError } from '../../crypto/errors.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { utf8Encode } from '../../crypto/encoding.ts';
import { INVITE_CODE_BYTES, invitationIdFromCode } from '../../crypto/v2/invitation.ts';
import type { Config } from '../config.ts';
import type { AccountRole, Database } from '../db/schema.ts';
import { ConflictError, ForbiddenError, RateLimitedError, UnauthorizedError, ValidationError } from '../errors.ts';
import { coarseHour } from '../time.ts';
import * as repo from './account.repository.ts';

export type { Account } from './account.repository.ts';

const SESSION_PERSONAL = utf8Encode('haven-session-v1');
const INVITE_PERSONAL = utf8Encode('haven-invite-v1');
const SERVER_KEY_PERSONAL = utf8Encode('haven-srvkey-v1');

/** Failures allowed before the account is locked; each further failure doubles the lock. */
export const LOGIN_FREE_FAILURES = 5;
export const LOGIN_MAX_LOCK_MINUTES = 60;
export const SESSION_TOKEN_BYTES = 32;

const USERNAME = /^[a-z0-9._-]{3,40}$/;
const BAD_LOGIN = 'The user name or passphrase is wrong.';

/** Lower-cases and checks a user name. @returns null when it cannot be a user name. */
export function normalizeUsername(value: string): string | null {
  const name = value.normalize('NFKC').trim().toLowerCase();
  return USERNAME.test(name) ? name : null;
}

export function minuteOf(now: Date): Date {
  const m = new Date(now);
  m.setUTCSeconds(0, 0);
  return m;
}

function ceilMinute(t: Date): Date {
  const m = minuteOf(t);
  return m.getTime() === t.getTime() ? m : new Date(m.getTime() + 60_000);
}

/** The lock after `failures` failed logins: none for the first few, then 1, 2, 4 ... 60 minutes. */
export function lockMinutes(failures: number): number {
  if (failures < LOGIN_FREE_FAILURES) return 0;
  return Math.min(LOGIN_MAX_LOCK_MINUTES, 2 ** (failures - LOGIN_FREE_FAILURES));
}

/**
 * The stored hash of a v2 invitation (invitations.code_hash): BLAKE2b-256 over the invitation
 * id, which is itself BLAKE2b-128 of the 32-byte code (crypto/v2 invitationIdFromCode). The
 * admin's browser sends only the id when it creates the invitation, so the code never reaches
 * the server before the invitee uses it; at enrolment the server recomputes both steps.
 */
export function invitationCodeHash(p: Primitives, invitationId: Uint8Array): Uint8Array {
  return p.blake2b(32, invitationId, { personal: INVITE_PERSONAL });
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

export interface EnrolInput {
  invitationCode: Uint8Array;
  username: string;
  keyBundle: Uint8Array;
  salt: Uint8Array;
  encPublicKey: Uint8Array;
  signPublicKey: Uint8Array;
  loginVerifier: Uint8Array;
}

export interface LoginResult {
  token: Uint8Array;
  account: repo.Account;
  keyBundle: Uint8Array;
}

export interface Session {
  account: repo.Account;
  tokenHash: Uint8Array;
}

/**
 * Lock-out bookkeeping for user names that do not exist, kept in memory only (writing
 * guessed names to disk would be worse). Without it an unknown name would never answer 429
 * and so would stand out from a real one. Bounded: the oldest entries go first.
 */
class PhantomThrottle {
  private readonly entries = new Map<string, { failures: number; lockedUntil: Date | null }>();
  constructor(private readonly max = 10_000) {}

  lockedUntil(key: string): Date | null {
    return this.entries.get(key)?.lockedUntil ?? null;
  }

  fail(key: string, lockFor: (failures: number) => Date | null): void {
    const failures = (this.entries.get(key)?.failures ?? 0) + 1;
    this.entries.delete(key);
    this.entries.set(key, { failures, lockedUntil: lockFor(failures) });
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }
}

export class AccountService {
  private readonly serverKey: Uint8Array;
  private readonly phantoms = new PhantomThrottle();
  /** Compared against when the user name is unknown, so both paths do the same work. */
  private readonly dummyHash: Uint8Array;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly crypto: Primitives,
    private readonly config: Pick<Config, 'sessionIdleMinutes' | 'sessionMaxHours'>,
    serverSecret: Uint8Array,
  ) {
    // fakeSalt wants exactly 32 bytes; the configured secret may be longer.
    this.serverKey = serverSecret.length === 32 ? serverSecret : crypto.blake2b(32, serverSecret, { personal: SERVER_KEY_PERSONAL });
    this.dummyHash = crypto.randomBytes(32);
  }

  private tokenHash(token: Uint8Array): Uint8Array {
    return this.crypto.blake2b(32, token, { personal: SESSION_PERSONAL });
  }


  /**
   * Checks a key bundle's structure and that its Argon2id cost is at least the responder
   * minimum (a weak bundle would make the stored verifier hash cheap to attack offline).
   * @throws crypto version/MalformedError, ValidationError for weak parameters.
   */
  private checkBundle(bundle: Uint8Array): { salt: Uint8Array; params: Argon2Params } {
    const header = parseAccountBundleHeader(bundle);
    try {
      checkArgon2Params(header.params, RESPONDER_MIN_PARAMS);
    } catch (err) {
      if (err instanceof WeakInputError) throw new ValidationError('The key bundle uses Argon2id parameters below the minimum.');
      throw err;
    }
    return header;
  }

  /**
   * Creates a pending account with a one-time invitation. All or nothing: the invitation is
   * spent only if the account is stored.
   * @throws ValidationError, crypto decoder errors, ForbiddenError (invitation unknown, used
   *   or expired), ConflictError (user name taken).
   */
  async enrol(input: EnrolInput): Promise<repo.Account> {
    const username = normalizeUsername(input.username);
    if (username === null) throw new ValidationError('Field "username" must be 3-40 characters: a-z, 0-9, dot, dash or underscore.');
    const header = this.checkBundle(input.keyBundle);
    if (!this.crypto.constantTimeEqual(header.salt, input.salt)) throw new ValidationError('Field "salt" does not match the key bundle.');
    for (const [name, key] of [['encPublicKey', input.encPublicKey], ['signPublicKey', input.signPublicKey]] as const) {
      if (key.every((b) => b === 0)) throw new ValidationError(`Field "${name}" is not a usable public key.`);
    }
    const id = this.crypto.randomBytes(16);
    if (input.invitationCode.length !== INVITE_CODE_BYTES) throw new ValidationError(`Field "invitationCode" must be ${INVITE_CODE_BYTES} bytes.`);
    const codeHash = invitationCodeHash(this.crypto, invitationIdFromCode(this.crypto, input.invitationCode));
    const hour = coarseHour();
    let role: AccountRole;
    try {
      role = await this.db.transaction().execute(async (trx) => {
        const found = await repo.lockInvitation(trx, codeHash, new Date());
        if (found === null) throw new ForbiddenError('This invitation is unknown, already used or expired.');
        await repo.insertAccount(trx, {
          id, username, role: found, salt: input.salt, verifierHash: loginVerifierHash(this.crypto, input.loginVerifier),
          keyBundle: input.keyBundle, encPublicKey: input.encPublicKey, signPublicKey: input.signPublicKey, hour,
        });
        await repo.markInvitationUsed(trx, codeHash, id);
        return found;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError('This user name is taken; choose another.');
      throw err;
    }
    return { id, username, role, status: 'pending', certificate: null };
  }

  /**
   * The salt and Argon2id parameters the browser needs before it can derive the verifier.
   * An unknown name gets a stable fake salt and the default parameters: the same shape.
   * @throws ValidationError for a string that cannot be a user name.
   */
  async loginSalt(name: string): Promise<{ salt: Uint8Array; params: Argon2Params }> {
    const username = normalizeUsername(name);
    if (username === null) throw new ValidationError('Field "username" is not a valid user name.');
    const account = await repo.findAccountForLogin(this.db, username);
    if (!account) return { salt: fakeSalt(this.crypto, this.serverKey, username), params: { ...RESPONDER_DEFAULT_PARAMS } };
    return { salt: account.salt, params: parseAccountBundleHeader(account.keyBundle).params };
  }

  private lockFor(now: Date) {
    return (failures: number): Date | null => {
      const minutes = lockMinutes(failures);
      return minutes === 0 ? null : ceilMinute(new Date(now.getTime() + minutes * 60_000));
    };
  }

  private throwIfLocked(lockedUntil: Date | null, now: Date): void {
    if (lockedUntil && lockedUntil.getTime() > now.getTime()) {
      const seconds = Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000);
      throw new RateLimitedError('Too many wrong passphrases for this account; try again later.', seconds);
    }
  }

  /**
   * Checks the verifier and opens a session.
   * @throws UnauthorizedError (unknown name, wrong verifier, removed account: one message),
   *   RateLimitedError while the account is locked, ForbiddenError while pending approval.
   */
  async login(name: string, verifier: Uint8Array): Promise<LoginResult> {
    const now = new Date();
    const username = normalizeUsername(name);
    const account = username === null ? null : await repo.findAccountForLogin(this.db, username);
    const presented = loginVerifierHash(this.crypto, verifier);
    if (!account) {
      const key = Buffer.from(fakeSalt(this.crypto, this.serverKey, username ?? name.slice(0, 100))).toString('hex');
      this.throwIfLocked(this.phantoms.lockedUntil(key), now);
      this.crypto.constantTimeEqual(presented, this.dummyHash);
      this.phantoms.fail(key, this.lockFor(now));
      throw new UnauthorizedError(BAD_LOGIN);
    }
    this.throwIfLocked(account.lockedUntil, now);
    if (!this.crypto.constantTimeEqual(presented, account.verifierHash)) {
      await repo.recordFailedLogin(this.db, account.id, this.lockFor(now));
      throw new UnauthorizedError(BAD_LOGIN);
    }
    if (account.failedLogins > 0 || account.lockedUntil) await repo.clearFailedLogins(this.db, account.id);
    if (account.status === 'removed') throw new UnauthorizedError(BAD_LOGIN);
    if (account.status === 'pending') throw new ForbiddenError('Your account is waiting for approval.');
    const token = this.crypto.randomBytes(SESSION_TOKEN_BYTES);
    await repo.insertSession(this.db, { tokenHash: this.tokenHash(token), accountId: account.id, minute: minuteOf(now) });
    const { id, role, status, certificate } = account;
    return { token, account: { id, username: account.username, role, status, certificate }, keyBundle: account.keyBundle };
  }

  /**
   * The signed-in account behind a session token, enforcing the idle and absolute timeouts.
   * Times are minute-truncated (migration 0003), so a session may end up to a minute early,
   * never late.
   * @throws UnauthorizedError when there is no such session, it expired, or the account is
   *   no longer active.
   */
  async authenticate(token: Uint8Array | null): Promise<Session> {
    if (token === null || token.length !== SESSION_TOKEN_BYTES) throw new UnauthorizedError();
    const tokenHash = this.tokenHash(token);
    const found = await repo.findSession(this.db, tokenHash);
    if (!found) throw new UnauthorizedError();
    const now = Date.now();
    const idle = now - found.lastSeenAt.getTime() >= this.config.sessionIdleMinutes * 60_000;
    const old = now - found.createdAt.getTime() >= this.config.sessionMaxHours * 3_600_000;
    if (idle || old || found.account.status !== 'active') {
      await repo.deleteSession(this.db, tokenHash);
      throw new UnauthorizedError(idle || old ? 'Your session has expired; sign in again.' : 'Sign in first.');
    }
    const minute = minuteOf(new Date(now));
    if (minute.getTime() > found.lastSeenAt.getTime()) await repo.touchSession(this.db, tokenHash, minute);
    return { account: found.account, tokenHash };
  }

  async logout(token: Uint8Array | null): Promise<void> {
    if (token === null || token.length !== SESSION_TOKEN_BYTES) return;
    await repo.deleteSession(this.db, this.tokenHash(token));
  }
}
