/**
 * Root signatures over site manifests (crypto/v2/site-manifest.ts): one row per site and
 * manifest hash, so a signature made for a build stays valid for exactly that build.
 *
 * The signature is made with the organisation root seed in an admin's browser (or by the
 * setup/seed tool that holds the seed at creation); the server only checks and serves it.
 * Nothing here is secret, and a row signs nothing by itself.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('site_manifest_signatures')
    .addColumn('site', 'text', (c) => c.notNull().check(sql`site in ('requester', 'triage')`))
    // SHA-256 of the manifest's signed bytes.
    .addColumn('manifest_sha256', 'bytea', (c) => c.notNull().check(sql`octet_length(manifest_sha256) = 32`))
    .addColumn('signature', 'bytea', (c) => c.notNull().check(sql`octet_length(signature) = 64`))
    .addColumn('created_hour', 'timestamptz', (c) => c.notNull().check(sql`created_hour = date_trunc('hour', created_hour)`))
    .addPrimaryKeyConstraint('site_manifest_signatures_pk', ['site', 'manifest_sha256'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('site_manifest_signatures').execute();
}
