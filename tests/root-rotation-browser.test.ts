/**
 * Root key rotation end to end in Chromium (docs/PROTOCOL.md 14.6): an admin rotates the root in
 * the dashboard after confirming every fingerprint; the running server serves pages with the new
 * root at once; a responder's browser that pinned the OLD root signs in through the hand-over
 * chain, sees the old fingerprint named once, and still reads a request sent before the
 * rotation; the requester page takes a new request under the new root. A page whose root no
 * hand-over reaches stays refused (tests/adversarial/trust.test.ts covers that refusal).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { base64urlDecode as unb64 } from '../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { rootFingerprint } from '../crypto/v1/certs.ts';
import { followRootChain } from '../crypto/v2/root-handover.ts';
import { approveAccount, insertAccountDirectly } from './helpers/approve.ts';
import { launchBrowser } from './helpers/browser.ts';
import { describeWithBrowser } from './helpers/browser-suite.ts';
import { createRootAdmin, dashboardLogin, openAdminScreen, submitOnRequesterPage } from './helpers/dashboard.ts';
import { startLiveServer, type LiveServer } from './helpers/live-server.ts';
import { makeCredentials } from './helpers/responder-client.ts';

const p = await loadSodiumPrimitives();
const ADMIN_PASSPHRASE = 'admin passphrase for the browser tests';
const RESPONDER_PASSPHRASE = 'a responder passphrase for rotation';

async function embeddedRoot(url: string): Promise<Uint8Array> {
  const html = await (await fetch(url)).text();
  return unb64(/<meta name="haven-root-public-key" content="([^"]+)"/.exec(html)![1]!);
}

describeWithBrowser('root key rotation in the dashboard', () => {
  let live: LiveServer;
  let browser: Browser;
  const errors: string[] = [];

  beforeAll(async () => {
    live = await startLiveServer();
    browser = await launchBrowser();
    const db = live.server.database.db;
    const legal = live.demo.teams.find((x) => x.slug === 'legal')!;
    await createRootAdmin(db, p, live.demo, 'admin.one', [legal.id]);
    const responder = await insertAccountDirectly(db, p, await makeCredentials(p, 'legal.one', RESPONDER_PASSPHRASE), 'responder');
    await approveAccount(db, p, live.demo, responder, [legal.id]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await live?.stop();
  });

  async function newPage(): Promise<Page> {
    const page = await (await browser.newContext({ locale: 'en-GB' })).newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    return page;
  }

  it('[root rotation] the admin rotates in the browser; a dashboard pinned to the old root follows the hand-over; nothing is lost', async () => {
    const oldRoot = live.demo.root.publicKey;
    const oldFp = rootFingerprint(p, oldRoot);
    const requester = await newPage();
    await submitOnRequesterPage(requester, live.server.requesterUrl, 'sent before the rotation', 'Legal help');

    // The responder's browser pins the old root at its first sign-in.
    const responder = await newPage();
    await dashboardLogin(responder, live.server.triageUrl, 'legal.one', RESPONDER_PASSPHRASE);
    expect(await responder.locator('#root-fp').textContent()).toContain(oldFp);
    await responder.locator('#logout').click();
    await responder.locator('#login').waitFor({ state: 'visible' });

    // The admin rotates: the dialog lists every active account's fingerprint; nothing is signed before the box is ticked.
    const admin = await newPage();
    await dashboardLogin(admin, live.server.triageUrl, 'admin.one', ADMIN_PASSPHRASE);
    await openAdminScreen(admin);
    await admin.locator('#adm-root-rotate').click();
    const dialog = admin.locator('#adm-dialog');
    await dialog.waitFor({ state: 'visible' });
    const body = (await admin.locator('#adm-dialog-body').textContent()) ?? '';
    for (const name of ['admin.one', 'legal.one']) expect(body).toContain(name);
    expect(await admin.locator('#adm-dialog-ok').isDisabled()).toBe(true);
    await admin.locator('#adm-dialog-check').check();
    await admin.locator('#adm-dialog-ok').click();
    await expect.poll(() => admin.locator('#adm-root-rotation-status').textContent(), { timeout: 60_000 }).toContain('The root key was rotated');
    const shownNewFp = /New fingerprint: ([^.]+)\./.exec((await admin.locator('#adm-root-rotation-status').textContent())!)![1]!;

    // The running server now serves pages with the new root, and publishes the hand-over.
    const newRoot = await embeddedRoot(live.server.triageUrl);
    expect(rootFingerprint(p, newRoot)).toBe(shownNewFp);
    expect(await embeddedRoot(live.server.requesterUrl)).toEqual(newRoot);
    const listed = (await (await fetch(`${live.server.triageUrl}api/v1/root-handovers`)).json()) as { organisationId: string; handovers: string[] };
    expect(followRootChain(p, { orgId: unb64(listed.organisationId), pinnedRoot: oldRoot, targetRoot: newRoot, handovers: listed.handovers.map(unb64) })).toHaveLength(1);

    // The responder's browser, still pinned to the old root, follows the chain and reads on.
    await responder.goto(live.server.triageUrl);
    await dashboardLogin(responder, live.server.triageUrl, 'legal.one', RESPONDER_PASSPHRASE);
    const rootLine = (await responder.locator('#root-fp').textContent()) ?? '';
    expect(rootLine).toContain(shownNewFp);
    expect(rootLine).toContain(oldFp);
    expect(rootLine).toContain('replaced by a root rotation');
    await expect.poll(() => responder.locator('#rows li').count()).toBe(1);
    expect(await responder.locator('#rows li').first().textContent()).toContain('sent before the rotation');
    expect(await responder.evaluate(() => localStorage.getItem('haven.triage.root-pin.v1'))).toBe(Buffer.from(newRoot).toString('base64url'));

    // The requester page encrypts to team keys signed by the new root.
    await submitOnRequesterPage(requester, live.server.requesterUrl, 'sent after the rotation', 'Legal help');
    await responder.reload();
    await dashboardLogin(responder, live.server.triageUrl, 'legal.one', RESPONDER_PASSPHRASE);
    await expect.poll(() => responder.locator('#rows li').count(), { timeout: 30_000 }).toBe(2);
    expect((await responder.locator('#root-fp').textContent()) ?? '').not.toContain('replaced by a root rotation');
    expect(errors).toEqual([]);
  }, 300_000);
});
