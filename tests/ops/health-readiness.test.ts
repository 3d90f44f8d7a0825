/**
 * [availability] Health tells the truth: liveness answers whenever the process does;
 * readiness (and the old `/api/v1/health`) answers 503 `misconfigured`, naming the problem
 * without a key, when an organisation exists but the configured root public key is missing or
 * verifies none of its certificates; and start-up says so in one log line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../api/config.ts';
import { openDatabase } from '../../api/db/connect.ts';
import { migrateToLatest } from '../../api/db/migrate.ts';
import { createLogger } from '../../api/logger.ts';
import { startServer } from '../../api/server.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { seedDemo, type DemoOrganisation } from '../../seeds/demo.ts';
import { createTestApps, seedDemoOrganisation, testConfig } from '../helpers/test-app.ts';
import { openTestDatabase } from '../helpers/test-database.ts';

const p = await loadSodiumPrimitives();

async function get(app: { request: (path: string) => Response | Promise<Response> }, route: string) {
  const res = await app.request(route);
  return { status: res.status, retryAfter: res.headers.get('retry-after'), json: (await res.json()) as Record<string, unknown> };
}

describe('[availability] liveness and readiness', () => {
  let open: Awaited<ReturnType<typeof openTestDatabase>>;
  let demo: DemoOrganisation;
  const otherKey = p.ed25519KeypairFromSeed(p.randomBytes(32)).publicKey;

  beforeAll(async () => {
    open = await openTestDatabase('pglite');
  });
  afterAll(() => open.close());

  it('is ready with no organisation yet: nothing is served wrongly', async () => {
    const { requester, triage } = createTestApps(open.db);
    for (const app of [requester, triage]) {
      expect(await get(app, '/api/v1/health/live')).toMatchObject({ status: 200, json: { status: 'ok' } });
      expect(await get(app, '/api/v1/health/ready')).toMatchObject({ status: 200, json: { status: 'ok', database: 'ok', rootKey: 'no_organisation' } });
    }
  });

  it('is not ready when an organisation exists and no root key is configured, and says which setting', async () => {
    demo = await seedDemoOrganisation(open.db);
    const { requester, triage } = createTestApps(open.db, { rootPublicKey: null });
    for (const app of [requester, triage]) {
      for (const route of ['/api/v1/health/ready', '/api/v1/health']) {
        const res = await get(app, route);
        expect(res.status).toBe(503);
        expect(res.retryAfter).toBe('60');
        expect(res.json).toEqual({ error: { code: 'misconfigured', message: expect.stringContaining('HAVEN_ROOT_PUBLIC_KEY') } });
      }
      // The process is up all the same: a supervisor must not restart it for this.
      expect((await get(app, '/api/v1/health/live')).status).toBe(200);
    }
  });

  it('is not ready when the root key verifies none of the organisation certificates, and never echoes a key', async () => {
    const { requester } = createTestApps(open.db, { rootPublicKey: otherKey });
    const res = await get(requester, '/api/v1/health/ready');
    expect(res.status).toBe(503);
    expect(res.json).toEqual({ error: { code: 'misconfigured', message: expect.stringContaining('does not match') } });
    const text = JSON.stringify(res.json);
    for (const key of [otherKey, demo.root.publicKey]) {
      expect(text).not.toContain(Buffer.from(key).toString('hex'));
      expect(text).not.toContain(Buffer.from(key).toString('base64url'));
    }
  });

  it('is ready with the organisation root key', async () => {
    const { requester, triage } = createTestApps(open.db, { rootPublicKey: demo.root.publicKey });
    for (const app of [requester, triage]) {
      expect(await get(app, '/api/v1/health/ready')).toMatchObject({ status: 200, json: { rootKey: 'ok' } });
      expect(await get(app, '/api/v1/health')).toMatchObject({ status: 200, json: { rootKey: 'ok' } });
    }
  });
});

describe('[availability] start-up with the wrong root key', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('logs one error line naming the problem and answers 503 on readiness', { timeout: 60_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-rootkey-'));
    dirs.push(dataDir);
    const env = { HAVEN_MODE: 'test', HAVEN_DATA_DIR: dataDir, HAVEN_REQUESTER_PORT: '0', HAVEN_TRIAGE_PORT: '0', HAVEN_SERVER_SECRET: 'b'.repeat(64) };
    const database = await openDatabase({ databaseUrl: null, dataDir });
    let demo: DemoOrganisation;
    try {
      await migrateToLatest(database.db);
      const seeded = await seedDemo(database.db, testConfig(), p);
      if (!seeded.created) throw new Error('expected a fresh database');
      demo = seeded.demo;
    } finally {
      await database.close();
    }
    const wrong = p.ed25519KeypairFromSeed(p.randomBytes(32)).publicKey;
    const lines: string[] = [];
    const server = await startServer(loadConfig({ ...env, HAVEN_ROOT_PUBLIC_KEY: Buffer.from(wrong).toString('hex') }), createLogger('info', (l) => lines.push(l)));
    try {
      expect(server.rootKey).toBe('mismatch');
      const errors = lines.filter((l) => l.includes('"level":"error"'));
      expect(errors).toHaveLength(1);
      expect(JSON.parse(errors[0]!)).toMatchObject({ event: 'root_key_mismatch', problem: expect.stringContaining('does not match') });
      expect(lines.join('\n')).not.toContain(Buffer.from(wrong).toString('hex'));
      const ready = await fetch(new URL('/api/v1/health/ready', server.triageUrl));
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { error: { code: string } }).error.code).toBe('misconfigured');
      expect((await fetch(new URL('/api/v1/health/live', server.requesterUrl))).status).toBe(200);
    } finally {
      await server.stop();
    }
    // The right key: no error line, ready.
    const good: string[] = [];
    const fixed = await startServer(loadConfig({ ...env, HAVEN_ROOT_PUBLIC_KEY: Buffer.from(demo.root.publicKey).toString('hex') }), createLogger('info', (l) => good.push(l)));
    try {
      expect(fixed.rootKey).toBe('ok');
      expect(good.filter((l) => l.includes('"level":"error"'))).toEqual([]);
      expect((await fetch(new URL('/api/v1/health/ready', fixed.requesterUrl))).status).toBe(200);
    } finally {
      await fixed.stop();
    }
  });
});
