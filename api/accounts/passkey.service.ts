/**
 * Passkeys (WebAuthn) as a second factor: registration, assertion, listing and removal, and
 * the passkey key wraps that move an account's keys from the passphrase alone to passphrase +
 * passkey PRF (crypto/v1/passkey-wrap.ts, docs/PROTOCOL.md 6.2 and 22.13-22.17).
 *
 * The one module that imports `@simplewebauthn/server` (CBOR, COSE keys, attestation,
 * signature and counter checks); like otpauth in totp.service.ts it is not a key-handling
 * library in the sense of crypto/sodium.ts, so it stays here.
 *
 * Threats and the check that stops each:
 * - replay of an assertion: the challenge is 32 random bytes kept on the session that asked for
 *   it, for one purpose, for 5 minutes, and taken (cleared) by the first answer, right or wrong;
 * - an assertion made for another site (phishing proxy): origin and RP ID are checked against
 *   the triage site's own (HAVEN_TRIAGE_ORIGIN, or the Host the browser sent);
 * - another account's passkey: the credential must be registered to this session's account;
 * - a cloned authenticator: the signature counter must grow (the library refuses otherwise);
 * - anything malformed: every library failure is a typed 4xx, never a 500.
 */
import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type PublicKeyCredentialCreationOptionsJSON, type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Kysely, Transaction } from 'kysely';
import { encodeBase64url } from '../http/validate.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { checkPasskeyWrap, retireAccountBundle } from '../../crypto/v1/passkey-wrap.ts';
import type { Database, WebauthnPurpose } from '../db/schema.ts';
import { AppError, ConflictError, NotFoundError } from '../errors.ts';
import { coarseHour } from '../time.ts';
import * as repo from './passkey.repository.ts';
import type { Account } from './account.repository.ts';

/** The triage site as WebAuthn sees it: its origin and the RP ID (the origin's host name). */
export interface RelyingParty {
  id: string;
  /** The origins an answer may name (one, or for an .onion host reached over http, both schemes). */
  origins: string[];
}

export const CHALLENGE_BYTES = 32;
/** How long a ceremony may take; the stored expiry is minute-truncated, so 5 to 6 minutes. */
const CHALLENGE_MINUTES = 5;
/** Enough for one person's devices; a cap so an account cannot grow a table without bound. */
export const MAX_PASSKEYS = 10;

export class ChallengeExpiredError extends AppError {
  constructor() {
    super('challenge_expired', 'There is no open passkey request for this step (it expired or was answered); start again.', 400);
  }
}

export class PasskeyRejectedError extends AppError {
  constructor() {
    super('passkey_rejected', 'The passkey\'s answer was not accepted for this site and account.', 400);
  }
}

export interface PasskeySummary {
  id: Uint8Array;
  createdHour: Date;
  /** Whether it holds a key wrap (it then opens the account's keys, with the passphrase). */
  holdsKeys: boolean;
}

export function summary(p: repo.StoredPasskey): PasskeySummary {
  return { id: p.id, createdHour: p.createdHour, holdsKeys: p.prfWrap !== null };
}

