/**
 * Content-free notifications against a real SMTP server (smtp-server on a random local
 * port): opting in and out through the API, one fixed e-mail per opted-in member per batch
 * that names no team, request or text, nothing for other teams, concurrent notifiers on
 * PostgreSQL sending once, an SMTP server that is down or hostile, and never an address in
 * a log line or in the database in the clear.
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { base64urlDecode, base64urlEncode } from '../crypto/encoding.ts';
import { createLogger } from '../api/logger.ts';
import { DEMO_TEAMS, type DemoOrganisation, type DemoTeam } from '../seeds/demo.ts';
import { watchActivity, type ActivityWatch } from '../api/notifications/activity.ts';
import { addressKey, sealAddress } from '../api/notifications/address-box.ts';
import { NOTIFICATION_SUBJECT, smtpMailerFactory } from '../api/notifications/mailer.ts';
import { flushToDatabase, runNotifyBatch, startNotifierJob, type BatchResult } from '../api/notifications/notifier.service.ts';
import { markTeamsPending, upsertSubscription } from '../api/notifications/notification.repository.ts';
import { closedPort, SmtpSink } from './helpers/smtp-sink.ts';
import { createTestApps, seedDemoOrganisation, testConfig, type TestApps } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import { lookupTokenHash, proofFor, requestBody, requesterKeys, sealFollowUp, sealRequest } from './helpers/requester-client.ts';
import { approveAccount, insertAccountDirectly } from './helpers/approve.ts';
import { makeCredentials, sessionCookie, type ResponderCredentials } from './helpers/responder-client.ts';

const p = await loadSodiumPrimitives();
const CANARY = 'CANARY-notify-5d1e';
const FROM = 'haven@hotline.example';
const DASHBOARD = 'https://triage.hotline.example/';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers are read field by field
type Json = Record<string, any>;

async function call(app: Hono, path: string, c: { method?: string; body?: unknown; cookie?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(c.headers ?? {}) };
  if (c.body !== undefined) headers['content-type'] = 'application/json';
  if (c.cookie) headers.cookie = c.cookie;
  const res = await app.request(path, { method: c.method ?? (c.body === undefined ? 'GET' : 'POST'), headers, ...(c.body !== undefined ? { body: JSON.stringify(c.body) } : {}) });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Json, res };
}

describeEachDatabase('content-free notifications', (t) => {
  let demo: DemoOrganisation;
  let legal: DemoTeam;
  let medical: DemoTeam;
  let sink: SmtpSink;
  let apps: TestApps;
  let watch: ActivityWatch;
  let jobLines: string[];

  beforeEach(async () => {
    demo = await seedDemoOrganisation(t.db);
    legal = demo.teams[0]!;
    medical = demo.teams[1]!;
    sink = await new SmtpSink().start();
    apps = createTestApps(t.db, { rootPublicKey: demo.root.publicKey, env: smtpEnv(sink.port) });
    // A long coalescing delay: each batch flushes first, so tests decide when flags are written.
    watch = watchActivity(t.db, { flush: flushToDatabase(t.db), delayMs: 3_600_000 });
    jobLines = [];
  });

  afterEach(async () => {
    await watch.stop();
    await sink.stop();
  });

  function smtpEnv(port: number): Record<string, string> {
    return { HAVEN_SMTP_URL: `smtp://127.0.0.1:${port}`, HAVEN_SMTP_REQUIRE_TLS: 'false', HAVEN_NOTIFY_FROM: FROM, HAVEN_NOTIFY_DASHBOARD_URL: DASHBOARD };
  }

  const triage = () => apps.triage as unknown as Hono;
  const requester = () => apps.requester as unknown as Hono;

  /** One batch as the job runs it, through SMTP on `port` (the sink's by default). */
  function batch(port = sink.port, w: ActivityWatch | null = watch): Promise<BatchResult> {
    const config = testConfig(smtpEnv(port));
    return runNotifyBatch({
      db: t.db, crypto: p, serverSecret: config.serverSecret!, watch: w,
      mailer: smtpMailerFactory({ ...config.notify, smtpUrl: config.notify.smtpUrl!, from: FROM }),
      logger: createLogger('debug', (line) => jobLines.push(line)),
    });
  }

  async function member(name: string, teams: DemoTeam[]): Promise<{ creds: ResponderCredentials; id: Uint8Array; cookie: string }> {
    const creds = await makeCredentials(p, name);
    const id = await insertAccountDirectly(t.db, p, creds, 'responder');
    await approveAccount(t.db, p, demo, id, teams.map((x) => x.id));
    const salt = await call(triage(), '/api/v1/login/salt', { body: { username: name } });
    expect(salt.status).toBe(200);
    const res = await call(triage(), '/api/v1/login', { body: { username: name, verifier: base64urlEncode(creds.secrets.loginVerifier) } });
    expect(res.status).toBe(200);
    return { creds, id, cookie: sessionCookie(res.res) };
  }

  async function optIn(cookie: string, address: string) {
    const res = await call(triage(), '/api/v1/notifications', { method: 'PUT', body: { address }, cookie });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ available: true, address });
  }

  async function submitRequest(team: DemoTeam, passphrase = `${CANARY} ${base64urlEncode(p.randomBytes(6))}`) {
    const keys = await requesterKeys(p, passphrase, demo.organisationId);
    const envelope = sealRequest(p, demo, team, keys, requestBody(`Please help ${CANARY}`, keys));
    const challenge = base64urlDecode(((await (await requester().request('/api/v1/pow/challenge')).json()) as Json).challenge as string);
    const res = await call(requester(), '/api/v1/requests', { body: { envelope: base64urlEncode(envelope), lookupHash: base64urlEncode(lookupTokenHash(p, keys.lookupToken)), pow: proofFor(p, challenge) } });
    expect(res.status).toBe(201);
    return { id: base64urlDecode(res.json.id as string), keys };
  }

  function allLogs(): string {
    return [...apps.logLines, ...jobLines].join('\n');
  }

  it('[content-free notifications] sends one fixed e-mail per opted-in member of the team per batch, naming no team, request or text', async () => {
    const a = await member('legal.a', [legal]);
    const b = await member('legal.b', [legal, medical]);
    const quiet = await member('legal.quiet', [legal]); // a member who never opted in
    const other = await member('medic.c', [medical]);
    await optIn(a.cookie, 'a@responders.example');
    await optIn(b.cookie, 'b@responders.example');
    await optIn(other.cookie, 'c@responders.example');

    // Nothing new yet: nobody is told anything.
    expect(await batch()).toMatchObject({ sent: 0, failed: 0 });
    expect(sink.mails).toEqual([]);

    // Two requests for one team in one batch window: still one e-mail each.
    const first = await submitRequest(legal);
    const second = await submitRequest(legal);
    expect(await batch()).toMatchObject({ sent: 2, failed: 0 });
    expect(sink.recipients()).toEqual(['a@responders.example', 'b@responders.example']);
    expect(sink.mails.every((m) => m.to.length === 1)).toBe(true);

    const bodies = sink.mails.map((m) => {
      const headerEnd = m.raw.indexOf('\r\n\r\n');
      return { headers: m.raw.slice(0, headerEnd), body: m.raw.slice(headerEnd + 4) };
    });
    // Identical for everyone: the same subject and body, byte for byte.
    expect(new Set(bodies.map((x) => x.body)).size).toBe(1);
    expect(bodies[0]!.headers).toContain(`Subject: ${NOTIFICATION_SUBJECT}`);
    expect(bodies[0]!.body).toContain(DASHBOARD);
    for (const m of sink.mails) {
      for (const team of DEMO_TEAMS) {
        expect(m.raw).not.toContain(team.name);
        expect(m.raw.toLowerCase()).not.toContain(team.slug);
      }
      expect(m.raw).not.toContain(CANARY);
      for (const id of [first.id, second.id, legal.id, demo.organisationId]) {
        expect(m.raw).not.toContain(base64urlEncode(id));
        expect(m.raw.toLowerCase()).not.toContain(Buffer.from(id).toString('hex'));
      }
      expect(m.raw).not.toContain('legal.a');
      expect(m.raw).not.toContain('legal.b');
      // No user agent or host name of this machine in the envelope either.
      expect(m.raw).not.toMatch(/X-Mailer/i);
    }
    void quiet;

    // Nothing new since: the next batch is silent.
    expect(await batch()).toMatchObject({ sent: 0 });
    expect(sink.mails).toHaveLength(2);

    // A request for the medical team reaches b (member of both) and c, never a.
    await submitRequest(medical);
    await batch();
    expect(sink.mails.slice(2).flatMap((m) => m.to).sort()).toEqual(['b@responders.example', 'c@responders.example']);
    expect(allLogs()).not.toMatch(/responders\.example/);
  });

  it('counts a requester follow-up as something new, and a team member of a removed account gets nothing', async () => {
    const a = await member('legal.a', [legal]);
    const gone = await member('legal.gone', [legal]);
    await optIn(a.cookie, 'a@responders.example');
    await optIn(gone.cookie, 'gone@responders.example');
    const { id, keys } = await submitRequest(legal);
    await t.db.updateTable('accounts').set({ status: 'removed' }).where('id', '=', gone.id).execute();
    await batch();
    expect(sink.recipients()).toEqual(['a@responders.example']);

    const envelope = sealFollowUp(p, demo, legal, keys, id, `more ${CANARY}`);
    const challenge = base64urlDecode(((await (await requester().request('/api/v1/pow/challenge')).json()) as Json).challenge as string);
    const res = await call(requester(), '/api/v1/threads/messages', { body: { token: base64urlEncode(keys.lookupToken), envelope: base64urlEncode(envelope), pow: proofFor(p, challenge) } });
    expect(res.status).toBe(201);
    await batch();
    expect(sink.recipients()).toEqual(['a@responders.example', 'a@responders.example']);
  });

  it('counts a request and a follow-up from the no-JavaScript forms the same way', async () => {
    const a = await member('legal.a', [legal]);
    await optIn(a.cookie, 'a@responders.example');
    const post = (path: string, fields: Record<string, string>) => apps.requester.request(path, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'localhost', 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams(fields).toString(),
    });
    const formToken = (html: string, form: string) => /name="form" value="([^"]+)"/.exec(html.slice(html.indexOf(`id="${form}"`)))![1]!;
    const page = await (await apps.requester.request('/plain?lang=en')).text();
    const sent = await post('/plain/request', { form: formToken(page, 'ns-request'), team: 'legal', message: `Help ${CANARY}`, lang: 'en' });
    expect(sent.status).toBe(201);
    const passphrase = /id="passphrase-out">([^<]+)</.exec(await sent.text())![1]!;
    expect(await batch()).toMatchObject({ sent: 1 });

    const thread = await (await post('/plain/thread', { passphrase, lang: 'en' })).text();
    const added = await post('/plain/followup', { form: formToken(thread, 'ns-followup'), passphrase, message: `more ${CANARY}`, lang: 'en' });
    expect(added.status).toBeLessThan(300);
    expect(await batch()).toMatchObject({ sent: 1 });
    expect(sink.recipients()).toEqual(['a@responders.example', 'a@responders.example']);
    expect(sink.mails.every((m) => !m.raw.includes(CANARY))).toBe(true);
  });

  it('stops after opt-out, and lets the owner read and change only their own address', async () => {
    const a = await member('legal.a', [legal]);
    const b = await member('legal.b', [legal]);
    expect((await call(triage(), '/api/v1/notifications', { cookie: a.cookie })).json).toEqual({ available: true, address: null });
    await optIn(a.cookie, 'first@responders.example');
    await optIn(a.cookie, 'a@responders.example');
    await optIn(b.cookie, 'b@responders.example');
    expect((await call(triage(), '/api/v1/notifications', { cookie: a.cookie })).json).toEqual({ available: true, address: 'a@responders.example' });

    expect((await call(triage(), '/api/v1/notifications', { method: 'DELETE', cookie: b.cookie })).status).toBe(204);
    expect((await call(triage(), '/api/v1/notifications', { method: 'DELETE', cookie: b.cookie })).status).toBe(204);
    expect((await call(triage(), '/api/v1/notifications', { cookie: b.cookie })).json).toEqual({ available: true, address: null });
    await submitRequest(legal);
    await batch();
    expect(sink.recipients()).toEqual(['a@responders.example']);
  });

  it('[address sealed at rest] keeps no address in the clear in the database, and shows admins who opted in but not where', async () => {
    const a = await member('legal.a', [legal]);
    await optIn(a.cookie, 'a@responders.example');
    const rows = await sql<{ dump: string }>`select encode(address_sealed, 'escape') as dump from notification_subscriptions`.execute(t.db);
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]!.dump).not.toContain('responders');

    // A sealed address moved onto another account's row does not open there.
    const b = await member('legal.b', [legal]);
    await optIn(b.cookie, 'b@responders.example');
    const sealedA = (await t.db.selectFrom('notification_subscriptions').select('address_sealed').where('account_id', '=', a.id).executeTakeFirstOrThrow()).address_sealed;
    await t.db.updateTable('notification_subscriptions').set({ address_sealed: sealedA }).where('account_id', '=', b.id).execute();
    expect((await call(triage(), '/api/v1/notifications', { cookie: b.cookie })).json).toEqual({ available: true, address: null });
    await submitRequest(legal);
    expect(await batch()).toMatchObject({ sent: 1, unreadable: 1 });
    expect(sink.recipients()).toEqual(['a@responders.example']);

    const adminCreds = await makeCredentials(p, 'admin.one');
    const adminId = await insertAccountDirectly(t.db, p, adminCreds, 'admin');
    await approveAccount(t.db, p, demo, adminId, []);
    const login = await call(triage(), '/api/v1/login', { body: { username: 'admin.one', verifier: base64urlEncode(adminCreds.secrets.loginVerifier) } });
    const list = await call(triage(), '/api/v1/admin/notifications', { cookie: sessionCookie(login.res) });
    expect(list.status).toBe(200);
    expect(list.json.subscribers.map((s: Json) => s.username)).toEqual(['legal.a', 'legal.b']);
    expect(JSON.stringify(list.json)).not.toContain('@');
    expect((await call(triage(), '/api/v1/admin/notifications', { cookie: a.cookie })).status).toBe(403);
  });

  it('refuses anything but one plain address, other origins, and callers without a session', async () => {
    const a = await member('legal.a', [legal]);
    for (const address of ['', 'no-at-sign', 'a@b', 'a@responders.example\r\nBcc: spy@evil.example', 'Name <a@responders.example>', 'a@x.example,b@y.example', `${'x'.repeat(250)}@x.example`, 42]) {
      const res = await call(triage(), '/api/v1/notifications', { method: 'PUT', body: { address }, cookie: a.cookie });
      expect({ address, status: res.status, code: res.json.error?.code }).toEqual({ address, status: 400, code: 'validation_failed' });
    }
    expect(await t.db.selectFrom('notification_subscriptions').selectAll().execute()).toEqual([]);
    const cross = await call(triage(), '/api/v1/notifications', { method: 'PUT', body: { address: 'a@responders.example' }, cookie: a.cookie, headers: { origin: 'https://evil.example' } });
    expect(cross.status).toBe(403);
    expect((await call(triage(), '/api/v1/notifications')).status).toBe(401);
    expect((await call(triage(), '/api/v1/notifications', { method: 'PUT', body: { address: 'a@responders.example' } })).status).toBe(401);
    expect((await call(triage(), '/api/v1/admin/notifications')).status).toBe(401);
  });

  it('answers opt-in with 503 when no SMTP server is configured, and keeps nothing', async () => {
    apps = createTestApps(t.db, { rootPublicKey: demo.root.publicKey });
    const a = await member('legal.a', [legal]);
    expect((await call(triage(), '/api/v1/notifications', { cookie: a.cookie })).json).toEqual({ available: false, address: null });
    const res = await call(triage(), '/api/v1/notifications', { method: 'PUT', body: { address: 'a@responders.example' }, cookie: a.cookie });
    expect(res.status).toBe(503);
    expect(await t.db.selectFrom('notification_subscriptions').selectAll().execute()).toEqual([]);
  });

  it('[SMTP down] logs the failure without the address and sends at the next batch, without new activity', async () => {
    const a = await member('legal.a', [legal]);
    const b = await member('legal.b', [legal]);
    await optIn(a.cookie, 'a@responders.example');
    await optIn(b.cookie, 'b@responders.example');
    await submitRequest(legal);
    const down = await batch(await closedPort());
    expect(down).toMatchObject({ sent: 0, failed: 2 });
    expect(jobLines.some((l) => l.includes('notify_send_failed'))).toBe(true);
    // Stopped at the first connection failure: one line, not one timeout per recipient.
    expect(jobLines.filter((l) => l.includes('notify_send_failed'))).toHaveLength(1);
    expect(sink.mails).toEqual([]);

    expect(await batch()).toMatchObject({ sent: 2, failed: 0 });
    expect(sink.recipients()).toEqual(['a@responders.example', 'b@responders.example']);
    expect(await batch()).toMatchObject({ sent: 0 });
    expect(allLogs()).not.toMatch(/responders\.example/);
  });

  it('[hostile SMTP server] a refused recipient is retried, its address (quoted back by the server) never logged, and the others still sent', async () => {
    const a = await member('legal.a', [legal]);
    const b = await member('legal.b', [legal]);
    await optIn(a.cookie, 'a@responders.example');
    await optIn(b.cookie, 'b@responders.example');
    sink.reject = (to) => to.startsWith('a@');
    await submitRequest(legal);
    expect(await batch()).toMatchObject({ sent: 1, failed: 1 });
    expect(sink.recipients()).toEqual(['b@responders.example']);
    expect(allLogs()).not.toMatch(/responders\.example/);
    sink.reject = null;
    expect(await batch()).toMatchObject({ sent: 1, failed: 0 });
    expect(sink.recipients()).toEqual(['a@responders.example', 'b@responders.example']);
  });

  it('[no downgrade to plain SMTP] with HAVEN_SMTP_REQUIRE_TLS on, a server that offers no STARTTLS gets no e-mail', async () => {
    const a = await member('legal.a', [legal]);
    await optIn(a.cookie, 'a@responders.example');
    await submitRequest(legal);
    // The sink offers no STARTTLS (as a server would with it stripped by someone on the path).
    const config = testConfig({ ...smtpEnv(sink.port), HAVEN_SMTP_REQUIRE_TLS: 'true' });
    const result = await runNotifyBatch({
      db: t.db, crypto: p, serverSecret: config.serverSecret!, watch,
      mailer: smtpMailerFactory({ ...config.notify, smtpUrl: config.notify.smtpUrl!, from: FROM }),
      logger: createLogger('debug', (line) => jobLines.push(line)),
    });
    expect(result).toMatchObject({ sent: 0, failed: 1 });
    expect(sink.mails).toEqual([]);
    expect(jobLines.join('\n')).toContain('notify_send_failed');
    expect(allLogs()).not.toMatch(/responders\.example/);
    // Still pending: sent once TLS works (here: once the setting allows the test server).
    expect(await batch()).toMatchObject({ sent: 1 });
  });

  it('[sent once] two notifiers running at the same moment send each e-mail exactly once', async () => {
    const config = testConfig();
    const key = addressKey(p, config.serverSecret!);
    const count = 40;
    const addresses: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = p.randomBytes(16);
      await t.db.insertInto('accounts').values({
        id, username: `bulk.${i}`, role: 'responder', status: 'active', salt: p.randomBytes(16), verifier_hash: p.randomBytes(32), key_bundle: p.randomBytes(64),
        enc_public_key: p.randomBytes(32), sign_public_key: p.randomBytes(32), certificate: null, totp_secret: null, created_hour: new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000),
      }).execute();
      await t.db.insertInto('team_members').values({ team_id: legal.id, account_id: id }).execute();
      const address = `bulk${i}@responders.example`;
      addresses.push(address);
      await upsertSubscription(t.db, id, sealAddress(p, key, id, address));
    }
    // Two instances claiming at the same boundary, each (on PostgreSQL) on its own pool connection.
    for (let round = 0; round < 3; round++) {
      const before = sink.mails.length;
      expect(await markTeamsPending(t.db, [legal.id])).toBe(count);
      const [x, y] = await Promise.all([batch(sink.port, null), batch(sink.port, null)]);
      expect(x.sent + y.sent).toBe(count);
      expect(sink.mails.slice(before).flatMap((m) => m.to).sort()).toEqual([...addresses].sort());
    }
  });

  it('writes the pending flags on its own shortly after a request (one UPDATE per delay), so any instance\'s batch sees them', async () => {
    await watch.stop();
    let flushes = 0;
    watch = watchActivity(t.db, { flush: async (teams) => { flushes += 1; await markTeamsPending(t.db, teams); }, delayMs: 50 });
    const a = await member('legal.a', [legal]);
    await optIn(a.cookie, 'a@responders.example');
    await Promise.all([submitRequest(legal), submitRequest(legal), submitRequest(legal)]);
    for (let i = 0; i < 500; i++) {
      const row = await t.db.selectFrom('notification_subscriptions').select('pending').executeTakeFirst();
      if (row?.pending) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await t.db.selectFrom('notification_subscriptions').select('pending').execute()).toEqual([{ pending: true }]);
    expect(flushes).toBeGreaterThanOrEqual(1);
    expect(flushes).toBeLessThanOrEqual(3);
    // Another instance (no watch of its own) sends it.
    expect(await batch(sink.port, null)).toMatchObject({ sent: 1 });
  });

  it('writes the signals noted so far when its watch stops (SIGTERM), however long the coalescing delay', async () => {
    const a = await member('legal.a', [legal]);
    await optIn(a.cookie, 'a@responders.example');
    await submitRequest(legal);
    expect(await t.db.selectFrom('notification_subscriptions').select('pending').execute()).toEqual([{ pending: false }]);
    await watch.stop();
    expect(await t.db.selectFrom('notification_subscriptions').select('pending').execute()).toEqual([{ pending: true }]);
  });

  it('stops cleanly: stop() waits for the batch in flight, and nothing runs after it', async () => {
    const a = await member('legal.a', [legal]);
    await optIn(a.cookie, 'a@responders.example');
    await submitRequest(legal);
    const config = testConfig(smtpEnv(sink.port));
    const job = startNotifierJob({
      db: t.db, crypto: p, serverSecret: config.serverSecret!, watch,
      mailer: smtpMailerFactory({ ...config.notify, smtpUrl: config.notify.smtpUrl!, from: FROM }),
      logger: createLogger('debug', (line) => jobLines.push(line)),
    }, 60 * 60_000);
    const running = job.runNow();
    await job.stop();
    // Stopping puts back what the batch had not sent yet: the flag is set for the next process.
    expect(await running).toMatchObject({ sent: 0, failed: 1 });
    expect(await t.db.selectFrom('notification_subscriptions').select('pending').execute()).toEqual([{ pending: true }]);
    expect(await batch(sink.port, null)).toMatchObject({ sent: 1 });
    // The watch stopped with the job: a later request is noted by nobody.
    await submitRequest(legal);
    expect(await batch(sink.port, null)).toMatchObject({ sent: 0 });
    expect(sink.recipients()).toEqual(['a@responders.example']);
  });
});

