/**
 * Small flows shared by the browser suites that drive the real pages (tests/admin-browser and
 * tests/e2e): a first admin who holds a root wrap (so the dashboard can open the root seed),
 * signing in, submitting and reading back on the requester page, enrolling from an invitation
 * link, and the Node-side copy of the keys a responder holds (to prove what they can NOT
 * decrypt after removal).
 */
import type { Kysely } from 'kysely';
import type { Page } from 'playwright-core';
import type { Primitives } from '../../crypto/primitives.ts';
import { deriveAccountSecrets, unwrapAccountKeys, RESPONDER_DEFAULT_PARAMS } from '../../crypto/v1/account.ts';
import { openGrant } from '../../crypto/v1/certs.ts';
import { verifyHistoricTeamKey } from '../../crypto/team-key-any.ts';
import { MessageKind, RecipientKind } from '../../crypto/v1/message.ts';
import { openMessageAny } from '../../crypto/index.ts';
import type { Database } from '../../api/db/schema.ts';
import { createDemoAdmin, type DemoOrganisation } from '../../seeds/demo.ts';
import { accountKeysOf } from './approve.ts';
import { makeCredentials, type ResponderCredentials } from './responder-client.ts';

/**
 * An active admin of the demo organisation (member of `teamIds`) whose root wrap holds the
 * demo root seed, as `npm run setup` or a second-admin promotion would leave it.
 */
export async function createRootAdmin(
  db: Kysely<Database>,
  p: Primitives,
  demo: DemoOrganisation,
  username: string,
  teamIds: Uint8Array[] = [],
): Promise<{ id: Uint8Array; creds: ResponderCredentials }> {
  const creds = await makeCredentials(p, username, 'admin passphrase for the browser tests');
  const id = await createDemoAdmin(db, p, demo, accountKeysOf(p, creds), teamIds);
  return { id, creds };
}

/** Signs in on the dashboard and waits for the request list. */
export async function dashboardLogin(page: Page, url: string, username: string, passphrase: string): Promise<void> {
  if (page.url() !== url && !page.url().startsWith(url)) await page.goto(url);
  await page.locator('#login').waitFor({ state: 'visible' });
  await page.locator('#login-username').fill(username);
  await page.locator('#login-passphrase').fill(passphrase);
  await page.locator('#login-submit').click();
  await page.locator('#list').waitFor({ state: 'visible', timeout: 60_000 });
}

/** Opens the Admin screen once the root seed is open (its status line says so). */
export async function openAdminScreen(page: Page): Promise<void> {
  await page.locator('#admin-nav').click();
  await page.locator('#admin').waitFor({ state: 'visible' });
  await page.locator('#adm-root-status:not(:empty)').waitFor({ timeout: 30_000 });
}

/** Submits through the real requester page; @returns the passphrase it shows. */
export async function submitOnRequesterPage(page: Page, url: string, text: string, teamName: string): Promise<string> {
  await page.goto(url);
  await page.getByRole('radio', { name: teamName }).check();
  await page.locator('#message').fill(text);
  await page.locator('#send').click();
  await page.locator('#sent').waitFor({ state: 'visible', timeout: 90_000 });
  return (await page.locator('#passphrase-out').textContent())!.trim();
}

/** Comes back on the requester page with the passphrase; @returns the thread's text once it has `count` items. */
export async function readOnRequesterPage(page: Page, url: string, passphrase: string, count: number): Promise<string> {
  await page.goto(url);
  await page.locator('#have-code').click();
  await page.locator('#passphrase-in').fill(passphrase);
  await page.locator('#open').click();
  await page.locator('#thread').waitFor({ state: 'visible', timeout: 90_000 });
  for (let i = 0; i < 600 && (await page.locator('#messages li').count()) < count; i++) await page.waitForTimeout(100);
  return (await page.locator('#messages').textContent()) ?? '';
}

/** Enrols from an invitation link in the dashboard; @returns the fingerprint shown on the waiting screen. */
export async function enrolFromLink(page: Page, link: string, username: string, passphrase: string): Promise<string> {
  await page.goto(link);
  await page.locator('#enrol').waitFor({ state: 'visible' });
  await page.locator('#enrol-username').fill(username);
  await page.locator('#enrol-passphrase').fill(passphrase);
  await page.locator('#enrol-confirm').fill(passphrase);
  await page.locator('#enrol-submit').click();
  await page.locator('#waiting').waitFor({ state: 'visible', timeout: 60_000 });
  return (await page.locator('#fingerprint').textContent())!;
}

/** Everything a responder holds: the account's X25519 secret and every epoch secret granted to it. */
export interface HeldKeys {
  accountSecret: Uint8Array;
  epochSecrets: { teamId: Uint8Array; epoch: number; secret: Uint8Array }[];
}

/**
 * What a responder could keep before removal, computed the way their browser does: the account
 * keys unwrapped with their passphrase, and each of their grants opened (from the database).
 */
export async function keysHeldBy(db: Kysely<Database>, p: Primitives, demo: DemoOrganisation, username: string, passphrase: string): Promise<HeldKeys> {
  const account = await db.selectFrom('accounts').selectAll().where('username', '=', username).executeTakeFirstOrThrow();
  const secrets = await deriveAccountSecrets(p, passphrase, account.salt, RESPONDER_DEFAULT_PARAMS);
  const keys = unwrapAccountKeys(p, secrets.wrapKey, account.key_bundle);
  const grants = await db.selectFrom('grants').selectAll().where('account_id', '=', account.id).execute();
  const epochSecrets = [];
  for (const g of grants) {
    const e = await db.selectFrom('team_epochs').selectAll().where('team_id', '=', g.team_id).where('epoch', '=', g.epoch).executeTakeFirstOrThrow();
    const teamPublic = verifyHistoricTeamKey(p, demo.root.publicKey, e.certificate, { orgId: demo.organisationId, teamId: g.team_id, epoch: g.epoch }).publicKey;
    const opened = openGrant(p, { responderSecret: keys.x25519Secret, bytes: g.sealed, expected: { orgId: demo.organisationId, teamId: g.team_id, epoch: g.epoch, accountId: account.id }, teamPublic });
    epochSecrets.push({ teamId: g.team_id, epoch: g.epoch, secret: opened.epochSecret });
  }
  return { accountSecret: keys.x25519Secret, epochSecrets };
}

/**
 * Tries every held key on a stored request blob, at every epoch the key could claim, and
 * @returns how many opened it (0 = not decryptable with anything the responder held).
 */
export function countOpenings(p: Primitives, demo: DemoOrganisation, held: HeldKeys, row: { id: Uint8Array; team_id: Uint8Array; epoch: number }, blob: Uint8Array): number {
  let opened = 0;
  const candidates = [held.accountSecret, ...held.epochSecrets.map((e) => e.secret)];
  const epochs = new Set([row.epoch, ...held.epochSecrets.map((e) => e.epoch)]);
  for (const secret of candidates) {
    for (const epoch of epochs) {
      try {
        openMessageAny(p, blob, {
          recipientKind: RecipientKind.team,
          secret,
          rootPublic: demo.root.publicKey,
          expected: { orgId: demo.organisationId, teamId: row.team_id, threadId: row.id, messageId: row.id, kind: MessageKind.request, epoch },
        });
        opened++;
      } catch {
        // expected: this key cannot open it
      }
    }
  }
  return opened;
}
