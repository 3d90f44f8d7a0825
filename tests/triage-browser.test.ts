/**
 * The triage dashboard in headless Chromium against a live server, end to end: a requester
 * submits hostile text through the real requester page; a responder enrols from an invitation
 * link (keys made in the browser, fingerprint shown), is approved (tests/helpers/approve.ts
 * stands in for the admin's browser), signs in, reads the request decrypted, triages it by
 * keyboard, writes a note, tags and a reply; the requester reads the reply. The database holds
 * none of the text [server-blind]; hostile text stays text [hostile content stays text];
 * signing out and an expired session wipe everything decrypted from the page.
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { base64urlEncode } from '../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { accountFingerprint, rootFingerprint } from '../crypto/v1/certs.ts';
import { MessageKind, sealMessage } from '../crypto/v1/message.ts';
import { encodeRequestBody } from '../crypto/v1/request-body.ts';
import type { DemoTeam } from '../seeds/demo.ts';
import { approveAccount, createAdminAccount, insertAccountDirectly } from './helpers/approve.ts';
import { describeWithBrowser, useLiveBrowser } from './helpers/browser-suite.ts';
import type { LiveServer } from './helpers/live-server.ts';
import { makeCredentials } from './helpers/responder-client.ts';
import { inviteThrough, type Inviter } from './helpers/invite.ts';
import { ROOT_PIN_KEY } from '../web/triage/root-pin.ts';

const p = await loadSodiumPrimitives();
const CANARY = 'CANARY-triage-req-5d1e';
const CONTACT_CANARY = 'CANARY-triage-contact-77ab';
const NOTE_CANARY = 'CANARY-triage-note-a9f0';
const TAG_CANARY = 'CANARY-triage-tag-3c4b';
const REPLY_CANARY = 'CANARY-triage-reply-e62d';
const HOSTILE = `<img src=x onerror="window.__pwned=1;alert(1)"><script>window.__pwned=2;alert(2)</script> help ${CANARY}`;
const RESPONDER_PASSPHRASE = 'orbit lantern velvet quarry 42';

async function submitRequest(page: Page, url: string, text: string, teamName: string): Promise<string> {
  await page.goto(url);
  await page.getByRole('radio', { name: teamName }).check();
  await page.locator('#message').fill(text);
  await page.locator('#contact').fill(`signal ${CONTACT_CANARY}`);
  await page.locator('#send').click();
  await page.locator('#sent').waitFor({ state: 'visible', timeout: 60_000 });
  return (await page.locator('#passphrase-out').textContent())!.trim();
}

/** Every table of the database as text. */
async function dumpDatabase(live: LiveServer): Promise<string> {
  const { db } = live.server.database;
  const tables = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(db);
  const parts: string[] = [];
  for (const { name } of tables.rows) {
    const rows = await sql<{ d: string | null }>`select string_agg(t::text, '|') as d from ${sql.table(name)} t`.execute(db);
    parts.push(`${name}:${rows.rows[0]?.d ?? ''}`);
  }
  return parts.join('\n');
}

async function signInAdmin(live: LiveServer): Promise<{ cookie: string; inviter: Inviter }> {
  const creds = await makeCredentials(p, 'admin.one');
  const id = await createAdminAccount(live.server.database.db, p, live.demo, creds);
  const res = await fetch(new URL('/api/v1/login', live.server.triageUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: creds.username, verifier: base64urlEncode(creds.secrets.loginVerifier) }),
  });
  expect(res.status).toBe(200);
  const cookie = /haven_session=[^;]+/.exec(res.headers.get('set-cookie') ?? '')![0];
  return { cookie, inviter: { id, ed25519Seed: creds.ed25519Seed, orgId: live.demo.organisationId } };
}

