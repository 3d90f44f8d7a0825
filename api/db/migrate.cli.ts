/** `npm run db:migrate`: apply pending migrations to the configured database and exit. */
import { runCli } from '../cli.ts';
import { printLine } from '../logger.ts';
import { migrateToLatest } from './migrate.ts';

await runCli(
  async ({ database }) => {
    const applied = await migrateToLatest(database.db);
    printLine(applied.length === 0 ? 'Database is up to date.' : `Applied: ${applied.join(', ')}`);
  },
  { migrate: false },
);
