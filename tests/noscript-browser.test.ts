/**
 * The no-JavaScript path in headless Chromium with JavaScript disabled, on PGlite and (when the
 * run has it) PostgreSQL: a reload or a double click never makes a second request nor shows the
 * passphrase again and no passphrase enters a URL; the Russian pages have no English frame and
 * the quick exit is a link that works; a returning requester reads a reply and adds a follow-up
 * that the team's reader verifies.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { MessageKind } from '../crypto/v1/message.ts';
import { NOSCRIPT_STRINGS, STRINGS } from '../crypto/requester-i18n.ts';
import { launchBrowser } from './helpers/browser.ts';
import { describeWithBrowser } from './helpers/browser-suite.ts';
import { startLiveServer, type LiveServer } from './helpers/live-server.ts';
import { addTeamReply, teamView } from './helpers/noscript-fixtures.ts';
import { openNoJsThread, sendNoJsFollowUp, sendNoJsRequest } from './helpers/requester-page.ts';
import { createPostgresDatabase } from './helpers/test-database.ts';

const ENGLISH = [...Object.values(STRINGS.en), ...Object.values(NOSCRIPT_STRINGS.en)].filter((s) => s.trim().length > 0);
const NEUTRAL_TEXT = 'a neutral page';

/** Every URL the page requested or showed, to prove no passphrase was ever in one. */
function watchUrls(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  page.on('framenavigated', (f) => urls.push(f.url()));
  return urls;
}

function expectNotInUrls(urls: string[], passphrase: string): void {
  const forms = [passphrase, encodeURIComponent(passphrase), passphrase.replace(/ /g, '+'), passphrase.split(' ')[0]!];
  for (const url of urls) for (const form of forms) expect(decodeURIComponent(url)).not.toContain(form);
}

/** The page's visible words and the attributes a person meets, minus organisation data. */
async function frameText(page: Page): Promise<string> {
  const html = await page.content();
  return [
    await page.title(),
    ...[...html.matchAll(/(?:placeholder|aria-label|title|alt)="([^"]*)"/g)].map((m) => m[1]!),
    html
      .replace(/<span class="team-name">[^<]*<\/span>/g, '')
      .replace(/<a [^>]*lang="en"[^>]*>[^<]*<\/a>/g, '')
      .replace(/<(script|style)[\s\S]*?<\/\1>/g, '')
      .replace(/<[^>]+>/g, ' ')
      .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
      .replace(/&amp;/g, '&'),
  ].join('\n');
}

async function expectRussian(page: Page): Promise<void> {
  expect(await page.locator('html').getAttribute('lang')).toBe('ru');
  const text = await frameText(page);
  for (const phrase of ENGLISH) expect(text, `${page.url()}: ${phrase}`).not.toContain(phrase);
  const latin = (text.match(/[A-Za-z]{3,}/g) ?? []).filter((w) => !['JavaScript', 'Tor', 'Browser', 'Signal', 'Telegram'].includes(w));
  expect(latin, page.url()).toEqual([]);
}

const engines: ('pglite' | 'postgres')[] = inject('postgresAdminUrl') ? ['pglite', 'postgres'] : ['pglite'];

