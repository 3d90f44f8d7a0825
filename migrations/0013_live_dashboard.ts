/**
 * A dashboard that keeps up with a live hotline (issue 13), with as little metadata as that needs.
 *
 * - `requests.activity`: the value of one organisation-wide counter taken at the request's
 *   latest change (a new message of any kind, or a triage change). It orders the list by last
 *   activity and tells a page that something changed, without a time: only the latest value
 *   per request is kept (each change overwrites it), so the database holds the order of each
 *   request's LAST change, not a history. Existing requests are numbered in creation order.
 * - `request_reads`: per account and request, the activity value the account last saw
 *   (opened the thread at). Unread = activity above it. No time is stored.
 * - `teams.rotation_required`: set when a member leaves (or an account is removed), cleared
 *   by the next rotation, so "rotation due" survives signing out (it lived in browser memory).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create sequence request_activity_seq as bigint`.execute(db);
  await sql`alter table requests add column activity bigint`.execute(db);
  await sql`
    update requests set activity = n.a
    from (select id, row_number() over (order by created_hour, id) as a from requests) n
    where requests.id = n.id`.execute(db);
  await sql`select setval('request_activity_seq', coalesce((select max(activity) from requests), 0) + 1, false)`.execute(db);
  await sql`alter table requests alter column activity set default nextval('request_activity_seq')`.execute(db);
  await sql`alter table requests alter column activity set not null`.execute(db);
  await sql`create index requests_team_activity_idx on requests (team_id, activity desc, id)`.execute(db);

  await db.schema
    .createTable('request_reads')
    .addColumn('account_id', 'bytea', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('request_id', 'bytea', (c) => c.notNull().references('requests.id').onDelete('cascade'))
    .addColumn('seen_activity', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('request_reads_pk', ['account_id', 'request_id'])
    .execute();
  // Deleting a request (retention) finds its read rows through this index.
  await db.schema.createIndex('request_reads_request_idx').on('request_reads').column('request_id').execute();

  await db.schema.alterTable('teams').addColumn('rotation_required', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('teams').dropColumn('rotation_required').execute();
  await db.schema.dropTable('request_reads').execute();
  await sql`drop index requests_team_activity_idx`.execute(db);
  await sql`alter table requests drop column activity`.execute(db);
  await sql`drop sequence request_activity_seq`.execute(db);
}
