/**
 * Root hand-over statements (crypto/v2/root-handover.ts, PROTOCOL 14.6): every rotation of the
 * organisation root leaves one, signed by the old root and counter-signed by the new. They are
 * public and self-authenticating: a dashboard that pinned an older root follows them to the root
 * its page embeds. Kept forever (218 bytes each): a browser last seen years ago still needs the
 * whole chain. No time but the coarse hour inside the signed statement.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('root_handovers')
    .addColumn('serial', 'integer', (c) => c.primaryKey().check(sql`serial >= 1`))
    .addColumn('statement', 'bytea', (c) => c.notNull().check(sql`octet_length(statement) = 218`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('root_handovers').execute();
}
