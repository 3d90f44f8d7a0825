/**
 * Runs the migrations in `migrations/` (one file each, applied in name order) with Kysely's
 * Migrator. The same files run on PGlite and PostgreSQL.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { BUNDLED, DIST_DIR } from '../dist-location.ts';

/** The sources' `migrations/`, or the compiled `dist/migrations/` when running built code. */
export const MIGRATIONS_DIR = BUNDLED ? path.join(DIST_DIR, 'migrations') : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');
const MIGRATION_FILE = BUNDLED ? /^\d{4}_[a-z0-9_]+\.js$/ : /^\d{4}_[a-z0-9_]+\.ts$/;

export class MigrationError extends Error {
  constructor(
    readonly migration: string,
    cause: unknown,
  ) {
    super(`migration ${migration} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'MigrationError';
  }
}

/** Applies every pending migration; returns the names applied. Throws MigrationError. */
// Kysely<any>: migrations run before (and regardless of) the app's current schema type (STYLE.md rule 5).
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see the line above
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new OnlyMigrationFiles(MIGRATIONS_DIR),
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) throw new MigrationError(failed?.migrationName ?? '(setup)', error);
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Reads `migrations/NNNN_name.ts` (or the built `.js`) files in name order. Our own dynamic import (rather than
 * Kysely's FileMigrationProvider) so the TypeScript loader in use (tsx, vitest) sees it.
 */
class OnlyMigrationFiles implements MigrationProvider {
  constructor(private readonly folder: string) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const names = (await fs.readdir(this.folder)).filter((name) => MIGRATION_FILE.test(name)).sort();
    const migrations: Record<string, Migration> = {};
    for (const name of names) {
      const module = (await import(pathToFileURL(path.join(this.folder, name)).href)) as Migration;
      migrations[name.replace(/\.(ts|js)$/, '')] = { up: module.up, ...(module.down ? { down: module.down } : {}) };
    }
    return migrations;
  }
}
