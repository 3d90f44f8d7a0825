/**
 * Responder and admin accounts: enrolment with a one-time invitation, the pre-login salt
 * query, login, second factors (TOTP and recovery codes, totp.service.ts; passkeys and their
 * key wraps, passkey.service.ts) and sessions.
 * Invitations are made and signed in the inviting admin's browser and stored by
 * api/admin/admin.service.ts.
 *
 * The server never sees a passphrase or a key that unwraps anything: the browser derives a
 * wrap key and a separate login verifier from the passphrase (crypto/v1/account.ts) and sends
 * only the verifier, of which the server keeps a hash. Unknown user names are answered
 * exactly like known ones, in content and in time: a deterministic fake salt, the same one
 * query, the same comparison, the same 401, the same throttle (login-throttle.ts). Nobody
 * can lock an account: a throttled name needs a fresh proof of work per attempt, which its
 * owner can always pay.
 *
 * Sessions have stages: a right passphrase on an account with a second factor opens a
 * `second_factor` session that can do nothing but present it; when the organisation requires
 * a second factor the account lacks, an `enrol_second_factor` session that can only enrol
 * one. The key bundle is handed out only with a `full` session.
 */
import type { Kysely } from 'kysely';
import {
  checkArgon2Params, fakeSalt, loginVerifierHash, parseAccountBundleHeader, RESPONDER_DEFAULT_PARAMS, RESPONDER_MIN_PARAMS, wrapAccountKeys,
  type Argon2Params,
} from '../../crypto/v1/account.ts';
import { WeakInputError } from '../../crypto/errors.ts';
import { RESPONDER_CERT_BYTES } from '../../crypto/v1/certs.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { utf8Encode } from '../../crypto/encoding.ts';
import { INVITE_CODE_BYTES, invitationIdFromCode } from '../../crypto/v2/invitation.ts';
import type { Config } from '../config.ts';
import type { AccountRole, Database, SecondFactorPolicy, SessionStage } from '../db/schema.ts';
import { ConflictError, ForbiddenError, UnauthorizedError, ValidationError } from '../errors.ts';
import { ProofError } from '../intake/pow.service.ts';
import { coarseHour } from '../time.ts';
import * as repo from './account.repository.ts';
import { LoginThrottle } from './login-throttle.ts';
import { TotpService } from './totp.service.ts';
import { PasskeyRejectedError, PasskeyService, type PasskeySummary, summary, type RelyingParty } from './passkey.service.ts';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';

export type { Account } from './account.repository.ts';

const SESSION_PERSONAL = utf8Encode('haven-session-v1');
const INVITE_PERSONAL = utf8Encode('haven-invite-v1');
const SERVER_KEY_PERSONAL = utf8Encode('haven-srvkey-v1');

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

/** Wrong second factors a half-open session may present before it is closed. */
export const SECOND_FACTOR_TRIES = 5;

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

export interface LoginProofInput {
  challenge: Uint8Array;
  /** the effort the proof was solved at (bound into its hash) */
  effort: number;
  nonce: Uint8Array;
}

export interface LoginResult {
  token: Uint8Array;
  account: repo.Account;
  stage: SessionStage;
  /** Only with a full session. */
  keyBundle: Uint8Array | null;
}

export interface Session {
  account: repo.Account;
  tokenHash: Uint8Array;
  stage: SessionStage;
}

export interface SecondFactorStatus {
  policy: SecondFactorPolicy;
  totp: boolean;
  recoveryCodesLeft: number;
  passkeys: PasskeySummary[];
  /** The passphrase-only bundle is retired: only a passkey that holds a wrap opens the keys. */
  keysOnPasskeys: boolean;
}

/** What a session that has just become full receives. */
export interface FullLogin {
  /** The account's `0x20` bundle; retired (opens with no key) when `keysOnPasskeys`. */
  keyBundle: Uint8Array;
  keysOnPasskeys: boolean;
  /** After a passkey sign-in: that passkey's credential id and its key wrap, if it holds one. */
  passkey?: { credentialId: Uint8Array; wrap: Uint8Array | null };
}

export interface TotpEnrolment {
  uri: string;
  base32: string;
  /** The secret sealed for the round trip to `confirmTotp` (the server keeps nothing yet). */
  pending: Uint8Array;
}

