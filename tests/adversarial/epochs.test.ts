/**
 * "No freshness" (Protocol v2, item 2), the browsers' half, with a hostile proxy between
 * Chromium and a live server (the operator, or whoever seized the server): every statement it
 * replays is genuine and root-signed, only OLD or EXPIRED. Staff browsers remember the highest
 * team key serial they verified (localStorage) and must refuse, by name, anything older:
 *   (a) a rolled-back epoch after a rotation (a removed member still holds the old key);
 *   (b) a re-wrap page naming an older epoch as current: nothing may be uploaded;
 *   (c) an expired statement.
 * The server's half (serial order, expiry, no new v1) is tests/team-key-freshness.test.ts.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, expect, it } from 'vitest';
import { base64urlEncode as b64 } from '../../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { createGrant, createX25519Key, signTeamKey } from '../../crypto/v1/certs.ts';
import { MessageKind, sealMessage } from '../../crypto/v1/message.ts';
import { unixHour } from '../../crypto/v2/constants.ts';
import { parseTeamKeyStatementUnverified, signTeamKeyStatement, TEAM_KEY_DEFAULT_LIFETIME_HOURS } from '../../crypto/v2/team-key.ts';
import { insertRequest } from '../../api/intake/intake.repository.ts';
import { coarseHour } from '../../api/time.ts';
import { approveAccount, insertAccountDirectly } from '../helpers/approve.ts';
import { BROWSER_HOOK_TIMEOUT, describeWithBrowser, useLiveBrowser } from '../helpers/browser-suite.ts';
import { createRootAdmin, dashboardLogin, openAdminScreen } from '../helpers/dashboard.ts';
import { rewriteJson, startHostileProxy, type HostileProxy } from '../helpers/hostile-proxy.ts';
import type { LiveServer } from '../helpers/live-server.ts';
import { makeCredentials } from '../helpers/responder-client.ts';

const p = await loadSodiumPrimitives();
const ADMIN_PASSPHRASE = 'admin passphrase for the browser tests';
const RESPONDER_PASSPHRASE = 'harbour violet pencil meadow 31';

type TeamsAnswer = { teams: { id: string; name: string; currentEpoch: number | null; certificate: string | null; epochs: { epoch: number; state: string; certificate: string }[]; grants: { epoch: number; grant: string }[] }[] };
type RewrapAnswer = { currentEpoch: number; currentCertificate: string; epochs: { epoch: number; state: string; certificate: string }[] };

describeWithBrowser('adversarial: team key freshness in the staff browsers', () => {
  let live: LiveServer;
  let browser: Browser;
  let proxy: HostileProxy;
  let responderContext: BrowserContext;
  let responder: Page;

  useLiveBrowser(async (s) => {
    ({ live, browser } = s);
    proxy = await startHostileProxy(live.server.triageUrl);
    const { db } = live.server.database;
    const [legal, medical] = [live.demo.teams[0]!, live.demo.teams[1]!];
    await createRootAdmin(db, p, live.demo, 'admin.one', [legal.id, medical.id]);
    const creds = await makeCredentials(p, 'legal.one', RESPONDER_PASSPHRASE);
    const id = await insertAccountDirectly(db, p, creds, 'responder');
    await approveAccount(db, p, live.demo, id, [legal.id, medical.id]);
    // A request at epoch 1 of Legal, so there is something to re-wrap after the rotation.
    const rid = p.randomBytes(16);
    const blob = sealMessage(p, {
      kind: MessageKind.request, orgId: live.demo.organisationId, teamId: legal.id, epoch: 1, threadId: rid, messageId: rid,
      teamPublic: legal.publicKey, requesterPublic: p.x25519Keypair().publicKey, body: new TextEncoder().encode('{"topic":"t","message":"m"}'),
    });
    await db.transaction().execute((trx) => insertRequest(trx, { id: rid, teamId: legal.id, epoch: 1, lookupHash: p.randomBytes(32), blob, hour: coarseHour() }));
    responderContext = await browser.newContext({ locale: 'en-GB' });
    responder = await responderContext.newPage();
  });

  afterAll(async () => {
    await proxy?.stop();
  }, BROWSER_HOOK_TIMEOUT);

  /** Rotates a team as an admin's browser would, straight in the database: new key, statement serial 2, grants for every member. */
  async function rotateInDatabase(teamId: Uint8Array): Promise<void> {
    const { db } = live.server.database;
    const key = createX25519Key(p);
    const issuedHour = unixHour(Date.now());
    const statement = signTeamKeyStatement(p, live.demo.root.seed, {
      orgId: live.demo.organisationId, teamId, epoch: 2, serial: 2, issuedHour, expiresHour: issuedHour + TEAM_KEY_DEFAULT_LIFETIME_HOURS, publicKey: key.publicKey,
    });
    const members = await db.selectFrom('team_members').innerJoin('accounts', 'accounts.id', 'team_members.account_id')
      .select(['accounts.id', 'accounts.certificate']).where('team_members.team_id', '=', teamId).execute();
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('team_epochs').set({ state: 'retiring' }).where('team_id', '=', teamId).where('epoch', '=', 1).execute();
      await trx.insertInto('team_epochs').values({ team_id: teamId, epoch: 2, public_key: key.publicKey, certificate: statement, state: 'current', created_hour: coarseHour() }).execute();
      for (const m of members) {
        const sealed = createGrant(p, { rootPublic: live.demo.root.publicKey, responderCert: m.certificate!, orgId: live.demo.organisationId, teamId, epoch: 2, epochSecret: key.secretKey });
        await trx.insertInto('grants').values({ team_id: teamId, epoch: 2, account_id: m.id, sealed }).execute();
      }
    });
  }

  async function signInAgain(page: Page, username: string, passphrase: string): Promise<void> {
    await page.goto(proxy.url);
    await dashboardLogin(page, proxy.url, username, passphrase);
  }

  const remembered = (page: Page, teamId: Uint8Array) =>
    page.evaluate((key) => localStorage.getItem(key), `haven-key-serial:${b64(live.demo.organisationId)}:${b64(teamId)}`);

  it('(a) [rolled-back epoch] after a rotation, a responder dashboard that saw the new key refuses the old one, by name', async () => {
    const legal = live.demo.teams[0]!;
    await signInAgain(responder, 'legal.one', RESPONDER_PASSPHRASE);
    expect(await remembered(responder, legal.id)).toBe('1');
    expect(await responder.locator('#key-refusals').isHidden()).toBe(true);

    await rotateInDatabase(legal.id);
    await signInAgain(responder, 'legal.one', RESPONDER_PASSPHRASE);
    expect(await remembered(responder, legal.id)).toBe('2');
    expect(await responder.locator('#key-refusals').isHidden()).toBe(true);

    // The proxy now serves Legal as it was before the rotation: epoch 1's genuine statement as
    // current, with the old grants (what a server wanting a removed member to read would send).
    proxy.rewriteAnswers((ex) =>
      ex.method === 'GET' && ex.url === '/api/v1/teams'
        ? rewriteJson<TeamsAnswer>(ex, (j) => {
            for (const t of j.teams.filter((x) => x.id === b64(legal.id))) {
              const old = t.epochs.find((e) => e.epoch === 1)!;
              t.currentEpoch = 1;
              t.certificate = old.certificate;
              t.epochs = [{ ...old, state: 'current' }];
              t.grants = t.grants.filter((g) => g.epoch === 1);
            }
            return j;
          })
        : undefined,
    );
    try {
      await signInAgain(responder, 'legal.one', RESPONDER_PASSPHRASE);
      await responder.locator('#key-refusals').waitFor({ state: 'visible' });
      expect(await responder.locator('#key-refusals').textContent()).toBe(
        'The server offered an older key for team Legal help than this browser has seen: refusing. Tell an admin.',
      );
      // The floor stays where it was: a replay does not lower it.
      expect(await remembered(responder, legal.id)).toBe('2');
    } finally {
      proxy.rewriteAnswers(null);
    }
    // Served honestly again, the key is accepted and the warning is gone.
    await signInAgain(responder, 'legal.one', RESPONDER_PASSPHRASE);
    expect(await responder.locator('#key-refusals').isHidden()).toBe(true);
  }, 120_000);

  it('(b) [re-wrap to an old epoch] the admin\'s browser refuses a re-wrap page naming an older epoch as current and uploads nothing', async () => {
    const legal = live.demo.teams[0]!;
    const { db } = live.server.database;
    const context = await browser.newContext({ locale: 'en-GB' });
    const admin = await context.newPage();
    try {
      await signInAgain(admin, 'admin.one', ADMIN_PASSPHRASE);
      await openAdminScreen(admin);
      // Loading the Admin screen verified Legal's current statement (epoch 2, serial 2).
      const card = admin.locator('#adm-teams li.card', { hasText: 'Legal help (legal)' });
      await card.locator('button.rewrap').waitFor();
      expect(await remembered(admin, legal.id)).toBe('2');

      proxy.rewriteAnswers((ex) =>
        ex.method === 'GET' && ex.url.startsWith(`/api/v1/admin/teams/${b64(legal.id)}/rewrap`)
          ? rewriteJson<RewrapAnswer>(ex, (j) => {
              const old = j.epochs.find((e) => e.epoch === 1)!;
              j.currentEpoch = 1;
              j.currentCertificate = old.certificate;
              j.epochs = [{ ...old, state: 'current' }];
              return j;
            })
          : undefined,
      );
      const before = proxy.seen.length;
      await card.locator('button.rewrap').click();
      await expect.poll(() => admin.locator('#adm-status').textContent(), { timeout: 30_000 }).toBe(
        'The server offered an older key for team Legal help than this browser has seen: refusing. Nothing was re-wrapped. Tell an admin.',
      );
      const after = proxy.seen.slice(before);
      expect(after.some((s) => s.method === 'GET' && s.url.includes('/rewrap'))).toBe(true);
      expect(after.filter((s) => s.method === 'POST' && s.url.includes('/rewrap'))).toEqual([]);
      const stale = await db.selectFrom('messages').innerJoin('requests', 'requests.id', 'messages.request_id')
        .select('messages.epoch').where('requests.team_id', '=', legal.id).execute();
      expect(stale.map((m) => m.epoch)).toEqual([1]);
    } finally {
      proxy.rewriteAnswers(null);
      await context.close();
    }
  }, 120_000);

  it('(c) [expired key] a responder dashboard refuses an expired statement, by name', async () => {
    const medical = live.demo.teams[1]!;
    const now = unixHour(Date.now());
    // Genuine, root-signed, the team's own key and a high serial: only its validity has ended.
    const expired = signTeamKeyStatement(p, live.demo.root.seed, {
      orgId: live.demo.organisationId, teamId: medical.id, epoch: 1, serial: 9, issuedHour: now - 200, expiresHour: now - 1, publicKey: medical.publicKey,
    });
    proxy.rewriteAnswers((ex) =>
      ex.method === 'GET' && ex.url === '/api/v1/teams'
        ? rewriteJson<TeamsAnswer>(ex, (j) => {
            for (const t of j.teams.filter((x) => x.id === b64(medical.id))) {
              t.certificate = b64(expired);
              t.epochs = t.epochs.map((e) => (e.epoch === 1 ? { ...e, certificate: b64(expired) } : e));
            }
            return j;
          })
        : undefined,
    );
    try {
      await signInAgain(responder, 'legal.one', RESPONDER_PASSPHRASE);
      await responder.locator('#key-refusals').waitFor({ state: 'visible' });
      expect(await responder.locator('#key-refusals').textContent()).toBe('The key of team Medical help has expired: this browser will not use it. Tell an admin to renew it.');
      // Refused keys are not remembered: the serial of an expired statement does not raise the floor.
      expect(await remembered(responder, medical.id)).toBe('1');
    } finally {
      proxy.rewriteAnswers(null);
    }
  }, 120_000);

  it('(d) an existing deployment: a team still on a v1 certificate shows "keys need renewal", and one click renews it as a v2 statement', async () => {
    const evacuation = live.demo.teams[2]!;
    const { db } = live.server.database;
    const v1 = signTeamKey(p, live.demo.root.seed, { orgId: live.demo.organisationId, teamId: evacuation.id, epoch: 1, publicKey: evacuation.publicKey });
    await db.updateTable('team_epochs').set({ certificate: v1 }).where('team_id', '=', evacuation.id).execute();
    // As after a restart: the pages' floors come from the current keys (a v1 team has none).
    await live.server.renderPages(live.demo.root.publicKey);
    const context = await browser.newContext({ locale: 'en-GB' });
    const admin = await context.newPage();
    try {
      await signInAgain(admin, 'admin.one', ADMIN_PASSPHRASE);
      await openAdminScreen(admin);
      const card = admin.locator('#adm-teams li.card', { hasText: 'Evacuation (evacuation)' });
      await card.getByText('keys need renewal').waitFor();
      expect(await card.textContent()).toContain('Key in the old format, without an expiry.');
      await card.getByRole('button', { name: 'Renew key' }).click();
      await expect.poll(() => admin.locator('#adm-status').textContent(), { timeout: 30_000 }).toMatch(/^The key of Evacuation is renewed, valid until \d{4}-\d{2}-\d{2}\. The pages will change at the next restart; sign the site manifests then\.$/);
      const row = await db.selectFrom('team_epochs').select('certificate').where('team_id', '=', evacuation.id).executeTakeFirstOrThrow();
      const s = parseTeamKeyStatementUnverified(row.certificate);
      expect([s.epoch, s.serial, s.expiresHour - s.issuedHour]).toEqual([1, 1, TEAM_KEY_DEFAULT_LIFETIME_HOURS]);
      expect(Buffer.from(s.publicKey).equals(Buffer.from(evacuation.publicKey))).toBe(true);
      expect(await remembered(admin, evacuation.id)).toBe('1');
      await expect.poll(() => card.textContent()).not.toContain('keys need renewal');
      const last = await db.selectFrom('audit_log').select('entry').orderBy('seq', 'desc').executeTakeFirstOrThrow();
      expect(JSON.parse(Buffer.from(last.entry).toString('utf8'))).toMatchObject({ action: 'team.epoch.renew', targets: { teamId: b64(evacuation.id), epoch: 1, serial: 1 } });
    } finally {
      await context.close();
    }
  }, 120_000);
});
