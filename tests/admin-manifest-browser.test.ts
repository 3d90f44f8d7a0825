/**
 * Signing the site manifests from the Admin screen, in headless Chromium against a live
 * server: the seeded manifests verify; a key renewal makes the panel say the pages change at
 * the next restart; after the "restart" (pages rendered with the new serial floor) both
 * manifests are unsigned and `verifySite` (npm run verify-site) fails; the admin signs in,
 * sees "needs signing" in the header, reviews and signs both sites; verifySite passes again.
 *
 * Adversarial half, through a hostile proxy in front of the triage site (the operator or
 * whoever seized the server): the manifest listed to the browser names another root, or lists
 * a hash the served file does not have (a triage file the page fetches itself, a requester
 * file it fetches through the admin endpoint). The browser refuses each by name and sends no
 * PUT; with the proxy faithful again it signs through the same proxy.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { base64urlEncode as b64 } from '../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { createRootKey, rootFingerprint } from '../crypto/v1/certs.ts';
import { unixHour } from '../crypto/v2/constants.ts';
import { manifestFromJson, manifestSigningBytes } from '../crypto/v2/site-manifest.ts';
import { signTeamKeyStatement, TEAM_KEY_DEFAULT_LIFETIME_HOURS } from '../crypto/v2/team-key.ts';
import { verifySite } from '../api/verify-site/verify-site.ts';
import { launchBrowser } from './helpers/browser.ts';
import { describeWithBrowser } from './helpers/browser-suite.ts';
import { createRootAdmin, dashboardLogin, openAdminScreen } from './helpers/dashboard.ts';
import { rewriteJson, startHostileProxy, type HostileProxy } from './helpers/hostile-proxy.ts';
import { startLiveServer, type LiveServer } from './helpers/live-server.ts';
import { createHash } from 'node:crypto';

const p = await loadSodiumPrimitives();
const ADMIN_PASSPHRASE = 'admin passphrase for the browser tests';
const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

type Overview = { sites: { site: string; served: { files: Record<string, string>; rootPublicKey: string; signature: string | null; v: 2; site: string }; manifestSha256: string; signed: boolean }[]; pagesOutdated: boolean };

describeWithBrowser('admin dashboard: site manifests', () => {
  let live: LiveServer;
  let browser: Browser;
  let proxy: HostileProxy;

  beforeAll(async () => {
    live = await startLiveServer();
    browser = await launchBrowser();
    proxy = await startHostileProxy(live.server.triageUrl);
    const legal = live.demo.teams.find((x) => x.slug === 'legal')!;
    await createRootAdmin(live.server.database.db, p, live.demo, 'admin.one', [legal.id]);
  });

  afterAll(async () => {
    await browser?.close();
    await proxy?.stop();
    await live?.stop();
  });

  const root = () => live.demo.root.publicKey;
  const status = async (page: Page) => (await page.locator('#adm-status').textContent()) ?? '';
  const card = (page: Page, name: string) => page.locator('#adm-manifests li.card', { hasText: name });

  /** Opens the Admin screen and waits for its first load (retention is drawn once it is done). */
  async function openAdmin(page: Page): Promise<void> {
    await openAdminScreen(page);
    await page.locator('#adm-retention-now:not(:empty)').waitFor({ timeout: 30_000 });
  }

  /** Clicks Reload and waits until it is done (one admin step runs at a time; a click meanwhile is dropped). */
  async function reload(page: Page): Promise<void> {
    await page.evaluate(() => document.getElementById('announce')!.replaceChildren());
    await page.locator('#adm-reload').click();
    await page.locator('#announce', { hasText: 'Admin data reloaded.' }).waitFor({ timeout: 30_000 });
  }

  /** Reviews and signs one site's manifest in the panel, checking what the dialog shows. */
  async function signInPanel(page: Page, label: string): Promise<void> {
    await card(page, label).getByRole('button', { name: `Review and sign: ${label}` }).click();
    const dialog = page.locator('#adm-dialog');
    await dialog.waitFor({ state: 'visible', timeout: 60_000 });
    expect(await page.locator('#adm-dialog-title').textContent()).toBe(`Sign the manifest of the ${label}?`);
    const body = (await page.locator('#adm-dialog-body').textContent()) ?? '';
    expect(body).toContain(rootFingerprint(p, root()));
    expect(body).toMatch(/\d+ files\./);
    expect(await page.locator('#adm-dialog-ok').isDisabled()).toBe(true);
    await page.locator('#adm-dialog-check').check();
    await page.locator('#adm-dialog-ok').click();
    await expect.poll(() => status(page), { timeout: 30_000 }).toBe(`The manifest of the ${label} is signed.`);
  }

  it('[served code is checkable] after a key renewal and a restart, the admin signs both manifests and verify-site passes', { timeout: 240_000 }, async () => {
    const { db } = live.server.database;
    for (const url of [live.server.requesterUrl, live.server.triageUrl]) expect(await verifySite(url, root())).toMatchObject({ ok: true });

    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await dashboardLogin(page, live.server.triageUrl, 'admin.one', ADMIN_PASSPHRASE);
    await openAdmin(page);
    await card(page, 'Triage dashboard').getByText('signed', { exact: true }).waitFor({ timeout: 30_000 });
    expect(await page.locator('#manifest-badge').isHidden()).toBe(true);

    // A renewal of Legal's key (as another admin's browser would make it): serial 2, same key.
    const legal = live.demo.teams.find((x) => x.slug === 'legal')!;
    const issuedHour = unixHour(Date.now());
    const statement = signTeamKeyStatement(p, live.demo.root.seed, {
      orgId: live.demo.organisationId, teamId: legal.id, epoch: legal.epoch, serial: 2, issuedHour, expiresHour: issuedHour + TEAM_KEY_DEFAULT_LIFETIME_HOURS, publicKey: legal.publicKey,
    });
    await db.updateTable('team_epochs').set({ certificate: statement }).where('team_id', '=', legal.id).where('state', '=', 'current').execute();
    await reload(page);
    await page.locator('#adm-manifests-outdated').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.locator('#adm-manifests-outdated').textContent()).toContain('The pages will change at the next restart; sign the site manifests then.');
    expect(await page.locator('#manifest-badge').textContent()).toBe('sign site manifests after the next restart');

    // The restart: the pages carry Legal's new serial floor, so both manifests change, unsigned.
    await live.server.renderPages(root());
    const unsigned = await verifySite(live.server.requesterUrl, root());
    expect(unsigned).toMatchObject({ ok: false, problem: 'the manifest is not signed (no admin has signed this build)' });

    // Signing in again: "needs signing" in the header, on the request list already.
    await page.goto(live.server.triageUrl);
    await dashboardLogin(page, live.server.triageUrl, 'admin.one', ADMIN_PASSPHRASE);
    await page.locator('#manifest-badge').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.locator('#manifest-badge').textContent()).toBe('site manifest needs signing');
    await openAdmin(page);
    for (const label of ['Requester site', 'Triage dashboard']) await card(page, label).getByText('needs signing', { exact: true }).waitFor({ timeout: 30_000 });
    expect(await page.locator('#adm-manifests-outdated').isHidden()).toBe(true);
    expect(await card(page, 'Requester site').textContent()).toContain('fetched through this server');

    await signInPanel(page, 'Triage dashboard');
    expect(await page.locator('#manifest-badge').isVisible()).toBe(true); // the requester's is still unsigned
    await signInPanel(page, 'Requester site');
    expect(await page.locator('#manifest-badge').isHidden()).toBe(true);

    for (const url of [live.server.requesterUrl, live.server.triageUrl]) {
      const result = await verifySite(url, root());
      expect(result).toMatchObject({ ok: true, rootFingerprint: rootFingerprint(p, root()) });
    }
    expect(errors).toEqual([]);
    await context.close();
  });

  it('[adversarial] refuses to sign a manifest naming another root or listing a hash the served file does not have; no PUT goes out', { timeout: 240_000 }, async () => {
    const { db } = live.server.database;
    await db.deleteFrom('site_manifest_signatures').execute();
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await dashboardLogin(page, proxy.url, 'admin.one', ADMIN_PASSPHRASE);
    await page.locator('#manifest-badge').waitFor({ state: 'visible', timeout: 30_000 });
    await openAdmin(page);
    await card(page, 'Triage dashboard').getByText('needs signing', { exact: true }).waitFor({ timeout: 30_000 });

    /** The proxy changes one site's listed manifest (keeping it self-consistent: a careful liar recomputes the hash). */
    const lie = (site: string, change: (m: Overview['sites'][number]['served']) => void) =>
      proxy.rewriteAnswers((x) =>
        x.method === 'GET' && x.url === '/api/v1/admin/site-manifests'
          ? rewriteJson<Overview>(x, (j) => {
              const entry = j.sites.find((s) => s.site === site)!;
              change(entry.served);
              entry.manifestSha256 = sha256Hex(manifestSigningBytes(manifestFromJson(entry.served)));
              return j;
            })
          : undefined,
      );
    const puts = () => proxy.seen.filter((s) => s.method === 'PUT' && s.url.startsWith('/api/v1/admin/site-manifest'));
    const other = createRootKey(p).publicKey;
    const cases: { site: string; label: string; change: (m: Overview['sites'][number]['served']) => void; refusal: RegExp }[] = [
      { site: 'triage', label: 'Triage dashboard', change: (m) => void (m.rootPublicKey = b64(other)), refusal: /^The manifest names another organisation key than this page\./ },
      {
        site: 'triage', label: 'Triage dashboard',
        change: (m) => void (m.files[Object.keys(m.files).find((f) => f.endsWith('.js'))!] = 'ab'.repeat(32)),
        refusal: /^The file \/assets\/\S+\.js differs from the manifest\. Nothing was signed\./,
      },
      {
        site: 'requester', label: 'Requester site',
        change: (m) => void (m.files['/'] = 'cd'.repeat(32)),
        refusal: /^The file \/ differs from the manifest\. Nothing was signed\./,
      },
    ];
    for (const c of cases) {
      lie(c.site, c.change);
      const before = proxy.seen.length;
      await card(page, c.label).getByRole('button', { name: `Review and sign: ${c.label}` }).click();
      await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(c.refusal);
      expect(await page.locator('#adm-dialog').isVisible()).toBe(false);
      expect(proxy.seen.slice(before).some((s) => s.url === '/api/v1/admin/site-manifests')).toBe(true);
      expect(puts()).toEqual([]);
      // The server still serves both unsigned.
      for (const url of [live.server.requesterUrl, live.server.triageUrl]) expect(await verifySite(url, root())).toMatchObject({ ok: false });
      proxy.rewriteAnswers(null);
      await reload(page);
      await card(page, c.label).getByRole('button', { name: `Review and sign: ${c.label}` }).waitFor();
    }

    // Control: the same proxy, faithful, and the same browser signs.
    await signInPanel(page, 'Triage dashboard');
    expect(puts().map((s) => s.status)).toEqual([200]);
    expect(await verifySite(proxy.url, root())).toMatchObject({ ok: true });
    await context.close();
  });
});
