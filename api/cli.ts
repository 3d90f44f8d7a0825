/**
 * The frame of every command-line tool (`db:migrate`, `seed`, `setup`, `retention`,
 * `audit:verify`): validated configuration, libsodium, the database opened and always closed,
 * and failures printed as one `haven: ...` line per problem with exit status 1.
 */
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import type { Primitives } from '../crypto/primitives.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { openDatabase, type OpenDatabase } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { printError } from './logger.ts';

export interface CliContext {
  config: Config;
  database: OpenDatabase;
  crypto: Primitives;
}

export async function runCli(body: (ctx: CliContext) => Promise<void>, options: { migrate?: boolean; before?: (config: Config) => void } = {}): Promise<void> {
  try {
    const config = loadConfig();
    options.before?.(config);
    const crypto = await loadSodiumPrimitives();
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    try {
      if (options.migrate !== false) await migrateToLatest(database.db);
      await body({ config, database, crypto });
    } finally {
      await database.close();
    }
  } catch (err) {
    if (err instanceof ConfigError) err.problems.forEach((p) => printError(`haven: ${p}`));
    else printError(`haven: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
