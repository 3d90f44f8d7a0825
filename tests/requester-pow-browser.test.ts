/**
 * The requester page's proof of work in Chromium with the JIT and WebAssembly off (Tor
 * Browser's Safer level): a proof that the server finds too weak when it arrives (solved for a
 * challenge offered before the intake got busier, i.e. stockpiled) is answered 409
 * `proof_too_weak`, and the page solves a fresh challenge at the server's difficulty and sends
 * again, without the person doing anything.
 */
import type { Browser } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeWithBrowser, useLiveBrowser } from './helpers/browser-suite.ts';
import type { LiveServer } from './helpers/live-server.ts';

const FLOOR = 10;

describeWithBrowser('requester page proof of work (v2) with WebAssembly and the JIT off', () => {
  let live: LiveServer;
  let browser: Browser;

  useLiveBrowser((s) => ({ live, browser } = s), { env: { HAVEN_POW_DIFFICULTY: String(FLOOR) }, launch: { disableWasm: true } });

  it('solves a fresh challenge when the server answers proof_too_weak, and the request goes through', async () => {
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const offers: { difficulty: number; effort: number }[] = [];
    const sends: { status: number; code?: string; difficulty?: number }[] = [];
    page.on('response', async (r) => {
      if (new URL(r.url()).pathname !== '/api/v1/requests') return;
      const body = (await r.json().catch(() => ({}))) as { error?: { code: string; difficulty?: number } };
      sends.push({ status: r.status(), ...(body.error ? { code: body.error.code, difficulty: body.error.difficulty } : {}) });
    });
    // The first challenge the page gets says the intake wants no work at all: what a page would
    // have been told before a flood began. The server decides at submission, and wants FLOOR.
    let rewritten = false;
    await page.route('**/api/v1/pow/challenge', async (route) => {
      const res = await route.fetch();
      const json = (await res.json()) as { challenge: string; difficulty: number; effort: number };
      offers.push({ difficulty: json.difficulty, effort: json.effort });
      if (rewritten) return route.fulfill({ response: res, json });
      rewritten = true;
      return route.fulfill({ response: res, json: { ...json, difficulty: 0, effort: 0 } });
    });

    await page.goto(live.server.requesterUrl);
    expect(await page.evaluate(() => typeof WebAssembly)).toBe('undefined');
    await page.getByRole('radio', { name: 'Legal help' }).check();
    await page.locator('#message').fill('Please help');
    await page.locator('#send').click();
    await page.locator('#sent').waitFor({ state: 'visible', timeout: 120_000 });
    expect((await page.locator('#passphrase-out').textContent())!.trim().split(' ')).toHaveLength(8);

    expect(sends).toEqual([
      { status: 409, code: 'proof_too_weak', difficulty: FLOOR },
      { status: 201 },
    ]);
    expect(offers).toEqual([{ difficulty: FLOOR, effort: FLOOR }, { difficulty: FLOOR, effort: FLOOR }]);
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
