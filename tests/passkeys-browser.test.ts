/**
 * Passkeys in headless Chromium with the DevTools virtual authenticator (CDP WebAuthn domain:
 * ctap2, internal transport, resident keys, user verification), against a live server:
 * - without PRF: a passkey added on the Security screen (recovery codes shown once) is then
 *   owed at sign-in and opens the dashboard; a recovery code still works instead [passkey];
 * - with PRF: the person consents, the keys move onto the passkey, the next sign-in opens them
 *   with passphrase + PRF, and the database's bundle no longer opens with the passphrase
 *   [database copy + passphrase]; a recovery code then lets the person in but says the keys
 *   need the passkey;
 * - TOTP set up by choice on the Security screen;
 * - the admin's policy `passkey` makes a responder add a passkey before anything opens.
 * - hostile: an assertion the page sent, replayed in a new session of the same account or of
 *   another, is refused (forged origins, RP IDs and counters: tests/passkeys-api.test.ts).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Secret } from 'otpauth';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { DecryptionError } from '../crypto/errors.ts';
import { unwrapAccountKeys } from '../crypto/v1/account.ts';
import { TotpService } from '../api/accounts/totp.service.ts';
import { approveAccount, insertAccountDirectly } from './helpers/approve.ts';
import { launchBrowser } from './helpers/browser.ts';
import { describeWithBrowser } from './helpers/browser-suite.ts';
import { createRootAdmin, openAdminScreen } from './helpers/dashboard.ts';
import { startLiveServer, type LiveServer } from './helpers/live-server.ts';
import { makeCredentials } from './helpers/responder-client.ts';

const p = await loadSodiumPrimitives();
const PASSPHRASE = 'quiet harbour seven lanterns';
const TIMEOUT = 180_000;

describeWithBrowser('passkeys in the dashboard (virtual authenticator)', () => {
  let live: LiveServer;
  let browser: Browser;
  // WebAuthn needs a valid domain: localhost (a secure context over http), not 127.0.0.1.
  let url: string;

  beforeAll(async () => {
    live = await startLiveServer();
    url = live.server.triageUrl.replace('127.0.0.1', 'localhost');
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await live?.stop();
  });

  async function responder(username: string) {
    const creds = await makeCredentials(p, username, PASSPHRASE);
    const db = live.server.database.db;
    const id = await insertAccountDirectly(db, p, creds, 'responder');
    await approveAccount(db, p, live.demo, id, [live.demo.teams[0]!.id]);
    return { creds, id };
  }

  /** A page with a virtual authenticator (with or without PRF) that answers without a prompt. */
  async function pageWithAuthenticator(hasPrf: boolean): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true, hasPrf },
    } as never);
    await page.goto(url);
    return { context, page, errors };
  }

  async function typeLogin(page: Page, username: string): Promise<void> {
    await page.locator('#login-form').waitFor({ state: 'visible' });
    await page.locator('#login-username').fill(username);
    await page.locator('#login-passphrase').fill(PASSPHRASE);
    await page.locator('#login-submit').click();
  }

  async function signOut(page: Page): Promise<void> {
    await page.locator('#logout').click();
    await page.locator('#login').waitFor({ state: 'visible' });
  }

  async function savedCodes(page: Page, prefix: 'sec' | 'sf'): Promise<string[]> {
    await page.locator(`#${prefix}-codes`).waitFor({ state: 'visible' });
    const codes = (await page.locator(`#${prefix}-codes-list li`).allTextContents()).map((c) => c.trim());
    await page.locator(`#${prefix}-codes-done`).click();
    return codes;
  }

  it('[passkey] without PRF: added on the Security screen, owed at sign-in, opens the dashboard; a recovery code still works', async () => {
    await responder('pk.plain');
    const { context, page, errors } = await pageWithAuthenticator(false);
    await typeLogin(page, 'pk.plain');
    await page.locator('#list').waitFor({ state: 'visible', timeout: 90_000 });
    await page.locator('#security-nav').click();
    await page.locator('#security').waitFor({ state: 'visible' });
    await page.locator('#sec-add-passkey').click();
    await page.locator('#sec-status', { hasText: 'cannot hold your keys' }).waitFor({ timeout: 30_000 });
    const codes = await savedCodes(page, 'sec');
    expect(codes).toHaveLength(10);
    await expect.poll(() => page.locator('#sec-passkeys li').count()).toBe(1);
    expect(await page.locator('#sec-prf').isHidden()).toBe(true);
    await signOut(page);

    await typeLogin(page, 'pk.plain');
    await page.locator('#sf-form').waitFor({ state: 'visible', timeout: 90_000 });
    expect(await page.locator('#list').isHidden()).toBe(true);
    await page.locator('#sf-passkey').click();
    await page.locator('#list').waitFor({ state: 'visible', timeout: 60_000 });
    await signOut(page);

    await typeLogin(page, 'pk.plain');
    await page.locator('#sf-form').waitFor({ state: 'visible', timeout: 90_000 });
    await page.locator('#sf-code').fill(codes[0]!);
    await page.locator('#sf-submit').click();
    await page.locator('#list').waitFor({ state: 'visible', timeout: 60_000 });
    expect(errors).toEqual([]);
    await context.close();
  }, TIMEOUT);

  it('[database copy + passphrase] with PRF: after consent the keys move onto the passkey; sign-in opens them with both; the stored bundle no longer opens with the passphrase', async () => {
    const { creds, id } = await responder('pk.prf');
    const { context, page, errors } = await pageWithAuthenticator(true);
    await typeLogin(page, 'pk.prf');
    await page.locator('#list').waitFor({ state: 'visible', timeout: 90_000 });
    await page.locator('#security-nav').click();
    await page.locator('#sec-add-passkey').click();
    await page.locator('#sec-status', { hasText: 'Passkey added.' }).waitFor({ timeout: 30_000 });
    await savedCodes(page, 'sec');
    await page.locator('#sec-prf').waitFor({ state: 'visible' });
    expect(await page.locator('#sec-prf').textContent()).toContain('an admin must invite you again');
    // Without the consent box nothing moves.
    await page.locator('#sec-prf-move').click();
    expect(await page.locator('#sec-keys-state').textContent()).toBe('Your keys open with your passphrase alone.');
    await page.locator('#sec-prf-understood').check();
    await page.locator('#sec-prf-move').click();
    await page.locator('#sec-status', { hasText: 'held by your passkey and passphrase together' }).waitFor({ timeout: 30_000 });
    await page.locator('#sec-keys-state', { hasText: 'only with your passphrase and a passkey' }).waitFor();

    const row = await live.server.database.db.selectFrom('accounts').select('key_bundle').where('id', '=', id).executeTakeFirstOrThrow();
    expect(() => unwrapAccountKeys(p, creds.secrets.wrapKey, row.key_bundle)).toThrow(DecryptionError);
    await signOut(page);

    await typeLogin(page, 'pk.prf');
    await page.locator('#sf-form').waitFor({ state: 'visible', timeout: 90_000 });
    await page.locator('#sf-passkey').click();
    await page.locator('#list').waitFor({ state: 'visible', timeout: 60_000 });
    expect(await page.locator('#keys-warning').isHidden()).toBe(true);

    // TOTP by choice, on the same screen.
    await page.locator('#security-nav').click();
    await page.locator('#sec-totp-start').click();
    await page.locator('#sec-totp-secret:not(:empty)').waitFor();
    const secret = new Uint8Array(Secret.fromBase32((await page.locator('#sec-totp-secret').textContent())!.trim()).bytes);
    await page.locator('#sec-totp-code').fill(TotpService.codeAt(secret, Date.now()));
    await page.locator('#sec-totp-confirm').click();
    const codes = await savedCodes(page, 'sec');
    await page.locator('#sec-totp-state', { hasText: 'Set up.' }).waitFor();
    await signOut(page);

    // A recovery code lets the person in, and says plainly that the keys need the passkey.
    await typeLogin(page, 'pk.prf');
    await page.locator('#sf-form').waitFor({ state: 'visible', timeout: 90_000 });
    await page.locator('#sf-code').fill(codes[0]!);
    await page.locator('#sf-submit').click();
    await page.locator('#login-status', { hasText: 'Your keys open only with a passkey' }).waitFor({ timeout: 60_000 });
    expect(await page.locator('#list').isHidden()).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  }, TIMEOUT);

  it('[passkey, hostile] an assertion the page sent, replayed in a new session or in another account\'s, is refused', async () => {
    const victim = await responder('pk.victim');
    const other = await responder('pk.other');
    const { context, page, errors } = await pageWithAuthenticator(false);
    const sent: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/v1/login/passkey')) sent.push(r.postData() ?? '');
    });
    for (const name of ['pk.victim', 'pk.other']) {
      await typeLogin(page, name);
      await page.locator('#list').waitFor({ state: 'visible', timeout: 90_000 });
      await page.locator('#security-nav').click();
      await page.locator('#sec-add-passkey').click();
      await savedCodes(page, 'sec');
      await signOut(page);
    }
    await typeLogin(page, 'pk.victim');
    await page.locator('#sf-form').waitFor({ state: 'visible', timeout: 90_000 });
    await page.locator('#sf-passkey').click();
    await page.locator('#list').waitFor({ state: 'visible', timeout: 60_000 });
    expect(sent).toHaveLength(1);
    expect(JSON.parse(sent[0]!).response.clientExtensionResults).toEqual({});

    // The captured answer, replayed by someone who also has the passphrase (a new half-open session).
    const halfOpen = async (creds: typeof victim.creds) => {
      const res = await fetch(new URL('/api/v1/login', url), {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: creds.username, verifier: Buffer.from(creds.secrets.loginVerifier).toString('base64url') }),
      });
      expect(((await res.json()) as { stage: string }).stage).toBe('second_factor');
      return /haven_session=[^;]*/.exec(res.headers.get('set-cookie') ?? '')![0];
    };
    const post = async (path: string, cookie: string, body: string) => {
      const res = await fetch(new URL(path, url), { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body });
      return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code };
    };
    for (const creds of [victim.creds, other.creds]) {
      const cookie = await halfOpen(creds);
      expect(await post('/api/v1/login/passkey', cookie, sent[0]!)).toEqual({ status: 400, code: 'challenge_expired' });
      expect((await post('/api/v1/second-factor/passkeys/assertion-options', cookie, '{}')).status).toBe(200);
      expect(await post('/api/v1/login/passkey', cookie, sent[0]!)).toEqual({ status: 400, code: 'passkey_rejected' });
      expect((await fetch(new URL('/api/v1/teams', url), { headers: { cookie } })).status).toBe(401);
    }
    expect(errors).toEqual([]);
    await context.close();
  }, TIMEOUT);

  it('[policy passkey] the admin requires a passkey: a responder adds one before anything opens', async () => {
    const admin = await createRootAdmin(live.server.database.db, p, live.demo, 'pk.admin');
    const adminContext = await browser.newContext({ locale: 'en-GB' });
    const adminPage = await adminContext.newPage();
    await adminPage.goto(url);
    await adminPage.locator('#login-username').fill(admin.creds.username);
    await adminPage.locator('#login-passphrase').fill(admin.creds.passphrase);
    await adminPage.locator('#login-submit').click();
    await adminPage.locator('#list').waitFor({ state: 'visible', timeout: 90_000 });
    await openAdminScreen(adminPage);
    await adminPage.locator('#adm-2fa-policy').selectOption('passkey');
    await adminPage.locator('#adm-2fa-save').click();
    await adminPage.locator('#adm-2fa-status', { hasText: 'every account needs a passkey' }).waitFor();
    await adminContext.close();

    await responder('pk.forced');
    const { context, page, errors } = await pageWithAuthenticator(false);
    await typeLogin(page, 'pk.forced');
    await page.locator('#sf-enrol').waitFor({ state: 'visible', timeout: 90_000 });
    await page.locator('#sf-enrol-passkey-intro').waitFor({ state: 'visible' });
    expect(await page.locator('#sf-enrol-totp').isHidden()).toBe(true);
    expect(await page.locator('#list').isHidden()).toBe(true);
    await page.locator('#sf-enrol-passkey').click();
    expect(await savedCodes(page, 'sf')).toHaveLength(10);
    await page.locator('#list').waitFor({ state: 'visible', timeout: 60_000 });
    await signOut(page);
    await typeLogin(page, 'pk.forced');
    await page.locator('#sf-form').waitFor({ state: 'visible', timeout: 90_000 });
    await page.locator('#sf-passkey').click();
    await page.locator('#list').waitFor({ state: 'visible', timeout: 60_000 });
    expect(errors).toEqual([]);
    await context.close();
  }, TIMEOUT);
});