/** An invitation made as the admin's browser makes it (code and signed statement). @returns the code. */
async function invite(live: LiveServer, admin: { cookie: string; inviter: Inviter }, teamIds: Uint8Array[]): Promise<string> {
  const request = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(new URL(`/api/v1/admin${path}`, live.server.triageUrl), {
      method,
      headers: { 'content-type': 'application/json', cookie: admin.cookie },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, never> };
  };
  const made = await inviteThrough(p, request, admin.inviter, { role: 'responder', teamIds });
  expect(made.status).toBe(201);
  return made.code;
}

/** A heap snapshot of the page after forced garbage collection, as text. */
async function heapText(page: Page): Promise<string> {
  const cdp = await page.context().newCDPSession(page);
  const chunks: string[] = [];
  cdp.on('HeapProfiler.addHeapSnapshotChunk', (e) => chunks.push(e.chunk));
  await cdp.send('HeapProfiler.enable');
  for (let i = 0; i < 3; i++) await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  await cdp.detach();
  // Lower-cased: the search index keeps decrypted text lower-cased.
  return chunks.join('').toLowerCase();
}

async function login(page: Page, username: string, passphrase: string): Promise<void> {
  await page.locator('#login').waitFor({ state: 'visible' });
  await page.locator('#login-username').fill(username);
  await page.locator('#login-passphrase').fill(passphrase);
  await page.locator('#login-submit').click();
  await page.locator('#list').waitFor({ state: 'visible', timeout: 60_000 });
}

