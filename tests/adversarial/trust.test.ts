/**
 * Adversarial-server tests of the staff side's trust (Protocol v2): a hostile proxy
 * (tests/helpers/hostile-proxy.ts) sits between Chromium and a live Haven, playing whoever
 * runs or seized the server, and rewrites what the admin dashboard is told. The dashboard
 * must trust only the root embedded in its own page (pinned on first use), sign only the role
 * and teams of a verified invitation statement, seal the root seed only to accounts it verified
 * as admins, and verify the audit log with keys from root-verified certificates.
 */
import { sql } from 'kysely';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { base64urlDecode as unb64, base64urlEncode as b64 } from '../../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { createRootKey, rootFingerprint, signTeamKey } from '../../crypto/v1/certs.ts';
import { signAuditHash } from '../../crypto/v1/audit.ts';
import { approveAccount, insertAccountDirectly } from '../helpers/approve.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { describeWithBrowser } from '../helpers/browser-suite.ts';
import { createRootAdmin, dashboardLogin, openAdminScreen } from '../helpers/dashboard.ts';
import { rewriteJson, startHostileProxy, type HostileProxy, type ProxiedExchange } from '../helpers/hostile-proxy.ts';
import { insertSignedInvitation, type Inviter } from '../helpers/invite.ts';
import { startLiveServer, type LiveServer } from '../helpers/live-server.ts';
import { makeCredentials } from '../helpers/responder-client.ts';

const p = await loadSodiumPrimitives();
const PASSPHRASE = 'admin passphrase for the browser tests';

// API answers are rewritten field by field; a declared type per answer would restate the API.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see the line above
type Json = Record<string, any>;

