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
import { runCli } from '../api/cli.ts';
import { writeRootPublicKeyFile } from '../api/deployment-keys.ts';
import { printLine } from '../api/logger.ts';
import { rootFingerprint } from '../crypto/v1/certs.ts';
import { generatePassphrase } from '../crypto/v1/requester.ts';
import { WORDS } from '../crypto/wordlists/en.ts';
import { DIST_DIR } from '../api/dist-location.ts';
import { manifestsOfBuild } from '../api/web/static-site.ts';
import { createDemoAdmin, makeDemoAccountKeys, seedDemo, SeedRefusedError } from './demo.ts';

const DEMO_ADMIN = 'demo.admin';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

await runCli(
  async ({ config, database, crypto }) => {
    // Signs the served build's site manifests with the demo root while it exists here.
    const result = await seedDemo(database.db, config, crypto, { siteManifests: manifestsOfBuild(DIST_DIR) });
    if (!result.created) {
      printLine('The demo organisation already exists; nothing to do.');
      return;
    }
    const { demo } = result;
    // A generated passphrase (about 77 bits) so the demo dashboard can be explored at once.
    const adminPassphrase = generatePassphrase(crypto, WORDS, 70);
    await createDemoAdmin(database.db, crypto, demo, await makeDemoAccountKeys(crypto, DEMO_ADMIN, adminPassphrase));
    const keyFile = writeRootPublicKeyFile(config, demo.root.publicKey);
    const secretsFile = path.join(config.dataDir, 'demo-secrets.json');
    const secrets = {
      warning: 'DEMO ONLY. Never use these keys for real requests.',
      organisationId: hex(demo.organisationId),
      rootSeed: hex(demo.root.seed),
      admin: { username: DEMO_ADMIN, passphrase: adminPassphrase },
      teams: demo.teams.map((t) => ({ slug: t.slug, id: hex(t.id), epoch: t.epoch, secretKey: hex(t.secretKey) })),
    };
    fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(secretsFile, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    printLine('Created the demo organisation "Haven demo hotline" (local use only).');
    printLine(`  Teams: ${demo.teams.map((t) => t.slug).join(', ')}`);
    printLine(`  Root key fingerprint: ${rootFingerprint(crypto, demo.root.publicKey)}`);
    printLine(`  Root public key written to ${keyFile}`);
    printLine(`  Demo secrets written to ${secretsFile}`);
    printLine(`  Dashboard sign-in: ${DEMO_ADMIN} / ${adminPassphrase}`);
    printLine('Restart `npm start` so it reads the root key.');
  },
  {
    before: (config) => {
      if (config.mode === 'production') throw new SeedRefusedError('refusing to seed demo data in production mode (HAVEN_MODE=production)');
    },
  },
);
