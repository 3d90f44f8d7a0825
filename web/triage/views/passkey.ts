/**
 * Passkey ceremonies in the dashboard (PROTOCOL 22.13-22.17), through @simplewebauthn/browser:
 * enrolment, sign-in, and moving the account's keys onto a passkey with the PRF extension.
 *
 * The PRF output never leaves this page: it is read from the assertion here and removed from
 * what is sent (the server checks signatures, not extension outputs). With the passphrase's
 * wrap key it makes the key of a passkey wrap (crypto/v1/passkey-wrap.ts).
 *
 * The wrap key from sign-in is kept in memory for the session (as the unwrapped account keys
 * are, in the vault) so a passkey added later can be given a wrap; it is wiped with the vault.
 */
import { startAuthentication, startRegistration } from '@simplewebauthn/browser';
import { base64urlDecode, base64urlEncode } from '../../../crypto/encoding.ts';
import { passkeyWrapKey, prfSalt, unwrapFromPasskey, wrapForPasskey } from '../../../crypto/v1/passkey-wrap.ts';
import type { Primitives } from '../../../crypto/primitives.ts';
import { api, state } from '../shell.ts';

let sessionWrapKey: Uint8Array | null = null;

/** Keeps a copy of the wrap key for this session (login.ts, once the vault is open). */
export function keepWrapKey(wrapKey: Uint8Array): void {
  sessionWrapKey?.fill(0);
  sessionWrapKey = wrapKey.slice();
}

export function wipePasskeyState(): void {
  sessionWrapKey?.fill(0);
  sessionWrapKey = null;
}

export function haveWrapKey(): boolean {
  return sessionWrapKey !== null;
}

type Options = { challenge: string; allowCredentials?: { id: string; type: string; transports?: string[] }[] } & Record<string, unknown>;

/** The assertion without its extension outputs (the PRF output stays here), and the PRF output if any. */
function split(result: { clientExtensionResults: unknown }): { response: unknown; prf: Uint8Array | null } {
  const ext = result.clientExtensionResults as { prf?: { results?: { first?: ArrayBuffer | ArrayBufferView } } } | undefined;
  const first = ext?.prf?.results?.first;
  let prf: Uint8Array | null = null;
  if (first instanceof ArrayBuffer) prf = new Uint8Array(first.slice(0));
  else if (first && ArrayBuffer.isView(first)) prf = new Uint8Array(first.buffer.slice(first.byteOffset, first.byteOffset + first.byteLength));
  return { response: { ...result, clientExtensionResults: {} }, prf };
}

/**
 * Asks the authenticator for an assertion over the server's options, with PRF evaluated on
 * this account's fixed salt; `onlyCredential` narrows the choice to one passkey.
 */
export async function assertWithPrf(p: Primitives, accountId: Uint8Array, onlyCredential?: string): Promise<{ response: unknown; prf: Uint8Array | null; credentialId: string }> {
  const { options } = await api<{ options: Options }>('POST', '/api/v1/second-factor/passkeys/assertion-options', {});
  if (onlyCredential) options.allowCredentials = (options.allowCredentials ?? []).filter((c) => c.id === onlyCredential);
  const optionsJSON = { ...options, extensions: { prf: { eval: { first: prfSalt(p, accountId) } } } };
  const result = await startAuthentication({ optionsJSON: optionsJSON as never });
  return { ...split(result), credentialId: result.rawId };
}

export interface PasskeyJson {
  id: string;
  createdHour: string;
  holdsKeys: boolean;
}

/**
 * Registers a new passkey. @returns the server's answer (and `prfEnabled`: whether the
 * authenticator says it can evaluate PRF, so it can hold the keys).
 */
export async function enrolPasskey<T extends { passkey: PasskeyJson }>(): Promise<T & { prfEnabled: boolean; credentialId: string }> {
  const { options } = await api<{ options: Record<string, unknown> }>('POST', '/api/v1/second-factor/passkeys/registration-options', {});
  const result = await startRegistration({ optionsJSON: options as never });
  const ext = result.clientExtensionResults as { prf?: { enabled?: boolean } };
  const answer = await api<T>('POST', '/api/v1/second-factor/passkeys', { response: { ...result, clientExtensionResults: {} } });
  return { ...answer, prfEnabled: ext.prf?.enabled === true, credentialId: result.rawId };
}

/**
 * Gives a passkey a wrap of the account keys (passphrase wrap key + its PRF output), checks
 * locally that the wrap opens, then stores it; the server then retires the passphrase-only
 * bundle. @returns false when the authenticator gave no PRF output (nothing is sent).
 */
export async function moveKeysToPasskey(p: Primitives, passkeyId: string, credentialId: string): Promise<boolean> {
  const vault = state.vault;
  if (!vault || !sessionWrapKey) throw new Error('not signed in');
  const { response, prf } = await assertWithPrf(p, vault.accountId, credentialId);
  if (!prf) return false;
  const key = passkeyWrapKey(p, sessionWrapKey, prf);
  prf.fill(0);
  const credential = base64urlDecode(credentialId);
  const wrap = wrapForPasskey(p, { key, accountId: vault.accountId, credentialId: credential, x25519Secret: vault.x25519Secret, ed25519Seed: vault.ed25519Seed });
  // Never send a wrap this page cannot open: the passphrase-only copy goes once it is stored.
  const check = unwrapFromPasskey(p, key, wrap, vault.accountId, credential);
  key.fill(0);
  check.x25519Secret.fill(0);
  check.ed25519Seed.fill(0);
  await api('PUT', `/api/v1/second-factor/passkeys/${passkeyId}/wrap`, { response, wrap: base64urlEncode(wrap) });
  return true;
}

/**
 * Opens the account keys from a passkey sign-in's wrap: the passphrase wrap key and the PRF
 * output together. @throws DecryptionError (wrong passphrase, another passkey), MalformedError.
 */
export function openPasskeyWrap(p: Primitives, wrapKey: Uint8Array, prf: Uint8Array, wrap: Uint8Array, accountId: Uint8Array, credentialId: Uint8Array) {
  const key = passkeyWrapKey(p, wrapKey, prf);
  try {
    const keys = unwrapFromPasskey(p, key, wrap, accountId, credentialId);
    return { ...keys, x25519Public: p.x25519PublicFromSecret(keys.x25519Secret), ed25519Public: p.ed25519KeypairFromSeed(keys.ed25519Seed).publicKey };
  } finally {
    key.fill(0);
  }
}
