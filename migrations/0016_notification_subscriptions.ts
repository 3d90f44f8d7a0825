/**
 * Content-free e-mail notifications (api/notifications/): a responder may give an address to
 * be told "something new is waiting in the dashboard", and nothing else.
 *
 * The address is personal data that links a person to the hotline, so it is stored only
 * sealed (XChaCha20-Poly1305 under a key derived from HAVEN_SERVER_SECRET, bound to the
 * account id): a copy of the database alone does not reveal it. `pending` is the only other
 * state: set by the notifier just before a batch, cleared when the e-mail went out, so at
 * rest it is true only for an account whose last send failed. No time is kept at all: when
 * a request arrived is already in `requests.created_hour` and nothing here may sharpen it.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notification_subscriptions')
    .addColumn('account_id', 'bytea', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    // version 1 || nonce 24 || ciphertext of a 3..254-byte address || tag 16
    .addColumn('address_sealed', 'bytea', (c) => c.notNull().check(sql`octet_length(address_sealed) between 44 and 295`))
    .addColumn('pending', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notification_subscriptions').execute();
}
