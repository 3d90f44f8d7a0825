/**
 * The triage list reads requests newest first by (created_hour desc, id) across a
 * responder's teams; without an index in that order the first page sorts every row.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index requests_listing on requests (created_hour desc, id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('requests_listing').execute();
}
