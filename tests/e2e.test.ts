/**
 * The whole path through the real pages, in one place (issue 7): a requester submits on the
 * requester page; a responder triages and replies in the dashboard; the requester reads the
 * reply; the admin removes the responder and rotates the team in the dashboard (confirming
 * the new key). Run in English, in Russian (browser locale ru-RU: Russian passphrase and UI
 * for the requester, Russian dashboard), and with WebAssembly and the JIT off on the
 * requester side (V8 --jitless, as Tor Browser's Safer level).
 *
 * One live server and one admin for all three; each run uses its own demo team, so each
 * rotation starts from the seeded epoch 1.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { approveAccount, insertAccountDirectly } from './helpers/approve.ts';
import { launchBrowser } from './helpers/browser.ts';
import { describeWithBrowser } from './helpers/browser-suite.ts';
import { createRootAdmin, dashboardLogin, openAdminScreen, readOnRequesterPage, submitOnRequesterPage } from './helpers/dashboard.ts';
import { startLiveServer, type LiveServer } from './helpers/live-server.ts';
import { makeCredentials } from './helpers/responder-client.ts';

const p = await loadSodiumPrimitives();
const ADMIN_PASSPHRASE = 'admin passphrase for the browser tests';

const RUNS = [
  { name: 'in English', locale: 'en-GB', disableWasm: false, slug: 'legal', team: 'Legal help' },
  { name: 'in Russian', locale: 'ru-RU', disableWasm: false, slug: 'medical', team: 'Medical help', requesterTeam: 'Медицинская помощь' },
  { name: 'with WebAssembly disabled for the requester', locale: 'en-GB', disableWasm: true, slug: 'evacuation', team: 'Evacuation' },
] as const;

const WORDS = {
  'en-GB': { list: 'Requests', admin: 'Admin', remove: 'Remove', rotated: 'now uses epoch 2', requesterTitle: 'Ask for help safely' },
  'ru-RU': { list: 'Обращения', admin: 'Администрирование', remove: 'Удалить', rotated: 'теперь использует эпоху 2', requesterTitle: 'Безопасно попросить о помощи' },
} as const;

describeWithBrowser('end to end through the real pages', () => {
  let live: LiveServer;
  let browser: Browser;
  let jitless: Browser;

  beforeAll(async () => {
    live = await startLiveServer();
    [browser, jitless] = await Promise.all([launchBrowser(), launchBrowser({ disableWasm: true })]);
    await createRootAdmin(live.server.database.db, p, live.demo, 'admin.e2e');
  });

  afterAll(async () => {
    await Promise.all([browser?.close(), jitless?.close()]);
    await live?.stop();
  });

  for (const run of RUNS) {
    it(`[server-blind, revocation is cryptographic] submit, triage and reply, read the reply, remove and rotate ${run.name}`, async () => {
      const { db } = live.server.database;
      const words = WORDS[run.locale];
      const team = live.demo.teams.find((x) => x.slug === run.slug)!;
      const canary = `CANARY-e2e-${run.slug}-${run.locale}`;
      const reply = `REPLY-e2e-${run.slug}: we will call`;

      // A responder of this team (approval itself is covered by tests/admin-browser.test.ts).
      const creds = await makeCredentials(p, `resp.${run.slug}`);
      const responderId = await insertAccountDirectly(db, p, creds, 'responder');
      await approveAccount(db, p, live.demo, responderId, [team.id]);

      // 1. The requester submits on the real page.
      const requesterContext = await (run.disableWasm ? jitless : browser).newContext({ locale: run.locale });
      const requester = await requesterContext.newPage();
      const requesterErrors: string[] = [];
      requester.on('pageerror', (e) => requesterErrors.push(e.message));
      await requester.goto(live.server.requesterUrl);
      if (run.disableWasm) expect(await requester.evaluate(() => typeof WebAssembly)).toBe('undefined');
      expect(await requester.locator('h1').first().textContent()).toBe(words.requesterTitle);
      const passphrase = await submitOnRequesterPage(requester, live.server.requesterUrl, `Please help ${canary}`, ('requesterTeam' in run ? run.requesterTeam : run.team));
      if (run.locale === 'ru-RU') expect(passphrase).toMatch(/^[а-яё]+( [а-яё]+)+$/);
      else expect(passphrase).toMatch(/^[a-z]+( [a-z]+){7}$/);

      // 2. The responder triages and replies in the dashboard.
      const responderContext = await browser.newContext({ locale: run.locale });
      const responder = await responderContext.newPage();
      await dashboardLogin(responder, live.server.triageUrl, creds.username, creds.passphrase);
      expect(await responder.locator('#list-title').textContent()).toBe(words.list);
      expect(await responder.locator('#admin-nav').isHidden()).toBe(true);
      const row = responder.locator('#rows button.row', { hasText: canary });
      await row.waitFor({ timeout: 30_000 });
      await row.click();
      await responder.locator('#detail').waitFor({ state: 'visible' });
      await responder.locator('#set-status').selectOption('in_progress');
      await responder.locator('#reply-input').fill(reply);
      await responder.locator('#reply-send').click();
      await responder.locator('#adm-dialog-ok').click();
      await expect.poll(() => responder.locator('#thread li').count(), { timeout: 30_000 }).toBe(2);

      // 3. The requester comes back and reads the reply.
      const thread = await readOnRequesterPage(requester, live.server.requesterUrl, passphrase, 2);
      expect(thread).toContain(reply);
      expect(requesterErrors).toEqual([]);

      // 4. The admin removes the responder and rotates the team, confirming the new key.
      const adminContext = await browser.newContext({ locale: run.locale });
      const admin = await adminContext.newPage();
      await dashboardLogin(admin, live.server.triageUrl, 'admin.e2e', ADMIN_PASSPHRASE);
      expect(await admin.locator('#admin-nav').textContent()).toBe(words.admin);
      await openAdminScreen(admin);
      await admin.locator('#adm-accounts li.card', { hasText: creds.username }).getByRole('button', { name: `${words.remove}: ${creds.username}` }).click();
      await admin.locator('#adm-dialog-ok').click();
      await expect.poll(() => admin.locator('#adm-dialog-title').textContent(), { timeout: 30_000 }).toContain('2');
      expect(await admin.locator('#adm-dialog-title').textContent()).toContain(run.team);
      await admin.locator('#adm-dialog-check').check();
      await admin.locator('#adm-dialog-ok').click();
      await expect.poll(() => admin.locator('#adm-status').textContent(), { timeout: 30_000 }).toContain(words.rotated);
      const epochs = await db.selectFrom('team_epochs').select(['epoch', 'state']).where('team_id', '=', team.id).orderBy('epoch').execute();
      expect(epochs).toEqual([{ epoch: 1, state: 'retiring' }, { epoch: 2, state: 'current' }]);
      expect((await db.selectFrom('accounts').select('status').where('id', '=', responderId).executeTakeFirstOrThrow()).status).toBe('removed');
      expect(await db.selectFrom('grants').select('epoch').where('account_id', '=', responderId).execute()).toEqual([]);

      // The removed responder's open page is refused at its next call and wiped.
      await responder.keyboard.press('Escape');
      await responder.locator('#list-title').focus();
      await responder.keyboard.press('u');
      await responder.locator('#login').waitFor({ state: 'visible' });
      expect(await responder.locator('main').textContent()).not.toContain(canary);

      // Server-blind: nothing of the request or the reply in the database.
      const dump = (await db.selectFrom('messages').select('blob').execute()).map((m) => Buffer.from(m.blob).toString('latin1')).join('');
      expect(dump).not.toContain(canary);
      expect(dump).not.toContain(reply);
      await Promise.all([requesterContext.close(), responderContext.close(), adminContext.close()]);
    }, 150_000);
  }
});
