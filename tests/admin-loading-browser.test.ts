/**
 * Two slips a new operator made on the Admin screen (operator report, 2026-11-30), in headless
 * Chromium against a live server:
 *
 * - "Review and sign" pressed while the screen was still loading did nothing at all (the one
 *   admin step at a time was the screen's own load, so the click was dropped). The load is held
 *   here by a proxy that delays one of its answers: meanwhile the button must say "Loading…"
 *   and be disabled, and once the load ends it must work. The dialog's box is ticked by
 *   clicking the box itself, not only its text.
 * - An invitation with no team ticked: allowed (teams can be given later) but confirmed first,
 *   since the person would see an empty list; cancelling creates nothing.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { launchBrowser } from './helpers/browser.ts';
import { describeWithBrowser } from './helpers/browser-suite.ts';
import { createRootAdmin, dashboardLogin, openAdminScreen } from './helpers/dashboard.ts';
import { startHostileProxy, type HostileProxy } from './helpers/hostile-proxy.ts';
import { startLiveServer, type LiveServer } from './helpers/live-server.ts';

const p = await loadSodiumPrimitives();
const ADMIN_PASSPHRASE = 'admin passphrase for the browser tests';

describeWithBrowser('admin dashboard: nothing is silently dropped', () => {
  let live: LiveServer;
  let browser: Browser;
  let proxy: HostileProxy;

  beforeAll(async () => {
    live = await startLiveServer();
    browser = await launchBrowser();
    proxy = await startHostileProxy(live.server.triageUrl);
    const legal = live.demo.teams.find((x) => x.slug === 'legal')!;
    await createRootAdmin(live.server.database.db, p, live.demo, 'admin.one', [legal.id]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await proxy?.stop();
    await live?.stop();
  });

  const status = async (page: Page) => (await page.locator('#adm-status').textContent()) ?? '';

  it('"Review and sign" shows "Loading…" (disabled) while the screen loads, then signs; the box ticks by clicking it', { timeout: 240_000 }, async () => {
    await live.server.database.db.deleteFrom('site_manifest_signatures').execute();
    // The Admin screen's load waits for this answer until the test lets it through.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = false;
    proxy.rewriteAnswers(async (x) => {
      if (x.method === 'GET' && x.url === '/api/v1/admin/retention') {
        holding = true;
        await held;
      }
      return undefined;
    });

    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await dashboardLogin(page, proxy.url, 'admin.one', ADMIN_PASSPHRASE);
    await page.locator('#manifest-badge').waitFor({ state: 'visible', timeout: 30_000 });
    await openAdminScreen(page);
    const card = page.locator('#adm-manifests li.card', { hasText: 'Triage dashboard' });
    await card.getByText('needs signing', { exact: true }).waitFor({ timeout: 30_000 });
    await expect.poll(() => holding, { timeout: 30_000 }).toBe(true);

    const review = card.getByRole('button', { name: 'Review and sign: Triage dashboard' });
    expect(await review.textContent()).toBe('Loading…');
    expect(await review.isDisabled()).toBe(true);
    expect(await review.getAttribute('aria-busy')).toBe('true');

    release();
    await expect.poll(() => review.textContent(), { timeout: 30_000 }).toBe('Review and sign');
    expect(await review.isEnabled()).toBe(true);
    await review.click();
    const dialog = page.locator('#adm-dialog');
    await dialog.waitFor({ state: 'visible', timeout: 60_000 });
    const ok = page.locator('#adm-dialog-ok');
    expect(await ok.isDisabled()).toBe(true);

    // The box itself, clicked where it is drawn (a real pointer click, not a scripted check()).
    const box = (await page.locator('#adm-dialog-check').boundingBox())!;
    expect(box.width).toBeGreaterThanOrEqual(16);
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    expect(await page.locator('#adm-dialog-check').isChecked()).toBe(true);
    expect(await ok.isEnabled()).toBe(true);
    // Its text toggles it too, and the OK button follows.
    await page.locator('#adm-dialog-check-text').click();
    expect(await page.locator('#adm-dialog-check').isChecked()).toBe(false);
    expect(await ok.isDisabled()).toBe(true);
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    expect(await ok.isEnabled()).toBe(true);
    await ok.click();
    await expect.poll(() => status(page), { timeout: 30_000 }).toBe('The manifest of the Triage dashboard is signed.');
    expect(proxy.seen.filter((s) => s.method === 'PUT' && s.url === '/api/v1/admin/site-manifest').map((s) => s.status)).toEqual([200]);
    expect(errors).toEqual([]);
    proxy.rewriteAnswers(null);
    await context.close();
  });

  it('an invitation with no team ticked is confirmed first; cancelling creates nothing, a team ticked asks nothing', { timeout: 180_000 }, async () => {
    const { db } = live.server.database;
    const invitations = async () => (await db.selectFrom('invitations').select('code_hash').execute()).length;
    const before = await invitations();
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await dashboardLogin(page, live.server.triageUrl, 'admin.one', ADMIN_PASSPHRASE);
    await openAdminScreen(page);
    await page.locator('#adm-retention-now:not(:empty)').waitFor({ timeout: 60_000 });
    const dialog = page.locator('#adm-dialog');

    await page.locator('#adm-inv-create').click();
    await dialog.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.locator('#adm-dialog-title').textContent()).toBe('Invite without a team?');
    expect(await page.locator('#adm-dialog-body').textContent()).toContain('will see no requests until an admin adds them to a team');
    await page.locator('#adm-dialog-cancel').click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.locator('#adm-inv-result').isHidden()).toBe(true);
    expect(await invitations()).toBe(before);

    // A warning, not a refusal: confirmed, it is created.
    await page.locator('#adm-inv-create').click();
    await dialog.waitFor({ state: 'visible', timeout: 30_000 });
    await page.locator('#adm-dialog-ok').click();
    await page.locator('#adm-inv-result').waitFor({ state: 'visible', timeout: 60_000 });
    expect(await invitations()).toBe(before + 1);

    // With a team ticked nothing is asked.
    await page.locator('#adm-inv-teams-list').getByLabel('Legal help').check();
    await page.locator('#adm-inv-create').click();
    await expect.poll(invitations, { timeout: 60_000 }).toBe(before + 2);
    expect(await dialog.isVisible()).toBe(false);
    await context.close();
  });
});
