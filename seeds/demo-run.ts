/**
 * `npm run demo`: a throwaway demo organisation in one command, for trying Haven.
 *
 * A fresh temporary data directory (embedded PGlite, whatever DATABASE_URL says, so a demo can
 * never touch a real database), the demo organisation seeded into it (seeds/demo.ts: a root
 * key, three teams, a demo admin with a generated passphrase), the root public key written
 * where the server reads it, then Haven started on it. Everything is deleted when it stops.
 * The demo's root seed sits in this process and its data directory: never use it for real
 * requests (it refuses to run with HAVEN_MODE=production).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../api/config.ts';
import { openDatabase } from '../api/db/connect.ts';
import { migrateToLatest } from '../api/db/migrate.ts';
import { writeRootPublicKeyFile } from '../api/deployment-keys.ts';
import { DIST_DIR } from '../api/dist-location.ts';
import { createLogger, printError, printLine } from '../api/logger.ts';
import { startServer } from '../api/server.ts';
import { manifestsOfBuild } from '../api/web/static-site.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { rootFingerprint } from '../crypto/v1/certs.ts';
import { generatePassphrase } from '../crypto/v1/requester.ts';
import { WORDS } from '../crypto/wordlists/en.ts';
import { createDemoAdmin, makeDemoAccountKeys, seedDemo } from './demo.ts';

const DEMO_ADMIN = 'demo.admin';

async function main(): Promise<number> {
  if ((process.env.HAVEN_MODE ?? '').trim() === 'production') {
    printError('haven: refusing to run the demo with HAVEN_MODE=production: the demo keeps its root key in the clear');
    return 2;
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-demo-'));
  const remove = () => fs.rmSync(dataDir, { recursive: true, force: true });
  // Whatever way this process ends, the demo's keys and requests go with it.
  process.on('exit', remove);
  let config;
  try {
    // Only this demo's own directory: no real database, root key or key file is ever read or written.
    config = loadConfig({ ...process.env, HAVEN_DATA_DIR: dataDir, DATABASE_URL: '', HAVEN_ROOT_PUBLIC_KEY: '', HAVEN_ROOT_PUBLIC_KEY_FILE: '', HAVEN_MODE: 'development' });
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) printError(`haven: ${problem}`);
      return 2;
    }
    throw err;
  }
  const p = await loadSodiumPrimitives();
  const database = await openDatabase({ databaseUrl: null, dataDir });
  const adminPassphrase = generatePassphrase(p, WORDS, 70);
  let fingerprint: string;
  try {
    await migrateToLatest(database.db);
    const seeded = await seedDemo(database.db, config, p, { siteManifests: manifestsOfBuild(DIST_DIR) });
    if (!seeded.created) throw new Error('the fresh demo directory already holds an organisation');
    await createDemoAdmin(database.db, p, seeded.demo, await makeDemoAccountKeys(p, DEMO_ADMIN, adminPassphrase));
    writeRootPublicKeyFile(config, seeded.demo.root.publicKey);
    fingerprint = rootFingerprint(p, seeded.demo.root.publicKey);
    seeded.demo.root.seed.fill(0);
  } finally {
    await database.close();
  }
  // The request log stays quiet unless asked for (HAVEN_LOG_LEVEL): the banner is what matters.
  const level = process.env.HAVEN_LOG_LEVEL ? config.logLevel : 'warn';
  const running = await startServer(config, createLogger(level));
  const rule = '='.repeat(78);
  printLine(rule);
  printLine('HAVEN DEMO: a throwaway organisation for trying Haven. NEVER use it for real requests:');
  printLine('its keys are demo keys, and everything is deleted when you stop it (Ctrl+C).');
  printLine(rule);
  printLine(`  Requester site:   ${running.requesterUrl}`);
  printLine(`  Triage dashboard: ${running.triageUrl}`);
  printLine(`  Dashboard sign-in: ${DEMO_ADMIN} / ${adminPassphrase}`);
  printLine(`  Root key fingerprint: ${fingerprint}`);
  printLine(`  Demo data (deleted on exit): ${dataDir}`);
  printLine('For a real hotline: `npm start` and open the setup link it prints.');

  await new Promise<void>((resolve) => {
    const onSignal = () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      printLine('The demo is stopping; its data is deleted.');
      running.stop().then(resolve, resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  remove();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    printError(`haven: the demo could not start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
