/**
 * The Admin section of the triage dashboard in headless Chromium against a live server:
 * an admin invites, compares the fingerprint and approves a responder who enrolled through
 * the link; the responder reads a request from the real requester page; the admin removes
 * the responder and rotates the team, confirming the new key [revocation is cryptographic];
 * re-wraps the old records with a progress bar and retires the old epoch [forward secrecy at
 * rest]; and verifies the audit log in the browser, which then points at a tampered entry.
 */
import { sql } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { accountFingerprint } from '../crypto/v1/certs.ts';
import { approveAccount, insertAccountDirectly } from './helpers/approve.ts';
import { describeWithBrowser, useLiveBrowser } from './helpers/browser-suite.ts';
import { makeCredentials } from './helpers/responder-client.ts';
import { insertSignedInvitation } from './helpers/invite.ts';
import {
  countOpenings, createRootAdmin, dashboardLogin, enrolFromLink, keysHeldBy, openAdminScreen, submitOnRequesterPage,
} from './helpers/dashboard.ts';
import type { LiveServer } from './helpers/live-server.ts';

const p = await loadSodiumPrimitives();
const BEFORE = 'CANARY-admin-before-7a1c';
const AFTER = 'CANARY-admin-after-0d3e';
const RESPONDER = 'new.responder';
const RESPONDER_PASSPHRASE = 'harbour violet pencil meadow 31';
const ADMIN_PASSPHRASE = 'admin passphrase for the browser tests';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function status(page: Page): Promise<string> {
  return (await page.locator('#adm-status').textContent()) ?? '';
}

