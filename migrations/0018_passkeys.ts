/**
 * Passkeys (WebAuthn) as a second factor, and passkey key wraps (crypto/v1/passkey-wrap.ts).
 *
 * - `passkeys`: one row per credential. The public key and signature counter are what the
 *   server needs to check an assertion; `prf_wrap` is the account's secrets wrapped under the
 *   passphrase and this passkey's PRF output (PROTOCOL 6.2), null for a passkey without PRF.
 *   `created_hour` only (never a precise time, never a user agent or transport detail beyond
 *   the browser-reported transports, which a later sign-in passes back as a hint).
 * - The WebAuthn challenge of a ceremony lives on the session that asked for it: one at a time,
 *   taken (set to null) by the request that answers it, so an assertion cannot be replayed, nor
 *   used by another session or for another purpose; it expires at a minute-truncated time.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('passkeys')
    .addColumn('id', 'bytea', (c) => c.primaryKey().check(sql`octet_length(id) = 16`))
    .addColumn('account_id', 'bytea', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    // WebAuthn caps credential ids at 1023 bytes.
    .addColumn('credential_id', 'bytea', (c) => c.notNull().unique().check(sql`octet_length(credential_id) between 1 and 1023`))
    .addColumn('public_key', 'bytea', (c) => c.notNull().check(sql`octet_length(public_key) between 1 and 2048`))
    .addColumn('counter', 'bigint', (c) => c.notNull().check(sql`counter >= 0 and counter <= 4294967295`))
    .addColumn('transports', 'text', (c) => c.notNull().defaultTo('').check(sql`length(transports) <= 200`))
    .addColumn('prf_wrap', 'bytea', (c) => c.check(sql`octet_length(prf_wrap) = 106`))
    .addColumn('created_hour', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('passkeys_account').on('passkeys').column('account_id').execute();

  await db.schema.alterTable('sessions').addColumn('webauthn_challenge', 'bytea', (c) => c.check(sql`octet_length(webauthn_challenge) = 32`)).execute();
  await db.schema
    .alterTable('sessions')
    .addColumn('webauthn_purpose', 'text', (c) => c.check(sql`webauthn_purpose in ('register', 'authenticate')`))
    .execute();
  await db.schema.alterTable('sessions').addColumn('webauthn_expires_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('webauthn_expires_at').execute();
  await db.schema.alterTable('sessions').dropColumn('webauthn_purpose').execute();
  await db.schema.alterTable('sessions').dropColumn('webauthn_challenge').execute();
  await db.schema.dropTable('passkeys').execute();
}
