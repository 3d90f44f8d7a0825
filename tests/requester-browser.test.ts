/**
 * The requester page in headless Chromium: submit a request, get a passphrase, come back
 * with it, add a message; in English and Russian; with WebAssembly disabled; leaving no
 * cookie, storage, IndexedDB or service worker behind, and nothing but ciphertext stored.
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './helpers/browser.ts';
import { describeWithBrowser } from './helpers/browser-suite.ts';
import { startLiveServer, type LiveServer } from './helpers/live-server.ts';
import { passCheck } from './helpers/requester-page.ts';

const CANARY = 'CANARY-browser-91c2';

async function traces(page: Page) {
  return page.evaluate(async () => ({
    cookie: document.cookie,
    localStorage: localStorage.length,
    sessionStorage: sessionStorage.length,
    indexedDB: (await indexedDB.databases()).length,
    serviceWorkers: (await navigator.serviceWorker?.getRegistrations())?.length ?? 0,
    caches: (await caches.keys()).length,
  }));
}

async function submitRequest(page: Page, url: string, text: string, teamName: string) {
  await page.goto(url);
  await page.getByRole('radio', { name: teamName }).check();
  await page.locator('#message').fill(text);
  await page.locator('#contact').fill(`signal ${CANARY}`);
  await page.locator('#send').click();
  await page.locator('#sent').waitFor({ state: 'visible', timeout: 60_000 });
  return (await page.locator('#passphrase-out').textContent())!.trim();
}

for (const disableWasm of [false, true]) {
  describeWithBrowser(`requester page${disableWasm ? ' with WebAssembly disabled' : ''}`, () => {
    let live: LiveServer;
    let browser: Browser;

    beforeAll(async () => {
      live = await startLiveServer();
      browser = await launchBrowser({ disableWasm });
    }, 180_000);

    afterAll(async () => {
      await browser?.close();
      await live?.stop();
    }, 180_000);

    it('submits, shows the passphrase once, reads the thread back and adds a message, leaving no trace', async () => {
      const context = await browser.newContext({ locale: 'en-GB' });
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      if (disableWasm) expect(await page.evaluate(() => typeof WebAssembly)).toBe('undefined');

      const passphrase = await submitRequest(page, live.server.requesterUrl, `I need help ${CANARY}`, 'Legal help');
      expect(passphrase.split(' ')).toHaveLength(8);
      await passCheck(page, passphrase);
      await page.locator('#return').waitFor({ state: 'visible' });
      expect(await page.locator('#passphrase-out').textContent()).toBe('');

      // Case, extra spaces and punctuation are forgiven.
      await page.locator('#passphrase-in').fill(`  ${passphrase.toUpperCase().replace(/ /g, ',  ')}. `);
      await page.locator('#open').click();
      await page.locator('#thread').waitFor({ state: 'visible' });
      await expect.poll(() => page.locator('#messages li').count()).toBe(1);
      expect(await page.locator('#messages li').first().textContent()).toContain(`I need help ${CANARY}`);

      await page.locator('#followup').fill(`More details ${CANARY}`);
      await page.locator('#send-followup').click();
      await expect.poll(() => page.locator('#messages li').count(), { timeout: 60_000 }).toBe(2);

      expect(errors).toEqual([]);
      expect(await traces(page)).toEqual({ cookie: '', localStorage: 0, sessionStorage: 0, indexedDB: 0, serviceWorkers: 0, caches: 0 });
      const origin = new URL(live.server.requesterUrl).origin;
      expect(requests.filter((u) => !u.startsWith(origin))).toEqual([]);
      await context.close();

      // The database holds the request and the follow-up, and none of their text.
      const { db } = live.server.database;
      const dump = await sql<{ dump: string }>`
        select concat_ws('|', (select string_agg(r::text, '|') from requests r), (select string_agg(m::text, '|') from messages m)) as dump`.execute(db);
      expect(dump.rows[0]!.dump.length).toBeGreaterThan(1000);
      expect(dump.rows[0]!.dump).not.toContain(CANARY);
      expect(dump.rows[0]!.dump).not.toContain(Buffer.from(CANARY).toString('hex'));
      const kinds = await db.selectFrom('messages').select('kind').orderBy('position').execute();
      expect(kinds.map((k) => k.kind)).toEqual(['request', 'followup']);
      expect(live.logLines.join('\n')).not.toContain(CANARY);
    }, 120_000);

    it('speaks Russian to a Russian browser, with a Russian passphrase, and switches to English', async () => {
      const context = await browser.newContext({ locale: 'ru-RU' });
      const page = await context.newPage();
      await page.goto(live.server.requesterUrl);
      expect(await page.locator('h1').textContent()).toBe('Безопасно попросить о помощи');
      expect(await page.locator('html').getAttribute('lang')).toBe('ru');
      // Team names per language: the Russian page shows the team's Russian display name.
      const passphrase = await submitRequest(page, live.server.requesterUrl, 'Помогите', 'Медицинская помощь');
      expect(passphrase).toMatch(/^[а-я]+( [а-я]+){8}$/);
      await page.locator('#lang').click();
      expect(await page.locator('h1').textContent()).toBe('Ask for help safely');
      await context.close();
    }, 120_000);

    it('quick exit replaces the history entry with a neutral page', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.route('https://www.wikipedia.org/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<title>neutral</title>' }));
      await page.goto('about:blank');
      await page.goto(live.server.requesterUrl);
      await page.locator('#message').fill('secret text');
      await page.keyboard.press('Escape');
      await page.keyboard.press('Escape');
      await page.keyboard.press('Escape');
      await page.waitForURL('https://www.wikipedia.org/');
      expect(await page.evaluate(() => history.length)).toBe(2);
      await page.goBack();
      expect(page.url()).toBe('about:blank');
      await context.close();
    }, 120_000);
  });
}

describeWithBrowser('requester page with JavaScript off', () => {
  it('shows the labelled less protected form, which sends and gives a passphrase', { timeout: 120_000 }, async () => {
    const live = await startLiveServer();
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({ javaScriptEnabled: false, locale: 'en-GB' });
      const page = await context.newPage();
      await page.goto(live.server.requesterUrl);
      // Without script the quick exit still works: it is a plain link to the neutral site.
      expect(await page.getByRole('link', { name: 'Quick exit' }).getAttribute('href')).toBe('https://www.wikipedia.org/');
      // The static page links to the server-rendered forms.
      await page.getByRole('link', { name: 'Use the less protected form' }).click();
      expect(await page.locator('#ns-title').textContent()).toContain('less protected form');
      await page.getByRole('radio', { name: 'Evacuation' }).check();
      await page.locator('#ns-message').fill(`No script ${CANARY}`);
      await page.getByRole('button', { name: 'Encrypt and send' }).click();
      const passphrase = (await page.locator('#passphrase-out').textContent())!;
      expect(passphrase.split(' ')).toHaveLength(8);
      const dump = await sql<{ dump: string }>`select string_agg(m::text, '|') as dump from messages m`.execute(live.server.database.db);
      expect(dump.rows[0]!.dump).not.toContain(CANARY);
      await context.close();
    } finally {
      await browser.close();
      await live.stop();
    }
  });
});

describe('requester page security headers', () => {
  it('serves every asset with SRI, no-store and a CSP without inline script', async () => {
    const live = await startLiveServer();
    try {
      const res = await fetch(live.server.requesterUrl);
      const html = await res.text();
      expect(res.headers.get('cache-control')).toBe('no-store');
      const csp = res.headers.get('content-security-policy')!;
      const scripts0 = [...html.matchAll(/integrity="(sha384-[^"]+)"><\/script>/g)].map((m) => m[1]);
      // Scripts are allowed by hash, and only those of the built page.
      expect(csp).toContain(`script-src ${scripts0.map((h) => `'${h}'`).join(' ')};`);
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('wasm-unsafe-eval');
      const scripts = [...html.matchAll(/<script[^>]*>/g)].map((m) => m[0]);
      expect(scripts.length).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag).toMatch(/src="\/assets\/[^"]+" integrity="sha384-/);
      expect(html).not.toMatch(/<script>[^<]/);
      // Each script's bytes (gzip on the wire, decoded by fetch) match its SRI attribute.
      for (const tag of scripts) {
        const [, src, integrity] = /src="([^"]+)" integrity="([^"]+)"/.exec(tag)!;
        const asset = await fetch(new URL(src!, live.server.requesterUrl), { headers: { 'accept-encoding': 'gzip' } });
        expect(asset.headers.get('content-encoding')).toBe('gzip');
        const digest = createHash('sha384').update(Buffer.from(await asset.arrayBuffer())).digest('base64');
        expect(`sha384-${digest}`).toBe(integrity);
      }
      const manifest = (await (await fetch(new URL('/.well-known/haven-manifest.json', live.server.requesterUrl))).json()) as { files: Record<string, string> };
      expect(Object.keys(manifest.files).some((k) => k.includes('pow-worker'))).toBe(true);
    } finally {
      await live.stop();
    }
    // Room to start its own server on a loaded machine (it took 30 s at load 25).
  }, 120_000);
});


describe('requester page trust anchor', () => {
  it('[no key substitution] takes the root key from its own document, not from the API, and refuses keys certified by another root', async () => {
    const { loadSodiumPrimitives } = await import('../crypto/sodium.ts');
    const { createRootKey, rootFingerprint, signTeamKey } = await import('../crypto/v1/certs.ts');
    const { base64urlDecode, base64urlEncode } = await import('../crypto/encoding.ts');
    const p = await loadSodiumPrimitives();
    const live = await startLiveServer();
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({ locale: 'en-GB' });
      const page = await context.newPage();
      await page.goto(live.server.requesterUrl);
      await page.getByRole('radio', { name: 'Legal help' }).waitFor();
      expect(await page.locator('#fingerprint').textContent()).toContain(rootFingerprint(p, live.demo.root.publicKey));

      // A hostile server answers with its own root and team keys certified by it.
      const attacker = createRootKey(p);
      await page.route('**/api/v1/intake', async (route) => {
        const res = await route.fetch();
        const info = (await res.json()) as { organisation: { id: string }; rootPublicKey: string; rootFingerprint: string; teams: { id: string; certificate: string }[] };
        const orgId = base64urlDecode(info.organisation.id);
        info.rootPublicKey = base64urlEncode(attacker.publicKey);
        info.rootFingerprint = rootFingerprint(p, attacker.publicKey);
        for (const team of info.teams) {
          team.certificate = base64urlEncode(signTeamKey(p, attacker.seed, { orgId, teamId: base64urlDecode(team.id), epoch: 1, publicKey: p.x25519Keypair().publicKey }));
        }
        await route.fulfill({ response: res, json: info });
      });
      await page.reload();
      await page.locator('#fatal').waitFor({ state: 'visible' });
      expect(await page.locator('#fatal').textContent()).toContain('could not be verified');
      expect(await page.getByRole('radio').count()).toBe(0);
      expect(await page.locator('#send').isDisabled()).toBe(true);
      await context.close();
    } finally {
      await browser.close();
      await live.stop();
    }
  }, 120_000);
});