describeWithBrowser('admin dashboard', () => {
  let live: LiveServer;
  let browser: Browser;

  useLiveBrowser((s) => ({ live, browser } = s));

  it('[revocation is cryptographic, forward secrecy at rest] invites, approves after the fingerprint check, removes and rotates, re-wraps, retires, and verifies the audit log', async () => {
    const { db } = live.server.database;
    const legal = live.demo.teams.find((x) => x.slug === 'legal')!;
    await createRootAdmin(db, p, live.demo, 'admin.one', [legal.id]);

    // 1. The admin signs in; the Admin section is there and the root seed opens.
    const adminContext = await browser.newContext({ locale: 'en-GB' });
    await adminContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(live.server.triageUrl).origin });
    const admin = await adminContext.newPage();
    const errors: string[] = [];
    admin.on('pageerror', (e) => errors.push(e.message));
    await dashboardLogin(admin, live.server.triageUrl, 'admin.one', ADMIN_PASSPHRASE);
    expect(await admin.locator('#admin-nav').isVisible()).toBe(true);
    await openAdminScreen(admin);
    expect(await admin.locator('#adm-root-status').textContent()).toContain('open on this device');

    // 2. An invitation for Legal help: the link is shown once, with a copy button.
    await admin.locator('#adm-inv-teams-list').getByLabel('Legal help').check();
    await admin.locator('#adm-inv-create').click();
    await admin.locator('#adm-inv-result').waitFor({ state: 'visible' });
    const link = await admin.locator('#adm-inv-link').inputValue();
    expect(link).toMatch(new RegExp(`^${new URL(live.server.triageUrl).origin}/#invite=[A-Za-z0-9_-]{16,64}$`));
    await admin.locator('#adm-inv-copy').click();
    expect(await admin.evaluate(() => navigator.clipboard.readText())).toBe(link);

    // 3. The responder enrols through the link in another browser context.
    const responderContext = await browser.newContext({ locale: 'en-GB' });
    const responder = await responderContext.newPage();
    const shown = await enrolFromLink(responder, link, RESPONDER, RESPONDER_PASSPHRASE);

    // 4. The admin sees the same fingerprint; Approve stays disabled until the comparison is ticked.
    await admin.locator('#adm-reload').click();
    const card = admin.locator('#adm-pending li.card', { hasText: RESPONDER });
    await card.waitFor();
    expect(await card.locator('code.fingerprint').textContent()).toBe(shown);
    const row = await db.selectFrom('accounts').selectAll().where('username', '=', RESPONDER).executeTakeFirstOrThrow();
    expect(shown).toBe(accountFingerprint(p, row.enc_public_key, row.sign_public_key));
    const approve = card.getByRole('button', { name: `Approve ${RESPONDER}` });
    expect(await approve.isDisabled()).toBe(true);
    await card.getByLabel('I compared this fingerprint with the person').check();
    expect(await approve.isEnabled()).toBe(true);
    await approve.click();
    await expect.poll(() => status(admin), { timeout: 30_000 }).toContain(`${RESPONDER} is approved`);
    const approved = await db.selectFrom('accounts').select(['status', 'certificate']).where('id', '=', row.id).executeTakeFirstOrThrow();
    expect(approved.status).toBe('active');
    expect(await db.selectFrom('grants').select('epoch').where('account_id', '=', row.id).execute()).toEqual([{ epoch: 1 }]);

    // 5. A request through the real requester page; the responder reads it.
    const requesterContext = await browser.newContext({ locale: 'en-GB' });
    const requester = await requesterContext.newPage();
    await submitOnRequesterPage(requester, live.server.requesterUrl, `Before removal ${BEFORE}`, 'Legal help');
    await responder.locator('#to-login').click();
    await dashboardLogin(responder, live.server.triageUrl, RESPONDER, RESPONDER_PASSPHRASE);
    await expect.poll(() => responder.locator('#rows').textContent(), { timeout: 30_000 }).toContain(BEFORE);
    // The test keeps every key the responder holds, as a responder turning bad would.
    const held = await keysHeldBy(db, p, live.demo, RESPONDER, RESPONDER_PASSPHRASE);
    expect(held.epochSecrets.map((e) => e.epoch)).toEqual([1]);
    const first = await db.selectFrom('requests').innerJoin('messages', 'messages.id', 'requests.id').select(['requests.id', 'requests.team_id', 'requests.epoch', 'messages.blob']).executeTakeFirstOrThrow();
    expect(countOpenings(p, live.demo, held, first, first.blob)).toBeGreaterThan(0); // control

    // 6. The admin removes the responder (confirm dialog), then rotates Legal help, confirming the new key.
    await admin.locator('#adm-reload').click();
    const account = admin.locator('#adm-accounts li.card', { hasText: RESPONDER });
    await account.getByRole('button', { name: `Remove: ${RESPONDER}` }).click();
    const dialog = admin.locator('#adm-dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.locator('#adm-dialog-title').textContent()).toBe(`Remove ${RESPONDER}?`);
    await admin.locator('#adm-dialog-ok').click();
    // The rotation dialog follows: the new key's fingerprint and each member it is granted to.
    await expect.poll(() => admin.locator('#adm-dialog-title').textContent(), { timeout: 30_000 }).toBe('New key for Legal help (epoch 2)');
    const newKeyFp = (await dialog.locator('code.fingerprint').first().textContent())!;
    expect(await dialog.textContent()).toContain('admin.one');
    expect(await dialog.textContent()).not.toContain(RESPONDER);
    expect(await admin.locator('#adm-dialog-ok').isDisabled()).toBe(true);
    await dialog.getByLabel('I checked the new key and each member').check();
    await admin.locator('#adm-dialog-ok').click();
    await expect.poll(() => status(admin), { timeout: 30_000 }).toContain('Legal help now uses epoch 2');
    const epochs = await db.selectFrom('team_epochs').selectAll().where('team_id', '=', legal.id).orderBy('epoch').execute();
    expect(epochs.map((e) => [e.epoch, e.state])).toEqual([[1, 'retiring'], [2, 'current']]);
    expect(hex(epochs[1]!.public_key)).toBe(newKeyFp.replace(/ /g, ''));
    expect(await db.selectFrom('grants').select('account_id').where('account_id', '=', row.id).execute()).toEqual([]);
    expect((await db.selectFrom('accounts').select('status').where('id', '=', row.id).executeTakeFirstOrThrow()).status).toBe('removed');

    // 7. A request submitted afterwards cannot be opened with anything the removed responder held.
    await submitOnRequesterPage(requester, live.server.requesterUrl, `After removal ${AFTER}`, 'Legal help');
    const after = await sql<{ id: Uint8Array; team_id: Uint8Array; epoch: number; blob: Uint8Array }>`
      select r.id, r.team_id, r.epoch, m.blob from requests r join messages m on m.id = r.id where r.epoch = 2`.execute(db);
    expect(after.rows).toHaveLength(1);
    expect(countOpenings(p, live.demo, held, after.rows[0]!, after.rows[0]!.blob)).toBe(0);
    // And the responder's page was signed out: its session is gone.
    expect(await db.selectFrom('sessions').select('account_id').where('account_id', '=', row.id).execute()).toEqual([]);

    // 8. Re-wrap the old records in the browser, with the progress bar reaching 100%; then retire epoch 1.
    const team = admin.locator('#adm-teams li.card', { hasText: 'Legal help (legal)' });
    // Retiring is not offered until the re-wrap is complete: the card says what is left instead.
    expect(await team.getByRole('button', { name: 'Retire epoch 1' }).count()).toBe(0);
    expect(await team.locator('ul.epochs').textContent()).toMatch(/can be retired once its [1-9]\d* records are re-wrapped/);
    await team.locator('button.rewrap').click();
    await expect.poll(() => status(admin), { timeout: 60_000 }).toContain('All old records of Legal help');
    const bar = admin.locator('#adm-teams li.card', { hasText: 'Legal help (legal)' }).locator('progress');
    expect(await bar.evaluate((b: HTMLProgressElement) => [b.value, b.max])).toEqual([100, 100]);
    expect(await bar.getAttribute('aria-valuetext')).toBe('100%');
    const stale = await sql<{ n: number }>`select count(*)::int as n from messages m join requests r on r.id = m.request_id where r.team_id = ${legal.id} and m.epoch <> 2`.execute(db);
    expect(stale.rows[0]!.n).toBe(0);
    await admin.locator('#adm-teams li.card', { hasText: 'Legal help (legal)' }).getByRole('button', { name: 'Retire epoch 1' }).click();
    await admin.locator('#adm-dialog-ok').click();
    await expect.poll(() => status(admin), { timeout: 30_000 }).toContain('Epoch 1 of Legal help is retired');
    expect(await db.selectFrom('grants').select('epoch').where('team_id', '=', legal.id).where('epoch', '=', 1).execute()).toEqual([]);
    expect((await db.selectFrom('team_epochs').select('state').where('team_id', '=', legal.id).where('epoch', '=', 1).executeTakeFirstOrThrow()).state).toBe('retired');

    // The admin still reads both requests with the new key (re-wrapped, then re-opened by the page).
    await admin.locator('#admin-nav').click();
    await expect.poll(() => admin.locator('#rows').textContent(), { timeout: 30_000 }).toContain(AFTER);
    expect(await admin.locator('#rows').textContent()).toContain(BEFORE);

    // 9. The audit log verifies in the browser ...
    await admin.locator('#admin-nav').click();
    await admin.locator('#adm-audit-verify').click();
    await expect.poll(() => admin.locator('#adm-audit-result').textContent(), { timeout: 30_000 }).toMatch(/^Verified: 6 entries/);
    const actions = (await admin.locator('#adm-audit li').allTextContents()).join('\n');
    for (const a of ['invitation created', 'account approved', 'account removed', 'team key rotated', 'records re-wrapped', 'old key retired']) expect(actions).toContain(a);

    // ... and after one row is altered in the database, it points at that entry.
    const rotation = await sql<{ seq: number }>`select seq from audit_log where convert_from(entry, 'UTF8') like '%team.rotate%'`.execute(db);
    const seq = rotation.rows[0]!.seq;
    await sql`update audit_log set entry = convert_to(replace(convert_from(entry, 'UTF8'), '"epoch":2', '"epoch":3'), 'UTF8') where seq = ${seq}`.execute(db);
    await admin.locator('#adm-audit-verify').click();
    await expect.poll(() => admin.locator('#adm-audit-result').textContent(), { timeout: 30_000 }).toBe(`Broken at entry ${seq}: its content was changed after it was written.`);
    expect(await admin.locator('#adm-audit li.broken').getAttribute('data-seq')).toBe(String(seq));
    expect(await admin.locator('#adm-audit li.broken').count()).toBe(1);

    // Signing out wipes the Admin screen with everything else.
    await admin.locator('#logout').click();
    await admin.locator('#login').waitFor({ state: 'visible' });
    expect(await admin.locator('#admin-nav').isHidden()).toBe(true);
    expect(await admin.locator('#adm-audit li').count()).toBe(0);
    expect(await admin.locator('#adm-inv-link').inputValue()).toBe('');
    expect(errors).toEqual([]);
    await Promise.all([adminContext.close(), responderContext.close(), requesterContext.close()]);
  }, 240_000);

  it('creates a team, sets retention, removes a member (rotation offered), and makes a second admin', async () => {
    const { db } = live.server.database;
    const evacuation = live.demo.teams.find((x) => x.slug === 'evacuation')!;
    const three = await createRootAdmin(db, p, live.demo, 'admin.three', [evacuation.id]);
    const creds = await makeCredentials(p, 'helper.two');
    // Invited as an admin by admin.three's signed statement and approved as one (without the
    // root seed yet): only such an account can be given the root seed.
    const helperId = await insertAccountDirectly(db, p, creds, 'admin');
    await insertSignedInvitation(db, p, { id: three.id, ed25519Seed: three.creds.ed25519Seed, orgId: live.demo.organisationId }, { accountId: helperId, role: 'admin', teamIds: [evacuation.id] });
    await approveAccount(db, p, live.demo, helperId, [evacuation.id]);
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await dashboardLogin(page, live.server.triageUrl, 'admin.three', ADMIN_PASSPHRASE);
    await openAdminScreen(page);

    // Retention.
    await page.locator('#adm-retention').fill('30');
    await page.locator('#adm-retention-save').click();
    await expect.poll(() => status(page), { timeout: 30_000 }).toContain('after 30 days');
    expect(await page.locator('#adm-retention-now').textContent()).toContain('30 days');

    // A new team, its first key confirmed, granted to the admin and the chosen member.
    await page.locator('#adm-team-slug').fill('housing');
    await page.locator('#adm-team-name').fill('Housing <b>help</b>');
    await page.locator('#adm-team-members').getByLabel('helper.two').check();
    await page.locator('#adm-team-create').click();
    await expect.poll(() => page.locator('#adm-dialog-title').textContent()).toBe('First key of Housing <b>help</b>');
    await page.locator('#adm-dialog-check').check();
    await page.locator('#adm-dialog-ok').click();
    await expect.poll(() => status(page), { timeout: 30_000 }).toContain('Team Housing <b>help</b> created');
    const housing = await db.selectFrom('teams').selectAll().where('slug', '=', 'housing').executeTakeFirstOrThrow();
    expect(housing.name).toBe('Housing <b>help</b>');
    expect(await db.selectFrom('grants').select('account_id').where('team_id', '=', housing.id).execute()).toHaveLength(2);
    expect(await page.locator('#adm-teams b').count()).toBe(0); // names stay text

    // Removing a member offers the rotation; cancelling leaves it listed as due.
    const card = page.locator('#adm-teams li.card', { hasText: '(housing)' });
    await card.getByRole('button', { name: 'Remove from team: helper.two' }).click();
    await page.locator('#adm-dialog-ok').click();
    await expect.poll(() => page.locator('#adm-dialog-title').textContent(), { timeout: 30_000 }).toBe('New key for Housing <b>help</b> (epoch 2)');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('#adm-must-rotate').textContent()).toContain('Rotate Housing <b>help</b>');
    expect(await db.selectFrom('team_epochs').select('epoch').where('team_id', '=', housing.id).execute()).toEqual([{ epoch: 1 }]);

    // A second admin: their fingerprint compared, an admin certificate and a root wrap.
    const account = page.locator('#adm-accounts li.card', { hasText: 'helper.two' });
    await account.getByRole('button', { name: 'Make admin: helper.two' }).click();
    expect(await page.locator('#adm-dialog code.fingerprint').textContent()).toBe(accountFingerprint(p, creds.encPublicKey, creds.signPublicKey));
    await page.locator('#adm-dialog-check').check();
    await page.locator('#adm-dialog-ok').click();
    await expect.poll(() => status(page), { timeout: 30_000 }).toContain('helper.two is now an admin');
    expect((await db.selectFrom('accounts').select('role').where('id', '=', helperId).executeTakeFirstOrThrow()).role).toBe('admin');
    expect(await db.selectFrom('root_wraps').select('account_id').where('account_id', '=', helperId).execute()).toHaveLength(1);

    // The new admin's browser opens the root seed from that wrap.
    const second = await context.newPage();
    await dashboardLogin(second, live.server.triageUrl, 'helper.two', creds.passphrase);
    await openAdminScreen(second);
    expect(await second.locator('#adm-root-status').textContent()).toContain('open on this device');
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('does not show the Admin section to a responder, and refuses admin routes to them', async () => {
    const { db } = live.server.database;
    const context = await browser.newContext({ locale: 'ru-RU' });
    const page = await context.newPage();
    const medical = live.demo.teams.find((x) => x.slug === 'medical')!;
    const { creds } = await createRootAdmin(db, p, live.demo, 'admin.two', [medical.id]);
    await db.updateTable('accounts').set({ role: 'responder' }).where('username', '=', 'admin.two').execute();
    await dashboardLogin(page, live.server.triageUrl, 'admin.two', creds.passphrase);
    expect(await page.locator('#admin-nav').isHidden()).toBe(true);
    const res = await page.evaluate(async () => (await fetch('/api/v1/admin/accounts')).status);
    expect(res).toBe(403);
    await context.close();
  }, 120_000);
});
