/**
 * The organisation and its teams, with one row per team intake key epoch.
 *
 * Times are stored only to the hour (a CHECK makes the database refuse anything finer), so a
 * seized disk cannot line records up with network logs. Ids are 16 random bytes, never
 * time-ordered.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('organisations')
    .addColumn('id', 'bytea', (c) => c.primaryKey().check(sql`octet_length(id) = 16`))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`char_length(name) between 1 and 200`))
    .addColumn('is_demo', 'boolean', (c) => c.notNull())
    .addColumn('created_hour', 'timestamptz', (c) =>
      c.notNull().check(sql`created_hour = date_trunc('hour', created_hour)`),
    )
    .execute();

  await db.schema
    .createTable('teams')
    .addColumn('id', 'bytea', (c) => c.primaryKey().check(sql`octet_length(id) = 16`))
    .addColumn('organisation_id', 'bytea', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
    .addColumn('slug', 'text', (c) => c.notNull().unique().check(sql`slug ~ '^[a-z0-9-]{1,40}$'`))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`char_length(name) between 1 and 200`))
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_hour', 'timestamptz', (c) =>
      c.notNull().check(sql`created_hour = date_trunc('hour', created_hour)`),
    )
    .execute();

  await db.schema
    .createTable('team_epochs')
    .addColumn('team_id', 'bytea', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('epoch', 'integer', (c) => c.notNull().check(sql`epoch >= 1`))
    .addColumn('public_key', 'bytea', (c) => c.notNull().check(sql`octet_length(public_key) = 32`))
    // The root-signed intake key certificate; browsers verify it, the server only stores it.
    .addColumn('certificate', 'bytea', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('current', 'retiring', 'retired')`))
    .addColumn('created_hour', 'timestamptz', (c) =>
      c.notNull().check(sql`created_hour = date_trunc('hour', created_hour)`),
    )
    .addPrimaryKeyConstraint('team_epochs_pk', ['team_id', 'epoch'])
    .execute();

  // At most one current epoch per team: submissions go to exactly one key.
  await sql`create unique index team_epochs_one_current on team_epochs (team_id) where state = 'current'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('team_epochs').execute();
  await db.schema.dropTable('teams').execute();
  await db.schema.dropTable('organisations').execute();
}
