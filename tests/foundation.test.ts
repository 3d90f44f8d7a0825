/**
 * The foundation: migrations on both engines, the health check, the one error model, the
 * request log's silence about who asked, and body limits.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { coarseHour } from '../api/time.ts';
import { createTestApps } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';

describeEachDatabase('foundation', (t) => {
  it('runs every migration and answers the health check on both sites', async () => {
    const apps = createTestApps(t.db);
    for (const app of [apps.requester, apps.triage]) {
      const res = await app.request('/api/v1/health');
      expect(res.status).toBe(200);
      // No organisation yet: ready, and the root key has nothing to be checked against.
      expect(await res.json()).toEqual({ status: 'ok', database: 'ok', rootKey: 'no_organisation' });
    }
    const tables = await sql<{ tablename: string }>`select tablename from pg_tables where schemaname = 'public'`.execute(t.db);
    expect(tables.rows.map((r) => r.tablename)).toEqual(expect.arrayContaining(['organisations', 'teams', 'team_epochs']));
  });

  it('[little metadata] refuses to store a time finer than the hour', async () => {
    const id = new Uint8Array(16).fill(1);
    await expect(
      t.db.insertInto('organisations').values({ id, name: 'x', is_demo: true, created_hour: new Date(Date.UTC(2026, 0, 1, 10, 17)) }).execute(),
    ).rejects.toThrow();
    await t.db.insertInto('organisations').values({ id, name: 'x', is_demo: true, created_hour: coarseHour() }).execute();
    const row = await t.db.selectFrom('organisations').select('created_hour').executeTakeFirstOrThrow();
    expect(row.created_hour.getUTCMinutes()).toBe(0);
    expect(row.created_hour.getUTCSeconds()).toBe(0);
  });

  it('answers unknown routes with the JSON error shape', async () => {
    const { requester } = createTestApps(t.db);
    const res = await requester.request('/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'Not found.' } });
  });

  it('refuses an oversized body with 413 and the JSON error shape', async () => {
    const { requester } = createTestApps(t.db, { env: { HAVEN_MAX_BODY_BYTES: '2048' } });
    const res = await requester.request('/api/v1/health', { method: 'POST', body: 'x'.repeat(4096) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('[little metadata] logs no IP, user agent, query string, body or time of day', async () => {
    const apps = createTestApps(t.db);
    const canary = 'CANARY-7f3a9c';
    await apps.requester.request(`/api/v1/health?who=${canary}`, {
      headers: {
        'X-Forwarded-For': '203.0.113.77',
        'X-Real-IP': '203.0.113.78',
        'User-Agent': `Mozilla/5.0 ${canary}`,
        Referer: `https://example.org/${canary}`,
      },
    });
    await apps.requester.request('/api/v1/nothing', { method: 'POST', body: canary });
    expect(apps.logLines.length).toBeGreaterThanOrEqual(2);
    const all = apps.logLines.join('\n');
    expect(all).not.toContain(canary);
    expect(all).not.toMatch(/203\.0\.113|Mozilla/);
    // No ISO timestamps or epoch-millisecond numbers.
    expect(all).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\b1\d{12}\b/);
    const line = JSON.parse(apps.logLines[0]!) as Record<string, unknown>;
    expect(Object.keys(line).sort()).toEqual(['event', 'level', 'method', 'ms', 'route', 'status']);
  });

  it('sends the privacy headers on API answers too', async () => {
    const { requester, triage } = createTestApps(t.db);
    for (const app of [requester, triage]) {
      const res = await app.request('/api/v1/health');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('set-cookie')).toBeNull();
    }
  });
});

describe('coarse time', () => {
  it('drops minutes, seconds and milliseconds', () => {
    const hour = coarseHour(new Date(Date.UTC(2026, 10, 23, 19, 42, 17, 123)));
    expect(hour.toISOString()).toBe('2026-11-23T19:00:00.000Z');
  });
});
