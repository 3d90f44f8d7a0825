/**
 * The notification opt-in in the real dashboard (headless Chromium, live server): a responder
 * reads what an e-mail would reveal, sets an address, a request for their team arrives and the
 * running server turns it into a pending flag on its own, a batch sends the one fixed e-mail to
 * a local SMTP server, a refused address is explained, opting out deletes it, and signing out
 * leaves no address on the page.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { base64urlDecode, base64urlEncode } from '../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { createLogger } from '../api/logger.ts';
import { smtpMailerFactory } from '../api/notifications/mailer.ts';
import { runNotifyBatch } from '../api/notifications/notifier.service.ts';
import { approveAccount, insertAccountDirectly } from './helpers/approve.ts';
import { launchBrowser } from './helpers/browser.ts';
import { describeWithBrowser } from './helpers/browser-suite.ts';
import { startLiveServer, type LiveServer } from './helpers/live-server.ts';
import { makeCredentials } from './helpers/responder-client.ts';
import { lookupTokenHash, proofFor, requestBody, requesterKeys, sealRequest } from './helpers/requester-client.ts';
import { SmtpSink } from './helpers/smtp-sink.ts';

const p = await loadSodiumPrimitives();
const ADDRESS = 'responder.one@responders.example';
const FROM = 'haven@hotline.example';
const SECRET = 'b7'.repeat(32);

describeWithBrowser('notification opt-in in the dashboard', () => {
  let live: LiveServer;
  let browser: Browser;
  let sink: SmtpSink;

  beforeAll(async () => {
    sink = await new SmtpSink().start();
    live = await startLiveServer({
      HAVEN_SMTP_URL: `smtp://127.0.0.1:${sink.port}`, HAVEN_SMTP_REQUIRE_TLS: 'false', HAVEN_NOTIFY_FROM: FROM, HAVEN_SERVER_SECRET: SECRET,
      // The server's own schedule never fires during the test: the test runs the batch.
      HAVEN_NOTIFY_INTERVAL_MINUTES: '1440',
    });
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await live?.stop();
    await sink?.stop();
  }, 180_000);

  it('[content-free notifications] opts in, is e-mailed once for a new request, opts out, and leaves no address behind', async () => {
    const { db } = live.server.database;
    const legal = live.demo.teams.find((x) => x.slug === 'legal')!;
    const creds = await makeCredentials(p, 'notify.one');
    const id = await insertAccountDirectly(db, p, creds, 'responder');
    await approveAccount(db, p, live.demo, id, [legal.id]);

    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await page.goto(live.server.triageUrl);
    await page.locator('#login-username').fill(creds.username);
    await page.locator('#login-passphrase').fill(creds.passphrase);
    await page.locator('#login-submit').click();
    await page.locator('#list').waitFor({ state: 'visible', timeout: 60_000 });

    await page.locator('#notify-button').click();
    await expect.poll(() => page.locator('#notify-state').textContent(), { timeout: 30_000 }).toBe('No notifications: nothing is sent to you.');
    expect(await page.locator('#notify-dialog').textContent()).toContain('that you work for this hotline');

    // An address the browser accepts but the server does not: explained, nothing stored.
    await page.locator('#notify-address').fill('someone@localhost');
    await page.locator('#notify-save').click();
    await expect.poll(() => page.locator('#notify-state').textContent(), { timeout: 30_000 }).toBe('Enter one plain e-mail address, such as name@example.org.');
    expect(await db.selectFrom('notification_subscriptions').selectAll().execute()).toEqual([]);

    await page.locator('#notify-address').fill(ADDRESS);
    await page.locator('#notify-save').click();
    await expect.poll(() => page.locator('#notify-state').textContent(), { timeout: 30_000 }).toBe(`Notifications go to ${ADDRESS}.`);
    expect(await db.selectFrom('notification_subscriptions').select('pending').execute()).toEqual([{ pending: false }]);

    // A request for the team, through the requester API of the running server.
    const keys = await requesterKeys(p, 'notify browser passphrase words here', live.demo.organisationId);
    const challengeRes = await fetch(new URL('/api/v1/pow/challenge', live.server.requesterUrl));
    const challenge = base64urlDecode(((await challengeRes.json()) as { challenge: string }).challenge);
    const submitted = await fetch(new URL('/api/v1/requests', live.server.requesterUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        envelope: base64urlEncode(sealRequest(p, live.demo, legal, keys, requestBody('browser notify test', keys))),
        lookupHash: base64urlEncode(lookupTokenHash(p, keys.lookupToken)), pow: proofFor(p, challenge),
      }),
    });
    expect(submitted.status).toBe(201);
    // The server's watch writes the flag on its own, about a second later.
    await expect.poll(async () => (await db.selectFrom('notification_subscriptions').select('pending').executeTakeFirst())?.pending, { timeout: 30_000 }).toBe(true);

    const lines: string[] = [];
    const result = await runNotifyBatch({
      db, crypto: p, serverSecret: Uint8Array.from(Buffer.from(SECRET, 'hex')), watch: null,
      mailer: smtpMailerFactory({ smtpUrl: `smtp://127.0.0.1:${sink.port}`, smtpRequireTls: false, from: FROM, intervalMinutes: 1440, dashboardUrl: null }),
      logger: createLogger('debug', (line) => lines.push(line)),
    });
    expect(result).toMatchObject({ sent: 1, failed: 0 });
    expect(sink.recipients()).toEqual([ADDRESS]);

    await page.locator('#notify-clear').click();
    await expect.poll(() => page.locator('#notify-state').textContent(), { timeout: 30_000 }).toBe('Stopped. Your address was deleted.');
    expect(await db.selectFrom('notification_subscriptions').selectAll().execute()).toEqual([]);
    await page.locator('#notify-address').fill(ADDRESS);
    await page.locator('#notify-close').click();

    await page.locator('#logout').click();
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await page.locator('#notify-address').inputValue()).toBe('');
    expect(await page.content()).not.toContain(ADDRESS);
    expect([...live.logLines, ...lines].join('\n')).not.toContain('responders.example');
    await context.close();
  }, 120_000);
});
