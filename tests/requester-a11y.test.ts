/**
 * Accessibility of every requester screen, by axe-core (the standard accessibility engine)
 * injected into the page: no serious or critical violation on the form, while sending, on the
 * sent screen (with the Back warning and the two-word check and its error), on return (with its
 * "not found" error), on the thread (with status), and on the fatal error, in English and
 * Russian, light and dark.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeWithBrowser, useLiveBrowser } from './helpers/browser-suite.ts';
import type { LiveServer } from './helpers/live-server.ts';
import { openThread, passCheck, readPassphrase } from './helpers/requester-page.ts';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Finding {
  id: string;
  impact: string;
  nodes: string[];
}

/**
 * Runs axe on the page as it is now. Injected with `evaluate` (DevTools protocol), not a script
 * tag: the page's CSP allows only its own scripts, and must stay that way under test.
 */
async function seriousViolations(page: Page, screen: string): Promise<{ screen: string; found: Finding[] }> {
  const found = await page.evaluate(async (source) => {
    if (!(window as unknown as { axe?: unknown }).axe) (0, eval)(source);
    const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: { id: string; impact: string | null; nodes: { target: string[]; failureSummary?: string }[] }[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact!, nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`) }));
  }, AXE_SOURCE);
  return { screen, found };
}

describeWithBrowser('requester page accessibility (axe)', () => {
  let live: LiveServer;
  let browser: Browser;

  useLiveBrowser((s) => ({ live, browser } = s));

  for (const locale of ['en-GB', 'ru-RU']) {
    for (const colorScheme of ['light', 'dark'] as const) {
      it(`has no serious or critical violation on any screen (${locale}, ${colorScheme})`, async () => {
        const context = await browser.newContext({ locale, colorScheme });
        const page = await context.newPage();
        const results: { screen: string; found: Finding[] }[] = [];
        await page.goto(live.server.requesterUrl);
        const team = page.getByRole('radio').first();
        await team.waitFor();
        expect(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(colorScheme === 'dark');
        results.push(await seriousViolations(page, 'form'));

        await page.locator('#send').click();
        results.push(await seriousViolations(page, 'form with an error'));
        await team.check();
        await page.locator('#message').fill('accessibility check');

        // Sending: the submission is held so the locked form and its progress are on screen.
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        let arrived = false;
        await page.route('**/api/v1/requests', async (route) => {
          arrived = true;
          await held;
          await route.continue();
        });
        await page.locator('#send').click();
        await expect.poll(() => arrived, { timeout: 90_000 }).toBe(true);
        results.push(await seriousViolations(page, 'sending'));
        release();
        const passphrase = await readPassphrase(page);
        results.push(await seriousViolations(page, 'sent'));

        await page.goBack({ waitUntil: 'commit' }).catch(() => null);
        await page.locator('#sent-warning').waitFor({ state: 'visible' });
        results.push(await seriousViolations(page, 'sent, after Back'));

        await page.locator('#written').click();
        await page.locator('#check-a').fill('x');
        await page.locator('#check').click();
        await page.locator('#check-status:not(:empty)').waitFor();
        results.push(await seriousViolations(page, 'two-word check, wrong words'));

        await passCheck(page, passphrase);
        await page.locator('#return').waitFor({ state: 'visible' });
        results.push(await seriousViolations(page, 'return'));
        await page.locator('#passphrase-in').fill('not the passphrase');
        await page.locator('#open').click();
        await page.locator('#return-status.error').waitFor({ timeout: 60_000 });
        results.push(await seriousViolations(page, 'return, not found'));

        await openThread(page, passphrase);
        await page.locator('#request-status:not(:empty)').waitFor();
        results.push(await seriousViolations(page, 'thread'));

        // The fatal error: the service cannot be reached.
        await page.route('**/api/v1/intake', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":{"code":"unavailable","message":"x"}}' }));
        await page.reload();
        await page.locator('#fatal').waitFor({ state: 'visible' });
        results.push(await seriousViolations(page, 'fatal error'));

        expect(results.map((r) => r.screen)).toHaveLength(10);
        expect(results.filter((r) => r.found.length > 0)).toEqual([]);
        await context.close();
      }, 240_000);
    }
  }
});
