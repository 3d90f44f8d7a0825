/**
 * The first run as a newcomer lives it, all in Chromium against Haven started exactly as
 * `npm start` starts it (`node api/build/start.mjs main`: the built server in dist/, no tsx) on
 * an empty data directory: the setup link is read from the
 * server's stdout, the first admin and a team are created in the browser (keys made there,
 * the root fingerprint shown), then, with no restart and no other command, a request is sent
 * on the requester page and the admin reads it decrypted in the triage view.
 *
 * With HAVEN_SCREENSHOTS=1 it also writes the README's three screenshots to docs/screenshots/
 * (request form, passphrase screen, triage view); without it the files are left alone, so a
 * test run never dirties the tree.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser } from './helpers/browser.ts';
import { describeWithBrowser } from './helpers/browser-suite.ts';
import { dashboardLogin } from './helpers/dashboard.ts';

interface Haven {
  child: ReturnType<typeof spawn>;
  stdout: () => string;
  exited: Promise<number | null>;
  requesterUrl: string;
  triageUrl: string;
}

const ROOT = path.resolve(import.meta.dirname, '..');

/** `npm start` on an empty data directory; resolves once both URLs are printed. */
async function npmStart(dataDir: string): Promise<Haven> {
  const child = spawn(process.execPath, [path.join(ROOT, 'api/build/start.mjs'), 'main'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HAVEN_DATA_DIR: dataDir, HAVEN_REQUESTER_PORT: '0', HAVEN_TRIAGE_PORT: '0', HAVEN_POW_DIFFICULTY: '8' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (;;) {
    const requester = /Requester site:\s+(\S+)/.exec(out);
    const triage = /Triage dashboard:\s+(\S+)/.exec(out);
    if (requester && triage) return { child, stdout: () => out, exited, requesterUrl: requester[1]!, triageUrl: triage[1]! };
    if (child.exitCode !== null) throw new Error(`npm start exited early (${child.exitCode}): ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const SCREENSHOTS = process.env.HAVEN_SCREENSHOTS === '1' ? path.resolve(import.meta.dirname, '../docs/screenshots') : null;
const ADMIN = 'first.admin';
const PASSPHRASE = 'copper lantern meadow violin';
const REQUEST = 'My brother was detained yesterday and we need a lawyer. Please contact me through Signal.';

async function shot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

describeWithBrowser('first run in the browser', () => {
  let browser: Browser;
  let haven: Haven;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-firstrun-browser-'));
    haven = await npmStart(dataDir);
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (haven && haven.child.exitCode === null) {
      haven.child.kill('SIGTERM');
      await haven.exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('setup link -> admin and team made in the browser -> a request -> read decrypted, no restart', { timeout: 300_000 }, async () => {
    await expect.poll(() => haven.stdout(), { timeout: 30_000 }).toContain('Setup link:');
    const link = /Setup link:\s+(\S+)/.exec(haven.stdout())?.[1];
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#setup=[A-Za-z0-9_-]{43}$/);
    const token = link!.split('#setup=')[1]!;

    // 0. A token this server did not print: the page says the link is wrong (and only then;
    // a refused origin shows the server's reason: tests/first-run-refused-browser.test.ts).
    const stranger = await (await browser.newContext({ locale: 'en-GB' })).newPage();
    await stranger.goto(`${haven.triageUrl}#setup=${'A'.repeat(43)}`);
    await stranger.locator('#setup').waitFor({ state: 'visible' });
    await stranger.locator('#setup-org').fill('Example Hotline');
    await stranger.locator('#setup-username').fill(ADMIN);
    await stranger.locator('#setup-passphrase').fill(PASSPHRASE);
    await stranger.locator('#setup-confirm').fill(PASSPHRASE);
    await stranger.locator('#setup-submit').click();
    await expect.poll(() => stranger.locator('#setup-status').textContent(), { timeout: 120_000 })
      .toBe('This setup link is wrong. Use the link printed on the server\'s console.');
    await stranger.context().close();

    // 1. The setup view: the token leaves the address bar at once.
    const admin = await (await browser.newContext({ locale: 'en-GB', viewport: { width: 1100, height: 800 } })).newPage();
    // Every request the page makes: the token may travel in one POST body and nowhere else.
    const sent: { url: string; headers: string; body: string | null }[] = [];
    admin.on('request', (r) => sent.push({ url: r.url(), headers: JSON.stringify(r.headers()), body: r.postData() }));
    await admin.goto(link!);
    await admin.locator('#setup').waitFor({ state: 'visible' });
    expect(admin.url()).not.toContain(token);
    await admin.locator('#setup-org').fill('Example Hotline');
    await admin.locator('#setup-username').fill(ADMIN);
    await admin.locator('#setup-passphrase').fill(PASSPHRASE);
    await admin.locator('#setup-confirm').fill(PASSPHRASE);
    await admin.locator('#setup-teams').fill('Legal aid\nMedical help');
    await admin.locator('#setup-submit').click();
    await admin.locator('#setup-root-fp').waitFor({ state: 'visible', timeout: 120_000 });
    const rootFp = (await admin.locator('#setup-root-fp').textContent())!;
    expect(rootFp).toMatch(/^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
    // The console says the same fingerprint (computed from the key the server now serves).
    await expect.poll(() => haven.stdout(), { timeout: 30_000 }).toContain(`Root key fingerprint: ${rootFp}`);
    expect(haven.stdout().split(token).length - 1).toBe(1); // printed once, as the link, never logged

    expect(sent.filter((r) => r.url.includes(token) || r.headers.includes(token)).map((r) => r.url)).toEqual([]);
    expect(sent.filter((r) => r.body?.includes(token)).map((r) => new URL(r.url).pathname)).toEqual(['/api/v1/setup']);

    // The link is dead now.
    const again = await fetch(new URL('/api/v1/setup', haven.triageUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    expect(again.status).toBe(409);

    // 2. No restart: the requester page embeds the new root and takes a request.
    const requester = await (await browser.newContext({ locale: 'en-GB', viewport: { width: 900, height: 900 } })).newPage();
    await requester.goto(haven.requesterUrl);
    await requester.getByRole('radio', { name: 'Legal aid' }).waitFor({ timeout: 60_000 });
    expect(await requester.locator('#not-set-up').count()).toBe(0);
    expect(await requester.locator('#fingerprint').textContent()).toContain(rootFp);
    await requester.getByRole('radio', { name: 'Legal aid' }).check();
    await requester.locator('#message').fill(REQUEST);
    await shot(requester, 'request-form');
    await requester.locator('#send').click();
    await requester.locator('#sent').waitFor({ state: 'visible', timeout: 120_000 });
    const passphrase = (await requester.locator('#passphrase-out').textContent())!.trim();
    expect(passphrase.split(' ').length).toBeGreaterThanOrEqual(5);
    await shot(requester, 'passphrase');

    // 3. The admin continues to sign in on the re-rendered dashboard and reads it decrypted.
    await admin.locator('#setup-continue').click();
    await dashboardLogin(admin, haven.triageUrl, ADMIN, PASSPHRASE);
    expect(await admin.locator('#root-fp').textContent()).toContain(rootFp);
    await expect.poll(() => admin.locator('#rows li').count(), { timeout: 60_000 }).toBe(1);
    expect(await admin.locator('#rows li').first().textContent()).toContain('Legal aid');
    await admin.locator('#rows li button').first().click();
    await admin.locator('#detail').waitFor({ state: 'visible' });
    await expect.poll(() => admin.locator('#thread li').count()).toBe(1);
    expect(await admin.locator('#thread li').first().textContent()).toContain(REQUEST);
    await shot(admin, 'triage-view');
  });
});
