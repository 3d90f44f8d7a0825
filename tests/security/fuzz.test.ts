/**
 * Fuzzing every endpoint of both sites (discovered from the apps' own route tables, so a new
 * endpoint is fuzzed without anyone remembering to add it): malformed, oversized and wrongly
 * typed input never yields a 5xx, API errors keep the one JSON shape, the server stays alive,
 * and nothing is written. Inputs include random query strings, random cursors, integers at
 * the edge of every integer type (in the query, the path and the body) and random bodies,
 * on both databases.
 */
import fc from 'fast-check';
import { sql, type Kysely } from 'kysely';
import { beforeEach, expect, it } from 'vitest';
import type { Database } from '../../api/db/schema.ts';
import { ERROR_CODES } from '../../api/errors.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { base64urlEncode } from '../../crypto/encoding.ts';
import type { DemoOrganisation } from '../../seeds/demo.ts';
import { createAdminAccount } from '../helpers/approve.ts';
import { makeCredentials, sessionCookie } from '../helpers/responder-client.ts';
import { createTestApps, type TestApps, seedDemoOrganisation } from '../helpers/test-app.ts';
import { describeEachDatabase } from '../helpers/test-database.ts';

const p = await loadSodiumPrimitives();
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const FIELD_NAMES = [
  'envelope', 'lookupHash', 'token', 'pow', 'challenge', 'nonce', 'username', 'verifier', 'loginVerifier', 'invitationCode',
  'keyBundle', 'salt', 'encPublicKey', 'signPublicKey', 'kind', 'status', 'priority', 'assigneeId', 'role', 'teamIds',
  'team', 'message', 'contact', 'lang', 'passphrase', 'certificate', 'grants', 'teamGrants', 'audit', 'messages', 'days',
];

interface Endpoint {
  site: 'requester' | 'triage';
  method: string;
  path: string;
}

