/**
 * Requests, their thread messages, and spent proof-of-work challenges.
 *
 * Everything a requester or responder wrote is an opaque `blob` (a v1 thread message,
 * docs/PROTOCOL.md). A request row holds only what the server must act on: its team and key
 * epoch (for routing and rotation), the hash of the requester's lookup token, and the
 * triage state. Times are hour-truncated; ids are random.
 */
import { sql, type Kysely } from 'kysely';

const hourColumn = (name: string) => sql`${sql.ref(name)} = date_trunc('hour', ${sql.ref(name)})`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('requests')
    .addColumn('id', 'bytea', (c) => c.primaryKey().check(sql`octet_length(id) = 16`))
    .addColumn('team_id', 'bytea', (c) => c.notNull())
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('lookup_hash', 'bytea', (c) => c.notNull().unique().check(sql`octet_length(lookup_hash) = 32`))
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('new').check(sql`status in ('new', 'triaged', 'in_progress', 'waiting', 'resolved', 'closed')`),
    )
    .addColumn('priority', 'text', (c) => c.notNull().defaultTo('normal').check(sql`priority in ('low', 'normal', 'high', 'urgent')`))
    .addColumn('assignee_id', 'bytea')
    .addColumn('created_hour', 'timestamptz', (c) => c.notNull().check(hourColumn('created_hour')))
    .addColumn('updated_hour', 'timestamptz', (c) => c.notNull().check(hourColumn('updated_hour')))
    // A request can only name an epoch that exists; an epoch cannot be deleted while
    // requests still depend on it (re-wrap first).
    .addForeignKeyConstraint('requests_epoch_fk', ['team_id', 'epoch'], 'team_epochs', ['team_id', 'epoch'], (c) => c.onUpdate('cascade'))
    .execute();
  await db.schema.createIndex('requests_team_status').on('requests').columns(['team_id', 'status', 'created_hour']).execute();

  await db.schema
    .createTable('messages')
    .addColumn('id', 'bytea', (c) => c.primaryKey().check(sql`octet_length(id) = 16`))
    .addColumn('request_id', 'bytea', (c) => c.notNull().references('requests.id').onDelete('cascade'))
    // Order inside one thread only: a global sequence would order every thread against every other.
    .addColumn('position', 'integer', (c) => c.notNull().check(sql`position >= 1`))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('request', 'followup', 'reply', 'note', 'tags')`))
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('author_id', 'bytea')
    .addColumn('blob', 'bytea', (c) => c.notNull())
    .addColumn('created_hour', 'timestamptz', (c) => c.notNull().check(hourColumn('created_hour')))
    .addUniqueConstraint('messages_thread_position', ['request_id', 'position'])
    .execute();

  await db.schema
    .createTable('pow_spent')
    .addColumn('challenge_id', 'bytea', (c) => c.primaryKey().check(sql`octet_length(challenge_id) = 16`))
    .addColumn('expires_hour', 'timestamptz', (c) => c.notNull().check(hourColumn('expires_hour')))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('pow_spent').execute();
  await db.schema.dropTable('messages').execute();
  await db.schema.dropTable('requests').execute();
}
