/**
 * The first-run setup page when the server refuses it: the message on screen must be the real
 * reason. An operator who follows the production configuration (HAVEN_BEHIND_TLS=true) and
 * opens the printed http://127.0.0.1 link gets a 403 for the page's Origin; the page used to
 * say "This setup link is wrong", which sent them looking for another link. A token the
 * server did not print still says "wrong link" (tests/first-run-browser.test.ts).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser } from './helpers/browser.ts';
import { describeWithBrowser } from './helpers/browser-suite.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const PASSPHRASE = 'copper lantern meadow violin';

describeWithBrowser('first-run setup refused by the server', () => {
  let browser: Browser;
  let child: ReturnType<typeof spawn>;
  let exited: Promise<unknown>;
  let out = '';
  let dataDir: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-firstrun-refused-'));
    // `npm start` as the first-run test starts it, with the production setting that matters here.
    child = spawn(process.execPath, [path.join(ROOT, 'api/build/start.mjs'), 'main'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HAVEN_DATA_DIR: dataDir, HAVEN_REQUESTER_PORT: '0', HAVEN_TRIAGE_PORT: '0', HAVEN_BEHIND_TLS: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    exited = new Promise((resolve) => child.on('exit', resolve));
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('over plain http with HAVEN_BEHIND_TLS=true: shows the server\'s reason, not "wrong link", and the link stays usable', { timeout: 180_000 }, async () => {
    await expect.poll(() => out, { timeout: 90_000 }).toContain('Press Ctrl+C');
    const link = /Setup link:\s+(\S+)/.exec(out)?.[1];
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#setup=[A-Za-z0-9_-]{43}$/);
    expect(out).toContain('HAVEN_BEHIND_TLS is true: open it through the triage site\'s HTTPS address');

    for (const [locale, reason, hint, wrong] of [
      ['en-GB', 'The server refused this page:', 'Open the setup link again at the triage site\'s https:// address', 'This setup link is wrong'],
      ['ru-RU', 'Сервер отказал этой странице:', 'Откройте ссылку настройки ещё раз', 'Эта ссылка настройки неверна'],
    ] as const) {
      const page = await (await browser.newContext({ locale })).newPage();
      await page.goto(link!);
      await page.locator('#setup').waitFor({ state: 'visible', timeout: 60_000 });
      await page.locator('#setup-org').fill('Example Hotline');
      await page.locator('#setup-username').fill('first.admin');
      await page.locator('#setup-passphrase').fill(PASSPHRASE);
      await page.locator('#setup-confirm').fill(PASSPHRASE);
      const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/setup'), { timeout: 120_000 });
      await page.locator('#setup-submit').click();
      expect((await answer).status()).toBe(403);
      const status = page.locator('#setup-status');
      await expect.poll(() => status.textContent(), { timeout: 30_000 }).toContain(reason);
      const text = (await status.textContent())!;
      // The server's own words (English: they come from the API) and our hint in the page's language.
      expect(text).toContain('the page was loaded over plain http but HAVEN_BEHIND_TLS is true');
      expect(text).toContain(hint);
      expect(text).not.toContain(wrong);
      expect(await status.getAttribute('class')).toContain('error');
      expect(await page.locator('#setup-submit').isDisabled()).toBe(false);
      await page.context().close();
    }

    // Nothing was used up: the token still answers as a valid one (a request without Origin
    // passes the Origin rule and stops at the body's fields).
    const token = link!.split('#setup=')[1]!;
    const probe = await fetch(new URL('/api/v1/setup', link!), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    expect(probe.status).toBe(400);
  });
});
