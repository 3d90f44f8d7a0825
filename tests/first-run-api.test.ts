/**
 * First run (POST /api/v1/setup) against a real server on an empty database, on PGlite and
 * PostgreSQL: the one-time token is refused when wrong, works once, is dead after setup and
 * after a restart, never appears in a log line; two setups racing (one token, or two
 * instances on one PostgreSQL database) leave exactly one organisation; a body whose pieces
 * do not belong together is refused and leaves the link usable; and after setup the
 * requester side takes requests with no restart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../api/config.ts';
import { createLogger } from '../api/logger.ts';
import { startServer, type RunningServer } from '../api/server.ts';
import { base64urlDecode, base64urlEncode } from '../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { RESPONDER_MIN_PARAMS } from '../crypto/v1/account.ts';
import { createRootKey, Role, signResponderCert } from '../crypto/v1/certs.ts';
import { makeFirstRunSetup, type FirstRunBody } from '../crypto/v2/first-run.ts';
import { engines } from './helpers/test-database.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Started {
  server: RunningServer;
  logLines: string[];
  dataDir: string;
}

async function freshDatabaseUrl(kind: 'pglite' | 'postgres'): Promise<string | null> {
  if (kind === 'pglite') return null;
  const adminUrl = inject('postgresAdminUrl')!;
  const name = `haven_fr_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  cleanups.unshift(async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`);
    await c.end();
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function start(databaseUrl: string | null, dataDir?: string, extra: Record<string, string> = {}): Promise<Started> {
  const dir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'haven-firstrun-'));
  if (!dataDir) cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const env: Record<string, string> = { HAVEN_MODE: 'test', HAVEN_DATA_DIR: dir, HAVEN_REQUESTER_PORT: '0', HAVEN_TRIAGE_PORT: '0', HAVEN_POW_DIFFICULTY: '8' };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  Object.assign(env, extra);
  const logLines: string[] = [];
  const server = await startServer(loadConfig(env), createLogger('debug', (line) => logLines.push(line)));
  let stopped = false;
  const stop = async () => {
    if (!stopped) await server.stop();
    stopped = true;
  };
  cleanups.unshift(stop);
  return { server, logLines, dataDir: dir };
}

const tokenOf = (s: RunningServer) => /#setup=([A-Za-z0-9_-]+)$/.exec(s.setupUrl ?? '')![1]!;

async function body(token: string, teams = [{ slug: 'legal', name: 'Legal aid' }]): Promise<FirstRunBody> {
  const p = await loadSodiumPrimitives();
  const made = await makeFirstRunSetup(p, { token, organisationName: 'Test hotline', username: 'first.admin', passphrase: 'correct horse battery staple', teams, params: RESPONDER_MIN_PARAMS });
  return made.body;
}

async function post(s: RunningServer, json: unknown): Promise<{ status: number; json: { error?: { code: string } } & Record<string, unknown> }> {
  const res = await fetch(new URL('/api/v1/setup', s.triageUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
  return { status: res.status, json: (await res.json()) as { error?: { code: string } } };
}

async function organisations(s: RunningServer): Promise<number> {
  return (await s.database.db.selectFrom('organisations').select('id').execute()).length;
}

for (const kind of engines()) {
  describe(`first-run setup [${kind}]`, () => {
    it('prints a link whose token works once, after checks, and sets the hotline up without a restart', { timeout: 120_000 }, async () => {
      const { server, logLines, dataDir } = await start(await freshDatabaseUrl(kind));
      expect(server.setUp).toBe(false);
      expect(server.setupUrl).toMatch(new RegExp(`^${server.triageUrl.replace(/[/.]/g, '\\$&')}#setup=[A-Za-z0-9_-]{43}$`));
      const token = tokenOf(server);
      expect((await fetch(new URL('/api/v1/intake', server.requesterUrl))).status).toBe(503);
      expect(await (await fetch(server.requesterUrl)).text()).toContain('id="not-set-up"');

      // A wrong token: refused before anything is looked at, nothing written.
      const wrong = await post(server, await body(base64urlEncode(randomBytes(32))));
      expect(wrong.status).toBe(403);
      // Its own code: the page says "wrong link" for it, and shows the message of a `forbidden`
      // (an origin refused, no link offered) instead of blaming the link.
      expect(wrong.json.error?.code).toBe('setup_link_wrong');
      expect(await post(server, { ...(await body('')), token: 'x' })).toMatchObject({ status: 403 });

      // Pieces that do not belong together: an admin certificate signed by another root.
      const p = await loadSodiumPrimitives();
      const good = await body(token);
      const other = createRootKey(p);
      const forged = structuredClone(good);
      forged.admin.certificate = base64urlEncode(signResponderCert(p, other.seed, {
        orgId: base64urlDecode(good.organisation.id), accountId: base64urlDecode(good.admin.id), role: Role.admin,
        x25519Public: base64urlDecode(good.admin.encPublicKey), ed25519Public: base64urlDecode(good.admin.signPublicKey),
      }));
      expect((await post(server, forged)).status).toBe(400);
      // A team statement moved to another team id, and an audit entry of another organisation.
      const moved = structuredClone(good);
      moved.teams[0]!.id = base64urlEncode(randomBytes(16));
      expect((await post(server, moved)).status).toBe(400);
      const otherAudit = structuredClone(good);
      otherAudit.audit = (await body(token)).audit;
      expect((await post(server, otherAudit)).status).toBe(400);
      expect(await organisations(server)).toBe(0);

      // The link still works after those refusals, once.
      const ok = await post(server, good);
      expect(ok.status).toBe(201);
      expect(ok.json.rootKeyPersisted).toBe(true);
      expect(typeof ok.json.rootFingerprint).toBe('string');
      expect(await organisations(server)).toBe(1);
      const again = await post(server, await body(token));
      expect(again.status).toBe(409);
      expect(again.json.error?.code).toBe('already_set_up');
      // Dead for everyone now: any token, any body (whether a hotline is set up is public anyway).
      expect((await post(server, { token: 'nope' })).json.error?.code).toBe('already_set_up');

      // No restart: the pages carry the new root, the requester API serves the team key.
      expect(server.setUp).toBe(true);
      const page = await (await fetch(server.requesterUrl)).text();
      expect(page).toContain(`<meta name="haven-root-public-key" content="${good.rootPublicKey}">`);
      expect(page).not.toContain('id="not-set-up"');
      const triagePage = await (await fetch(server.triageUrl)).text();
      expect(triagePage).toContain(good.rootPublicKey);
      const intake = await fetch(new URL('/api/v1/intake', server.requesterUrl));
      expect(intake.status).toBe(200);
      expect(JSON.stringify(await intake.json())).toContain(good.teams[0]!.id);
      expect((await fetch(new URL('/api/v1/health/ready', server.triageUrl))).status).toBe(200);
      // Persisted where deployment configuration reads it at the next start.
      expect(base64urlEncode(Uint8Array.from(Buffer.from(fs.readFileSync(path.join(dataDir, 'root-public-key.txt'), 'utf8').trim(), 'hex')))).toBe(good.rootPublicKey);

      // The token never reached a log line (the request log included).
      expect(logLines.some((l) => l.includes('"route":"/api/v1/setup"'))).toBe(true);
      expect(logLines.filter((l) => l.includes(token))).toEqual([]);
    });

    it('two setups racing with the same link leave exactly one organisation', { timeout: 120_000 }, async () => {
      const { server } = await start(await freshDatabaseUrl(kind));
      const token = tokenOf(server);
      const bodies = await Promise.all([body(token, [{ slug: 'a', name: 'A' }]), body(token, [{ slug: 'b', name: 'B' }]), body(token, [])]);
      const results = await Promise.all(bodies.map((b) => post(server, b)));
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      for (const r of results.filter((x) => x.status !== 201)) expect(['conflict', 'already_set_up']).toContain(r.json.error?.code);
      expect(await organisations(server)).toBe(1);
      expect((await server.database.db.selectFrom('audit_log').select('seq').execute()).length).toBe(1);
    });

    it('offers no link when a root key is configured (npm run setup is the way then)', { timeout: 60_000 }, async () => {
      const { server } = await start(await freshDatabaseUrl(kind), undefined, { HAVEN_ROOT_PUBLIC_KEY: Buffer.alloc(32, 7).toString('hex') });
      expect(server.setupUrl).toBeNull();
      const refused = await post(server, await body(base64urlEncode(randomBytes(32))));
      expect(refused.status).toBe(403);
      expect(refused.json.error?.code).toBe('forbidden');
      expect(await organisations(server)).toBe(0);
    });

    it('after a restart no link is printed and the endpoint says already_set_up', { timeout: 120_000 }, async () => {
      const url = await freshDatabaseUrl(kind);
      const first = await start(url);
      const token = tokenOf(first.server);
      expect((await post(first.server, await body(token))).status).toBe(201);
      await first.server.stop();
      const second = await start(url, first.dataDir);
      expect(second.server.setupUrl).toBeNull();
      expect(second.server.setUp).toBe(true);
      expect(second.server.rootKey).toBe('ok');
      const late = await post(second.server, await body(token));
      expect(late.status).toBe(409);
      expect(late.json.error?.code).toBe('already_set_up');
    });
  });
}

describe('first-run setup across instances [postgres]', () => {
  it.runIf(engines().includes('postgres'))('two instances on one database, each with its own link: exactly one organisation', { timeout: 120_000 }, async () => {
    const url = await freshDatabaseUrl('postgres');
    const a = await start(url);
    const b = await start(url);
    expect(a.server.setupUrl).not.toBeNull();
    expect(b.server.setupUrl).not.toBeNull();
    const [ra, rb] = await Promise.all([post(a.server, await body(tokenOf(a.server))), post(b.server, await body(tokenOf(b.server)))]);
    expect([ra.status, rb.status].sort()).toEqual([201, 409]);
    expect([ra, rb].find((r) => r.status === 409)!.json.error?.code).toBe('already_set_up');
    expect(await organisations(a.server)).toBe(1);
    // The loser's link is dead too.
    const loser = ra.status === 409 ? a : b;
    expect((await post(loser.server, await body(tokenOf(loser.server)))).json.error?.code).toBe('already_set_up');
  });
});