function endpoints(apps: TestApps): Endpoint[] {
  const seen = new Set<string>();
  const out: Endpoint[] = [];
  for (const site of ['requester', 'triage'] as const) {
    for (const r of apps[site].routes) {
      if (!METHODS.has(r.method) || r.path.includes('*')) continue;
      const key = `${site} ${r.method} ${r.path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ site, method: r.method, path: r.path });
    }
  }
  return out;
}

/** Integers at the edges of every integer type (u8..u32, int4, safe integer, double) and their near misses. */
const EDGE_NUMBERS = [0, -1, 1, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 63, 1e308, -1e308, 0.5, -0];
const EDGE_TEXTS = [...EDGE_NUMBERS.map(String), 'NaN', 'Infinity', '-Infinity', '', ' ', '1e3', '0x10', '01', '+1', '1.0', '9'.repeat(40), '9'.repeat(5000)];
const edgeNumber = fc.constantFrom(...EDGE_NUMBERS);
const edgeText = fc.constantFrom(...EDGE_TEXTS);

/** Cursors: random bytes of the right and wrong lengths, edge hours, and random text. */
const cursorArb = fc.oneof(
  fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => base64urlEncode(b)),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => base64urlEncode(b)),
  fc.uint8Array({ maxLength: 40 }).map((b) => base64urlEncode(b)),
  fc.constantFrom(0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1).chain((hour) =>
    fc.uint8Array({ minLength: 16, maxLength: 16 }).map((id) => {
      const bytes = new Uint8Array(20);
      new DataView(bytes.buffer).setUint32(0, hour);
      bytes.set(id, 4);
      return base64urlEncode(bytes);
    }),
  ),
  fc.string({ maxLength: 60 }),
);

const anyValue = fc.oneof(
  fc.string({ maxLength: 200 }),
  edgeNumber,
  edgeText,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 300 }).map((b) => base64urlEncode(b)),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => base64urlEncode(b)),
  fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 4 }),
  fc.constant('A'.repeat(5000)),
);

const bodyArb = fc.oneof(
  fc.record(Object.fromEntries(FIELD_NAMES.map((f) => [f, anyValue])), { requiredKeys: [] }).map((o) => JSON.stringify(o)),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
  // Integers JSON.parse turns into Infinity or loses: a literal no JavaScript number holds.
  fc.constantFrom(...FIELD_NAMES).map((f) => `{"${f}": ${'9'.repeat(400)}}`),
  fc.constant(''),
);

const paramArb = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => base64urlEncode(b)),
  fc.string({ minLength: 1, maxLength: 40 }).map((s) => encodeURIComponent(s)),
  fc.constant('..%2F..%2Fetc%2Fpasswd'),
  fc.constant('A'.repeat(3000)),
  edgeText.map((x) => encodeURIComponent(x) || '0'),
);

const QUERY_NAMES = ['status', 'team', 'cursor', 'limit', 'after', 'epoch', 'lang', 'x'] as const;

/** A query string: known names with random, edge-integer or cursor values, or raw random text. */
const queryArb = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(fc.constantFrom(...QUERY_NAMES), fc.oneof(fc.string({ maxLength: 60 }), edgeText, cursorArb), { maxKeys: 4 }).map((q) => new URLSearchParams(q).toString()) },
  { weight: 1, arbitrary: fc.string({ maxLength: 120 }).map((raw) => encodeURI(raw)) },
);

async function rowCounts(db: Kysely<Database>): Promise<Record<string, number>> {
  const tables = await sql<{ tablename: string }>`select tablename from pg_tables where schemaname = 'public' and tablename not like 'kysely_%' order by tablename`.execute(db);
  const counts: Record<string, number> = {};
  for (const { tablename } of tables.rows) {
    const r = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(tablename)}`.execute(db);
    counts[tablename] = r.rows[0]!.n;
  }
  return counts;
}

describeEachDatabase('fuzzing every endpoint', (t) => {
  let demo: DemoOrganisation;
  let apps: TestApps;
  let cookie: string;

  beforeEach(async () => {
    demo = await seedDemoOrganisation(t.db);
    apps = createTestApps(t.db, { rootPublicKey: demo.root.publicKey, env: { HAVEN_MAX_BODY_BYTES: '200000' } });
    const admin = await makeCredentials(p, 'fuzz-admin');
    await createAdminAccount(t.db, p, demo, admin, demo.teams.map((x) => x.id));
    const salt = await apps.triage.request('/api/v1/login/salt', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: admin.username }) });
    expect(salt.status).toBe(200);
    const login = await apps.triage.request('/api/v1/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: admin.username, verifier: base64urlEncode(admin.secrets.loginVerifier) }),
    });
    expect(login.status).toBe(200);
    cookie = sessionCookie(login);
  });

  it('never answers 5xx, keeps the JSON error shape, and writes nothing', { timeout: 120_000 }, async () => {
    const all = endpoints(apps);
    expect(all.length).toBeGreaterThanOrEqual(15);
    const before = await rowCounts(t.db);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...all),
        bodyArb,
        fc.oneof(
          { arbitrary: fc.constant('application/json'), weight: 6 },
          { arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', ''), weight: 2 },
        ),
        paramArb,
        queryArb,
        fc.boolean(),
        async (endpoint, body, contentType, param, query, withCookie) => {
          // Logging out would end the fuzzer's own session; it is fuzzed without the cookie.
          const sendCookie = withCookie && !endpoint.path.endsWith('/logout');
          const path = endpoint.path.replace(/:[a-zA-Z]+/g, param);
          const qs = query;
          const hasBody = endpoint.method !== 'GET' && endpoint.method !== 'DELETE';
          const res = await apps[endpoint.site].request(`${path}${qs ? `?${qs}` : ''}`, {
            method: endpoint.method,
            headers: { ...(contentType ? { 'content-type': contentType } : {}), ...(sendCookie ? { cookie } : {}) },
            ...(hasBody ? { body } : {}),
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          expect({ endpoint: `${endpoint.method} ${endpoint.path}`, status: res.status }).toEqual({ endpoint: `${endpoint.method} ${endpoint.path}`, status: expect.toBeOneOf([200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 429, 503]) });
          if (path.startsWith('/api/') && res.status >= 400) {
            const json = (await res.json()) as { error: { code: string; message: string } };
            expect(ERROR_CODES).toContain(json.error.code);
            expect(typeof json.error.message).toBe('string');
          }
        },
      ),
      { numRuns: 600 },
    );
    // The fuzzer reached past validation, not only the first gate.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(50);
    const after = await rowCounts(t.db);
    // Failed logins may count against the real account (an update, not a row); no table gains or loses rows.
    expect(after).toEqual(before);
    expect((await apps.requester.request('/api/v1/health')).status).toBe(200);
    expect((await apps.triage.request('/api/v1/session', { headers: { cookie } })).status).toBe(200);
  });

  it('answers every query string, cursor and edge integer on every GET route with 2xx or 4xx, writing nothing', { timeout: 120_000 }, async () => {
    const gets = endpoints(apps).filter((e) => e.method === 'GET');
    expect(gets.length).toBeGreaterThanOrEqual(8);
    const before = await rowCounts(t.db);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...gets), paramArb, queryArb, async (endpoint, param, query) => {
        const path = endpoint.path.replace(/:[a-zA-Z]+/g, param);
        const res = await apps[endpoint.site].request(`${path}${query ? `?${query}` : ''}`, { headers: { cookie } });
        expect({ endpoint: endpoint.path, query, status: res.status }).toEqual({ endpoint: endpoint.path, query, status: expect.toBeOneOf([200, 304, 400, 401, 403, 404, 429, 503]) });
        await res.arrayBuffer();
      }),
      { numRuns: 400 },
    );
    expect(await rowCounts(t.db)).toEqual(before);
  });

  it('refuses an oversized body on every endpoint that takes one with 413', async () => {
    const small = createTestApps(t.db, { rootPublicKey: demo.root.publicKey, env: { HAVEN_MAX_BODY_BYTES: '4096' } });
    const big = JSON.stringify({ envelope: 'A'.repeat(10_000) });
    for (const endpoint of endpoints(small).filter((e) => e.method !== 'GET' && e.method !== 'DELETE')) {
      const path = endpoint.path.replace(/:[a-zA-Z]+/g, base64urlEncode(p.randomBytes(16)));
      const res = await small[endpoint.site].request(path, { method: endpoint.method, headers: { 'content-type': 'application/json', cookie }, body: big });
      expect({ path: endpoint.path, status: res.status }).toEqual({ path: endpoint.path, status: 413 });
    }
  });
});
