/**
 * Message blobs are ciphertext: PostgreSQL's default storage for a large bytea (EXTENDED)
 * first tries to compress it, which never succeeds on encrypted bytes and cost about a third
 * of the time of inserting a 4 KiB blob (docs/BENCHMARKS.md, "Intake load"). EXTERNAL stores
 * large values out of line as before, without the compression attempt. Rows written before
 * keep their storage; nothing is rewritten.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table messages alter column blob set storage external`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table messages alter column blob set storage extended`.execute(db);
}
