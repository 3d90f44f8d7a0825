/**
 * A real Haven server on free loopback ports over a fresh PGlite data directory, with the
 * demo organisation seeded and its root public key configured, for browser tests.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../api/config.ts';
import { openDatabase } from '../../api/db/connect.ts';
import { migrateToLatest } from '../../api/db/migrate.ts';
import { createLogger } from '../../api/logger.ts';
import { startServer, type RunningServer } from '../../api/server.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { seedDemo, type DemoOrganisation } from '../../seeds/demo.ts';
import { DIST_DIR } from '../../api/dist-location.ts';
import { manifestsOfBuild } from '../../api/web/static-site.ts';
import { signDemoTeamKeysV2 } from './team-key-v2-stopgap.ts';

export interface LiveServer {
  server: RunningServer;
  demo: DemoOrganisation;
  dataDir: string;
  logLines: string[];
  stop(): Promise<void>;
}

/** Starts Haven; `env.DATABASE_URL` selects PostgreSQL (a database the caller made), else PGlite. */
export async function startLiveServer(env: Record<string, string> = {}): Promise<LiveServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-live-'));
  const base = { HAVEN_MODE: 'test', HAVEN_DATA_DIR: dataDir, HAVEN_REQUESTER_PORT: '0', HAVEN_TRIAGE_PORT: '0', HAVEN_POW_DIFFICULTY: '8', ...env };
  const setup = loadConfig(base);
  const p = await loadSodiumPrimitives();
  const database = await openDatabase({ databaseUrl: setup.databaseUrl, dataDir });
  let demo: DemoOrganisation;
  try {
    await migrateToLatest(database.db);
    // As `npm run seed` does: the demo root signs the served build's site manifests.
    const seeded = await seedDemo(database.db, setup, p, { siteManifests: manifestsOfBuild(DIST_DIR) });
    if (!seeded.created) throw new Error('expected a fresh database');
    demo = seeded.demo;
    await signDemoTeamKeysV2(database.db, p, demo); // STOPGAP: see team-key-v2-stopgap.ts
  } finally {
    await database.close();
  }
  const config = loadConfig({ ...base, HAVEN_ROOT_PUBLIC_KEY: Buffer.from(demo.root.publicKey).toString('hex') });
  const logLines: string[] = [];
  const server = await startServer(config, createLogger('debug', (line) => logLines.push(line)));
  return {
    server,
    demo,
    dataDir,
    logLines,
    async stop() {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