describeWithBrowser('triage dashboard', () => {
  let live: LiveServer;
  let browser: Browser;

  useLiveBrowser((s) => ({ live, browser } = s));

  it('[server-blind, hostile content stays text] enrols, reads, triages, notes, tags and replies; the requester reads the reply; logout and expiry wipe', async () => {
    const legal = live.demo.teams.find((x) => x.slug === 'legal')!;

    // 1. A requester asks for help through the real requester page, with hostile text.
    const requesterContext = await browser.newContext({ locale: 'en-GB' });
    const requesterPage = await requesterContext.newPage();
    const requesterPassphrase = await submitRequest(requesterPage, live.server.requesterUrl, HOSTILE, 'Legal help');

    // 2. An admin invites; the responder opens the invitation link in the dashboard.
    const adminSession = await signInAdmin(live);
    const code = await invite(live, adminSession, [legal.id]);
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${live.server.triageUrl}#invite=${code}`);
    await page.locator('#enrol').waitFor({ state: 'visible' });
    expect(page.url()).not.toContain(code); // the code leaves the address bar and history
    expect(requests.some((u) => u.includes(code))).toBe(false);

    // A weak passphrase is refused, with the reason in words.
    await page.locator('#enrol-username').fill('legal.responder');
    await page.locator('#enrol-passphrase').fill('password1234');
    await page.locator('#enrol-confirm').fill('password1234');
    expect(await page.locator('#strength-text').textContent()).toBe('weak');
    await page.locator('#enrol-submit').click();
    expect(await page.locator('#enrol-status').textContent()).toContain('Too common');
    await page.locator('#enrol-passphrase').fill('short');
    expect(await page.locator('#problems').textContent()).toContain('at least 12 characters');
    await page.locator('#enrol-passphrase').fill(RESPONDER_PASSPHRASE);
    await page.locator('#enrol-confirm').fill(RESPONDER_PASSPHRASE);
    expect(await page.locator('#problems li').count()).toBe(0);
    await page.locator('#enrol-submit').click();
    await page.locator('#waiting').waitFor({ state: 'visible', timeout: 60_000 });

    // The fingerprint shown is that of the keys the server received.
    const { db } = live.server.database;
    const account = await db.selectFrom('accounts').selectAll().where('username', '=', 'legal.responder').executeTakeFirstOrThrow();
    expect(account.status).toBe('pending');
    const fingerprint = (await page.locator('#fingerprint').textContent())!;
    expect(fingerprint).toBe(accountFingerprint(p, account.enc_public_key, account.sign_public_key));

    // 3. Approved by the stand-in for the admin's browser; the responder signs in.
    await approveAccount(db, p, live.demo, account.id);
    const colleague = await insertAccountDirectly(db, p, await makeCredentials(p, 'maria.k'), 'responder');
    await approveAccount(db, p, live.demo, colleague, [legal.id]);
    await page.locator('#to-login').click();
    await login(page, 'legal.responder', RESPONDER_PASSPHRASE);
    await expect.poll(() => page.locator('#rows li').count()).toBe(1);
    const rowText = (await page.locator('#rows li').first().textContent())!;
    expect(rowText).toContain(CANARY);
    expect(rowText).toContain('<img src=x onerror=');
    expect(rowText).toContain('<script>');
    expect(rowText).toContain('Legal help');
    expect(rowText).toContain('new');
    expect(await page.locator('#root-fp').textContent()).toContain(rootFingerprint(p, live.demo.root.publicKey));

    // 4. Keyboard: j selects, Enter opens.
    await page.locator('#list-title').focus();
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.locator('#detail').waitFor({ state: 'visible' });
    await expect.poll(() => page.locator('#thread li').count()).toBe(1);
    expect(await page.locator('#thread li').first().textContent()).toContain(HOSTILE);
    expect(await page.locator('#detail-meta').textContent()).toContain(CONTACT_CANARY);

    // Status, priority, assignee.
    await page.locator('#set-status').selectOption('in_progress');
    await expect.poll(() => page.locator('#announce').textContent()).toBe('Status set to in progress.');
    await page.locator('#set-priority').selectOption('high');
    await expect.poll(() => page.locator('#announce').textContent()).toBe('Priority set to high.');
    expect(await page.locator('#set-assignee option').allTextContents()).toEqual(['Nobody', 'Me', 'maria.k']);
    await page.locator('#set-assignee').selectOption({ label: 'maria.k' });
    const assignee = async () => {
      const r = await db.selectFrom('requests').select('assignee_id').executeTakeFirstOrThrow();
      return r.assignee_id ? Buffer.from(r.assignee_id).toString('hex') : null;
    };
    await expect.poll(assignee).toBe(Buffer.from(colleague).toString('hex'));
    await page.locator('#detail-title').focus();
    await page.keyboard.press('a');
    await expect.poll(assignee).toBe(Buffer.from(account.id).toString('hex'));
    expect(await page.locator('#announce').textContent()).toBe('Assignee changed.');

    // A note (n), tags (t) and a reply (r).
    await page.keyboard.press('n');
    await page.keyboard.type(`Internal: check the file ${NOTE_CANARY}`);
    await page.locator('#note-save').click();
    await expect.poll(() => page.locator('#thread li').count()).toBe(2);
    await page.locator('#detail-title').focus();
    await page.keyboard.press('t');
    await page.keyboard.type(`urgent-legal, ${TAG_CANARY}`);
    await page.locator('#tags-save').click();
    await expect.poll(() => page.locator('#thread li').count()).toBe(3);
    await page.locator('#detail-title').focus();
    await page.keyboard.press('r');
    await page.keyboard.type(`We can help. ${REPLY_CANARY}`);
    // A reply asks first (it leaves the team); Cancel sends nothing.
    await page.locator('#reply-send').click();
    await page.locator('#adm-dialog').waitFor({ state: 'visible' });
    expect(await page.locator('#adm-dialog-body').textContent()).toContain(REPLY_CANARY);
    await page.locator('#adm-dialog-cancel').click();
    expect(await page.locator('#thread li').count()).toBe(3);
    expect((await db.selectFrom('messages').select('kind').where('kind', '=', 'reply').execute()).length).toBe(0);
    await page.locator('#reply-send').click();
    await page.locator('#adm-dialog-ok').click();
    await expect.poll(() => page.locator('#thread li').count()).toBe(4);
    // A note and a reply look different and say who reads them.
    expect(await page.locator('#thread li.k-note .audience').textContent()).toBe('internal: only the team sees this');
    expect(await page.locator('#thread li.k-reply .audience').textContent()).toBe('sent to the requester');
    const [noteBg, replyBg] = await Promise.all(['k-note', 'k-reply'].map((k) => page.locator(`#thread li.${k}`).evaluate((e) => getComputedStyle(e).backgroundColor)));
    expect(noteBg).not.toBe(replyBg);
    const thread = (await page.locator('#thread').textContent())!;
    for (const text of [NOTE_CANARY, TAG_CANARY, REPLY_CANARY]) expect(thread).toContain(text);

    const stored = await db.selectFrom('requests').selectAll().executeTakeFirstOrThrow();
    expect(stored.status).toBe('in_progress');
    expect(stored.priority).toBe('high');
    expect(Buffer.from(stored.assignee_id!).equals(Buffer.from(account.id))).toBe(true);
    const kinds = await db.selectFrom('messages').select('kind').orderBy('position').execute();
    expect(kinds.map((k) => k.kind)).toEqual(['request', 'note', 'tags', 'reply']);

    // 5. Search covers the decrypted list and the opened thread's text.
    await page.keyboard.press('Escape');
    await page.locator('#list').waitFor({ state: 'visible' });
    await page.keyboard.press('/');
    await page.keyboard.type('no such words');
    expect(await page.locator('#rows li').count()).toBe(0);
    await page.locator('#search').fill(NOTE_CANARY.toLowerCase());
    expect(await page.locator('#rows li').count()).toBe(1);
    await page.locator('#search').fill('');

    // Hostile text ran nothing.
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('main img, main script').count()).toBe(0);
    const origin = new URL(live.server.triageUrl).origin;
    expect(requests.filter((u) => !u.startsWith(origin))).toEqual([]);

    // 6. The requester reads the reply (and not the note or tags).
    await requesterPage.goto(live.server.requesterUrl);
    await requesterPage.locator('#have-code').click();
    await requesterPage.locator('#passphrase-in').fill(requesterPassphrase);
    await requesterPage.locator('#open').click();
    await expect.poll(() => requesterPage.locator('#messages li').count(), { timeout: 30_000 }).toBe(2);
    const seen = (await requesterPage.locator('#messages').textContent())!;
    expect(seen).toContain(`We can help. ${REPLY_CANARY}`);
    expect(seen).not.toContain(NOTE_CANARY);
    expect(seen).not.toContain(TAG_CANARY);
    await requesterContext.close();

    // 7. Server-blind: no table holds any of the text, the passphrases or their hex.
    const dump = await dumpDatabase(live);
    expect(dump).toContain('messages:');
    for (const secret of [CANARY, CONTACT_CANARY, NOTE_CANARY, TAG_CANARY, REPLY_CANARY, RESPONDER_PASSPHRASE, requesterPassphrase, 'urgent-legal']) {
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(Buffer.from(secret).toString('hex'));
    }
    expect(live.logLines.join('\n')).not.toContain(CANARY);

    // 8. Signing out (Shift+L) wipes everything decrypted from the page.
    // Control: while signed in, the same heap search does find the decrypted text.
    const heapBefore = await heapText(page);
    for (const secret of [CANARY, NOTE_CANARY, REPLY_CANARY]) expect(heapBefore.includes(secret.toLowerCase()), secret).toBe(true);
    await page.locator('#list-title').focus();
    await page.keyboard.press('Shift+L');
    await page.locator('#login').waitFor({ state: 'visible' });
    const afterLogout = await page.evaluate(() => ({
      text: document.body.innerText,
      html: document.documentElement.outerHTML,
      values: [...document.querySelectorAll('input, textarea')].map((e) => (e as HTMLInputElement).value).join('|'),
    }));
    for (const secret of [CANARY, NOTE_CANARY, TAG_CANARY, REPLY_CANARY, CONTACT_CANARY, RESPONDER_PASSPHRASE]) {
      expect(afterLogout.text).not.toContain(secret);
      expect(afterLogout.html).not.toContain(secret);
      expect(afterLogout.values).not.toContain(secret);
    }
    expect(await page.locator('#announce').textContent()).toContain('Signed out');
    // Not just the DOM: after a garbage collection, the JavaScript heap holds none of it either.
    const heap = await heapText(page);
    expect(heap.length).toBeGreaterThan(100_000);
    for (const secret of [CANARY, NOTE_CANARY, TAG_CANARY, REPLY_CANARY, CONTACT_CANARY]) expect(heap.includes(secret.toLowerCase()), secret).toBe(false);
    expect(await db.selectFrom('sessions').select('account_id').where('account_id', '=', account.id).execute()).toEqual([]);

    // 9. A session that ends on the server (any 401) also wipes and returns to sign-in.
    await login(page, 'legal.responder', RESPONDER_PASSPHRASE);
    await expect.poll(() => page.locator('#rows li').count()).toBe(1);
    await db.deleteFrom('sessions').where('account_id', '=', account.id).execute();
    await page.locator('#list-title').focus();
    await page.keyboard.press('u');
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await page.locator('#alert').textContent()).toBe('Your session ended. Sign in again.');
    expect(await page.evaluate(() => document.documentElement.outerHTML)).not.toContain(CANARY);
    expect(errors).toEqual([]);

    // No storage was used for anything of the session. Kept on purpose, and public: the pinned
    // organisation root (root-pin.ts) and the team key serials this browser has verified, so a
    // server cannot replay an older key (key-floor.ts).
    const storage = await page.evaluate(async () => ({
      local: Object.entries({ ...localStorage }), session: sessionStorage.length, idb: (await indexedDB.databases()).length,
    }));
    expect({ session: storage.session, idb: storage.idb }).toEqual({ session: 0, idb: 0 });
    const pinned = storage.local.filter(([key]) => key === ROOT_PIN_KEY);
    expect(pinned).toEqual([[ROOT_PIN_KEY, base64urlEncode(live.demo.root.publicKey)]]);
    const serials = storage.local.filter(([key]) => key !== ROOT_PIN_KEY);
    expect(serials.length).toBeGreaterThan(0);
    for (const [key, value] of serials) expect([key, value]).toEqual([expect.stringMatching(/^haven-key-serial:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{22}$/), expect.stringMatching(/^\d{1,10}$/)]);
    await context.close();
  }, 240_000);

  it('pages with "load more" and filters by status and team on the server', async () => {
    const { db } = live.server.database;
    const [legal, medical] = [live.demo.teams.find((x) => x.slug === 'legal')!, live.demo.teams.find((x) => x.slug === 'medical')!];
    const before = (await db.selectFrom('requests').select('id').execute()).length;
    const seed = async (team: DemoTeam, n: number, status: 'new' | 'waiting', label: string) => {
      const replyPublicKey = p.x25519PublicFromSecret(p.randomBytes(32));
      const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000);
      for (let i = 0; i < n; i++) {
        const id = p.randomBytes(16);
        const body = encodeRequestBody({ message: `${label} ${i}`, replyPublicKey, argon: { ops: 1, memKiB: 2048 } });
        const blob = sealMessage(p, { kind: MessageKind.request, orgId: live.demo.organisationId, teamId: team.id, epoch: team.epoch, threadId: id, messageId: id, teamPublic: team.publicKey, requesterPublic: replyPublicKey, body });
        await db.insertInto('requests').values({ id, team_id: team.id, epoch: team.epoch, lookup_hash: p.randomBytes(32), status, created_hour: hour, updated_hour: hour }).execute();
        await db.insertInto('messages').values({ id, request_id: id, position: 1, kind: 'request', epoch: team.epoch, author_id: null, blob, created_hour: hour }).execute();
      }
    };
    await seed(legal, 55, 'new', 'legal seeded');
    await seed(legal, 3, 'waiting', 'legal waiting');
    await seed(medical, 4, 'new', 'medical seeded');
    const creds = await makeCredentials(p, 'two.teams');
    const id = await insertAccountDirectly(db, p, creds, 'responder');
    await approveAccount(db, p, live.demo, id, [legal.id, medical.id]);

    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await page.goto(live.server.triageUrl);
    await login(page, creds.username, creds.passphrase);
    const total = before + 55 + 3 + 4;
    await expect.poll(() => page.locator('#rows li').count()).toBe(50);
    await page.locator('#load-more').click();
    await expect.poll(() => page.locator('#rows li').count()).toBe(Math.min(100, total));
    await expect.poll(() => page.evaluate(() => document.activeElement?.classList.contains('row'))).toBe(true);
    expect(await page.locator('#load-more').isHidden()).toBe(true);

    await page.locator('#filter-status').selectOption('waiting');
    await expect.poll(() => page.locator('#rows li').count()).toBe(3);
    expect(await page.locator('#rows').textContent()).toContain('legal waiting');
    await page.locator('#filter-status').selectOption('');
    await page.locator('#filter-team').selectOption({ label: 'Medical help' });
    await expect.poll(() => page.locator('#rows li').count()).toBe(4);
    expect((await page.locator('#rows .excerpt').allTextContents()).every((x) => x.startsWith('medical seeded'))).toBe(true);
    await context.close();
  }, 120_000);

  it('wipes the page after 30 idle minutes without waiting for the server', async () => {
    const { db } = live.server.database;
    const creds = await makeCredentials(p, 'idle.responder');
    const id = await insertAccountDirectly(db, p, creds, 'responder');
    await approveAccount(db, p, live.demo, id, [live.demo.teams[0]!.id]);
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await page.clock.install();
    await page.goto(live.server.triageUrl);
    await login(page, creds.username, creds.passphrase);
    expect(await page.locator('#who').textContent()).toBe('Signed in as idle.responder');
    await page.clock.fastForward('29:00');
    expect(await page.locator('#list').isVisible()).toBe(true);
    await page.clock.fastForward('02:00');
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await page.locator('#alert').textContent()).toBe('Your session ended. Sign in again.');
    expect(await page.locator('#rows li').count()).toBe(0);
    await expect.poll(async () => (await db.selectFrom('sessions').select('account_id').where('account_id', '=', id).execute()).length).toBe(0);
    await context.close();
  }, 120_000);

  it('speaks Russian to a Russian browser and switches to English', async () => {
    const context = await browser.newContext({ locale: 'ru-RU' });
    const page = await context.newPage();
    await page.goto(live.server.triageUrl);
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await page.locator('html').getAttribute('lang')).toBe('ru');
    expect(await page.locator('#login-title').textContent()).toBe('Вход');
    await page.locator('#login-username').fill('nobody.here');
    await page.locator('#login-passphrase').fill('some long passphrase');
    await page.locator('#login-submit').click();
    await expect.poll(() => page.locator('#login-status').textContent(), { timeout: 30_000 }).toBe('Неверное имя пользователя или кодовая фраза.');
    await page.locator('#lang').click();
    expect(await page.locator('#login-title').textContent()).toBe('Sign in');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await context.close();
  }, 120_000);

  it('serves the dashboard with SRI on every script and a CSP without inline script or style', async () => {
    const res = await fetch(live.server.triageUrl);
    const html = await res.text();
    const csp = res.headers.get('content-security-policy')!;
    // Scripts by their SRI hash only (no 'self'); libsodium's WebAssembly on top.
    const hashes = [...html.matchAll(/<script[^>]* integrity="(sha384-[^"]+)"/g)].map((m) => `'${m[1]}'`);
    expect(csp).toContain(`script-src ${hashes.join(' ')} 'wasm-unsafe-eval';`);
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(html).not.toMatch(/<script>|<style|style="/);
    const scripts = [...html.matchAll(/<script[^>]*>/g)].map((m) => m[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) {
      const [, src, integrity] = /src="([^"]+)" integrity="([^"]+)"/.exec(tag)!;
      const body = Buffer.from(await (await fetch(new URL(src!, live.server.triageUrl))).arrayBuffer());
      expect(`sha384-${createHash('sha384').update(body).digest('base64')}`).toBe(integrity);
    }
  }, 120_000);
});
