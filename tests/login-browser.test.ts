/**
 * Sign-in in headless Chromium against a live server: a third party failing on purpose at a
 * responder's name does not keep the responder out (the page pays the proof of work the
 * server asks for and signs in) [no lock-out]; an admin requires a second factor for the
 * organisation, a responder sets up TOTP at the next sign-in (recovery codes shown once),
 * then signs in with a TOTP code, is refused a wrong one, signs in with a recovery code, and
 * is refused the same recovery code again [second factor].
 */
import type { Browser, Page } from 'playwright-core';
import { Secret } from 'otpauth';
import { expect, it } from 'vitest';
import { base64urlEncode } from '../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { TotpService } from '../api/accounts/totp.service.ts';
import { FREE_FAILURES } from '../api/accounts/login-throttle.ts';
import { approveAccount, insertAccountDirectly } from './helpers/approve.ts';
import { describeWithBrowser, useLiveBrowser } from './helpers/browser-suite.ts';
import { createRootAdmin, openAdminScreen } from './helpers/dashboard.ts';
import type { LiveServer } from './helpers/live-server.ts';
import { loginProofFor, makeCredentials } from './helpers/responder-client.ts';

const p = await loadSodiumPrimitives();
const PASSPHRASE = 'quiet harbour seven lanterns';

async function typeLogin(page: Page, username: string, passphrase: string): Promise<void> {
  await page.locator('#login').waitFor({ state: 'visible' });
  await page.locator('#login-form').waitFor({ state: 'visible' });
  await page.locator('#login-username').fill(username);
  await page.locator('#login-passphrase').fill(passphrase);
  await page.locator('#login-submit').click();
}

async function signOut(page: Page): Promise<void> {
  await page.locator('#logout').click();
  await page.locator('#login').waitFor({ state: 'visible' });
}

