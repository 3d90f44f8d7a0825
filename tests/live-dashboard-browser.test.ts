/**
 * The dashboard keeps up with a live hotline (issue 13), in headless Chromium against a live
 * server: new requests and follow-ups arrive without a reload (the page polls a content-free
 * change marker), carry an unread mark until opened, and the list is ordered by last activity;
 * when an admin removes the responder, the responder's open page wipes everything decrypted at
 * its next refresh and shows the sign-in screen; so does a removed admin's open Admin screen. Adding a member to a team asks whether to grant
 * the existing requests; "new requests only" rotates first and grants the new epoch alone.
 */
import type { Hono } from 'hono';
import type { Browser, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { base64urlDecode as unb64, base64urlEncode as b64 } from '../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import type { DemoTeam } from '../seeds/demo.ts';
import { approveAccount, insertAccountDirectly } from './helpers/approve.ts';
import { AdminBrowser } from './helpers/admin-browser.ts';
import { describeWithBrowser, useLiveBrowser } from './helpers/browser-suite.ts';
import { createRootAdmin, dashboardLogin, openAdminScreen } from './helpers/dashboard.ts';
import type { LiveServer } from './helpers/live-server.ts';
import { lookupTokenHash, proofFor, requestBody, requesterKeys, sealFollowUp, sealRequest, type RequesterKeys } from './helpers/requester-client.ts';
import { makeCredentials } from './helpers/responder-client.ts';

const p = await loadSodiumPrimitives();
const PASS = 'live dashboard responder passphrase';

describeWithBrowser('live dashboard', () => {
  let live: LiveServer;
  let browser: Browser;

  useLiveBrowser((s) => ({ live, browser } = s));

  /** The API over HTTP, shaped like a Hono app for the test helpers (`app.request`). */
  const triageHttp = () => ({ request: (path: string, init: RequestInit) => fetch(new URL(path, live.server.triageUrl), init) }) as unknown as Hono;

  async function requester(path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(new URL(path, live.server.requesterUrl), body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  async function pow() {
    return proofFor(p, unb64((await requester('/api/v1/pow/challenge')).json.challenge as string));
  }

  /** Submits a request as the requester page does (sealed, signed, with a proof of work). */
  async function submit(team: DemoTeam, text: string): Promise<{ id: Uint8Array; keys: RequesterKeys }> {
    const keys = await requesterKeys(p, `${text} words for the passphrase`, live.demo.organisationId);
    const id = p.randomBytes(16);
    const envelope = sealRequest(p, live.demo, team, keys, requestBody(text, keys), id);
    const res = await requester('/api/v1/requests', { envelope: b64(envelope), lookupHash: b64(lookupTokenHash(p, keys.lookupToken)), pow: await pow() });
    expect(res.status).toBe(201);
    return { id, keys };
  }

  /** Junk as a flood can send it: a well-formed request with a valid proof of work whose ciphertext opens for nobody. */
  async function submitJunk(team: DemoTeam, text: string): Promise<Uint8Array> {
    const keys = await requesterKeys(p, `${text} junk passphrase words`, live.demo.organisationId);
    const id = p.randomBytes(16);
    const envelope = sealRequest(p, live.demo, team, keys, requestBody(text, keys), id);
    envelope[envelope.length - 1]! ^= 0xff;
    const res = await requester('/api/v1/requests', { envelope: b64(envelope), lookupHash: b64(lookupTokenHash(p, keys.lookupToken)), pow: await pow() });
    expect(res.status).toBe(201);
    return id;
  }

  async function followUp(team: DemoTeam, thread: { id: Uint8Array; keys: RequesterKeys }, text: string): Promise<void> {
    const envelope = sealFollowUp(p, live.demo, team, thread.keys, thread.id, text, 1);
    const res = await requester('/api/v1/threads/messages', { token: b64(thread.keys.lookupToken), envelope: b64(envelope), pow: await pow() });
    expect(res.status).toBe(201);
  }

  const rowOf = (page: Page, text: string) => page.locator('#rows button.row', { hasText: text });
  const firstRowText = async (page: Page) => (await page.locator('#rows button.row').first().textContent()) ?? '';

  it('[live dashboard] new requests and follow-ups arrive without a reload, marked unread until opened, latest activity first; removal wipes the open page at the next refresh', async () => {
    const legal = live.demo.teams.find((x) => x.slug === 'legal')!;
    const db = live.server.database.db;
    const admin = await createRootAdmin(db, p, live.demo, 'admin.live', [legal.id]);
    const creds = await makeCredentials(p, 'live.responder', PASS);
    const responderId = await insertAccountDirectly(db, p, creds, 'responder');
    await approveAccount(db, p, live.demo, responderId, [legal.id]);

    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await dashboardLogin(page, live.server.triageUrl, 'live.responder', PASS);
    // A marker on the window: a reload would drop it.
    await page.evaluate(() => ((window as unknown as { __sameDocument: number }).__sameDocument = 1));

    // 1. A request arrives while the list is open: it appears on its own, on top, marked unread.
    const first = await submit(legal, 'LIVE-FIRST please help');
    await expect.poll(() => rowOf(page, 'LIVE-FIRST').count(), { timeout: 30_000 }).toBe(1);
    expect(await rowOf(page, 'LIVE-FIRST').getAttribute('class')).toContain('unread');
    expect(await rowOf(page, 'LIVE-FIRST').textContent()).toContain('new activity');
    // The rows were decrypted in the dashboard's Web Worker, not on the page's thread.
    expect(page.workers().map((w) => new URL(w.url()).pathname)).toEqual([expect.stringMatching(/^\/assets\/decrypt-worker-[0-9a-f]+\.js$/)]);
    await submit(legal, 'LIVE-SECOND another one');
    await expect.poll(() => firstRowText(page), { timeout: 30_000 }).toContain('LIVE-SECOND');

    // 2. Opening a request marks it read (here and on the server), the other stays unread.
    await rowOf(page, 'LIVE-FIRST').click();
    await page.locator('#thread li').first().waitFor({ timeout: 30_000 });
    await page.locator('#back').click();
    await expect.poll(() => rowOf(page, 'LIVE-FIRST').getAttribute('class')).not.toContain('unread');
    expect(await rowOf(page, 'LIVE-SECOND').getAttribute('class')).toContain('unread');

    // 3. A follow-up moves the request back to the top, unread again, without a reload.
    await followUp(legal, first, 'LIVE-FOLLOWUP more details');
    await expect.poll(() => firstRowText(page), { timeout: 30_000 }).toContain('LIVE-FIRST');
    await expect.poll(() => rowOf(page, 'LIVE-FIRST').getAttribute('class'), { timeout: 30_000 }).toContain('unread');
    // An open thread refreshes too: the follow-up shows in it.
    await rowOf(page, 'LIVE-FIRST').click();
    await expect.poll(() => page.locator('#thread').textContent(), { timeout: 30_000 }).toContain('LIVE-FOLLOWUP');
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: number }).__sameDocument)).toBe(1);

    // 4. An admin removes the responder while the thread is open: at the next refresh the page
    //    wipes everything it decrypted and shows the sign-in screen.
    const adminApi = new AdminBrowser(triageHttp(), p, live.demo.root.publicKey);
    await adminApi.signIn(admin.creds.username, 'admin passphrase for the browser tests');
    expect((await adminApi.remove(responderId)).status).toBe(200);
    await page.locator('#login').waitFor({ state: 'visible', timeout: 30_000 });
    for (const id of ['rows', 'thread', 'detail-meta']) expect(await page.locator(`#${id}`).textContent()).toBe('');
    const body = (await page.locator('body').textContent()) ?? '';
    for (const secret of ['LIVE-FIRST', 'LIVE-SECOND', 'LIVE-FOLLOWUP']) expect(body).not.toContain(secret);
    // The wipe ended the decryption worker with everything it held.
    await expect.poll(() => page.workers().length, { timeout: 30_000 }).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: number }).__sameDocument)).toBe(1);
    await context.close();
  }, 180_000);

  it('[removed admin] an admin removed by another admin has the open Admin screen and the list wiped at the next poll, with the reason shown', async () => {
    const legal = live.demo.teams.find((x) => x.slug === 'legal')!;
    const db = live.server.database.db;
    const removed = await createRootAdmin(db, p, live.demo, 'admin.removed', [legal.id]);
    const remover = await createRootAdmin(db, p, live.demo, 'admin.remover', [legal.id]);
    await submit(legal, 'ADMIN-GONE request seen by the removed admin');

    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await dashboardLogin(page, live.server.triageUrl, 'admin.removed', 'admin passphrase for the browser tests');
    await expect.poll(() => rowOf(page, 'ADMIN-GONE').count(), { timeout: 30_000 }).toBe(1);
    await openAdminScreen(page);
    await expect.poll(() => page.locator('#adm-accounts').textContent(), { timeout: 60_000 }).toContain('admin.remover');

    // Admin B, signed in elsewhere, removes admin A while A's Admin screen is open.
    const other = new AdminBrowser(triageHttp(), p, live.demo.root.publicKey);
    await other.signIn(remover.creds.username, 'admin passphrase for the browser tests');
    expect((await other.remove(removed.id)).status).toBe(200);

    // Within a poll (5 s) A's page is back at the sign-in screen, saying why, with nothing left.
    await page.locator('#login').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.locator('#admin').isHidden()).toBe(true);
    expect(await page.locator('#alert').textContent()).toBe('Your session ended. Sign in again.');
    for (const id of ['rows', 'adm-accounts', 'adm-teams', 'adm-pending', 'adm-audit', 'adm-root-status']) expect(await page.locator(`#${id}`).textContent()).toBe('');
    const body = (await page.locator('body').textContent()) ?? '';
    for (const shown of ['ADMIN-GONE', 'admin.remover']) expect(body).not.toContain(shown);
    await context.close();
  }, 180_000);

  it('[member-grant choice] adding a member asks whether to grant existing requests: "new only" rotates first and grants the new epoch alone; "also existing" grants every live epoch', async () => {
    const medical = live.demo.teams.find((x) => x.slug === 'medical')!;
    const db = live.server.database.db;
    await createRootAdmin(db, p, live.demo, 'admin.grants', [medical.id]);
    const old = await submit(medical, 'GRANT-OLD request before anyone joins');
    const newOnly = await insertAccountDirectly(db, p, await makeCredentials(p, 'new.only'), 'responder');
    const allOld = await insertAccountDirectly(db, p, await makeCredentials(p, 'all.old'), 'responder');
    await approveAccount(db, p, live.demo, newOnly, []);
    await approveAccount(db, p, live.demo, allOld, []);
    const grantedEpochs = async (accountId: Uint8Array) =>
      (await db.selectFrom('grants').select('epoch').where('team_id', '=', medical.id).where('account_id', '=', accountId).orderBy('epoch').execute()).map((g) => g.epoch);

    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await dashboardLogin(page, live.server.triageUrl, 'admin.grants', 'admin passphrase for the browser tests');
    await openAdminScreen(page);
    const card = () => page.locator('#adm-teams li.card', { hasText: '(medical)' });
    const status = () => page.locator('#adm-status').textContent();

    // 1. "Only requests from now on" (the default): a rotation first, confirmed key by key.
    await card().locator('select').selectOption({ label: 'new.only' });
    await card().getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => page.locator('#adm-dialog-title').textContent()).toBe('Add new.only to Medical help');
    expect(await page.locator('#adm-dialog input[value="new"]').isChecked()).toBe(true);
    await page.locator('#adm-dialog-ok').click();
    await expect.poll(() => page.locator('#adm-dialog-title').textContent(), { timeout: 30_000 }).toBe('New key for Medical help (epoch 2)');
    await page.locator('#adm-dialog-check').check();
    await page.locator('#adm-dialog-ok').click();
    await expect.poll(status, { timeout: 30_000 }).toContain('new.only joined Medical help for new requests only');
    expect(await grantedEpochs(newOnly)).toEqual([2]);
    // The request made before stays at epoch 1, which new.only never received.
    expect((await db.selectFrom('requests').select('epoch').where('id', '=', old.id).executeTakeFirstOrThrow()).epoch).toBe(1);

    // 2. "Also every existing request": grants for every live epoch, no rotation.
    await card().locator('select').selectOption({ label: 'all.old' });
    await card().getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => page.locator('#adm-dialog-title').textContent()).toBe('Add all.old to Medical help');
    await page.locator('#adm-dialog').getByLabel('Also every existing request of the team').check();
    await page.locator('#adm-dialog-ok').click();
    await expect.poll(status, { timeout: 30_000 }).toContain('all.old joined Medical help.');
    expect(await grantedEpochs(allOld)).toEqual([1, 2]);
    expect((await db.selectFrom('team_epochs').select('epoch').where('team_id', '=', medical.id).execute()).length).toBe(2);

    // Both choices are in the audit log, the scope with them.
    const entries = (await db.selectFrom('audit_log').select('entry').orderBy('seq').execute()).map((r) => JSON.parse(Buffer.from(r.entry).toString('utf8')) as { action: string; targets: Record<string, unknown> });
    const adds = entries.filter((e) => e.action === 'team.member.add');
    expect(adds.map((e) => e.targets.scope ?? 'all')).toEqual(['new', 'all']);
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);

  it('[undecryptable requests] junk that passed the proof of work is grouped apart and counted, and an admin removes it in one audited action', async () => {
    const evacuation = live.demo.teams.find((x) => x.slug === 'evacuation')!;
    const db = live.server.database.db;
    await createRootAdmin(db, p, live.demo, 'admin.junk', [evacuation.id]);
    await submit(evacuation, 'JUNK-REAL a real request');
    const junk = [await submitJunk(evacuation, 'junk one'), await submitJunk(evacuation, 'junk two')];
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await dashboardLogin(page, live.server.triageUrl, 'admin.junk', 'admin passphrase for the browser tests');
    const group = page.locator('#rows li.junk-group');
    await expect.poll(() => group.textContent(), { timeout: 30_000 }).toContain('2 requests could not be decrypted');
    // The real request is a row of the list; the junk is not.
    expect(await page.locator('#rows button.row').count()).toBe(1);
    expect(await page.locator('#rows button.row').textContent()).toContain('JUNK-REAL');
    await group.getByRole('button', { name: 'Remove 2 undecryptable requests' }).click();
    await page.locator('#adm-dialog-ok').click();
    await expect.poll(() => group.count(), { timeout: 30_000 }).toBe(0);
    for (const id of junk) expect(await db.selectFrom('requests').select('id').where('id', '=', id).execute()).toEqual([]);
    expect(await page.locator('#rows button.row').count()).toBe(1);
    const last = (await db.selectFrom('audit_log').select('entry').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow()).entry;
    expect(JSON.parse(Buffer.from(last).toString('utf8'))).toMatchObject({ action: 'requests.remove_undecryptable', targets: { requestIds: expect.arrayContaining(junk.map(b64)) } });
    await context.close();
  }, 180_000);
});
