/**
 * Team names per page language (issue 12). A team's `name` is one plain-text string, shown as is
 * on every page, so the Russian requester page listed English team names. `display_names` holds
 * optional names by language tag, e.g. `{"ru": "Юридическая помощь"}`; the requester page shows
 * the one for its language and falls back to `name`. Plain text like `name`, never markup.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table teams add column display_names jsonb not null default '{}'::jsonb check (jsonb_typeof(display_names) = 'object')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table teams drop column display_names`.execute(db);
}
