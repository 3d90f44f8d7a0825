/**
 * What the triage dashboard does, in Node: make account keys, derive the wrap key and login
 * verifier from a passphrase, wrap the keys, enrol and sign in. Used by API tests.
 *
 * Argon2id at the real default parameters costs about half a second, so derivations are
 * cached per (passphrase, salt) within a test file.
 */
import { base64urlDecode, base64urlEncode } from '../../crypto/encoding.ts';
import { nobleSha256 } from '../../crypto/noble.ts';
import { solvePowV2Sync } from '../../crypto/v2/pow.ts';
import {
  createAccountKeys, deriveAccountSecrets, newAccountSalt, RESPONDER_DEFAULT_PARAMS, wrapAccountKeys,
  type AccountSecrets, type Argon2Params,
} from '../../crypto/v1/account.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { MessageKind } from '../../crypto/v1/message.ts';
import { encodeTagsBody, encodeTextBody } from '../../crypto/v1/text-body.ts';
import { sealMessageV2 } from '../../crypto/v2/message.ts';

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

/**
 * What the dashboard does to write into a thread (protocol v2): seal a reply, note or tags
 * message to the team's current key (and a reply to the requester's reply key), signed with the
 * responder's own certified Ed25519 key at the thread's next position.
 */
export function sealResponderMessage(
  p: Primitives,
  a: {
    kind: 'reply' | 'note' | 'tags';
    orgId: Uint8Array;
    team: { id: Uint8Array; epoch: number; publicKey: Uint8Array };
    threadId: Uint8Array;
    position: number;
    /** the responder's 163-byte certificate and the seed of its ed25519 key */
    certificate: Uint8Array;
    ed25519Seed: Uint8Array;
    text?: string;
    tags?: string[];
    requesterPublic?: Uint8Array;
    messageId?: Uint8Array;
    epoch?: number;
  },
): Uint8Array {
  return sealMessageV2(p, {
    kind: MessageKind[a.kind],
    orgId: a.orgId,
    teamId: a.team.id,
    epoch: a.epoch ?? a.team.epoch,
    threadId: a.threadId,
    messageId: a.messageId ?? p.randomBytes(16),
    position: a.position,
    teamPublic: a.team.publicKey,
    ...(a.kind === 'reply' ? { requesterPublic: a.requesterPublic! } : {}),
    body: a.kind === 'tags' ? encodeTagsBody(a.tags ?? []) : encodeTextBody(a.text ?? ''),
    author: { type: 'responder', signSeed: a.ed25519Seed, cert: a.certificate },
  });
}

/**
 * What the dashboard does with a sign-in challenge from /login/salt (PROTOCOL.md 22.3): the v2
 * solver at the effort the salt answer states.
 */
export function loginProofFor(salt: { challenge: string; effort: number }): { challenge: string; effort: number; nonce: string } {
  const solution = solvePowV2Sync(nobleSha256, base64urlDecode(salt.challenge), salt.effort, crypto.getRandomValues(new Uint8Array(4)));
  return { challenge: salt.challenge, effort: solution.effort, nonce: base64urlEncode(solution.nonce) };
}
