/**
 * Inputs at the edges of their types answer 4xx, never 5xx: a cursor whose hour lies past
 * the last representable date, integers past PostgreSQL's `integer` (2^31-1), and media
 * types that only start like `application/json`. Found by hand first (each of the first
 * cases answered 500 on both databases); the fuzzer in fuzz.test.ts throws the same families
 * of values at every route.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { base64urlEncode } from '../../crypto/encoding.ts';
import type { DemoOrganisation } from '../../seeds/demo.ts';
import { createAdminAccount } from '../helpers/approve.ts';
import { makeCredentials, sessionCookie } from '../helpers/responder-client.ts';
import { createTestApps, seedDemoOrganisation, type TestApps } from '../helpers/test-app.ts';
import { describeEachDatabase } from '../helpers/test-database.ts';

const p = await loadSodiumPrimitives();

/** Integers at the edge of every integer type the API or its database uses, and non-integers. */
export const EDGE_INTEGERS = [
  '0', '-1', '1', '2147483647', '2147483648', '4294967295', '4294967296', '9007199254740991', '9007199254740992',
  '1e308', '1e3', 'NaN', 'Infinity', '', ' 1', '0x10', '1.0', '1.5', '01', '+1', '9'.repeat(400),
];

describeEachDatabase('inputs at the edges of their types', (t) => {
  let demo: DemoOrganisation;
  let apps: TestApps;
  let cookie: string;

  beforeEach(async () => {
    demo = await seedDemoOrganisation(t.db);
    apps = createTestApps(t.db, { rootPublicKey: demo.root.publicKey });
    const admin = await makeCredentials(p, 'edge-admin');
    await createAdminAccount(t.db, p, demo, admin, demo.teams.map((x) => x.id));
    const login = await apps.triage.request('/api/v1/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: admin.username, verifier: base64urlEncode(admin.secrets.loginVerifier) }),
    });
    expect(login.status).toBe(200);
    cookie = sessionCookie(login);
  });

  const get = (path: string) => apps.triage.request(path, { headers: { cookie } });

  describe('request list cursors', () => {
    it('refuses a cursor whose activity value is past what the list can order (2^53 - 1) with 400', async () => {
      const res = await get('/api/v1/requests?cursor=_____________________________________w');
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    });

    it('refuses a cursor whose activity value is past 2^53 - 1 with 400, and takes that value and 0', async () => {
      const cursorAt = (activity: bigint) => {
        const bytes = new Uint8Array(24);
        new DataView(bytes.buffer).setBigUint64(0, activity);
        return base64urlEncode(bytes);
      };
      const last = BigInt(Number.MAX_SAFE_INTEGER);
      expect((await get(`/api/v1/requests?cursor=${cursorAt(last + 1n)}`)).status).toBe(400);
      expect((await get(`/api/v1/requests?cursor=${cursorAt(2n ** 63n)}`)).status).toBe(400);
      expect((await get(`/api/v1/requests?cursor=${cursorAt(last)}`)).status).toBe(200);
      expect((await get(`/api/v1/requests?cursor=${cursorAt(0n)}`)).status).toBe(200);
    });

    it('refuses a cursor of the wrong length or spelling with 400, and pages from a real one', async () => {
      for (const cursor of ['AAAA', '_'.repeat(31), 'A'.repeat(27), 'A'.repeat(28), '!!!!', 'A'.repeat(100)]) {
        expect({ cursor, status: (await get(`/api/v1/requests?cursor=${cursor}`)).status }).toEqual({ cursor, status: 400 });
      }
      const first = await get('/api/v1/requests?limit=1');
      expect(first.status).toBe(200);
      // Activity 1 and a zero id: a well-formed cursor.
      const bytes = new Uint8Array(24);
      new DataView(bytes.buffer).setBigUint64(0, 1n);
      expect((await get(`/api/v1/requests?cursor=${base64urlEncode(bytes)}`)).status).toBe(200);
    });
  });

  describe('integers', () => {
    it('refuses an audit position past a 32-bit integer with 400', async () => {
      const res = await get('/api/v1/admin/audit?after=2147483648');
      expect(res.status).toBe(400);
    });

    it.each(EDGE_INTEGERS)('answers %j as ?after, ?limit and the list ?limit with 200 or 400, never 5xx', async (n) => {
      const valid = /^(0|[1-9][0-9]*)$/.test(n) && Number(n) <= 2147483647;
      const after = await get(`/api/v1/admin/audit?after=${encodeURIComponent(n)}`);
      expect({ n, status: after.status }).toEqual({ n, status: valid || n === '' ? 200 : 400 });
      const limit = await get(`/api/v1/admin/audit?limit=${encodeURIComponent(n)}`);
      expect({ n, status: limit.status }).toEqual({ n, status: (valid && Number(n) >= 1 && Number(n) <= 1000) || n === '' ? 200 : 400 });
      const list = await get(`/api/v1/requests?limit=${encodeURIComponent(n)}`);
      expect({ n, status: list.status }).toEqual({ n, status: (valid && Number(n) >= 1 && Number(n) <= 100) || n === '' ? 200 : 400 });
    });

    it('treats an epoch in the path past a 32-bit integer as unknown (404), not a database error', async () => {
      const team = base64urlEncode(demo.teams[0]!.id);
      for (const epoch of ['2147483648', '4294967295', '9999999999']) {
        const res = await apps.triage.request(`/api/v1/admin/teams/${team}/epochs/${epoch}/retire`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie },
          body: JSON.stringify({ audit: { entry: base64urlEncode(new Uint8Array(8)), prevHash: base64urlEncode(new Uint8Array(32)), signature: base64urlEncode(new Uint8Array(64)) } }),
        });
        expect({ epoch, status: res.status }).toEqual({ epoch, status: 404 });
      }
    });

    it('refuses a body epoch past a 32-bit integer with 400', async () => {
      const team = base64urlEncode(demo.teams[0]!.id);
      for (const epoch of [2147483648, 4294967295, 2 ** 53, 1e308]) {
        const res = await apps.triage.request(`/api/v1/admin/teams/${team}/rotate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie },
          body: JSON.stringify({ epoch, certificate: 'AA', grants: [], audit: {} }),
        });
        expect({ epoch, status: res.status }).toEqual({ epoch, status: 400 });
      }
    });
  });

  describe('media types', () => {
    const salt = (contentType: string) =>
      apps.triage.request('/api/v1/login/salt', { method: 'POST', headers: { 'content-type': contentType }, body: JSON.stringify({ username: 'edge-admin' }) });

    it.each(['application/jsonx', 'text/json', 'application/json-patch+json', 'application/jsonp', 'application/json/x', 'application/x-json', ''])('refuses %j with 415', async (type) => {
      const res = await salt(type);
      expect(res.status).toBe(415);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    });

    it.each(['application/json', 'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'Application/JSON'])('accepts %j', async (type) => {
      expect((await salt(type)).status).toBe(200);
    });
  });
});
