/**
 * `npm run setup`: creates the organisation, its root key and the first admin.
 *
 *   npm run setup -- --name "Hotline" --username admin.one [--teams legal,medical:Medical help]
 *
 * Or HAVEN_SETUP_ORG_NAME, HAVEN_SETUP_USERNAME, HAVEN_SETUP_PASSPHRASE. The passphrase is
 * asked for on a terminal (never echoed) when not in the environment; it is never printed or
 * logged, and there is deliberately no command-line flag for it (flags land in shell history
 * and process lists). Refuses over any existing organisation and then writes nothing.
 */
import { runCli } from '../cli.ts';
import { DIST_DIR } from '../dist-location.ts';
import { manifestsOfBuild } from '../web/static-site.ts';
import { writeRootPublicKeyFile } from '../deployment-keys.ts';
import { printLine } from '../logger.ts';
import { refuseIfSetUp, setupOrganisation, SetupRefusedError } from './setup.service.ts';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

/** Reads a line from the terminal without echoing it. */
async function askHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new SetupRefusedError('no passphrase: set HAVEN_SETUP_PASSPHRASE or run on a terminal');
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(text);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(new SetupRefusedError('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else text += ch;
      }
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}

async function askLine(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new SetupRefusedError(`missing: ${question.replace(/: $/, '')}`);
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

await runCli(async ({ config, database, crypto: p }) => {
  const args = process.argv.slice(2);
  // Refuse before asking for anything.
  await refuseIfSetUp(database.db);
  const name = flag(args, 'name') ?? process.env.HAVEN_SETUP_ORG_NAME ?? (await askLine('Organisation name: '));
  const username = flag(args, 'username') ?? process.env.HAVEN_SETUP_USERNAME ?? (await askLine('First admin user name: '));
  let passphrase = process.env.HAVEN_SETUP_PASSPHRASE;
  if (!passphrase) {
    passphrase = await askHidden('Admin passphrase (at least 12 characters, not shown): ');
    const again = await askHidden('Again: ');
    if (again !== passphrase) throw new SetupRefusedError('the two passphrases differ');
  }
  const teamsText = flag(args, 'teams');
  const teams = teamsText
    ? teamsText.split(',').filter((t) => t.trim() !== '').map((t) => {
        const [slug, ...rest] = t.split(':');
        return { slug: slug!.trim(), name: rest.join(':').trim() || slug!.trim() };
      })
    : [];
  // The served build's site manifests are signed with the new root before setup forgets it.
  const result = await setupOrganisation(database.db, p, { name, username, passphrase, teams, siteManifests: manifestsOfBuild(DIST_DIR) });
  printLine(`Created the organisation and its first admin "${username.trim().toLowerCase()}".`);
  if (teams.length > 0) printLine(`  Teams: ${teams.map((t) => t.slug).join(', ')}`);
  printLine(`  Root key fingerprint: ${result.rootFingerprint}`);
  try {
    printLine(`  Root public key written to ${writeRootPublicKeyFile(config, result.rootPublicKey)}`);
  } catch {
    printLine('  Could not write the root public key file; set this instead:');
  }
  if (config.rootPublicKey) printLine('  HAVEN_ROOT_PUBLIC_KEY is set and takes precedence: set it to the key below.');
  printLine(`  HAVEN_ROOT_PUBLIC_KEY=${Buffer.from(result.rootPublicKey).toString('hex')}`);
  printLine(`  Root public key (base64url, for npm run verify-site): ${Buffer.from(result.rootPublicKey).toString('base64url')}`);
  printLine('  The site manifests of this build are signed with it (docs/DEPLOY.md, section 5a).');
  printLine('  Restart the server so it reads the key; publish the fingerprint where responders can compare it.');
});
