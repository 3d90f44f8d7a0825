/**
 * Attachment blobs (PROTOCOL.md 10, 10.2): encrypted files that arrived with a request. The
 * server cannot read them; it stores them only with the request that brought them (written in
 * the same transaction) and they go with it: ON DELETE CASCADE, so retention, the removal of
 * undecryptable requests and any future removal path cannot leave one behind.
 *
 * No time column: when a file arrived is the request's `created_hour` and nothing here may
 * sharpen it. No name, type or size beyond the blob's own length: those are inside the
 * encrypted request body. The length check mirrors the format (26 + n * 65,553 bytes, at most
 * 128 chunks), so a bug upstream cannot store what the format does not allow.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('attachments')
    .addColumn('id', 'bytea', (c) => c.primaryKey().check(sql`octet_length(id) = 16`))
    .addColumn('request_id', 'bytea', (c) => c.notNull().references('requests.id').onDelete('cascade'))
    .addColumn('blob', 'bytea', (c) =>
      c.notNull().check(sql`octet_length(blob) > 26 and (octet_length(blob) - 26) % 65553 = 0 and octet_length(blob) <= 26 + 128 * 65553`),
    )
    .execute();
  await db.schema.createIndex('attachments_request').on('attachments').column('request_id').execute();
  // Blobs are encrypted (incompressible): keep them out of TOAST compression attempts (as 0015 does for messages).
  await sql`alter table attachments alter column blob set storage external`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('attachments').execute();
}