describeWithBrowser('adversarial server: staff-side trust', () => {
  let live: LiveServer;
  let proxy: HostileProxy;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let inviter: Inviter;
  const fakeRoot = createRootKey(p);
  const errors: string[] = [];

  const db = () => live.server.database.db;
  const team = (slug: string) => live.demo.teams.find((x) => x.slug === slug)!;
  const status = async () => (await page.locator('#adm-status').textContent()) ?? '';
  const posted = (path: string) => proxy.seen.filter((s) => s.method === 'POST' && s.url.includes(path)).length;

  /** Rewrites one account in GET /api/v1/admin/accounts answers. */
  function rewriteAccount(id: Uint8Array, change: (a: Json) => Json): void {
    proxy.rewriteAnswers((ex) =>
      ex.method === 'GET' && ex.url.startsWith('/api/v1/admin/accounts')
        ? rewriteJson<{ accounts: Json[] }>(ex, (j) => ({ accounts: j.accounts.map((a) => (a.id === b64(id) ? change(a) : a)) }))
        : undefined,
    );
  }

  /** A pending account with a real, signed invitation (as if enrolled through the link). */
  async function pendingAccount(name: string, role: 'responder' | 'admin', teamIds: Uint8Array[]): Promise<Uint8Array> {
    const creds = await makeCredentials(p, name);
    const id = await insertAccountDirectly(db(), p, creds, role);
    await insertSignedInvitation(db(), p, inviter, { accountId: id, role, teamIds });
    return id;
  }

  beforeAll(async () => {
    live = await startLiveServer();
    proxy = await startHostileProxy(live.server.triageUrl);
    browser = await launchBrowser();
    const legal = team('legal');
    const admin = await createRootAdmin(db(), p, live.demo, 'admin.one', [legal.id]);
    inviter = { id: admin.id, ed25519Seed: admin.creds.ed25519Seed, orgId: live.demo.organisationId };
    context = await browser.newContext({ locale: 'en-GB' });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await proxy?.stop();
    await live?.stop();
  });

  it('[root from the page] a swapped root key (and a team key it signed) in API answers is ignored: the embedded root rules', async () => {
    const legal = team('legal');
    const fakeTeamCert = signTeamKey(p, fakeRoot.seed, { orgId: live.demo.organisationId, teamId: legal.id, epoch: legal.epoch, publicKey: p.x25519Keypair().publicKey });
    proxy.rewriteAnswers((ex: ProxiedExchange) => {
      if (ex.method !== 'GET') return undefined;
      if (ex.url.startsWith('/api/v1/teams')) {
        return rewriteJson<Json>(ex, (j) => ({
          ...j,
          rootPublicKey: b64(fakeRoot.publicKey),
          rootFingerprint: rootFingerprint(p, fakeRoot.publicKey),
          teams: j.teams.map((t: Json) => (t.id === b64(legal.id) ? { ...t, certificate: b64(fakeTeamCert) } : t)),
        }));
      }
      if (ex.url.startsWith('/api/v1/admin/root-wrap')) return rewriteJson<Json>(ex, (j) => ({ ...j, rootPublicKey: b64(fakeRoot.publicKey) }));
      return undefined;
    });
    await dashboardLogin(page, proxy.url, 'admin.one', PASSPHRASE);
    const shown = (await page.locator('#root-fp').textContent()) ?? '';
    expect(shown).toContain(rootFingerprint(p, live.demo.root.publicKey));
    expect(shown).not.toContain(rootFingerprint(p, fakeRoot.publicKey));
    // The team key the fake root signed does not verify against the embedded root.
    expect(await page.locator('#keys-warning').isVisible()).toBe(true);
    await openAdminScreen(page);
    // The genuine root wrap still opens: checked against the embedded root, not the answer's.
    expect(await page.locator('#adm-root-status').textContent()).toContain('open on this device');
    proxy.rewriteAnswers(null);
  }, 120_000);

  it('[approval binds what the admin saw] escalated role or teams in the accounts listing: the browser refuses and signs nothing', async () => {
    const legal = team('legal');
    const medical = team('medical');
    const id = await pendingAccount('legal.new', 'responder', [legal.id]);
    const attacks: [string, (a: Json) => Json, RegExp][] = [
      ['role and teams escalated in the listing', (a) => ({ ...a, role: 'admin', invitedTeamIds: [b64(legal.id), b64(medical.id)] }), /differs from the invitation an admin signed/],
      [
        'the statement bytes edited to say admin (and the listing to match)',
        (a) => {
          const bytes = unb64(a.invitation.statement);
          bytes[34] = 2; // the role byte: 0x02 | 0x13 | orgId(16) | invitationId(16) | role
          return { ...a, role: 'admin', invitation: { ...a.invitation, statement: b64(bytes) } };
        },
        /does not verify against the organisation key/,
      ],
    ];
    for (const [what, change, message] of attacks) {
      rewriteAccount(id, change);
      await page.locator('#adm-reload').click();
      const card = page.locator('#adm-pending li.card', { hasText: 'legal.new' });
      await card.waitFor();
      await expect.poll(() => card.locator('.trust-problem').textContent(), { message: what }).toMatch(message);
      await card.getByLabel('I compared this fingerprint with the person').check();
      await card.getByRole('button', { name: 'Approve legal.new' }).click();
      await expect.poll(status, { message: what, timeout: 30_000 }).toMatch(message);
      expect(await status()).toContain('Nothing was signed');
      expect(posted('/approve')).toBe(0);
      expect((await db().selectFrom('accounts').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('pending');
    }
    // The faithful listing: the card shows what the statement says, and approval goes through.
    proxy.rewriteAnswers(null);
    await page.locator('#adm-reload').click();
    const card = page.locator('#adm-pending li.card', { hasText: 'legal.new' });
    await expect.poll(() => card.locator('.signed-invitation').textContent()).toBe('Signed invitation: responder; teams: Legal help');
    await card.getByLabel('I compared this fingerprint with the person').check();
    await card.getByRole('button', { name: 'Approve legal.new' }).click();
    await expect.poll(status, { timeout: 30_000 }).toContain('legal.new is approved');
    expect(posted('/approve')).toBe(1);
    const row = await db().selectFrom('accounts').select(['status', 'role']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'active', role: 'responder' });
  }, 180_000);

  it('[root seed only to verified admins] a responder listed as an admin is refused: no root wrap is sent', async () => {
    const legal = team('legal');
    const id = await pendingAccount('legal.grab', 'responder', [legal.id]);
    await approveAccount(db(), p, live.demo, id, [legal.id]);
    rewriteAccount(id, (a) => ({ ...a, role: 'admin', hasRootWrap: false }));
    await page.locator('#adm-reload').click();
    const card = page.locator('#adm-accounts li.card', { hasText: 'legal.grab' });
    await card.getByRole('button', { name: 'Make admin: legal.grab' }).click();
    await expect.poll(status, { timeout: 30_000 }).toMatch(/is not an admin whose certificate and invitation verify here/);
    expect(await page.locator('#adm-dialog').evaluate((d) => (d as HTMLDialogElement).open)).toBe(false);
    expect(posted('/admins')).toBe(0);
    expect(await db().selectFrom('root_wraps').select('account_id').where('account_id', '=', id).execute()).toHaveLength(0);
    proxy.rewriteAnswers(null);
  }, 120_000);

  it('[audit keys from certificates] a database writer swaps an admin\'s key and re-signs the chain: the audit view shows broken at that entry', async () => {
    // Two more entries (the approval above made the first), so the re-signed ones are not simply the first.
    for (const days of ['45', '60']) {
      await page.locator('#adm-retention').fill(days);
      await page.locator('#adm-retention-save').click();
      await expect.poll(status, { timeout: 30_000 }).toContain(`after ${days} days`);
    }
    const count = (await sql<{ n: number }>`select count(*)::int as n from audit_log`.execute(db())).rows[0]!.n;
    expect(count).toBeGreaterThanOrEqual(2);
    await page.locator('#adm-audit-verify').click();
    await expect.poll(() => page.locator('#adm-audit-result').textContent(), { timeout: 30_000 }).toMatch(new RegExp(`^Verified: ${count} entries`));
    // The writer has no root seed: it replaces the stored key and re-signs the newest two
    // entries with its own (hashes and links stay intact; the listing now shows its key too).
    const from = count - 1;
    const forger = p.ed25519KeypairFromSeed(p.randomBytes(32));
    await db().updateTable('accounts').set({ sign_public_key: forger.publicKey }).where('id', '=', inviter.id).execute();
    const rows = await db().selectFrom('audit_log').select(['seq', 'hash']).where('seq', '>=', from).execute();
    for (const r of rows) await db().updateTable('audit_log').set({ signature: signAuditHash(p, forger.seed, r.hash) }).where('seq', '=', r.seq).execute();
    await page.locator('#adm-audit-verify').click();
    await expect.poll(() => page.locator('#adm-audit-result').textContent(), { timeout: 30_000 }).toBe(`Broken at entry ${from}: its signature does not match the admin's key.`);
    expect(await page.locator('#adm-audit li.broken').getAttribute('data-seq')).toBe(String(from));
  }, 120_000);

  it('[root pinned on first use] a page that embeds another root than the pinned one is refused before anything is unlocked', async () => {
    await page.locator('#logout').click();
    await page.locator('#login').waitFor({ state: 'visible' });
    const pinned = rootFingerprint(p, live.demo.root.publicKey);
    const other = rootFingerprint(p, fakeRoot.publicKey);
    proxy.rewriteAnswers((ex) => {
      const type = ex.headers['content-type'] ?? '';
      if (!type.includes('text/html')) return undefined;
      const html = ex.body.toString('utf8').replace(b64(live.demo.root.publicKey), b64(fakeRoot.publicKey));
      return { ...ex, body: Buffer.from(html, 'utf8') };
    });
    await page.goto(proxy.url);
    const logins = posted('/api/v1/login');
    await page.locator('#login-username').fill('admin.one');
    await page.locator('#login-passphrase').fill(PASSPHRASE);
    await page.locator('#login-submit').click();
    await expect.poll(() => page.locator('#login-status').textContent(), { timeout: 30_000 }).toBe(
      `The organisation key changed from ${pinned} to ${other}. Do not continue until an admin confirms this out of band.`,
    );
    // Refused before the passphrase was even used: no login went out, nothing was unlocked.
    expect(posted('/api/v1/login')).toBe(logins);
    expect(await page.locator('#list').isVisible()).toBe(false);
    proxy.rewriteAnswers(null);
    expect(errors).toEqual([]);
  }, 120_000);
});
