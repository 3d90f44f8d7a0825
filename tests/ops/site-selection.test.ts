/**
 * [availability] One site per instance (HAVEN_SITES): with PostgreSQL, the triage dashboard
 * can run in a process of its own, so a flood that holds the requester site's sockets and
 * event loop cannot slow it (bench/connection-flood.bench.ts, layout `split`). An instance
 * opens only the ports of the sites it serves; the embedded database refuses the setting.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConfigError, loadConfig } from '../../api/config.ts';
import { openDatabase } from '../../api/db/connect.ts';
import { migrateToLatest } from '../../api/db/migrate.ts';
import { createLogger } from '../../api/logger.ts';
import { startServer, type RunningServer } from '../../api/server.ts';
import { seedDemoOrganisation } from '../helpers/test-app.ts';
import { createPostgresDatabase } from '../helpers/test-database.ts';

/** A port nothing listens on right now (bound, read, released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('[availability] HAVEN_SITES configuration', () => {
  it('defaults to both sites and refuses one site on the embedded database, naming the setting', () => {
    expect(loadConfig({ HAVEN_MODE: 'test' }).sites).toBe('both');
    expect(loadConfig({ HAVEN_MODE: 'test', HAVEN_SITES: 'triage', DATABASE_URL: 'postgres://u@127.0.0.1:5432/x' }).sites).toBe('triage');
    for (const env of [{ HAVEN_SITES: 'triage' }, { HAVEN_SITES: 'requester' }, { HAVEN_SITES: 'dashboard', DATABASE_URL: 'postgres://u@127.0.0.1:5432/x' }]) {
      let problems: string[] = [];
      try {
        loadConfig({ HAVEN_MODE: 'test', ...env });
      } catch (err) {
        problems = err instanceof ConfigError ? err.problems : [];
      }
      expect(problems.length).toBe(1);
      expect(problems[0]).toMatch(/^HAVEN_SITES: /);
    }
  });
});

const adminUrl = inject('postgresAdminUrl');

describe.runIf(adminUrl)('[availability] one site per instance on PostgreSQL', () => {
  let database: { url: string; drop(): Promise<void> };
  let rootPublicKeyHex = '';
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-sites-'));
  const running: RunningServer[] = [];

  beforeAll(async () => {
    database = await createPostgresDatabase(adminUrl!);
    const open = await openDatabase({ databaseUrl: database.url, dataDir: '' });
    try {
      await migrateToLatest(open.db);
      rootPublicKeyHex = Buffer.from((await seedDemoOrganisation(open.db)).root.publicKey).toString('hex');
    } finally {
      await open.close();
    }
  });
  afterAll(async () => {
    for (const s of running) await s.stop();
    await database?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(sites: string, requesterPort: number, triagePort: number): Promise<RunningServer> {
    const config = loadConfig({
      HAVEN_MODE: 'test', HAVEN_DATA_DIR: dataDir, DATABASE_URL: database.url, HAVEN_SERVER_SECRET: 'a'.repeat(64), HAVEN_SITES: sites,
      HAVEN_ROOT_PUBLIC_KEY: rootPublicKeyHex,
      HAVEN_REQUESTER_PORT: String(requesterPort), HAVEN_TRIAGE_PORT: String(triagePort), HAVEN_LOG_LEVEL: 'warn',
    });
    const server = await startServer(config, createLogger('warn', () => {}));
    running.push(server);
    return server;
  }

  it('runs a triage-only and a requester-only instance side by side, each listening only on its own port', async () => {
    const [rq1, tr1, rq2, tr2] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const triageOnly = await start('triage', rq1, tr1);
    const requesterOnly = await start('requester', rq2, tr2);

    expect(triageOnly.serves).toEqual({ requester: false, triage: true });
    expect(requesterOnly.serves).toEqual({ requester: true, triage: false });
    expect(() => triageOnly.requesterUrl).toThrow(/does not serve the requester site/);
    expect(() => requesterOnly.triageUrl).toThrow(/does not serve the triage site/);
    // The port of the site an instance does not serve stays closed.
    expect(await refused(rq1)).toBe(true);
    expect(await refused(tr2)).toBe(true);

    // Each serves its own site in full, from the one shared database.
    expect((await fetch(new URL('/api/v1/health/ready', triageOnly.triageUrl))).status).toBe(200);
    const salt = await fetch(new URL('/api/v1/login/salt', triageOnly.triageUrl), {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'someone' }),
    });
    expect(salt.status).toBe(200);
    expect((await fetch(new URL('/api/v1/health/ready', requesterOnly.requesterUrl))).status).toBe(200);
    const intake = await fetch(new URL('/api/v1/intake', requesterOnly.requesterUrl));
    expect(intake.status).toBe(200);
    expect(((await intake.json()) as { teams: unknown[] }).teams.length).toBeGreaterThan(0);
  }, 60_000);
});
