/**
 * Second factors and a login that nobody else can block.
 *
 * - The per-account lock-out goes (failed_logins, locked_until): a third party who knew a
 *   user name could keep its owner out at will. Throttling is now by proof of work per
 *   attempt for a throttled name (api/accounts/login-throttle.ts), in memory of fixed size,
 *   identical for known and unknown names, so nothing about it belongs in this table.
 * - TOTP (RFC 6238): `totp_secret` (reserved in 0003) now holds the secret sealed under a key
 *   derived from HAVEN_SERVER_SECRET with the account id as associated data, so a copy of the
 *   database alone does not yield it; the server must read it to check a code, so it cannot
 *   be end-to-end. `totp_used` holds keyed hashes (same server key) of the last accepted time
 *   steps, to refuse a code twice without storing when anyone signed in.
 * - Recovery codes: only BLAKE2b hashes, one row per code, deleted when used.
 * - A session starts at a stage: `second_factor` (passphrase right, second factor owed) or
 *   `enrol_second_factor` (the organisation requires one the account does not have yet) before
 *   `full`. `second_factor_failures` ends a half-open session after a few wrong codes.
 * - The organisation's policy: none, any second factor (TOTP or passkey), or passkey only.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts').dropColumn('failed_logins').execute();
  await db.schema.alterTable('accounts').dropColumn('locked_until').execute();
  await db.schema
    .alterTable('accounts')
    .addColumn('totp_used', 'bytea', (c) => c.check(sql`octet_length(totp_used) <= 96`))
    .execute();
  // totp_secret: 24-byte nonce + 20-byte secret + 16-byte tag (api/accounts/totp.service.ts).
  await sql`alter table accounts add constraint accounts_totp_secret_length check (octet_length(totp_secret) = 60)`.execute(db);

  await db.schema
    .createTable('recovery_codes')
    .addColumn('code_hash', 'bytea', (c) => c.primaryKey().check(sql`octet_length(code_hash) = 32`))
    .addColumn('account_id', 'bytea', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .execute();
  await db.schema.createIndex('recovery_codes_account').on('recovery_codes').column('account_id').execute();

  await db.schema
    .alterTable('sessions')
    .addColumn('stage', 'text', (c) => c.notNull().defaultTo('full').check(sql`stage in ('full', 'second_factor', 'enrol_second_factor')`))
    .execute();
  await db.schema
    .alterTable('sessions')
    .addColumn('second_factor_failures', 'integer', (c) => c.notNull().defaultTo(0).check(sql`second_factor_failures >= 0`))
    .execute();

  await db.schema
    .alterTable('organisations')
    .addColumn('second_factor_policy', 'text', (c) => c.notNull().defaultTo('none').check(sql`second_factor_policy in ('none', 'any', 'passkey')`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('organisations').dropColumn('second_factor_policy').execute();
  await db.schema.alterTable('sessions').dropColumn('second_factor_failures').execute();
  await db.schema.alterTable('sessions').dropColumn('stage').execute();
  await db.schema.dropTable('recovery_codes').execute();
  await sql`alter table accounts drop constraint accounts_totp_secret_length`.execute(db);
  await db.schema.alterTable('accounts').dropColumn('totp_used').execute();
  await db.schema.alterTable('accounts').addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('accounts').addColumn('locked_until', 'timestamptz').execute();
}