export class AccountService {
  private readonly serverKey: Uint8Array;
  readonly throttle: LoginThrottle;
  readonly totp: TotpService;
  readonly passkeys: PasskeyService;
  /** Fills the login query's row when the user name is unknown, so both paths do the same work. */
  private readonly decoy: repo.DecoyRow;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly crypto: Primitives,
    private readonly config: Pick<Config, 'sessionIdleMinutes' | 'sessionMaxHours' | 'powBaseDifficulty' | 'powMaxDifficulty'>,
    serverSecret: Uint8Array,
  ) {
    // fakeSalt wants exactly 32 bytes; the configured secret may be longer.
    this.serverKey = serverSecret.length === 32 ? serverSecret : crypto.blake2b(32, serverSecret, { personal: SERVER_KEY_PERSONAL });
    // A well-formed bundle at the default parameters, so parsing it costs what parsing a real one does.
    this.decoy = {
      id: crypto.randomBytes(16), salt: crypto.randomBytes(16), verifierHash: crypto.randomBytes(32), certificate: crypto.randomBytes(RESPONDER_CERT_BYTES),
      keyBundle: wrapAccountKeys(crypto, {
        wrapKey: crypto.randomBytes(32), salt: crypto.randomBytes(16), params: RESPONDER_DEFAULT_PARAMS, x25519Secret: crypto.randomBytes(32), ed25519Seed: crypto.randomBytes(32),
      }),
    };
    // Four bits above the requester's base work (16 by default: 20 bits, a second or two in a
    // browser), capped by the configured maximum.
    this.throttle = new LoginThrottle(crypto, this.serverKey, Math.min(config.powMaxDifficulty, config.powBaseDifficulty + 4));
    this.totp = new TotpService(crypto, this.serverKey);
    this.passkeys = new PasskeyService(db, crypto);
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
   * The salt and Argon2id parameters the browser needs before it can derive the verifier,
   * and a proof-of-work challenge when the name is throttled. An unknown name gets a stable
   * fake salt and the default parameters: the same shape, the same work (the fake salt is
   * computed for every name).
   * @throws ValidationError for a string that cannot be a user name.
   */
  async loginSalt(name: string): Promise<{ salt: Uint8Array; params: Argon2Params; challenge: Uint8Array | null; effort: number | null }> {
    const username = normalizeUsername(name);
    if (username === null) throw new ValidationError('Field "username" is not a valid user name.');
    const row = await repo.findAccountForLogin(this.db, username, this.decoy);
    const fake = fakeSalt(this.crypto, this.serverKey, username);
    const challenge = this.throttle.throttled(username) ? this.throttle.issue() : null;
    // The decoy's bundle carries the default parameters, so both paths parse one bundle.
    const { params } = parseAccountBundleHeader(row.keyBundle);
    return { salt: row.found ? row.salt : fake, params, challenge, effort: challenge ? this.throttle.difficulty : null };
  }

  /**
   * For a throttled name, checks and spends the attempt's proof of work.
   * @throws ProofError (required, invalid, replayed).
   */
  private async payForAttempt(throttleKey: string, proof: LoginProofInput | undefined): Promise<void> {
    if (!this.throttle.throttled(throttleKey)) return;
    if (!proof) throw new ProofError('proof_required', 'Too many wrong attempts for this name: solve the challenge from /login/salt and send it with the attempt.');
    const checked = this.throttle.check(proof.challenge, { effort: proof.effort, nonce: proof.nonce });
    const expiresHour = new Date(Math.ceil(checked.expiresAt / 3600) * 3_600_000);
    if (!(await repo.spendLoginProof(this.db, checked.challengeId, expiresHour))) {
      throw new ProofError('proof_replayed', 'This proof of work was already used; solve a new challenge.');
    }
  }

  /**
   * Checks the verifier and opens a session at the stage the account's second factors and
   * the organisation's policy call for. Every failure, for a real name or an unknown one,
   * does the same work: one query, one hash, one constant-time comparison, one in-memory count.
   * @throws ProofError when the name is throttled and the proof is missing or bad;
   *   UnauthorizedError (unknown name, wrong verifier, removed account: one message);
   *   ForbiddenError while pending approval.
   */
  async login(name: string, verifier: Uint8Array, proof?: LoginProofInput): Promise<LoginResult> {
    const now = new Date();
    const username = normalizeUsername(name);
    const throttleKey = username ?? name.slice(0, 100);
    await this.payForAttempt(throttleKey, proof);
    // A string that cannot be a user name is looked up too (as a name no account can have).
    const account = await repo.findAccountForLogin(this.db, username ?? '', this.decoy);
    const presented = loginVerifierHash(this.crypto, verifier);
    const matches = this.crypto.constantTimeEqual(presented, account.verifierHash);
    if (!account.found || !matches || account.status === 'removed') {
      this.throttle.fail(throttleKey);
      throw new UnauthorizedError(BAD_LOGIN);
    }
    if (account.status === 'pending') throw new ForbiddenError('Your account is waiting for approval.');
    const stage = await this.stageAfterPassphrase(account.hasTotp, account.hasPasskey);
    const token = this.crypto.randomBytes(SESSION_TOKEN_BYTES);
    await repo.insertSession(this.db, { tokenHash: this.tokenHash(token), accountId: account.id, minute: minuteOf(now), stage });
    const { id, role, status, certificate } = account;
    return { token, stage, account: { id, username: account.username, role, status, certificate }, keyBundle: stage === 'full' ? account.keyBundle : null };
  }

  /**
   * The stage a right passphrase opens. Policy `passkey`: an account without a passkey must
   * enrol one (TOTP alone is not enough); `any`: TOTP or a passkey; `none`: whatever it has.
   */
  private async stageAfterPassphrase(hasTotp: boolean, hasPasskey: boolean): Promise<SessionStage> {
    const policy = await repo.secondFactorPolicy(this.db);
    if (policy === 'passkey' && !hasPasskey) return 'enrol_second_factor';
    if (hasTotp || hasPasskey) return 'second_factor';
    return policy !== 'none' ? 'enrol_second_factor' : 'full';
  }

  /** The key bundle, for a session that has just become full. */
  private async bundleFor(account: repo.Account): Promise<FullLogin> {
    const found = await repo.findAccountForLogin(this.db, account.username, this.decoy);
    if (!found.found) throw new UnauthorizedError();
    return { keyBundle: found.keyBundle, keysOnPasskeys: await this.passkeys.keysOnPasskeys(account.id) };
  }

  /** Counts a wrong second factor against the name and the half-open session. */
  private async secondFactorFailed(session: Session): Promise<void> {
    this.throttle.fail(session.account.username);
    if ((await repo.recordSecondFactorFailure(this.db, session.tokenHash)) >= SECOND_FACTOR_TRIES) await repo.deleteSession(this.db, session.tokenHash);
  }

  /**
   * Completes a `second_factor` session with a passkey: the assertion must answer the
   * challenge this session asked for (22.13) with one of the account's passkeys.
   * @returns the full-session material, with the passkey's key wrap when it holds one.
   * @throws ChallengeExpiredError; PasskeyRejectedError (counted like a wrong code).
   */
  async completePasskey(session: Session, rp: RelyingParty, response: unknown): Promise<FullLogin> {
    if (session.stage !== 'second_factor') throw new ForbiddenError('This session does not owe a second factor.');
    let answered;
    try {
      answered = await this.passkeys.verifyAssertion(session.account, session.tokenHash, rp, response, false);
    } catch (err) {
      if (err instanceof PasskeyRejectedError) await this.secondFactorFailed(session);
      throw err;
    }
    await repo.setSessionStage(this.db, session.tokenHash, 'full');
    return { ...(await this.bundleFor(session.account)), passkey: { credentialId: answered.credentialId, wrap: answered.prfWrap } };
  }

  /** Options for a passkey sign-in (a `second_factor` session) or for making a key wrap (a full one). */
  passkeyAssertionOptions(session: Session, rp: RelyingParty): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.passkeys.authenticationOptions(session.account, session.tokenHash, rp, session.stage === 'full');
  }

  passkeyRegistrationOptions(session: Session, rp: RelyingParty): Promise<PublicKeyCredentialCreationOptionsJSON> {
    if (session.stage === 'second_factor') throw new ForbiddenError('Present your second factor first.');
    return this.passkeys.registrationOptions(session.account, session.tokenHash, rp);
  }

  /**
   * Registers a passkey. The account's first second factor brings ten recovery codes; an
   * `enrol_second_factor` session becomes full.
   * @returns the passkey, the recovery codes (or null when the account had a second factor
   *   already) and, when the session just became full, its login material.
   * @throws ChallengeExpiredError, PasskeyRejectedError, ConflictError.
   */
  async registerPasskey(session: Session, rp: RelyingParty, response: unknown): Promise<{ passkey: PasskeySummary; recoveryCodes: string[] | null; login: FullLogin | null }> {
    if (session.stage === 'second_factor') throw new ForbiddenError('Present your second factor first.');
    const hadFactor = (await repo.hasTotp(this.db, session.account.id)) || (await this.passkeys.list(session.account.id)).length > 0;
    const recoveryCodes = hadFactor ? null : this.totp.newRecoveryCodes();
    const hashes = (recoveryCodes ?? []).map((c) => this.totp.recoveryCodeHash(c)!);
    const enrolling = session.stage === 'enrol_second_factor';
    // The passkey, its recovery codes and the session's new stage: all or nothing.
    const stored = await this.passkeys.register(session.account, session.tokenHash, rp, response, async (trx) => {
      if (recoveryCodes) await repo.replaceRecoveryCodes(trx, session.account.id, hashes);
      if (enrolling) await repo.setSessionStage(trx, session.tokenHash, 'full');
    });
    if (!enrolling) return { passkey: summary(stored), recoveryCodes, login: null };
    return { passkey: summary(stored), recoveryCodes, login: await this.bundleFor(session.account) };
  }

  /** @throws NotFoundError, ConflictError (see PasskeyService.remove). */
  async removePasskey(session: Session, passkeyId: Uint8Array): Promise<void> {
    await this.passkeys.remove(session.account, passkeyId, (await repo.secondFactorPolicy(this.db)) === 'passkey');
  }

  /**
   * Completes a `second_factor` session with a TOTP code or a recovery code (each used once).
   * A wrong one counts against the name's throttle too (a guesser holding the passphrase
   * then pays work per guess) and after SECOND_FACTOR_TRIES the half-open session is closed.
   * Under policy `passkey` a TOTP code is refused (403) before it is checked; a recovery code
   * still works (the last resort when every passkey is lost).
   * @returns the full-session material.
   * @throws UnauthorizedError on a wrong or reused code; ValidationError when neither is given;
   *   ForbiddenError for TOTP under policy `passkey`.
   */
  async completeSecondFactor(session: Session, input: { totp?: string; recoveryCode?: string }): Promise<FullLogin> {
    if (session.stage !== 'second_factor') throw new ForbiddenError('This session does not owe a second factor.');
    let ok: boolean;
    if (input.totp !== undefined && (await repo.secondFactorPolicy(this.db)) === 'passkey') {
      throw new ForbiddenError('Your organisation requires a passkey: sign in with it (or with a recovery code).');
    }
    if (input.totp !== undefined) ok = await this.checkTotp(session.account.id, input.totp);
    else if (input.recoveryCode !== undefined) {
      const hash = this.totp.recoveryCodeHash(input.recoveryCode);
      ok = hash !== null && (await repo.spendRecoveryCode(this.db, session.account.id, hash));
    } else throw new ValidationError('Send "totp" or "recoveryCode".');
    if (!ok) {
      await this.secondFactorFailed(session);
      throw new UnauthorizedError('The code is wrong or was already used.');
    }
    await repo.setSessionStage(this.db, session.tokenHash, 'full');
    return this.bundleFor(session.account);
  }

  private async checkTotp(accountId: Uint8Array, code: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const { sealed, used } = await repo.lockTotp(trx, accountId);
      const secret = sealed ? this.totp.open(sealed, accountId, 'stored') : null;
      if (!secret) return false;
      const next = this.totp.verify(secret, accountId, code, used);
      secret.fill(0);
      if (!next) return false;
      await repo.setTotpUsed(trx, accountId, next);
      return true;
    });
  }

  /** What the account has and what the organisation asks for. */
  async secondFactorStatus(account: repo.Account): Promise<SecondFactorStatus> {
    const passkeys = await this.passkeys.list(account.id);
    return {
      policy: await repo.secondFactorPolicy(this.db),
      totp: await repo.hasTotp(this.db, account.id),
      recoveryCodesLeft: await repo.countRecoveryCodes(this.db, account.id),
      passkeys: passkeys.map(summary),
      keysOnPasskeys: passkeys.some((k) => k.prfWrap !== null),
    };
  }

  /** A new TOTP secret to show (URI and text); nothing is stored until `confirmTotp`. */
  startTotp(session: Session): TotpEnrolment {
    if (session.stage === 'second_factor') throw new ForbiddenError('Present your second factor first.');
    const secret = this.totp.newSecret();
    const shown = this.totp.describe(secret, session.account.username);
    const pending = this.totp.seal(secret, session.account.id, 'pending');
    secret.fill(0);
    return { ...shown, pending };
  }

  /**
   * Stores the TOTP secret once the authenticator shows it has it (a current code), makes ten
   * new recovery codes (the old ones stop working) and, for an `enrol_second_factor` session,
   * makes it full.
   * @returns the recovery codes (shown once, stored only hashed) and, when the session just
   *   became full, the key bundle.
   * @throws ValidationError for a pending secret that is not this server's for this account;
   *   UnauthorizedError for a wrong code.
   */
  async confirmTotp(session: Session, pending: Uint8Array, code: string): Promise<{ recoveryCodes: string[]; login: FullLogin | null }> {
    if (session.stage === 'second_factor') throw new ForbiddenError('Present your second factor first.');
    // Under policy `passkey` TOTP cannot end a forced enrolment (it is not enough on its own).
    if (session.stage === 'enrol_second_factor' && (await repo.secondFactorPolicy(this.db)) === 'passkey') {
      throw new ForbiddenError('Your organisation requires a passkey: set one up instead.');
    }
    const secret = this.totp.open(pending, session.account.id, 'pending');
    if (!secret) throw new ValidationError('Field "pending" is not a secret this server made for this account.');
    const used = this.totp.verify(secret, session.account.id, code, null);
    if (!used) {
      secret.fill(0);
      throw new UnauthorizedError('The code is wrong: check the authenticator\'s clock and try the next code.');
    }
    const sealed = this.totp.seal(secret, session.account.id, 'stored');
    secret.fill(0);
    const recoveryCodes = this.totp.newRecoveryCodes();
    const hashes = recoveryCodes.map((c) => this.totp.recoveryCodeHash(c)!);
    await this.db.transaction().execute(async (trx) => {
      await repo.setTotpSecret(trx, session.account.id, sealed);
      await repo.setTotpUsed(trx, session.account.id, used);
      await repo.replaceRecoveryCodes(trx, session.account.id, hashes);
    });
    if (session.stage !== 'enrol_second_factor') return { recoveryCodes, login: null };
    await repo.setSessionStage(this.db, session.tokenHash, 'full');
    return { recoveryCodes, login: await this.bundleFor(session.account) };
  }

  /**
   * Ten new recovery codes for a full session; the old ones stop working.
   * @throws ForbiddenError when the account has no second factor (codes would stand in for nothing).
   */
  async renewRecoveryCodes(session: Session): Promise<string[]> {
    if (!(await repo.hasTotp(this.db, session.account.id)) && (await this.passkeys.list(session.account.id)).length === 0) throw new ForbiddenError('Set up a second factor first; recovery codes come with it.');
    const codes = this.totp.newRecoveryCodes();
    await this.db.transaction().execute((trx) => repo.replaceRecoveryCodes(trx, session.account.id, codes.map((c) => this.totp.recoveryCodeHash(c)!)));
    return codes;
  }

  /**
   * The signed-in account behind a session token, enforcing the idle and absolute timeouts.
   * Times are minute-truncated (migration 0003), so a session may end up to a minute early,
   * never late.
   * @param stages the session stages this caller accepts (full only, unless it says otherwise).
   * @throws UnauthorizedError when there is no such session, it expired, the account is
   *   no longer active, or the session is at another stage.
   */
  async authenticate(token: Uint8Array | null, stages: readonly SessionStage[] = ['full']): Promise<Session> {
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
    // A half-open session is refused everywhere but where its stage is asked for.
    if (!stages.includes(found.stage)) throw new UnauthorizedError(found.stage === 'second_factor' ? 'Present your second factor first.' : 'Set up a second factor first.');
    return { account: found.account, tokenHash, stage: found.stage };
  }

  async logout(token: Uint8Array | null): Promise<void> {
    if (token === null || token.length !== SESSION_TOKEN_BYTES) return;
    await repo.deleteSession(this.db, this.tokenHash(token));
  }
}
