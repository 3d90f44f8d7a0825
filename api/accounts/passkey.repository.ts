/**
 * Database access for passkeys (migration 0018): credentials, their key wraps, the account
 * bundle they retire, and the one WebAuthn challenge a session may have open.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database, WebauthnPurpose } from '../db/schema.ts';

export interface StoredPasskey {
  id: Uint8Array;
  accountId: Uint8Array;
  credentialId: Uint8Array;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
  prfWrap: Uint8Array | null;
  createdHour: Date;
}

type Row = {
  id: Uint8Array; account_id: Uint8Array; credential_id: Uint8Array; public_key: Uint8Array; counter: string | number;
  transports: string; prf_wrap: Uint8Array | null; created_hour: Date;
};

function toPasskey(r: Row): StoredPasskey {
  return {
    id: r.id, accountId: r.account_id, credentialId: r.credential_id, publicKey: r.public_key, counter: Number(r.counter),
    transports: r.transports === '' ? [] : r.transports.split(','), prfWrap: r.prf_wrap, createdHour: r.created_hour,
  };
}

const columns = ['id', 'account_id', 'credential_id', 'public_key', 'counter', 'transports', 'prf_wrap', 'created_hour'] as const;

export async function listPasskeys(db: Kysely<Database>, accountId: Uint8Array): Promise<StoredPasskey[]> {
  const rows = await db.selectFrom('passkeys').select(columns).where('account_id', '=', accountId).orderBy('created_hour').orderBy('id').execute();
  return rows.map(toPasskey);
}

/** This account's passkey with this credential id, locked for the transaction (the counter is updated under it). */
export async function lockPasskeyByCredential(trx: Transaction<Database>, accountId: Uint8Array, credentialId: Uint8Array): Promise<StoredPasskey | null> {
  const row = await trx.selectFrom('passkeys').select(columns).where('account_id', '=', accountId).where('credential_id', '=', credentialId).forUpdate().executeTakeFirst();
  return row ? toPasskey(row) : null;
}

export async function insertPasskey(trx: Transaction<Database>, p: Omit<StoredPasskey, 'prfWrap'>): Promise<void> {
  await trx.insertInto('passkeys').values({
    id: p.id, account_id: p.accountId, credential_id: p.credentialId, public_key: p.publicKey, counter: p.counter,
    transports: p.transports.join(','), created_hour: p.createdHour,
  }).execute();
}

export async function setPasskeyCounter(trx: Transaction<Database>, id: Uint8Array, counter: number): Promise<void> {
  await trx.updateTable('passkeys').set({ counter }).where('id', '=', id).execute();
}

export async function setPrfWrap(trx: Transaction<Database>, id: Uint8Array, wrap: Uint8Array): Promise<void> {
  await trx.updateTable('passkeys').set({ prf_wrap: wrap }).where('id', '=', id).execute();
}

/** Deletes one of this account's passkeys. @returns whether there was one. */
export async function deletePasskey(trx: Transaction<Database>, accountId: Uint8Array, id: Uint8Array): Promise<boolean> {
  const row = await trx.deleteFrom('passkeys').where('account_id', '=', accountId).where('id', '=', id).returning('id').executeTakeFirst();
  return row !== undefined;
}

/** The account row, locked: passkey changes that touch the key bundle are serialised on it. */
export async function lockAccountBundle(trx: Transaction<Database>, accountId: Uint8Array): Promise<Uint8Array | null> {
  const row = await trx.selectFrom('accounts').select('key_bundle').where('id', '=', accountId).forUpdate().executeTakeFirst();
  return row?.key_bundle ?? null;
}

export async function setAccountBundle(trx: Transaction<Database>, accountId: Uint8Array, bundle: Uint8Array): Promise<void> {
  await trx.updateTable('accounts').set({ key_bundle: bundle }).where('id', '=', accountId).execute();
}

export async function hasPasskey(db: Kysely<Database>, accountId: Uint8Array): Promise<boolean> {
  const row = await db.selectFrom('passkeys').select('id').where('account_id', '=', accountId).limit(1).executeTakeFirst();
  return row !== undefined;
}

// ---- the session's WebAuthn challenge

export async function setChallenge(db: Kysely<Database>, tokenHash: Uint8Array, challenge: Uint8Array, purpose: WebauthnPurpose, expiresAt: Date): Promise<void> {
  await db.updateTable('sessions').set({ webauthn_challenge: challenge, webauthn_purpose: purpose, webauthn_expires_at: expiresAt }).where('token_hash', '=', tokenHash).execute();
}

/**
 * Takes the session's open challenge if it is for `purpose` and not expired, and clears it
 * whatever it was (a wrong answer spends it too). The row is locked, so two requests racing
 * with one assertion cannot both get it.
 * @returns the challenge, or null (none, another purpose, expired, already taken).
 */
export async function takeChallenge(db: Kysely<Database>, tokenHash: Uint8Array, purpose: WebauthnPurpose, now: Date): Promise<Uint8Array | null> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('sessions')
      .select(['webauthn_challenge', 'webauthn_purpose', 'webauthn_expires_at'])
      .where('token_hash', '=', tokenHash)
      .forUpdate()
      .executeTakeFirst();
    if (!row?.webauthn_challenge) return null;
    await trx.updateTable('sessions').set({ webauthn_challenge: null, webauthn_purpose: null, webauthn_expires_at: null }).where('token_hash', '=', tokenHash).execute();
    const live = row.webauthn_purpose === purpose && row.webauthn_expires_at !== null && row.webauthn_expires_at.getTime() > now.getTime();
    return live ? row.webauthn_challenge : null;
  });
}
