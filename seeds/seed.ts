/**
 * `npm run seed`: a demo organisation for local use only.
 *
 * Refuses in production mode and over a database that holds a real organisation, so a
 * demo key can never end up next to real requests.
 */
import { ConfigError, loadConfig } from '../api/config.ts';
import { openDatabase } from '../api/db/connect.ts';
import { migrateToLatest } from '../api/db/migrate.ts';
import { printError, printLine } from '../api/logger.ts';
import { seedDemo, SeedRefusedError } from './demo.ts';

try {
  const config = loadConfig();
  if (config.mode === 'production') throw new SeedRefusedError('refusing to seed demo data in production mode (HAVEN_MODE=production)');
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(database.db);
    const result = await seedDemo(database.db, config);
    for (const line of result.lines) printLine(line);
  } finally {
    await database.close();
  }
} catch (err) {
  if (err instanceof ConfigError) err.problems.forEach((p) => printError(`haven: ${p}`));
  else printError(`haven: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
