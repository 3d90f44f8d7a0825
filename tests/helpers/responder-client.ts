/**
 * What the triage dashboard does, in Node: make account keys, derive the wrap key and login
 * verifier from a passphrase, wrap the keys, enrol and sign in. Used by API tests.
 *
 * Argon2id at the real default parameters costs about half a second, so derivations are
 * cached per (passphrase, salt) within a test file.
 */
import { base64urlEncode } from '../../crypto/encoding.ts';
import {
  createAccountKeys, deriveAccountSecrets, newAccountSalt, RESPONDER_DEFAULT_PARAMS, wrapAccountKeys,
  type AccountSecrets, type Argon2Params,
} from '../../crypto/v1/account.ts';
import type { Primitives } from '../../crypto/primitives.ts';

export interface ResponderCredentials {
  username: string;
  passphrase: string;
  salt: Uint8Array;
  params: Argon2Params;
  secrets: AccountSecrets;
  x25519Secret: Uint8Array;
  ed25519Seed: Uint8Array;
  encPublicKey: Uint8Array;
  signPublicKey: Uint8Array;
  keyBundle: Uint8Array;
}

const derived = new Map<string, Promise<AccountSecrets>>();

export function deriveCached(p: Primitives, passphrase: string, salt: Uint8Array, params: Argon2Params = RESPONDER_DEFAULT_PARAMS): Promise<AccountSecrets> {
  const key = `${passphrase}|${Buffer.from(salt).toString('hex')}|${params.ops}|${params.memKiB}`;
  let found = derived.get(key);
  if (!found) {
    found = deriveAccountSecrets(p, passphrase, salt, params);
    derived.set(key, found);
  }
  return found;
}

const sharedSalts = new Map<string, Uint8Array>();

/**
 * New account keys wrapped under a passphrase. `fresh` forces a new random salt (and so a
 * real derivation); otherwise a salt shared per passphrase keeps the suite fast.
 */
export async function makeCredentials(
  p: Primitives,
  username: string,
  passphrase = 'correct horse battery staple',
  options: { fresh?: boolean; params?: Argon2Params } = {},
): Promise<ResponderCredentials> {
  const params = options.params ?? RESPONDER_DEFAULT_PARAMS;
  let salt = options.fresh ? undefined : sharedSalts.get(passphrase);
  if (!salt) {
    salt = newAccountSalt(p);
    if (!options.fresh) sharedSalts.set(passphrase, salt);
  }
  const secrets = await deriveCached(p, passphrase, salt, params);
  const keys = createAccountKeys(p);
  const keyBundle = wrapAccountKeys(p, { wrapKey: secrets.wrapKey, salt, params, ...keys });
  return {
    username, passphrase, salt, params, secrets, ...keys, keyBundle,
    encPublicKey: p.x25519PublicFromSecret(keys.x25519Secret),
    signPublicKey: p.ed25519KeypairFromSeed(keys.ed25519Seed).publicKey,
  };
}

/** The body of POST /api/v1/enrol. */
export function enrolBody(c: ResponderCredentials, invitationCode: string): Record<string, string> {
  return {
    invitationCode,
    username: c.username,
    keyBundle: base64urlEncode(c.keyBundle),
    salt: base64urlEncode(c.salt),
    encPublicKey: base64urlEncode(c.encPublicKey),
    signPublicKey: base64urlEncode(c.signPublicKey),
    loginVerifier: base64urlEncode(c.secrets.loginVerifier),
  };
}

/** The `haven_session=...` pair from a Set-Cookie header, ready for a Cookie header. */
export function sessionCookie(res: Response): string {
  const header = res.headers.get('set-cookie') ?? '';
  const match = /haven_session=([^;]*)/.exec(header);
  if (!match || match[1] === '') throw new Error('no session cookie set');
  return `haven_session=${match[1]}`;
}