for (const engine of engines) {
  describeWithBrowser(`no-JavaScript path in Chromium [${engine}]`, () => {
    let live: LiveServer;
    let browser: Browser;
    let neutral: http.Server;
    let neutralUrl: string;
    let dropDatabase: (() => Promise<void>) | undefined;
    let attackPage = '';

    beforeAll(async () => {
      // The quick exit's neutral site; on another origin, it also plays the hostile site.
      neutral = http.createServer((req, res) => {
        if (req.url === '/attack') return res.writeHead(200, { 'content-type': 'text/html' }).end(attackPage);
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>neutral</title><p>${NEUTRAL_TEXT}</p>`);
      });
      await new Promise<void>((resolve) => neutral.listen(0, '127.0.0.1', resolve));
      neutralUrl = `http://127.0.0.1:${(neutral.address() as AddressInfo).port}/`;
      const env: Record<string, string> = { HAVEN_QUICK_EXIT_URL: neutralUrl };
      if (engine === 'postgres') {
        const created = await createPostgresDatabase(inject('postgresAdminUrl')!);
        env.DATABASE_URL = created.url;
        dropDatabase = () => created.drop();
      }
      live = await startLiveServer(env);
      browser = await launchBrowser();
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await live?.stop();
      await dropDatabase?.();
      await new Promise((resolve) => neutral?.close(resolve));
    }, 180_000);

    const db = () => live.server.database.db;
    const base = () => live.server.requesterUrl.replace(/\/$/, '');
    const counts = async () => ({
      requests: (await db().selectFrom('requests').select('id').execute()).length,
      followUps: (await db().selectFrom('messages').select('id').where('kind', '=', 'followup').execute()).length,
    });
    const noJs = (locale: string): Promise<BrowserContext> => browser.newContext({ javaScriptEnabled: false, locale });

    it('[reload, double submit] one request per form; a reload shows "already sent" and never the passphrase', { timeout: 120_000 }, async () => {
      await db().deleteFrom('messages').execute();
      await db().deleteFrom('requests').execute();
      const context = await noJs('en-GB');
      try {
        const page = await context.newPage();
        const urls = watchUrls(page);
        await sendNoJsRequest(page, base(), 'legal', 'reload me');
        const passphrase = (await page.locator('#passphrase-out').textContent())!.trim();
        expect(passphrase.split(' ')).toHaveLength(8);
        expect(new URL(page.url()).pathname).toBe('/plain/request');
        expect(await counts()).toEqual({ requests: 1, followUps: 0 });

        // Reload re-sends the same POST body: nothing new, and the passphrase is not shown again.
        const reloaded = await page.reload();
        expect(reloaded?.request().method()).toBe('POST');
        await page.locator('#ns-fresh').waitFor();
        expect(await page.content()).not.toContain(passphrase);
        expect(await page.locator('main').innerText()).toContain(NOSCRIPT_STRINGS.en.alreadySent);
        expect(await counts()).toEqual({ requests: 1, followUps: 0 });

        // A double click on a fresh form: still exactly one more request.
        await sendNoJsRequest(page, base(), 'medical', 'double click', 'dblclick');
        expect(await counts()).toEqual({ requests: 2, followUps: 0 });
        await page.reload();
        await page.locator('#ns-fresh').waitFor();
        expect(await counts()).toEqual({ requests: 2, followUps: 0 });

        // The same form sent twice by the browser (as a "Back" that restores a cached form
        // would): the server sees two POSTs with one token and makes one request.
        await page.goto(`${base()}/plain`);
        const cachedForm = await page.content();
        await page.route(`${base()}/plain`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: cachedForm }));
        for (let i = 0; i < 2; i++) {
          await page.goto(`${base()}/plain`);
          await page.locator('input[name="team"][value="legal"]').check();
          await page.locator('#ns-message').fill('sent from a cached form');
          await page.locator('#ns-send').click();
          await page.locator(i === 0 ? '#passphrase-out' : '#ns-fresh').waitFor();
        }
        await page.unroute(`${base()}/plain`);
        expect(await counts()).toEqual({ requests: 3, followUps: 0 });
        expectNotInUrls(urls, passphrase);
      } finally {
        await context.close();
      }
    });

    it('[translated frame, quick exit] the Russian pages have no English frame; the quick exit link leaves', { timeout: 120_000 }, async () => {
      await db().deleteFrom('messages').execute();
      await db().deleteFrom('requests').execute();
      const context = await noJs('ru-RU');
      try {
        const page = await context.newPage();
        await page.goto(`${base()}/plain`);
        await expectRussian(page);
        await page.locator('input[name="team"][value="legal"]').check();
        await page.locator('#ns-message').fill('помогите');
        await page.getByRole('button', { name: STRINGS.ru.send }).click();
        const passphrase = (await page.locator('#passphrase-out').textContent())!.trim();
        await expectRussian(page);
        await page.reload();
        await page.locator('#ns-fresh').waitFor();
        await expectRussian(page);

        await addTeamReply(db(), live.demo, passphrase, 'ответ команды');
        await openNoJsThread(page, base(), passphrase, STRINGS.ru.open);
        await page.getByText('ответ команды').waitFor();
        await expectRussian(page);
        await sendNoJsFollowUp(page, 'ещё сообщение', passphrase, NOSCRIPT_STRINGS.ru.followUpSend);
        await page.getByText(STRINGS.ru.added).first().waitFor();
        await expectRussian(page);

        // The quick exit is a plain link: it works with no script at all.
        const exit = page.getByRole('link', { name: STRINGS.ru.quickExit });
        expect(await exit.getAttribute('href')).toBe(neutralUrl);
        await exit.click();
        await page.getByText(NEUTRAL_TEXT).waitFor();
        expect(page.url()).toBe(neutralUrl);
      } finally {
        await context.close();
      }
    });

    it('[cross-site POST] a form on another site, with a valid token, is refused with a readable page', { timeout: 120_000 }, async () => {
      await db().deleteFrom('messages').execute();
      await db().deleteFrom('requests').execute();
      // The hostile site fetched a genuine form token from /plain itself and serves a look-alike form.
      const form = await (await fetch(`${base()}/plain`)).text();
      const token = /name="form" value="([^"]+)"/.exec(form)![1]!;
      attackPage = `<!doctype html><title>win a prize</title><form method="post" action="${base()}/plain/request">
        <input type="hidden" name="form" value="${token}"><input type="hidden" name="team" value="legal">
        <input type="hidden" name="message" value="sent by another site"><input type="hidden" name="lang" value="ru">
        <button id="go">go</button></form>`;
      const context = await noJs('en-GB');
      try {
        const page = await context.newPage();
        // localhost and 127.0.0.1 are different sites.
        await page.goto(neutralUrl.replace('127.0.0.1', 'localhost') + 'attack');
        const [response] = await Promise.all([page.waitForNavigation(), page.locator('#go').click()]);
        expect(response?.status()).toBe(403);
        await page.getByText(NOSCRIPT_STRINGS.ru.refused).waitFor();
        await expectRussian(page);
        expect(await counts()).toEqual({ requests: 0, followUps: 0 });
        // The same token still works from the site's own form: nothing was spent.
        await sendNoJsRequest(page, base(), 'legal', 'from the real form');
        expect(await counts()).toEqual({ requests: 1, followUps: 0 });
      } finally {
        await context.close();
      }
    });

    it('[no-JS return] reads the reply, adds a follow-up the team verifies, and a reload adds nothing', { timeout: 120_000 }, async () => {
      await db().deleteFrom('messages').execute();
      await db().deleteFrom('requests').execute();
      const context = await noJs('en-GB');
      try {
        const page = await context.newPage();
        const urls = watchUrls(page);
        await sendNoJsRequest(page, base(), 'evacuation', 'first message');
        const passphrase = (await page.locator('#passphrase-out').textContent())!.trim();
        await addTeamReply(db(), live.demo, passphrase, 'We can help, reply here.');

        await openNoJsThread(page, base(), passphrase, STRINGS.en.open);
        const thread = page.locator('#ns-thread');
        await thread.getByText('We can help, reply here.').waitFor();
        expect(await thread.locator('li.from-team .who').textContent()).toBe(STRINGS.en.fromTeam);
        // The weaker path is labelled, and the page does not carry the passphrase.
        expect(await page.locator('#ns-followup-warning').textContent()).toBe(NOSCRIPT_STRINGS.en.followUpWarning);
        expect(await page.content()).not.toContain(passphrase);

        await sendNoJsFollowUp(page, 'Thank you, I am safe for now.', passphrase, NOSCRIPT_STRINGS.en.followUpSend);
        await page.getByRole('heading', { name: STRINGS.en.added }).waitFor();
        await page.locator('#ns-thread').getByText('Thank you, I am safe for now.').waitFor();
        expect(await counts()).toEqual({ requests: 1, followUps: 1 });

        await page.reload();
        await page.getByRole('heading', { name: NOSCRIPT_STRINGS.en.followUpAlreadyTitle }).waitFor();
        expect(await counts()).toEqual({ requests: 1, followUps: 1 });

        const view = await teamView(db(), live.demo);
        expect(view.entries.map((e) => (e.status === 'unverified' ? 'unverified' : `${e.status}:${e.kind}`))).toEqual([
          `verified:${MessageKind.request}`, `verified:${MessageKind.reply}`, `verified:${MessageKind.followup}`,
        ]);
        const followUp = view.entries[2]!;
        expect(followUp.status === 'verified' && followUp.text).toBe('Thank you, I am safe for now.');
        expectNotInUrls(urls, passphrase);
      } finally {
        await context.close();
      }
    });
  });
}
