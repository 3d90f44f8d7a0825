/**
 * Responder and admin accounts, one-time invitations, team membership, sealed epoch grants,
 * and dashboard sessions.
 *
 * The server stores nothing that can open anything: an account's key bundle is wrapped
 * under a key derived from a passphrase the server never sees, the login check is a hash of
 * a separate subkey (the verifier), a grant is a team epoch secret sealed to the responder's
 * own X25519 key, and invitation codes and session tokens are stored only as hashes.
 *
 * Times are hour-truncated like everywhere else, except the session clock (see `sessions`)
 * and the login lock-out, which need finer steps. Ids are 16 random bytes.
 */
import { sql, type Kysely } from 'kysely';

const hourColumn = (name: string) => sql`${sql.ref(name)} = date_trunc('hour', ${sql.ref(name)})`;
const minuteColumn = (name: string) => sql`${sql.ref(name)} = date_trunc('minute', ${sql.ref(name)})`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('accounts')
    .addColumn('id', 'bytea', (c) => c.primaryKey().check(sql`octet_length(id) = 16`))
    // Lower-cased by the API before it gets here; the CHECK makes the database refuse anything else.
    .addColumn('username', 'text', (c) => c.notNull().unique().check(sql`username ~ '^[a-z0-9._-]{3,40}$'`))
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('responder', 'admin')`))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending').check(sql`status in ('pending', 'active', 'removed')`))
    .addColumn('salt', 'bytea', (c) => c.notNull().check(sql`octet_length(salt) = 16`))
    // BLAKE2b of the login verifier (crypto loginVerifierHash); never the passphrase or wrap key.
    .addColumn('verifier_hash', 'bytea', (c) => c.notNull().check(sql`octet_length(verifier_hash) = 32`))
    // The wrapped account keys: opaque to the server beyond its header (salt and Argon2id params).
    .addColumn('key_bundle', 'bytea', (c) => c.notNull().check(sql`octet_length(key_bundle) between 1 and 1024`))
    .addColumn('enc_public_key', 'bytea', (c) => c.notNull().check(sql`octet_length(enc_public_key) = 32`))
    .addColumn('sign_public_key', 'bytea', (c) => c.notNull().check(sql`octet_length(sign_public_key) = 32`))
    // Root-signed responder certificate, set by the admin's browser on approval.
    .addColumn('certificate', 'bytea')
    .addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0).check(sql`failed_logins >= 0`))
    // Minute steps: a lock-out of a few minutes cannot be expressed in hours. It reveals only
    // roughly when someone last guessed wrong at this account, and is cleared on success.
    .addColumn('locked_until', 'timestamptz', (c) => c.check(minuteColumn('locked_until')))
    // Optional second factor, reserved: no endpoint reads or writes it yet.
    .addColumn('totp_secret', 'bytea')
    .addColumn('created_hour', 'timestamptz', (c) => c.notNull().check(hourColumn('created_hour')))
    .execute();

  await db.schema
    .createTable('invitations')
    // BLAKE2b-256 of the code; the code itself is shown once to the admin and never stored.
    .addColumn('code_hash', 'bytea', (c) => c.primaryKey().check(sql`octet_length(code_hash) = 32`))
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('responder', 'admin')`))
    .addColumn('expires_hour', 'timestamptz', (c) => c.notNull().check(hourColumn('expires_hour')))
    .addColumn('used', 'boolean', (c) => c.notNull().defaultTo(false))
    // Who enrolled with it: the admin approving the account needs the teams it was invited to.
    .addColumn('account_id', 'bytea', (c) => c.references('accounts.id').onDelete('cascade'))
    .addColumn('created_hour', 'timestamptz', (c) => c.notNull().check(hourColumn('created_hour')))
    .addCheckConstraint('invitations_used_has_account', sql`used = (account_id is not null)`)
    .execute();

  await db.schema
    .createTable('invitation_teams')
    .addColumn('code_hash', 'bytea', (c) => c.notNull().references('invitations.code_hash').onDelete('cascade'))
    .addColumn('team_id', 'bytea', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('invitation_teams_pk', ['code_hash', 'team_id'])
    .execute();

  await db.schema
    .createTable('team_members')
    .addColumn('team_id', 'bytea', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('account_id', 'bytea', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('team_members_pk', ['team_id', 'account_id'])
    .execute();
  await db.schema.createIndex('team_members_account').on('team_members').column('account_id').execute();

  await db.schema
    .createTable('grants')
    .addColumn('team_id', 'bytea', (c) => c.notNull())
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('account_id', 'bytea', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    // crypto createGrant output: the epoch secret sealed to the responder's X25519 key.
    .addColumn('sealed', 'bytea', (c) => c.notNull().check(sql`octet_length(sealed) between 1 and 1024`))
    .addPrimaryKeyConstraint('grants_pk', ['team_id', 'epoch', 'account_id'])
    .addForeignKeyConstraint('grants_epoch_fk', ['team_id', 'epoch'], 'team_epochs', ['team_id', 'epoch'], (c) => c.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('grants_account').on('grants').column('account_id').execute();

  await db.schema
    .createTable('sessions')
    // BLAKE2b-256 of the cookie's token: a copy of this table cannot be replayed as cookies.
    .addColumn('token_hash', 'bytea', (c) => c.primaryKey().check(sql`octet_length(token_hash) = 32`))
    .addColumn('account_id', 'bytea', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    // Minute precision, the one exception to hour-truncated times: an idle timeout of 30
    // minutes cannot be enforced on an hour clock. These rows are deleted at logout and
    // expiry, describe responders (never requesters), and are truncated to the minute so
    // they still cannot be lined up with network logs to the second.
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().check(minuteColumn('created_at')))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().check(minuteColumn('last_seen_at')))
    .execute();
  await db.schema.createIndex('sessions_account').on('sessions').column('account_id').execute();

  // An assignee or author is an account; removing an account (never done today: accounts are
  // marked removed) would leave the thread and clear the reference.
  await sql`alter table requests add constraint requests_assignee_fk foreign key (assignee_id) references accounts (id) on delete set null`.execute(db);
  await sql`alter table messages add constraint messages_author_fk foreign key (author_id) references accounts (id) on delete set null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table messages drop constraint messages_author_fk`.execute(db);
  await sql`alter table requests drop constraint requests_assignee_fk`.execute(db);
  await db.schema.dropTable('sessions').execute();
  await db.schema.dropTable('grants').execute();
  await db.schema.dropTable('team_members').execute();
  await db.schema.dropTable('invitation_teams').execute();
  await db.schema.dropTable('invitations').execute();
  await db.schema.dropTable('accounts').execute();
}
