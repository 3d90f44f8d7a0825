/**
 * What a server seizure finds: canary strings are submitted through the real requester UI
 * (with JavaScript and without), then the database is dumped (pg_dump on PostgreSQL, the raw
 * data directory on PGlite) and every log line is read. Zero canaries, zero IP addresses,
 * zero user agents.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.ts';
import { describeWithBrowser } from '../helpers/browser-suite.ts';
import { startLiveServer, type LiveServer } from '../helpers/live-server.ts';
import { passCheck } from '../helpers/requester-page.ts';

const CANARY = `CANARY${randomBytes(6).toString('hex')}`;
const USER_AGENT = `Mozilla/5.0 HavenProbe-${CANARY}`;
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/;

async function submitThroughUi(browser: Browser, live: LiveServer): Promise<void> {
  const withJs = await browser.newContext({ locale: 'en-GB', userAgent: USER_AGENT, extraHTTPHeaders: { 'X-Forwarded-For': '198.51.100.23' } });
  const page = await withJs.newPage();
  await page.goto(live.server.requesterUrl);
  await page.getByRole('radio', { name: 'Legal help' }).check();
  await page.locator('#message').fill(`js message ${CANARY}`);
  await page.locator('#contact').fill(`js contact ${CANARY}`);
  await page.locator('#send').click();
  await page.locator('#sent').waitFor({ state: 'visible', timeout: 60_000 });
  const passphrase = (await page.locator('#passphrase-out').textContent())!;
  await passCheck(page, passphrase);
  await page.locator('#passphrase-in').fill(passphrase);
  await page.locator('#open').click();
  await page.locator('#thread').waitFor({ state: 'visible' });
  await page.locator('#followup').fill(`js follow-up ${CANARY}`);
  await page.locator('#send-followup').click();
  await page.getByText('Your message was added.').waitFor({ timeout: 60_000 });
  await withJs.close();

  const noJs = await browser.newContext({ javaScriptEnabled: false, locale: 'en-GB', userAgent: USER_AGENT });
  const plain = await noJs.newPage();
  await plain.goto(live.server.requesterUrl);
  // The static page's <noscript> links to the server-rendered form, as a person would follow it.
  await plain.getByRole('link', { name: 'Use the less protected form' }).click();
  await plain.getByRole('radio', { name: 'Medical help' }).check();
  await plain.locator('#ns-message').fill(`no-js message ${CANARY}`);
  await plain.getByRole('button', { name: 'Encrypt and send' }).click();
  await plain.locator('#passphrase-out').waitFor();
  await noJs.close();
}

function expectClean(where: string, text: string): void {
  expect({ where, canary: text.includes(CANARY) }).toEqual({ where, canary: false });
  expect({ where, canaryHex: text.includes(Buffer.from(CANARY).toString('hex')) }).toEqual({ where, canaryHex: false });
  expect({ where, userAgent: /HavenProbe|Mozilla|HeadlessChrome/.test(text) }).toEqual({ where, userAgent: false });
}

describeWithBrowser('server seizure finds no canary, IP or user agent', () => {
  let browser: Browser;
  afterAll(async () => {
    await browser?.close();
  });

  it('on PGlite: the raw data directory and the logs', { timeout: 180_000 }, async () => {
    browser ??= await launchBrowser();
    const live = await startLiveServer();
    try {
      await submitThroughUi(browser, live);
      expect(await live.server.database.db.selectFrom('messages').select('id').execute()).toHaveLength(3);
      await live.server.stop();
      const files = fs.readdirSync(live.dataDir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name));
      expect(files.length).toBeGreaterThan(10);
      // Control: the scan does see row data (team names are stored in clear, by design).
      expect(files.some((f) => fs.readFileSync(f).toString('latin1').includes('Evacuation'))).toBe(true);
      for (const file of files) {
        const bytes = fs.readFileSync(file);
        const text = bytes.toString('latin1');
        expectClean(file, text);
        // PostgreSQL's own configuration files name loopback addresses; no data file may hold one.
        if (!/\.conf$/.test(file)) expect({ file, ip: IPV4.test(text.replace(/[^\x20-\x7e]/g, ' ')) }).toEqual({ file, ip: false });
      }
      const logs = live.logLines.join('\n');
      expect(live.logLines.length).toBeGreaterThan(5);
      expectClean('logs', logs);
      expect(IPV4.test(logs)).toBe(false);
    } finally {
      await live.stop();
    }
  });

  it('on PostgreSQL: pg_dump and the logs', { timeout: 180_000 }, async () => {
    const adminUrl = inject('postgresAdminUrl');
    if (!adminUrl) throw new Error('PostgreSQL is required for this test (see tests/global-setup.ts)');
    const name = `haven_canary_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    browser ??= await launchBrowser();
    const live = await startLiveServer({ DATABASE_URL: url.toString() });
    try {
      await submitThroughUi(browser, live);
      await live.server.stop();
      const full = execFileSync('pg_dump', ['--no-owner', url.toString()], { maxBuffer: 256 * 1024 * 1024 }).toString('latin1');
      expect(full).toContain('COPY public.messages');
      expect(full).toContain('Evacuation');
      expectClean('pg_dump', full);
      const data = execFileSync('pg_dump', ['--data-only', '--no-owner', url.toString()], { maxBuffer: 256 * 1024 * 1024 }).toString('latin1');
      expect(IPV4.test(data)).toBe(false);
      expectClean('logs', live.logLines.join('\n'));
    } finally {
      await live.stop();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
