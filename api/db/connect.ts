/**
 * Opens the database: PostgreSQL through a `pg` Pool when DATABASE_URL is set, otherwise
 * embedded PGlite persisted in the data directory (guarded by a lock file).
 */
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { lockDataDir } from './data-dir-lock.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import { preparingPool } from './prepared.ts';
import type { Database } from './schema.ts';

export type DatabaseKind = 'postgres' | 'pglite';

export interface OpenDatabase {
  db: Kysely<Database>;
  kind: DatabaseKind;
  /** Closes the pool or the embedded database and releases the data-directory lock. */
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl: string | null;
  dataDir: string;
  /** `memory` keeps PGlite in memory (tests). */
  pgliteStorage?: 'disk' | 'memory';
  poolSize?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<OpenDatabase> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      // Fail fast when PostgreSQL is down, so clients get a 503 with Retry-After, not a hang.
      connectionTimeoutMillis: 3000,
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    // Nor may a checked-out one: the pool listens only on idle clients, and a client that
    // loses its server between two queries of a transaction (PostgreSQL stopping sends
    // 57P01 to every session) emits 'error' with no listener, which kills the process.
    // The transaction's next query then fails with a database-down error (a 503) and the
    // pool discards the broken client on release.
    pool.on('connect', (client) => {
      client.on('error', () => {});
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
    return { db, kind: 'postgres', close: () => db.destroy() };
  }

  if (options.pgliteStorage === 'memory') {
    const db = new Kysely<Database>({ dialect: new PGliteDialect(new PGlite()) });
    return { db, kind: 'pglite', close: () => db.destroy() };
  }

  const lock = lockDataDir(options.dataDir);
  try {
    const pglite = new PGlite(path.join(options.dataDir, 'pglite'));
    await pglite.waitReady;
    const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
    return {
      db,
      kind: 'pglite',
      close: async () => {
        try {
          await db.destroy();
        } finally {
          lock.release();
        }
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}
