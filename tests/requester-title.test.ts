/**
 * [device keeps nothing telling] The requester pages' tab title and history entry: neutral by
 * default ("Notes" / "Заметки", never what the page is for), on the JavaScript page and the
 * no-JavaScript pages alike, and configurable by the operator (HAVEN_REQUESTER_TITLE), because
 * what looks ordinary on a seized phone differs by country and language.
 */
import type { Hono } from 'hono';
import { expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../api/config.ts';
import { describeWithBrowser, useLiveBrowser } from './helpers/browser-suite.ts';
import type { LiveServer } from './helpers/live-server.ts';
import { createTestApps, seedDemoOrganisation } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import type { Browser } from 'playwright-core';

const titleOf = (html: string) => /<title>([^<]*)<\/title>/.exec(html)?.[1];

describeEachDatabase('requester page title', (t) => {
  async function pages(env: Record<string, string> = {}) {
    const demo = await seedDemoOrganisation(t.db);
    const app = createTestApps(t.db, { rootPublicKey: demo.root.publicKey, sites: true, env }).requester as unknown as Hono;
    const get = async (path: string) => (await app.request(path)).text();
    return { js: await get('/'), plain: await get('/plain'), plainRu: await get('/plain?lang=ru') };
  }

  it('[device keeps nothing telling] is neutral by default on every requester page, in both languages', async () => {
    const { js, plain, plainRu } = await pages();
    expect([titleOf(js), titleOf(plain), titleOf(plainRu)]).toEqual(['Notes', 'Notes', 'Заметки']);
    expect(js).not.toContain('haven-page-title');
    // The heading still says what the page is for; only the tab and the history entry are neutral.
    expect(plain).toContain('<h1>Ask for help safely</h1>');
  });

  it('takes the operator\'s title, escaped, in <title> and in the meta tag the page script keeps', async () => {
    const { js, plain, plainRu } = await pages({ HAVEN_REQUESTER_TITLE: 'Recipes & <b>notes</b>' });
    const escaped = 'Recipes &#38; &#60;b&#62;notes&#60;/b&#62;';
    expect(titleOf(js)).toBe(escaped);
    expect(js).toContain(`<meta name="haven-page-title" content="${escaped}">`);
    expect(titleOf(plain)).toBe(escaped);
    expect(titleOf(plainRu)).toBe(titleOf(plain));
  });
});

it('refuses a title that is too long or has control characters, naming the setting; empty means the neutral default', () => {
  expect(loadConfig({ HAVEN_MODE: 'test', HAVEN_REQUESTER_TITLE: '   ' }).requesterTitle).toBeNull();
  for (const bad of ['x'.repeat(61), 'two\nlines']) {
    expect(() => loadConfig({ HAVEN_MODE: 'test', HAVEN_REQUESTER_TITLE: bad })).toThrow(ConfigError);
    expect(() => loadConfig({ HAVEN_MODE: 'test', HAVEN_REQUESTER_TITLE: bad })).toThrow(/HAVEN_REQUESTER_TITLE/);
  }
  expect(loadConfig({ HAVEN_MODE: 'test', HAVEN_REQUESTER_TITLE: '  Рецепты  ' }).requesterTitle).toBe('Рецепты');
});

describeWithBrowser('requester page title in Chromium', () => {
  let live: LiveServer;
  let browser: Browser;
  useLiveBrowser((s) => ({ live, browser } = s), { env: { HAVEN_REQUESTER_TITLE: 'Рецепты бабушки' } });

  it('[device keeps nothing telling] the tab shows the configured title after the script ran, in either language', async () => {
    for (const locale of ['en-GB', 'ru-RU']) {
      const context = await browser.newContext({ locale });
      const page = await context.newPage();
      await page.goto(live.server.requesterUrl);
      await page.locator('#send').waitFor({ state: 'visible' });
      expect(await page.title()).toBe('Рецепты бабушки');
      await context.close();
    }
  }, 120_000);
});