describeWithBrowser('sign-in: no lock-out, second factors', () => {
  let live: LiveServer;
  let browser: Browser;

  useLiveBrowser((s) => ({ live, browser } = s));

  async function responder(username: string) {
    const creds = await makeCredentials(p, username, PASSPHRASE);
    const db = live.server.database.db;
    await approveAccount(db, p, live.demo, await insertAccountDirectly(db, p, creds, 'responder'), [live.demo.teams[0]!.id]);
    return creds;
  }

  const post = async (path: string, body: unknown) => {
    const res = await fetch(new URL(path, live.server.triageUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as { error?: { code: string }; challenge?: string | null; effort?: number | null } };
  };

  it('[no lock-out] a third party hammering wrong passphrases at a name does not keep its owner out', async () => {
    await responder('target.one');
    // The third party: free failures, then refusals without work, then paid wrong attempts.
    for (let i = 0; i < FREE_FAILURES; i++) expect((await post('/api/v1/login', { username: 'target.one', verifier: base64urlEncode(p.randomBytes(32)) })).status).toBe(401);
    for (let i = 0; i < 20; i++) {
      const refused = await post('/api/v1/login', { username: 'target.one', verifier: base64urlEncode(p.randomBytes(32)) });
      expect(refused.json.error?.code).toBe('proof_required');
    }
    for (let i = 0; i < 3; i++) {
      const salt = await post('/api/v1/login/salt', { username: 'target.one' });
      const pow = loginProofFor({ challenge: salt.json.challenge!, effort: salt.json.effort! });
      expect((await post('/api/v1/login', { username: 'target.one', verifier: base64urlEncode(p.randomBytes(32)), pow })).status).toBe(401);
    }

    // The owner, in the dashboard: the page solves the challenge and signs in.
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const loginBodies: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/v1/login')) loginBodies.push(r.postData() ?? '');
    });
    await page.goto(live.server.triageUrl);
    await typeLogin(page, 'target.one', PASSPHRASE);
    await page.locator('#list').waitFor({ state: 'visible', timeout: 90_000 });
    expect(loginBodies).toHaveLength(1);
    // The page solved the v2 challenge at the effort the salt answer asked (PROTOCOL.md 22.3).
    expect(JSON.parse(loginBodies[0]!)).toMatchObject({ pow: { effort: expect.any(Number), nonce: expect.any(String) } });
    expect(JSON.parse(loginBodies[0]!).pow.effort).toBeGreaterThanOrEqual(1);
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('[second factor] the admin requires one; TOTP set up at sign-in, recovery codes once, a code and a recovery code each work once', async () => {
    const admin = await createRootAdmin(live.server.database.db, p, live.demo, 'admin.two');
    const adminContext = await browser.newContext({ locale: 'en-GB' });
    const adminPage = await adminContext.newPage();
    await adminPage.goto(live.server.triageUrl);
    await typeLogin(adminPage, admin.creds.username, admin.creds.passphrase);
    await adminPage.locator('#list').waitFor({ state: 'visible', timeout: 90_000 });
    await openAdminScreen(adminPage);
    await adminPage.locator('#adm-2fa-policy').selectOption('any');
    await adminPage.locator('#adm-2fa-save').click();
    await adminPage.locator('#adm-2fa-status', { hasText: 'every account needs a second factor' }).waitFor();
    await adminContext.close();

    await responder('totp.user');
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(live.server.triageUrl);

    // 1. Enrolment, forced by the policy: nothing opens before it.
    await typeLogin(page, 'totp.user', PASSPHRASE);
    await page.locator('#sf-enrol').waitFor({ state: 'visible', timeout: 90_000 });
    await page.locator('#sf-secret:not(:empty)').waitFor();
    expect(await page.locator('#sf-uri').textContent()).toMatch(/^otpauth:\/\/totp\/Haven:totp\.user\?/);
    const secret = new Uint8Array(Secret.fromBase32((await page.locator('#sf-secret').textContent())!.trim()).bytes);
    expect(await page.locator('#list').isHidden()).toBe(true);
    await page.locator('#sf-enrol-code').fill(TotpService.codeAt(secret, Date.now() + 20 * 60_000));
    await page.locator('#sf-enrol-submit').click();
    await page.locator('#sf-enrol-status', { hasText: 'wrong' }).waitFor();
    await page.locator('#sf-enrol-code').fill(TotpService.codeAt(secret, Date.now()));
    await page.locator('#sf-enrol-submit').click();
    await page.locator('#sf-codes').waitFor({ state: 'visible' });
    const codes = (await page.locator('#sf-codes-list li').allTextContents()).map((c) => c.trim());
    expect(codes).toHaveLength(10);
    for (const c of codes) expect(c).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
    await page.locator('#sf-codes-done').click();
    await page.locator('#list').waitFor({ state: 'visible', timeout: 60_000 });
    expect(await page.locator('#sf-codes-list li').count()).toBe(0);
    await signOut(page);

    // 2. A wrong code is refused; the next step's code opens the dashboard.
    await typeLogin(page, 'totp.user', PASSPHRASE);
    await page.locator('#sf-form').waitFor({ state: 'visible', timeout: 90_000 });
    const next = TotpService.codeAt(secret, Date.now() + 30_000);
    await page.locator('#sf-code').fill(next === '123456' ? '654321' : '123456');
    await page.locator('#sf-submit').click();
    await page.locator('#sf-status', { hasText: 'wrong' }).waitFor();
    await page.locator('#sf-code').fill(next);
    await page.locator('#sf-submit').click();
    await page.locator('#list').waitFor({ state: 'visible', timeout: 60_000 });
    await signOut(page);

    // 3. A recovery code works once.
    for (const expectOpen of [true, false]) {
      await typeLogin(page, 'totp.user', PASSPHRASE);
      await page.locator('#sf-form').waitFor({ state: 'visible', timeout: 90_000 });
      await page.locator('#sf-code').fill(codes[0]!);
      await page.locator('#sf-submit').click();
      if (expectOpen) {
        await page.locator('#list').waitFor({ state: 'visible', timeout: 60_000 });
        await signOut(page);
      } else {
        await page.locator('#sf-status', { hasText: 'wrong' }).waitFor();
        expect(await page.locator('#list').isHidden()).toBe(true);
      }
    }
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
