/** `npm run retention`: runs the retention sweep once (the server also runs it hourly). */
import { ConfigError, loadConfig } from '../config.ts';
import { openDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { resolveServerSecret } from '../deployment-keys.ts';
import { printError, printLine } from '../logger.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { runRetention } from './retention.service.ts';

try {
  const config = loadConfig();
  const p = await loadSodiumPrimitives();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(database.db);
    const r = await runRetention(database.db, p, { serverSecret: resolveServerSecret(config), config });
    printLine(`Deleted ${r.requests} closed requests (${r.messages} messages), ${r.sessions} expired sessions, ${r.challenges} spent challenges.`);
  } finally {
    await database.close();
  }
} catch (err) {
  if (err instanceof ConfigError) err.problems.forEach((p) => printError(`haven: ${p}`));
  else printError(`haven: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
