/**
 * Gives a test file a fresh, migrated database on each engine: in-memory PGlite always,
 * and a throwaway PostgreSQL database (created here, dropped afterwards) when PostgreSQL is
 * reachable. `describeEachDatabase` runs the same specification on both.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, inject } from 'vitest';
import { openDatabase, type DatabaseKind, type OpenDatabase } from '../../api/db/connect.ts';
import { migrateToLatest } from '../../api/db/migrate.ts';
import type { Database } from '../../api/db/schema.ts';

export interface TestDatabase {
  kind: DatabaseKind;
  /** The migrated database; valid inside tests and hooks. */
  readonly db: Kysely<Database>;
  /** The connection string of the throwaway PostgreSQL database (null on PGlite). */
  readonly url: string | null;
}

export async function createPostgresDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `haven_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/** Empties every table except the migration bookkeeping, so tests start from nothing. */
export async function truncateAll(db: Kysely<Database>): Promise<void> {
  const tables = await sql<{ tablename: string }>`
    select tablename from pg_tables
    where schemaname = 'public' and tablename not like 'kysely_%'`.execute(db);
  if (tables.rows.length === 0) return;
  const list = tables.rows.map((t) => `"${t.tablename}"`).join(', ');
  await sql.raw(`truncate ${list} cascade`).execute(db);
}

export function engines(): DatabaseKind[] {
  return inject('postgresAdminUrl') ? ['pglite', 'postgres'] : ['pglite'];
}

/** Opens a migrated database of the given kind; the caller closes it. */
export async function openTestDatabase(kind: DatabaseKind): Promise<OpenDatabase & { url: string | null }> {
  if (kind === 'pglite') {
    const open = await openDatabase({ databaseUrl: null, dataDir: '', pgliteStorage: 'memory' });
    await migrateToLatest(open.db);
    return { ...open, url: null };
  }
  const adminUrl = inject('postgresAdminUrl');
  if (!adminUrl) throw new Error('PostgreSQL is not available to this run');
  const created = await createPostgresDatabase(adminUrl);
  const open = await openDatabase({ databaseUrl: created.url, dataDir: '', poolSize: 5 });
  await migrateToLatest(open.db);
  return {
    ...open,
    url: created.url,
    async close() {
      await open.close();
      await created.drop();
    },
  };
}

export function describeEachDatabase(title: string, body: (t: TestDatabase) => void): void {
  for (const kind of engines()) {
    describe(`${title} [${kind}]`, () => {
      let open: (OpenDatabase & { url: string | null }) | null = null;
      const handle: TestDatabase = {
        kind,
        get db() {
          if (!open) throw new Error('database not open yet');
          return open.db;
        },
        get url() {
          return open?.url ?? null;
        },
      };
      beforeAll(async () => {
        open = await openTestDatabase(kind);
      });
      beforeEach(async () => {
        if (open) await truncateAll(open.db);
      });
      afterAll(async () => {
        await open?.close();
      });
      body(handle);
    });
  }
}
