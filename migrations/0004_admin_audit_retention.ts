/**
 * Admin features: each admin's wrap of the organisation root seed, the signed audit log,
 * and organisation-wide settings (retention).
 *
 * The root seed is stored only sealed to an admin's own X25519 key (one row per admin), so
 * a seized database holds nothing that signs. Audit entries carry the hour only, never an
 * IP, user agent or precise time; each row is chained to the one before it by hash and
 * signed by the acting account in its own browser.
 */
import { sql, type Kysely } from 'kysely';

const hourColumn = (name: string) => sql`${sql.ref(name)} = date_trunc('hour', ${sql.ref(name)})`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('root_wraps')
    .addColumn('account_id', 'bytea', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    // seal(admin X25519 public, rootSeed(32), AD = 0x01 | 0x14 | orgId | accountId): 48 + 32 bytes.
    .addColumn('sealed', 'bytea', (c) => c.notNull().check(sql`octet_length(sealed) = 80`))
    .addColumn('created_hour', 'timestamptz', (c) => c.notNull().check(hourColumn('created_hour')))
    .execute();

  await db.schema
    .createTable('audit_log')
    // A gap-free position assigned under a table lock (not a sequence, which may skip values
    // on rollback): a missing row is then visible as a missing number.
    .addColumn('seq', 'integer', (c) => c.primaryKey().check(sql`seq >= 1`))
    // No foreign key: the log must outlive anything it talks about; accounts are never deleted.
    .addColumn('actor_id', 'bytea', (c) => c.notNull().check(sql`octet_length(actor_id) = 16`))
    // Canonical JSON (web/shared/admin-crypto.ts buildAuditEntry): action, targets, hour.
    .addColumn('entry', 'bytea', (c) => c.notNull().check(sql`octet_length(entry) between 1 and 4096`))
    .addColumn('prev_hash', 'bytea', (c) => c.notNull().check(sql`octet_length(prev_hash) = 32`))
    .addColumn('hash', 'bytea', (c) => c.notNull().unique().check(sql`octet_length(hash) = 32`))
    .addColumn('signature', 'bytea', (c) => c.notNull().check(sql`octet_length(signature) = 64`))
    .execute();

  await db.schema
    .createTable('settings')
    // One row (id = 1); a missing row means the defaults.
    .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('closed_retention_days', 'integer', (c) => c.notNull().defaultTo(90).check(sql`closed_retention_days between 1 and 3650`))
    .execute();
  await db.insertInto('settings').values({ id: 1, closed_retention_days: 90 }).execute();

  // The retention job looks for closed requests by age.
  await db.schema.createIndex('requests_status_updated').on('requests').columns(['status', 'updated_hour']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('requests_status_updated').execute();
  await db.schema.dropTable('settings').execute();
  await db.schema.dropTable('audit_log').execute();
  await db.schema.dropTable('root_wraps').execute();
}
