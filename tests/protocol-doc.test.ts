/**
 * docs/PROTOCOL.md is the contract a client in another language is written from, so it must not
 * fall behind the code. The routes are read from the two Hono apps' own route tables (as the
 * fuzz test discovers them), so a new endpoint fails this test until it is documented:
 *
 * - every route (method + path) of each site has a row in the endpoint index (section 18) naming
 *   that site (or "both"), and is described somewhere else in the document too;
 * - every index row, and every `METHOD /api/...`-style route named anywhere in the document,
 *   exists in the apps (no documented phantom routes);
 * - the error-code table lists exactly the closed set of `api/errors.ts`.
 *
 * No database is needed: building the apps touches none, and no request is made.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createRequesterApp, createTriageApp, type AppDeps } from '../api/app.ts';
import { loadConfig } from '../api/config.ts';
import type { Database } from '../api/db/schema.ts';
import { ERROR_CODES } from '../api/errors.ts';
import { createLogger } from '../api/logger.ts';
import { DIST_DIR } from '../api/dist-location.ts';
import { Sites } from '../api/web/static-site.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';

const DOC = readFileSync(fileURLToPath(new URL('../docs/PROTOCOL.md', import.meta.url)), 'utf8');
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
type SiteName = 'requester' | 'triage';

async function appRoutes(): Promise<Map<SiteName, Set<string>>> {
  const config = loadConfig({ HAVEN_MODE: 'test', HAVEN_SERVER_SECRET: 'a'.repeat(64), HAVEN_LOG_LEVEL: 'silent' });
  const db = new Proxy({}, {
    get() {
      throw new Error('this test must not touch the database');
    },
  }) as Kysely<Database>;
  const deps: AppDeps = {
    db,
    config,
    logger: createLogger('silent', () => {}),
    crypto: await loadSodiumPrimitives(),
    serverSecret: config.serverSecret!,
    rootPublicKey: null,
    // The real build (vitest's global setup makes it), so the static routes are mounted too.
    sites: Sites.load(DIST_DIR, { rootPublicKey: new Uint8Array(32).fill(9), keySerialFloors: {} }),
  };
  const apps = { requester: createRequesterApp(deps), triage: createTriageApp(deps) };
  const out = new Map<SiteName, Set<string>>();
  for (const site of ['requester', 'triage'] as const) {
    const routes = new Set<string>();
    // Middleware is registered as ALL; `GET /*` is the static-file fallback (documented as
    // `GET /<asset path>`, one row for every file the manifest lists).
    for (const r of apps[site].routes) if (METHODS.has(r.method) && !r.path.includes('*')) routes.add(`${r.method} ${r.path}`);
    out.set(site, routes);
  }
  return out;
}

/** Rows of the endpoint index (section 18): site and `METHOD /path`. */
function indexRows(): { site: string; route: string }[] {
  const start = DOC.indexOf('\n## 18. Endpoint index');
  expect(start, 'docs/PROTOCOL.md has a section "18. Endpoint index"').toBeGreaterThan(0);
  const end = DOC.indexOf('\n## ', start + 1);
  const rows: { site: string; route: string }[] = [];
  for (const line of DOC.slice(start, end).split('\n')) {
    const m = /^\|\s*(requester|triage|both)\s*\|\s*`((?:GET|POST|PUT|PATCH|DELETE) \/[^`\s]*)`/.exec(line);
    if (m) rows.push({ site: m[1]!, route: m[2]! });
  }
  return rows;
}

/** Every `METHOD /path` in backticks (query strings cut off) naming a concrete API, form or well-known path. */
function routesNamedAnywhere(): Set<string> {
  const named = new Set<string>();
  for (const m of DOC.matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/[^`\s?]*)/g)) {
    const path = m[2]!;
    if (path === '/' || /^\/(api|plain|\.well-known)\//.test(path)) named.add(`${m[1]} ${path}`);
  }
  return named;
}

const routes = await appRoutes();

describe('docs/PROTOCOL.md documents every route of both sites', () => {
  const rows = indexRows();

  for (const site of ['requester', 'triage'] as const) {
    it(`lists every ${site} route in the endpoint index and describes it`, () => {
      const missing = [...routes.get(site)!].filter((route) => !rows.some((r) => r.route === route && (r.site === site || r.site === 'both')));
      expect(missing, `routes of the ${site} site missing from section 18 of docs/PROTOCOL.md`).toEqual([]);
      const undescribed = [...routes.get(site)!].filter((route) => DOC.split(`\`${route}`).length - 1 < 2);
      expect(undescribed, 'routes named only in the index: describe each one in its section').toEqual([]);
    });
  }

  it('documents no route that does not exist', () => {
    const exists = (route: string, site: string) =>
      site === 'both' ? routes.get('requester')!.has(route) && routes.get('triage')!.has(route) : routes.get(site as SiteName)!.has(route);
    const phantomRows = rows.filter((r) => !r.route.startsWith('GET /<') && !exists(r.route, r.site)).map((r) => `${r.site} ${r.route}`);
    expect(phantomRows, 'index rows naming a route the site does not have').toEqual([]);
    const all = new Set([...routes.get('requester')!, ...routes.get('triage')!]);
    expect([...routesNamedAnywhere()].filter((r) => !all.has(r)), 'routes named in the text that no app has').toEqual([]);
  });

  it('lists exactly the closed set of API error codes', () => {
    const start = DOC.indexOf('\n### 17.5 Errors');
    expect(start).toBeGreaterThan(0);
    const section = DOC.slice(start, DOC.indexOf('\n### ', start + 1));
    const listed = [...section.matchAll(/^\| `([a-z_]+)` \| \d{3}/gm)].map((m) => m[1]);
    expect([...listed].sort()).toEqual([...ERROR_CODES].sort());
  });
});
