/** `npm run db:migrate`: apply pending migrations to the configured database and exit. */
import { ConfigError, loadConfig } from '../config.ts';
import { printError, printLine } from '../logger.ts';
import { openDatabase } from './connect.ts';
import { migrateToLatest } from './migrate.ts';

try {
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const applied = await migrateToLatest(database.db);
    printLine(applied.length === 0 ? 'Database is up to date.' : `Applied: ${applied.join(', ')}`);
  } finally {
    await database.close();
  }
} catch (err) {
  if (err instanceof ConfigError) err.problems.forEach((p) => printError(`haven: ${p}`));
  else printError(`haven: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
