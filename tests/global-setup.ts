/**
 * Finds what the suites need outside Node: the PostgreSQL they run against (TEST_DATABASE_URL,
 * else DATABASE_URL, else the local server on 127.0.0.1:5432) and the Chromium the browser
 * suites drive (HAVEN_CHROMIUM, else /usr/bin/chromium). Without them a developer's run
 * says so in one line each and runs the rest; under CI=true either one missing fails the
 * whole run loudly: half the suite silently skipped would be a green lie.
 */
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { CHROMIUM_MISSING_LINE, CHROMIUM_PATH, chromiumAvailable } from './helpers/browser.ts';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string | null;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  if (!chromiumAvailable()) {
    if (process.env.CI === 'true') {
      throw new Error(`CI=true but Chromium is not at ${CHROMIUM_PATH}; install it (apt-get install chromium, as .ci/run does) or set HAVEN_CHROMIUM, instead of skipping the browser suites`);
    }
    process.stderr.write(`\n${CHROMIUM_MISSING_LINE}\n\n`);
  }
  const url = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || DEFAULT_URL;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    project.provide('postgresAdminUrl', url);
  } catch (err) {
    if (process.env.CI === 'true') {
      throw new Error(
        `CI=true but PostgreSQL is not reachable at ${new URL(url).host} (${(err as Error).message}); ` +
          'start it (see .ci/run) instead of skipping the PostgreSQL half of the suite',
        { cause: err },
      );
    }
    process.stderr.write(`\n[haven tests] PostgreSQL not reachable at ${new URL(url).host}: running the PGlite half only.\n\n`);
    project.provide('postgresAdminUrl', null);
  } finally {
    await client.end().catch(() => {});
  }
}
