/**
 * The root-signed site manifest on the API: served on both sites, signed at setup while the
 * root seed exists, and `PUT /api/v1/admin/site-manifest` accepting only a root signature
 * over exactly the manifest served now.
 */
import { createHash } from 'node:crypto';
import type { Hono } from 'hono';
import { beforeEach, expect, it } from 'vitest';
import { setupOrganisation } from '../api/admin/setup.service.ts';
import { DIST_DIR } from '../api/dist-location.ts';
import { manifestsOfBuild } from '../api/web/static-site.ts';
import { base64urlDecode, base64urlEncode } from '../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { manifestFromJson, manifestSigningBytes, signManifest, verifyManifest } from '../crypto/v2/site-manifest.ts';
import { AdminBrowser, call } from './helpers/admin-browser.ts';
import { createTestApps, type TestApps } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';

const p = await loadSodiumPrimitives();
const PASS = 'the first admin passphrase';
const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describeEachDatabase('site manifest API', (t) => {
  let apps: TestApps;
  let admin: AdminBrowser;
  let root: Uint8Array;
  const triage = () => apps.triage as unknown as Hono;

  beforeEach(async () => {
    const setup = await setupOrganisation(t.db, p, { name: 'Test hotline', username: 'admin.one', passphrase: PASS, siteManifests: manifestsOfBuild(DIST_DIR) });
    root = setup.rootPublicKey;
    apps = createTestApps(t.db, { rootPublicKey: root, sites: true });
    admin = new AdminBrowser(triage(), p, root);
    await admin.signIn('admin.one', PASS);
  });

  async function served(site: 'requester' | 'triage') {
    const app = site === 'requester' ? apps.requester : apps.triage;
    const res = await app.request('/.well-known/haven-manifest.json');
    expect(res.status).toBe(200);
    return (await res.json()) as { v: number; site: string; files: Record<string, string>; rootPublicKey: string; signature: string | null };
  }

  it('[served code is checkable] serves on both sites a manifest of every file, signed by the root at setup', async () => {
    for (const site of ['requester', 'triage'] as const) {
      const json = await served(site);
      expect(json.site).toBe(site);
      expect(json.rootPublicKey).toBe(base64urlEncode(root));
      const manifest = manifestFromJson(json);
      expect(json.signature).not.toBeNull();
      verifyManifest(p, root, manifest, base64urlDecode(json.signature!));
      // Every listed file is served with exactly that hash, the page included.
      const app = site === 'requester' ? apps.requester : apps.triage;
      expect(Object.keys(json.files)).toContain('/');
      for (const [path, hash] of Object.entries(json.files)) {
        const res = await app.request(path);
        expect(sha256Hex(new Uint8Array(await res.arrayBuffer()))).toBe(hash);
      }
    }
  });

  it('accepts an admin-made root signature over exactly the served manifest', async () => {
    await t.db.deleteFrom('site_manifest_signatures').execute();
    expect((await served('triage')).signature).toBeNull();
    const manifest = manifestFromJson(await served('triage'));
    const manifestSha256 = sha256Hex(manifestSigningBytes(manifest));
    const signature = base64urlEncode(signManifest(p, admin.rootSeed, manifest));
    const res = await call(triage(), '/api/v1/admin/site-manifest', { method: 'PUT', body: { site: 'triage', manifestSha256, signature }, cookie: admin.cookie });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ site: 'triage', manifestSha256, stored: true });
    expect((await served('triage')).signature).toBe(signature);
    expect((await served('requester')).signature).toBeNull();
  });

  it('refuses a signature by another key, for another manifest, a bad body, and anyone but an admin', async () => {
    const manifest = manifestFromJson(await served('requester'));
    const manifestSha256 = sha256Hex(manifestSigningBytes(manifest));
    const other = p.ed25519KeypairFromSeed(new Uint8Array(32).fill(7));
    const forged = base64urlEncode(p.ed25519Sign(manifestSigningBytes(manifest), new Uint8Array(32).fill(7)));
    expect(other.publicKey).not.toEqual(root);
    const put = (body: unknown, cookie = admin.cookie) => call(triage(), '/api/v1/admin/site-manifest', { method: 'PUT', body, cookie });

    const wrongKey = await put({ site: 'requester', manifestSha256, signature: forged });
    expect(wrongKey.status).toBe(400);
    expect(wrongKey.json.error.code).toBe('validation_failed');

    const good = base64urlEncode(signManifest(p, admin.rootSeed, manifest));
    const stale = await put({ site: 'requester', manifestSha256: 'ab'.repeat(32), signature: good });
    expect(stale.status).toBe(409);
    const otherSite = await put({ site: 'triage', manifestSha256, signature: good });
    expect(otherSite.status).toBe(409);

    for (const body of [{}, { site: 'admin', manifestSha256, signature: good }, { site: 'requester', manifestSha256: 'XY', signature: good }, { site: 'requester', manifestSha256, signature: 'short' }, []]) {
      const res = await put(body);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toEqual(expect.any(String));
    }
    expect((await put({ site: 'requester', manifestSha256, signature: good }, '')).status).toBe(401);
  });

  it('answers 503 with the JSON error shape while no root key is configured', async () => {
    const unset = createTestApps(t.db, { rootPublicKey: null, sites: true });
    for (const app of [unset.requester, unset.triage]) {
      const res = await app.request('/.well-known/haven-manifest.json');
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: { code: 'unavailable' } });
    }
  });
});

it('renders the pages without a root key as "not set up", and embeds the key once it is given', async () => {
  const { Sites } = await import('../api/web/static-site.ts');
  const sites = Sites.load(DIST_DIR, { rootPublicKey: null, keySerialFloors: {} });
  expect(sites.get('requester').manifest).toBeNull();
  const page = new TextDecoder().decode(sites.get('requester').files.get('/')!.body);
  expect(page).toContain('not set up yet');
  expect(page).not.toContain('haven-root-public-key');
  expect(page).toContain('<meta name="haven-key-serial-floor" content="">');
  // Re-rendering with the key embeds it and removes the notice.
  const key = p.ed25519KeypairFromSeed(new Uint8Array(32).fill(3)).publicKey;
  sites.render({ rootPublicKey: key, keySerialFloors: {} });
  const after = new TextDecoder().decode(sites.get('requester').files.get('/')!.body);
  expect(after).toContain(`<meta name="haven-root-public-key" content="${base64urlEncode(key)}">`);
  expect(after).not.toContain('not set up yet');
  expect(sites.get('triage').manifest?.rootPublicKey).toEqual(key);
});