describe('notification settings', () => {
  it('reads the SMTP settings, hides a bad URL (it may carry a password) and wants a From address with it', () => {
    const config = testConfig({ HAVEN_SMTP_URL: 'smtps://user:pw@mail.example:465', HAVEN_NOTIFY_FROM: 'haven@hotline.example' });
    expect(config.notify).toEqual({ smtpUrl: 'smtps://user:pw@mail.example:465', smtpRequireTls: true, from: 'haven@hotline.example', intervalMinutes: 30, dashboardUrl: null });
    expect(testConfig().notify.smtpUrl).toBeNull();
    expect(() => testConfig({ HAVEN_SMTP_URL: 'http://user:secretpw@mail.example' })).toThrow(/HAVEN_SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL with a host \(value hidden\)/);
    try {
      testConfig({ HAVEN_SMTP_URL: 'http://user:secretpw@mail.example' });
    } catch (err) {
      expect(String(err)).not.toContain('secretpw');
    }
    expect(() => testConfig({ HAVEN_SMTP_URL: 'smtp://mail.example' })).toThrow(/HAVEN_NOTIFY_FROM: required when HAVEN_SMTP_URL is set/);
    expect(() => testConfig({ HAVEN_NOTIFY_FROM: 'Haven <haven@hotline.example>' })).toThrow(/HAVEN_NOTIFY_FROM/);
    expect(() => testConfig({ HAVEN_NOTIFY_INTERVAL_MINUTES: '0' })).toThrow(/HAVEN_NOTIFY_INTERVAL_MINUTES/);
  });
});
