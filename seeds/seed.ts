/**
 * `npm run seed`: a demo organisation for local use only.
 *
 * Refuses in production mode and over a database that holds a real organisation, so a
 * demo key can never end up next to real requests. Writes the demo root public key where
 * the server reads it, and the demo's secrets to `demo-secrets.json` in the data directory
 * so a local responder can be set up from them; a real deployment holds secrets only
 * wrapped under account keys (`npm run setup`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../api/config.ts';
import { openDatabase } from '../api/db/connect.ts';
import { migrateToLatest } from '../api/db/migrate.ts';
import { writeRootPublicKeyFile } from '../api/deployment-keys.ts';
import { printError, printLine } from '../api/logger.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { rootFingerprint } from '../crypto/v1/certs.ts';
import { seedDemo, SeedRefusedError } from './demo.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

try {
  const config = loadConfig();
  if (config.mode === 'production') throw new SeedRefusedError('refusing to seed demo data in production mode (HAVEN_MODE=production)');
  const p = await loadSodiumPrimitives();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(database.db);
    const result = await seedDemo(database.db, config, p);
    if (!result.created) {
      printLine('The demo organisation already exists; nothing to do.');
    } else {
      const { demo } = result;
      const keyFile = writeRootPublicKeyFile(config, demo.root.publicKey);
      const secretsFile = path.join(config.dataDir, 'demo-secrets.json');
      const secrets = {
        warning: 'DEMO ONLY. Never use these keys for real requests.',
        organisationId: hex(demo.organisationId),
        rootSeed: hex(demo.root.seed),
        teams: demo.teams.map((t) => ({ slug: t.slug, id: hex(t.id), epoch: t.epoch, secretKey: hex(t.secretKey) })),
      };
      fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      fs.writeFileSync(secretsFile, JSON.stringify(secrets, null, 2), { mode: 0o600 });
      printLine('Created the demo organisation "Haven demo hotline" (local use only).');
      printLine(`  Teams: ${demo.teams.map((t) => t.slug).join(', ')}`);
      printLine(`  Root key fingerprint: ${rootFingerprint(p, demo.root.publicKey)}`);
      printLine(`  Root public key written to ${keyFile}`);
      printLine(`  Demo secrets written to ${secretsFile}`);
    }
  } finally {
    await database.close();
  }
} catch (err) {
  if (err instanceof ConfigError) err.problems.forEach((p) => printError(`haven: ${p}`));
  else printError(`haven: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
