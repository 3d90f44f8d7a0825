/**
 * Thread message positions start at 0 (protocol v2).
 *
 * A v2 thread message carries its position inside its header and signature: the request is at
 * position 0 and every later message at the thread's maximum + 1, so a server can neither
 * reorder a thread nor slot a message in twice. v1 threads keep their request at position 1
 * (v1 blobs carry no position), so the check only widens: every stored row stays valid.
 *
 * The constraint name is PostgreSQL's default for the column check of 0002 (table_column_check).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table messages drop constraint messages_position_check`.execute(db);
  await sql`alter table messages add constraint messages_position_check check (position >= 0)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // Fails if a v2 thread (a request at position 0) exists: nothing is silently renumbered.
  await sql`alter table messages drop constraint messages_position_check`.execute(db);
  await sql`alter table messages add constraint messages_position_check check (position >= 1)`.execute(db);
}