function credentialId(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

export class PasskeyService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly crypto: Primitives,
    private readonly now: () => number = Date.now,
  ) {}

  private async openChallenge(tokenHash: Uint8Array, purpose: WebauthnPurpose): Promise<Uint8Array> {
    const challenge = this.crypto.randomBytes(CHALLENGE_BYTES);
    const expires = new Date(this.now() + CHALLENGE_MINUTES * 60_000);
    expires.setUTCSeconds(0, 0);
    expires.setUTCMinutes(expires.getUTCMinutes() + 1);
    await repo.setChallenge(this.db, tokenHash, challenge, purpose, expires);
    return challenge;
  }

  private async takeChallenge(tokenHash: Uint8Array, purpose: WebauthnPurpose): Promise<string> {
    const challenge = await repo.takeChallenge(this.db, tokenHash, purpose, new Date(this.now()));
    if (!challenge) throw new ChallengeExpiredError();
    return encodeBase64url(challenge);
  }

  list(accountId: Uint8Array): Promise<repo.StoredPasskey[]> {
    return repo.listPasskeys(this.db, accountId);
  }

  /** Options for navigator.credentials.create(); the challenge is stored on the session. */
  async registrationOptions(account: Account, tokenHash: Uint8Array, rp: RelyingParty): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await repo.listPasskeys(this.db, account.id);
    if (existing.length >= MAX_PASSKEYS) throw new ConflictError(`An account holds at most ${MAX_PASSKEYS} passkeys; remove one first.`);
    const challenge = await this.openChallenge(tokenHash, 'register');
    return generateRegistrationOptions({
      rpName: 'Haven', rpID: rp.id, userName: account.username, userID: new Uint8Array(account.id), challenge: new Uint8Array(challenge),
      attestationType: 'none',
      excludeCredentials: existing.map((k) => ({ id: encodeBase64url(k.credentialId), transports: k.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      // The browser reports whether the authenticator can evaluate PRF (passkey key wraps).
      extensions: { prf: {} } as never,
    });
  }

  /**
   * Checks a registration answer against the session's challenge and stores the credential;
   * `alongside` runs in the same transaction (what comes with it, such as recovery codes).
   * @throws ChallengeExpiredError; PasskeyRejectedError (origin, RP ID, attestation, structure);
   *   ConflictError (this credential is registered already).
   */
  async register(
    account: Account, tokenHash: Uint8Array, rp: RelyingParty, response: unknown,
    alongside: (trx: Transaction<Database>) => Promise<void> = async () => {},
  ): Promise<repo.StoredPasskey> {
    const expectedChallenge = await this.takeChallenge(tokenHash, 'register');
    let credential;
    try {
      const verified = await verifyRegistrationResponse({
        response: response as RegistrationResponseJSON, expectedChallenge, expectedOrigin: rp.origins, expectedRPID: rp.id, requireUserVerification: false,
      });
      if (!verified.verified) throw new PasskeyRejectedError();
      credential = verified.registrationInfo.credential;
    } catch {
      throw new PasskeyRejectedError();
    }
    const stored: Omit<repo.StoredPasskey, 'prfWrap'> = {
      id: this.crypto.randomBytes(16), accountId: account.id, credentialId: credentialId(credential.id), publicKey: new Uint8Array(credential.publicKey),
      counter: credential.counter, transports: (credential.transports ?? []).filter((t) => /^[a-z-]{1,20}$/.test(t)).slice(0, 8), createdHour: coarseHour(),
    };
    if (stored.credentialId.length === 0 || stored.credentialId.length > 1023 || stored.publicKey.length > 2048) throw new PasskeyRejectedError();
    try {
      await this.db.transaction().execute(async (trx) => {
        if ((await repo.listPasskeys(trx, account.id)).length >= MAX_PASSKEYS) throw new ConflictError(`An account holds at most ${MAX_PASSKEYS} passkeys; remove one first.`);
        await repo.insertPasskey(trx, stored);
        await alongside(trx);
      });
    } catch (err) {
      if (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505') throw new ConflictError('This passkey is registered already.');
      throw err;
    }
    return { ...stored, prfWrap: null };
  }

  /**
   * Options for navigator.credentials.get(), naming this account's passkeys (only those that
   * hold a key wrap once the account's keys are on passkeys: the others could not open them),
   * or, with `anyPasskey` (a full session making a key wrap for a new passkey), all of them.
   * @throws NotFoundError when the account has no usable passkey.
   */
  async authenticationOptions(account: Account, tokenHash: Uint8Array, rp: RelyingParty, anyPasskey: boolean): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const all = await repo.listPasskeys(this.db, account.id);
    const usable = anyPasskey ? all : usablePasskeys(all);
    if (usable.length === 0) throw new NotFoundError('This account has no passkey.');
    const challenge = await this.openChallenge(tokenHash, 'authenticate');
    return generateAuthenticationOptions({
      rpID: rp.id, challenge: new Uint8Array(challenge), userVerification: 'preferred',
      allowCredentials: usable.map((k) => ({ id: encodeBase64url(k.credentialId), transports: k.transports })),
    });
  }

  /**
   * Checks an assertion against the session's challenge and one of this account's usable
   * passkeys, and stores the new counter.
   * @returns the passkey that answered.
   * @throws ChallengeExpiredError; PasskeyRejectedError.
   */
  async verifyAssertion(account: Account, tokenHash: Uint8Array, rp: RelyingParty, response: unknown, anyPasskey: boolean): Promise<repo.StoredPasskey> {
    const expectedChallenge = await this.takeChallenge(tokenHash, 'authenticate');
    const raw = typeof response === 'object' && response !== null ? (response as { rawId?: unknown }).rawId : undefined;
    if (typeof raw !== 'string' || raw.length === 0 || raw.length > 1400 || !/^[A-Za-z0-9_-]+$/.test(raw)) throw new PasskeyRejectedError();
    const id = credentialId(raw);
    return this.db.transaction().execute(async (trx) => {
      const all = await repo.listPasskeys(trx, account.id);
      const stored = await repo.lockPasskeyByCredential(trx, account.id, id);
      if (!stored || !(anyPasskey ? all : usablePasskeys(all)).some((k) => this.crypto.constantTimeEqual(k.id, stored.id))) throw new PasskeyRejectedError();
      let newCounter: number;
      try {
        const verified = await verifyAuthenticationResponse({
          response: response as AuthenticationResponseJSON, expectedChallenge, expectedOrigin: rp.origins, expectedRPID: rp.id, requireUserVerification: false,
          credential: { id: raw, publicKey: stored.publicKey.slice(), counter: stored.counter, transports: stored.transports as never },
        });
        if (!verified.verified) throw new PasskeyRejectedError();
        newCounter = verified.authenticationInfo.newCounter;
      } catch {
        throw new PasskeyRejectedError();
      }
      if (newCounter !== stored.counter) await repo.setPasskeyCounter(trx, stored.id, newCounter);
      return { ...stored, counter: newCounter };
    });
  }

  /**
   * Stores a key wrap for the passkey that just answered `response`, and retires the account's
   * passphrase-only bundle, in one transaction (the wrap is checked for structure only: the
   * server cannot open it; the browser opened it before sending).
   * @throws as verifyAssertion; NotFoundError when `passkeyId` is not the passkey that answered;
   *   version errors / MalformedError for a wrap that is not a `0x21` wrap.
   */
  async storeWrap(account: Account, tokenHash: Uint8Array, rp: RelyingParty, passkeyId: Uint8Array, response: unknown, wrap: Uint8Array): Promise<void> {
    checkPasskeyWrap(wrap);
    const answered = await this.verifyAssertion(account, tokenHash, rp, response, true);
    if (!this.crypto.constantTimeEqual(answered.id, passkeyId)) throw new NotFoundError('The passkey that answered is not the one named.');
    await this.db.transaction().execute(async (trx) => {
      const bundle = await repo.lockAccountBundle(trx, account.id);
      if (!bundle) throw new NotFoundError('No such account.');
      const alreadyRetired = (await repo.listPasskeys(trx, account.id)).some((k) => k.prfWrap !== null);
      await repo.setPrfWrap(trx, passkeyId, wrap);
      if (!alreadyRetired) await repo.setAccountBundle(trx, account.id, retireAccountBundle(this.crypto, bundle));
    });
  }

  /**
   * Removes one of the account's passkeys.
   * @throws NotFoundError; ConflictError when it holds the account's last key wrap (its keys
   *   would be lost) or the organisation requires passkeys and it is the last one.
   */
  async remove(account: Account, passkeyId: Uint8Array, policyRequiresPasskey: boolean): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await repo.lockAccountBundle(trx, account.id);
      const all = await repo.listPasskeys(trx, account.id);
      const target = all.find((k) => this.crypto.constantTimeEqual(k.id, passkeyId));
      if (!target) throw new NotFoundError('No such passkey.');
      if (target.prfWrap !== null && all.filter((k) => k.prfWrap !== null).length === 1) {
        throw new ConflictError('This passkey holds the only copy of your keys; add another passkey that holds them first.');
      }
      if (policyRequiresPasskey && all.length === 1) throw new ConflictError('Your organisation requires a passkey; add another before removing this one.');
      if (!(await repo.deletePasskey(trx, account.id, passkeyId))) throw new NotFoundError('No such passkey.');
    });
  }

  /** Whether the account's keys are on passkeys (its passphrase-only bundle retired). */
  async keysOnPasskeys(accountId: Uint8Array): Promise<boolean> {
    return (await repo.listPasskeys(this.db, accountId)).some((k) => k.prfWrap !== null);
  }

}

/** Once any passkey holds a wrap, only those that do can sign in: the others cannot open the keys. */
function usablePasskeys(all: repo.StoredPasskey[]): repo.StoredPasskey[] {
  return all.some((k) => k.prfWrap !== null) ? all.filter((k) => k.prfWrap !== null) : all;
}
