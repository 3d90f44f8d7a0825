/**
 * The admin's view of both sites' manifests (`GET /api/v1/admin/site-manifests`) and the
 * bytes a site serves at a path (`GET /api/v1/admin/site-manifests/:site/file`), which the
 * dashboard hashes to check the requester site's files before it signs (its CSP lets it
 * fetch only its own origin). Admin only, typed errors, on both databases.
 */
import { createHash } from 'node:crypto';
import type { Hono } from 'hono';
import { beforeEach, expect, it } from 'vitest';
import { currentKeySerialFloors } from '../api/admin/admin.service.ts';
import { setupOrganisation } from '../api/admin/setup.service.ts';
import { DIST_DIR } from '../api/dist-location.ts';
import { manifestsOfBuild } from '../api/web/static-site.ts';
import { base64urlDecode as unb64, base64urlEncode as b64 } from '../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { manifestFromJson, manifestSigningBytes } from '../crypto/v2/site-manifest.ts';
import { AdminBrowser, call, type Json } from './helpers/admin-browser.ts';
import { enrolBody, makeCredentials, sessionCookie } from './helpers/responder-client.ts';
import { createTestApps, type TestApps } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';

const p = await loadSodiumPrimitives();
const PASS = 'the first admin passphrase';
const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describeEachDatabase('admin site manifests API', (t) => {
  let apps: TestApps;
  let admin: AdminBrowser;
  let root: Uint8Array;
  let legalId: Uint8Array;
  const triage = () => apps.triage as unknown as Hono;

  beforeEach(async () => {
    const setup = await setupOrganisation(t.db, p, {
      name: 'Test hotline', username: 'admin.one', passphrase: PASS, teams: [{ slug: 'legal', name: 'Legal' }], siteManifests: manifestsOfBuild(DIST_DIR),
    });
    root = setup.rootPublicKey;
    legalId = setup.teams[0]!.id;
    // Rendered as the server renders at start: with the current serial floors.
    apps = createTestApps(t.db, { rootPublicKey: root, sites: true, keySerialFloors: await currentKeySerialFloors(t.db) });
    admin = new AdminBrowser(triage(), p, root);
    await admin.signIn('admin.one', PASS);
  });

  it('lists both sites\' manifests exactly as served, with their hashes and whether each is signed', async () => {
    const res = await admin.get('/site-manifests');
    expect(res.status).toBe(200);
    expect(res.json.pagesOutdated).toBe(false);
    expect(res.json.sites.map((s: Json) => s.site)).toEqual(['requester', 'triage']);
    for (const entry of res.json.sites as Json[]) {
      const app = entry.site === 'requester' ? apps.requester : apps.triage;
      const served = await (await app.request('/.well-known/haven-manifest.json')).json();
      expect(entry.served).toEqual(served);
      expect(entry.signed).toBe(true);
      expect(entry.manifestSha256).toBe(sha256Hex(manifestSigningBytes(manifestFromJson(entry.served))));
      expect(entry.served.rootPublicKey).toBe(b64(root));
    }
    // Without the stored signatures both read unsigned.
    await t.db.deleteFrom('site_manifest_signatures').where('site', '=', 'requester').execute();
    const after = await admin.get('/site-manifests');
    expect(after.json.sites.map((s: Json) => [s.site, s.signed, s.served.signature === null])).toEqual([['requester', false, true], ['triage', true, false]]);
  });

  it('says the pages are outdated once a team key changed since they were rendered', async () => {
    expect((await admin.renew(legalId)).status).toBe(200);
    const res = await admin.get('/site-manifests');
    expect(res.json.pagesOutdated).toBe(true);
    // What is served does not change until the restart: still signed.
    expect(res.json.sites.every((s: Json) => s.signed)).toBe(true);
  });

  it('answers the bytes a site serves at each listed path', async () => {
    for (const site of ['requester', 'triage'] as const) {
      const entry = ((await admin.get('/site-manifests')).json.sites as Json[]).find((s) => s.site === site)!;
      const paths = Object.keys(entry.served.files);
      expect(paths).toContain('/');
      for (const path of paths) {
        const res = await admin.get(`/site-manifests/${site}/file?path=${encodeURIComponent(path)}`);
        expect(res.status).toBe(200);
        expect(res.json).toMatchObject({ site, path, contentType: expect.any(String) });
        const body = unb64(res.json.body);
        expect(sha256Hex(body)).toBe(entry.served.files[path]);
        const app = site === 'requester' ? apps.requester : apps.triage;
        expect(Buffer.from(await (await app.request(path)).arrayBuffer())).toEqual(Buffer.from(body));
      }
    }
  });

  it('refuses an unknown site or path, a bad path, and anyone but an admin, with typed errors', async () => {
    const cases: [string, number, string][] = [
      ['/site-manifests/admin/file?path=/', 404, 'not_found'],
      ['/site-manifests/requester/file?path=/no-such-file.js', 404, 'not_found'],
      ['/site-manifests/requester/file?path=/api/v1/intake', 404, 'not_found'],
      ['/site-manifests/requester/file', 400, 'validation_failed'],
      ['/site-manifests/requester/file?path=assets', 400, 'validation_failed'],
      [`/site-manifests/requester/file?path=/${'a'.repeat(600)}`, 400, 'validation_failed'],
      ['/site-manifests/requester/file?path=/a%20b', 400, 'validation_failed'],
    ];
    for (const [path, status, code] of cases) {
      const res = await admin.get(path);
      expect([path, res.status, res.json.error?.code]).toEqual([path, status, code]);
    }

    // No session: 401; a responder's session: 403, for both routes.
    const routes = ['/site-manifests', '/site-manifests/requester/file?path=/'];
    for (const path of routes) {
      const res = await call(triage(), `/api/v1/admin${path}`);
      expect([res.status, res.json.error.code]).toEqual([401, 'unauthorized']);
    }
    const inv = await admin.invite('responder', [legalId]);
    const creds = await makeCredentials(p, 'legal.one');
    const enrolled = await call(triage(), '/api/v1/enrol', { body: enrolBody(creds, inv.code) });
    expect((await admin.approve(unb64(enrolled.json.account.id), [legalId])).status).toBe(200);
    const login = await call(triage(), '/api/v1/login', { body: { username: 'legal.one', verifier: b64(creds.secrets.loginVerifier) } });
    const cookie = sessionCookie(login.res);
    for (const path of routes) {
      const res = await call(triage(), `/api/v1/admin${path}`, { cookie });
      expect([res.status, res.json.error.code]).toEqual([403, 'forbidden']);
    }
  });

  it('answers 503 while the server serves no front end or no root key is configured', async () => {
    for (const unset of [createTestApps(t.db, { rootPublicKey: root }), createTestApps(t.db, { rootPublicKey: null, sites: true })]) {
      const other = new AdminBrowser(unset.triage as unknown as Hono, p, root);
      await other.signIn('admin.one', PASS, false);
      for (const path of ['/site-manifests', '/site-manifests/requester/file?path=/']) {
        const res = await other.get(path);
        expect([res.status, res.json.error.code, res.res.headers.get('retry-after')]).toEqual([503, 'unavailable', '60']);
      }
    }
  });
});
