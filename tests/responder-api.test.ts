/**
 * The triage API end to end through `app.request()`: an admin invites, a responder enrols
 * with real account crypto, is approved (tests/helpers/approve.ts stands in for the admin's
 * browser), signs in, reads and decrypts a request with the granted team secret, triages it,
 * and replies in a way the requester can read. Plus who may do what, enumeration, throttling,
 * sessions, cross-site refusal, and bad input that leaves nothing written.
 */
import { sql } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { base64urlDecode, base64urlEncode, utf8Encode } from '../crypto/encoding.ts';
import { openGrant, Role, signResponderCert, verifyResponderCert } from '../crypto/v1/certs.ts';
import { MessageKind, RecipientKind, sealMessage } from '../crypto/v1/message.ts';
import { decodeTextBody } from '../crypto/v1/text-body.ts';
import { openMessageV2 } from '../crypto/v2/message.ts';
import { decodeRequestBodyV2 } from '../crypto/v2/request-body.ts';
import { deriveAccountSecrets, RESPONDER_DEFAULT_PARAMS, unwrapAccountKeys, wrapAccountKeys } from '../crypto/v1/account.ts';
import type { DemoOrganisation, DemoTeam } from '../seeds/demo.ts';
import { createTestApps, type TestApps, seedDemoOrganisation } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import { lookupTokenHash, proofFor, requestBody, requesterKeys, sealRequest } from './helpers/requester-client.ts';
import type { RequesterKeys } from './helpers/requester-client.ts';
import { approveAccount, createAdminAccount, insertAccountDirectly } from './helpers/approve.ts';
import { enrolBody, makeCredentials, sealResponderMessage, sessionCookie, type ResponderCredentials } from './helpers/responder-client.ts';
import { inviteThrough, invitationBody } from './helpers/invite.ts';

const p = await loadSodiumPrimitives();
const CANARY = 'CANARY-triage-81c2';

// API answers are read field by field in assertions; a declared type per answer would restate the API.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see the line above
type Json = Record<string, any>;

interface Call {
  method?: string;
  body?: unknown;
  cookie?: string | undefined;
  headers?: Record<string, string>;
}

async function call(app: Hono, path: string, c: Call = {}): Promise<{ status: number; json: Json; res: Response }> {
  const headers: Record<string, string> = { ...(c.headers ?? {}) };
  if (c.body !== undefined) headers['content-type'] ??= 'application/json';
  if (c.cookie) headers.cookie = c.cookie;
  const res = await app.request(path, {
    method: c.method ?? (c.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(c.body !== undefined ? { body: typeof c.body === 'string' ? c.body : JSON.stringify(c.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Json) : {}, res };
}

const b64 = base64urlEncode;
const unb64 = base64urlDecode;

describeEachDatabase('responder API', (t) => {
  let demo: DemoOrganisation;
  let apps: TestApps;
  let legal: DemoTeam;
  let medical: DemoTeam;

  beforeEach(async () => {
    demo = await seedDemoOrganisation(t.db);
    legal = demo.teams[0]!;
    medical = demo.teams[1]!;
    apps = createTestApps(t.db, { rootPublicKey: demo.root.publicKey, env: { HAVEN_POW_DIFFICULTY: '0' } });
  });

  const triage = () => apps.triage as unknown as Hono;
  const requester = () => apps.requester as unknown as Hono;

  async function signIn(c: ResponderCredentials): Promise<{ cookie: string; json: Json }> {
    const salt = await call(triage(), '/api/v1/login/salt', { body: { username: c.username } });
    expect(salt.status).toBe(200);
    expect(unb64(salt.json.salt)).toEqual(c.salt);
    const res = await call(triage(), '/api/v1/login', { body: { username: c.username, verifier: b64(c.secrets.loginVerifier) } });
    expect(res.status).toBe(200);
    return { cookie: sessionCookie(res.res), json: res.json };
  }

  type SignedInAdmin = { cookie: string; creds: ResponderCredentials; id: Uint8Array };
  const adminRequest = (admin: SignedInAdmin) => (method: string, path: string, body?: unknown) =>
    call(triage(), `/api/v1/admin${path}`, { method, ...(body !== undefined ? { body } : {}), cookie: admin.cookie });
  const inviter = (admin: SignedInAdmin) => ({ id: admin.id, ed25519Seed: admin.creds.ed25519Seed, orgId: demo.organisationId });

  /** An invitation made the way the admin's browser makes it (code and signed statement). @returns the code. */
  async function invite(admin: SignedInAdmin, teamIds: Uint8Array[], role: 'responder' | 'admin' = 'responder'): Promise<string> {
    const res = await inviteThrough(p, adminRequest(admin), inviter(admin), { role, teamIds });
    expect(res.status).toBe(201);
    return res.code;
  }

  async function enrol(c: ResponderCredentials, code: string): Promise<Uint8Array> {
    const res = await call(triage(), '/api/v1/enrol', { body: enrolBody(c, code) });
    expect(res.status).toBe(201);
    return unb64(res.json.account.id);
  }

  /** An admin (no teams), a legal responder and a medical responder, signed in. */
  async function world() {
    const adminCreds = await makeCredentials(p, 'admin.one');
    const adminId = await createAdminAccount(t.db, p, demo, adminCreds);
    const admin = await signIn(adminCreds);
    const members: Record<string, { creds: ResponderCredentials; id: Uint8Array; cookie: string; certificate: Uint8Array }> = {};
    for (const [name, team] of [['legal.one', legal], ['medic.one', medical]] as const) {
      const creds = await makeCredentials(p, name);
      const id = await enrol(creds, await invite({ cookie: admin.cookie, creds: adminCreds, id: adminId }, [team.id]));
      const certificate = await approveAccount(t.db, p, demo, id);
      members[name] = { creds, id, cookie: (await signIn(creds)).cookie, certificate };
    }
    return { admin: { creds: adminCreds, id: adminId, cookie: admin.cookie }, member: members['legal.one']!, outsider: members['medic.one']! };
  }

  async function submitRequest(team: DemoTeam, message = `Please help ${CANARY}`, passphrase = 'apple banana cherry delta echo foxtrot golf hotel') {
    const keys = await requesterKeys(p, passphrase, demo.organisationId);
    const envelope = sealRequest(p, demo, team, keys, requestBody(message, keys));
    const challenge = unb64(((await (await requester().request('/api/v1/pow/challenge')).json()) as Json).challenge);
    const res = await call(requester(), '/api/v1/requests', { body: { envelope: b64(envelope), lookupHash: b64(lookupTokenHash(p, keys.lookupToken)), pow: proofFor(p, challenge) } });
    expect(res.status).toBe(201);
    return { id: unb64(res.json.id), keys };
  }

  /**
   * A v2 reply, note or tags message at `over.position` (default 1: the first after a v2
   * request), signed by a responder the demo root certified (the server cannot check which
   * one: readers do). For tags, `text` is the JSON list.
   */
  function sealFor(
    kind: 'reply' | 'note' | 'tags', team: DemoTeam, threadId: Uint8Array, text: string, keys?: RequesterKeys,
    over: Partial<{ orgId: Uint8Array; epoch: number; messageId: Uint8Array; position: number }> = {},
  ) {
    const seed = p.randomBytes(32);
    const certificate = signResponderCert(p, demo.root.seed, {
      orgId: over.orgId ?? demo.organisationId, accountId: p.randomBytes(16), role: Role.responder,
      x25519Public: p.x25519Keypair().publicKey, ed25519Public: p.ed25519KeypairFromSeed(seed).publicKey,
    });
    return sealResponderMessage(p, {
      kind, orgId: over.orgId ?? demo.organisationId, team, threadId, position: over.position ?? 1, certificate, ed25519Seed: seed,
      ...(kind === 'tags' ? { tags: JSON.parse(text) as string[] } : { text }),
      ...(kind === 'reply' ? { requesterPublic: keys!.replyPublic } : {}),
      ...(over.messageId ? { messageId: over.messageId } : {}),
      ...(over.epoch !== undefined ? { epoch: over.epoch } : {}),
    });
  }

  async function counts() {
    const r = await sql<Json>`
      select (select count(*)::int from accounts) as accounts,
             (select count(*)::int from invitations where used) as used,
             (select count(*)::int from messages) as messages,
             (select count(*)::int from sessions) as sessions`.execute(t.db);
    return r.rows[0]!;
  }

  it('[server-blind, teams are cryptographic] runs invite -> enrol -> approve -> login -> read -> triage -> reply end to end', async () => {
    const adminCreds = await makeCredentials(p, 'admin.one');
    const adminId = await createAdminAccount(t.db, p, demo, adminCreds);
    const admin = await signIn(adminCreds);
    const code = await invite({ cookie: admin.cookie, creds: adminCreds, id: adminId }, [legal.id]);
    expect(unb64(code).length).toBeGreaterThanOrEqual(16);

    // The responder's browser: fresh keys and a real derivation at the default cost.
    const creds = await makeCredentials(p, 'Legal.Responder', 'a long passphrase for legal', { fresh: true });
    const enrolled = await call(triage(), '/api/v1/enrol', { body: enrolBody(creds, code) });
    expect(enrolled.status).toBe(201);
    expect(enrolled.json.account).toMatchObject({ username: 'legal.responder', role: 'responder', status: 'pending' });
    const accountId = unb64(enrolled.json.account.id);
    const stored = await t.db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirstOrThrow();
    expect(new Uint8Array(stored.verifier_hash)).not.toEqual(creds.secrets.loginVerifier);

    const pending = await call(triage(), '/api/v1/login', { body: { username: 'legal.responder', verifier: b64(creds.secrets.loginVerifier) } });
    expect(pending.status).toBe(403);
    expect(pending.json.error.message).toBe('Your account is waiting for approval.');
    expect(pending.res.headers.get('set-cookie')).toBeNull();

    await approveAccount(t.db, p, demo, accountId);
    const { id: requestId, keys: requesterKeySet } = await submitRequest(legal);
    await submitRequest(medical, 'not for legal', 'zulu yankee xray whiskey victor uniform tango sierra');

    // Login the way the dashboard does it: salt first, derive, then the verifier.
    const saltRes = await call(triage(), '/api/v1/login/salt', { body: { username: 'LEGAL.responder' } });
    expect(saltRes.json.params).toEqual(RESPONDER_DEFAULT_PARAMS);
    const secrets = await deriveAccountSecrets(p, creds.passphrase, unb64(saltRes.json.salt), saltRes.json.params);
    const login = await call(triage(), '/api/v1/login', { body: { username: 'legal.responder', verifier: b64(secrets.loginVerifier) } });
    expect(login.status).toBe(200);
    expect(login.json.account).toMatchObject({ username: 'legal.responder', role: 'responder', status: 'active' });
    const cookie = sessionCookie(login.res);
    const keys = unwrapAccountKeys(p, secrets.wrapKey, unb64(login.json.keyBundle));
    verifyResponderCert(p, demo.root.publicKey, unb64(login.json.certificate), { orgId: demo.organisationId, accountId });

    const session = await call(triage(), '/api/v1/session', { cookie });
    expect(session.json.account.username).toBe('legal.responder');

    const teams = await call(triage(), '/api/v1/teams', { cookie });
    expect(teams.status).toBe(200);
    expect(teams.json.teams.map((x: Json) => x.slug)).toEqual(['legal']);
    const team = teams.json.teams[0];
    expect(team.currentEpoch).toBe(1);
    const { epochSecret } = openGrant(p, {
      responderSecret: keys.x25519Secret,
      bytes: unb64(team.grants[0].grant),
      expected: { orgId: demo.organisationId, teamId: legal.id, epoch: 1, accountId },
      teamPublic: legal.publicKey,
    });

    const list = await call(triage(), '/api/v1/requests', { cookie });
    expect(list.status).toBe(200);
    expect(list.json.requests).toHaveLength(1);
    const item = list.json.requests[0];
    expect(unb64(item.id)).toEqual(requestId);
    expect(item).toMatchObject({ teamId: b64(legal.id), epoch: 1, status: 'new', priority: 'normal', assigneeId: null });
    expect(item.createdHour).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:00:00Z$/);
    const opened = openMessageV2(p, unb64(item.blob), {
      recipientKind: RecipientKind.team, secret: epochSecret, expected: { orgId: demo.organisationId, teamId: legal.id, threadId: requestId, position: 0 }, rootPublic: demo.root.publicKey,
    });
    expect(decodeRequestBodyV2(opened.body).message).toBe(`Please help ${CANARY}`);

    const patched = await call(triage(), `/api/v1/requests/${item.id}`, { method: 'PATCH', body: { status: 'in_progress', priority: 'high', assigneeId: b64(accountId) }, cookie });
    expect(patched.status).toBe(200);
    expect(patched.json.request).toMatchObject({ status: 'in_progress', priority: 'high', assigneeId: b64(accountId) });

    const reply = sealFor('reply', legal, requestId, 'We can help.', requesterKeySet);
    const posted = await call(triage(), `/api/v1/requests/${item.id}/messages`, { body: { kind: 'reply', envelope: b64(reply) }, cookie });
    expect(posted.status).toBe(201);
    const note = await call(triage(), `/api/v1/requests/${item.id}/messages`, { body: { kind: 'note', envelope: b64(sealFor('note', legal, requestId, `internal ${CANARY}`, undefined, { position: 2 })) }, cookie });
    expect(note.status).toBe(201);

    const thread = await call(triage(), `/api/v1/requests/${item.id}`, { cookie });
    expect(thread.json.messages.map((m: Json) => [m.kind, m.position, m.authorId])).toEqual([
      ['request', 0, null],
      ['reply', 1, b64(accountId)],
      ['note', 2, b64(accountId)],
    ]);
    expect(thread.json.request.status).toBe('in_progress');

    // The requester comes back and reads the reply with their reply secret; notes stay internal.
    const lookup = await call(requester(), '/api/v1/threads/lookup', { body: { token: b64(requesterKeySet.lookupToken) } });
    expect(lookup.json.messages.map((m: Json) => m.kind)).toEqual(['request', 'reply']);
    const readBack = openMessageV2(p, unb64(lookup.json.messages[1].blob), {
      recipientKind: RecipientKind.requester, secret: requesterKeySet.replySecret, expected: { orgId: demo.organisationId, threadId: requestId, kind: MessageKind.reply }, rootPublic: demo.root.publicKey,
    });
    expect(readBack.author.type).toBe('responder');
    expect(decodeTextBody(readBack.body)).toBe('We can help.');

    const logout = await call(triage(), '/api/v1/logout', { method: 'POST', cookie });
    expect(logout.status).toBe(204);
    expect(logout.res.headers.get('set-cookie')).toMatch(/haven_session=;/);
    expect((await call(triage(), '/api/v1/session', { cookie })).status).toBe(401);

    // Server-blind: nothing stored contains the text, the passphrase or the verifier.
    const dump = await sql<{ d: string }>`select concat_ws('|', (select string_agg(a::text, '|') from accounts a), (select string_agg(m::text, '|') from messages m)) as d`.execute(t.db);
    for (const secret of [CANARY, creds.passphrase, Buffer.from(CANARY).toString('hex'), Buffer.from(creds.secrets.loginVerifier).toString('hex'), Buffer.from(secrets.wrapKey).toString('hex')]) {
      expect(dump.rows[0]!.d).not.toContain(secret);
    }
  });

  describe('access matrix', () => {
    it('lets every endpoint answer each kind of caller exactly as intended', async () => {
      const w = await world();
      const { id: legalRequest } = await submitRequest(legal);
      const { id: medicalRequest } = await submitRequest(medical, 'medical', 'zulu yankee xray whiskey victor uniform tango sierra');
      const legalId = b64(legalRequest);
      const medicalId = b64(medicalRequest);
      const notes = () => ({ kind: 'note', envelope: b64(sealFor('note', legal, legalRequest, 'n')) });

      // Removed and expired sessions, each its own signed-in member of legal.
      const extra = async (name: string) => {
        const creds = await makeCredentials(p, name);
        const id = await insertAccountDirectly(t.db, p, creds, 'responder');
        await approveAccount(t.db, p, demo, id, [legal.id]);
        return { id, cookie: (await signIn(creds)).cookie };
      };
      const removed = await extra('removed.one');
      await t.db.updateTable('accounts').set({ status: 'removed' }).where('id', '=', removed.id).execute();
      const idle = await extra('idle.one');
      const longAgo = (minutes: number) => new Date(Math.floor(Date.now() / 60_000) * 60_000 - minutes * 60_000);
      await t.db.updateTable('sessions').set({ last_seen_at: longAgo(apps.config.sessionIdleMinutes + 1) }).where('account_id', '=', idle.id).execute();
      const old = await extra('old.one');
      await t.db.updateTable('sessions').set({ created_at: longAgo(apps.config.sessionMaxHours * 60 + 1) }).where('account_id', '=', old.id).execute();

      const callers: Record<string, string | undefined> = {
        anonymous: undefined,
        outsider: w.outsider.cookie,
        member: w.member.cookie,
        admin: w.admin.cookie,
        removed: removed.cookie,
        idle: idle.cookie,
        old: old.cookie,
      };
      // Built once: only the admin's call gets through (and appends the audit entry it signs).
      const head = await call(triage(), '/api/v1/admin/audit/head', { cookie: w.admin.cookie });
      const invitation = invitationBody(p, inviter(w.admin), unb64(head.json.hash), { role: 'responder', teamIds: [legal.id] }).body;
      const endpoints: [string, string, () => Call, Record<string, number>][] = [
        ['GET /session', '/api/v1/session', () => ({}), { outsider: 200, member: 200, admin: 200 }],
        ['GET /teams', '/api/v1/teams', () => ({}), { outsider: 200, member: 200, admin: 200 }],
        ['GET /requests', '/api/v1/requests', () => ({}), { outsider: 200, member: 200, admin: 200 }],
        ['GET /requests/:id (legal)', `/api/v1/requests/${legalId}`, () => ({}), { outsider: 404, member: 200, admin: 404 }],
        ['GET /requests/:id (medical)', `/api/v1/requests/${medicalId}`, () => ({}), { outsider: 200, member: 404, admin: 404 }],
        ['PATCH /requests/:id', `/api/v1/requests/${legalId}`, () => ({ method: 'PATCH', body: { priority: 'urgent' } }), { outsider: 404, member: 200, admin: 404 }],
        ['POST /requests/:id/messages', `/api/v1/requests/${legalId}/messages`, () => ({ body: notes() }), { outsider: 404, member: 201, admin: 404 }],
        ['POST /admin/invitations', '/api/v1/admin/invitations', () => ({ body: invitation }), { outsider: 403, member: 403, admin: 201 }],
      ];
      for (const [name, path, make, expected] of endpoints) {
        for (const [caller, cookie] of Object.entries(callers)) {
          const want = expected[caller] ?? 401;
          const res = await call(triage(), path, { ...make(), cookie });
          expect({ name, caller, status: res.status }).toEqual({ name, caller, status: want });
          if (want === 401) expect(res.json.error.code).toBe('unauthorized');
        }
      }
      // Lists show only the caller's teams' requests.
      const ids = async (cookie: string) => (await call(triage(), '/api/v1/requests', { cookie })).json.requests.map((r: Json) => r.id);
      expect(await ids(w.member.cookie)).toEqual([legalId]);
      expect(await ids(w.outsider.cookie)).toEqual([medicalId]);
      expect(await ids(w.admin.cookie)).toEqual([]);
      // Teams show only the caller's teams and only their own grants.
      const teams = (await call(triage(), '/api/v1/teams', { cookie: w.outsider.cookie })).json.teams;
      expect(teams.map((x: Json) => x.slug)).toEqual(['medical']);
      expect(teams[0].grants).toHaveLength(1);
      // The expired and removed sessions were deleted, not just refused.
      const left = await t.db.selectFrom('sessions').select('account_id').where('account_id', 'in', [removed.id, idle.id, old.id]).execute();
      expect(left).toEqual([]);
      // The requester app has none of these endpoints.
      expect((await call(requester(), '/api/v1/session', { cookie: w.member.cookie })).status).toBe(404);
      expect((await call(requester(), '/api/v1/login/salt', { body: { username: 'legal.one' } })).status).toBe(404);
    });

    it('answers 404 alike for a malformed, unknown or other-team request id', async () => {
      const w = await world();
      const { id } = await submitRequest(medical);
      for (const path of [`/api/v1/requests/${b64(id)}`, `/api/v1/requests/${b64(p.randomBytes(16))}`, '/api/v1/requests/not-an-id']) {
        const res = await call(triage(), path, { cookie: w.member.cookie });
        expect(res.status).toBe(404);
        expect(res.json).toEqual({ error: { code: 'not_found', message: 'No such request.' } });
      }
    });
  });

  it('[no enumeration] answers the salt query for unknown names with a stable fake salt shaped like a real one', async () => {
    const creds = await makeCredentials(p, 'real.person');
    await insertAccountDirectly(t.db, p, creds, 'responder');
    const real = await call(triage(), '/api/v1/login/salt', { body: { username: 'real.person' } });
    const ghost1 = await call(triage(), '/api/v1/login/salt', { body: { username: 'ghost.person' } });
    const ghost2 = await call(triage(), '/api/v1/login/salt', { body: { username: 'Ghost.Person' } });
    const other = await call(triage(), '/api/v1/login/salt', { body: { username: 'other.ghost' } });
    for (const r of [real, ghost1, ghost2, other]) {
      expect(r.status).toBe(200);
      expect(Object.keys(r.json).sort()).toEqual(['challenge', 'effort', 'params', 'salt']);
      expect(r.json.challenge).toBeNull();
      expect(r.json.effort).toBeNull();
      expect(unb64(r.json.salt)).toHaveLength(16);
      expect(r.json.params).toEqual(RESPONDER_DEFAULT_PARAMS);
    }
    expect(ghost1.json.salt).toBe(ghost2.json.salt);
    expect(ghost1.json.salt).not.toBe(other.json.salt);
    // A restarted server (same secret) gives the same fake salt.
    const again = createTestApps(t.db, { rootPublicKey: demo.root.publicKey });
    expect((await call(again.triage as unknown as Hono, '/api/v1/login/salt', { body: { username: 'ghost.person' } })).json.salt).toBe(ghost1.json.salt);
    // An unknown name and a wrong passphrase get the same answer.
    const wrong = await call(triage(), '/api/v1/login', { body: { username: 'real.person', verifier: b64(p.randomBytes(32)) } });
    const unknown = await call(triage(), '/api/v1/login', { body: { username: 'ghost.person', verifier: b64(p.randomBytes(32)) } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.json).toEqual(wrong.json);
    // A removed account with the right passphrase learns nothing more than a stranger.
    await approveAccount(t.db, p, demo, (await t.db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id, [legal.id]);
    await t.db.updateTable('accounts').set({ status: 'removed' }).execute();
    const removed = await call(triage(), '/api/v1/login', { body: { username: 'real.person', verifier: b64(creds.secrets.loginVerifier) } });
    expect(removed.status).toBe(401);
    expect(removed.json).toEqual(wrong.json);
    expect(removed.res.headers.get('set-cookie')).toBeNull();
  });

  // Throttling (proof of work per attempt for a throttled name, never a lock) and second
  // factors: tests/login-hardening.test.ts.

  it('sets the session cookie HttpOnly, SameSite=Strict, Path=/, Secure only behind TLS, and keeps only its hash', async () => {
    const creds = await makeCredentials(p, 'cookie.one');
    await approveAccount(t.db, p, demo, await insertAccountDirectly(t.db, p, creds, 'responder'), [legal.id]);
    const login = await call(triage(), '/api/v1/login', { body: { username: 'cookie.one', verifier: b64(creds.secrets.loginVerifier) } });
    const header = login.res.headers.get('set-cookie')!;
    expect(header).toMatch(/^haven_session=[A-Za-z0-9_-]{43};/);
    expect(header).toContain('HttpOnly');
    expect(header).toContain('SameSite=Strict');
    expect(header).toContain('Path=/');
    expect(header).not.toContain('Secure');
    expect(header).not.toMatch(/Max-Age|Expires/);
    const token = unb64(/haven_session=([^;]+)/.exec(header)![1]!);
    const rows = await t.db.selectFrom('sessions').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(new Uint8Array(rows[0]!.token_hash)).not.toEqual(token);
    expect(rows[0]!.created_at.getUTCSeconds()).toBe(0);

    const tls = createTestApps(t.db, { rootPublicKey: demo.root.publicKey, env: { HAVEN_BEHIND_TLS: 'true' } });
    const secure = await call(tls.triage as unknown as Hono, '/api/v1/login', { body: { username: 'cookie.one', verifier: b64(creds.secrets.loginVerifier) } });
    expect(secure.res.headers.get('set-cookie')).toContain('Secure');
    // A forged or garbled cookie is simply not a session.
    for (const cookie of ['haven_session=AAAA', `haven_session=${b64(p.randomBytes(32))}`, 'haven_session=%%%']) {
      expect((await call(triage(), '/api/v1/session', { cookie })).status).toBe(401);
    }
  });

  it('refuses state-changing requests from another origin with 403', async () => {
    const w = await world();
    const { id } = await submitRequest(legal);
    const hostile = { origin: 'https://evil.example' };
    const cases: [string, Call][] = [
      ['/api/v1/login', { body: { username: 'legal.one', verifier: b64(w.member.creds.secrets.loginVerifier) }, headers: hostile }],
      ['/api/v1/logout', { method: 'POST', cookie: w.member.cookie, headers: hostile }],
      [`/api/v1/requests/${b64(id)}`, { method: 'PATCH', body: { status: 'closed' }, cookie: w.member.cookie, headers: hostile }],
      [`/api/v1/requests/${b64(id)}/messages`, { body: { kind: 'note', envelope: b64(sealFor('note', legal, id, 'x')) }, cookie: w.member.cookie, headers: hostile }],
      ['/api/v1/admin/invitations', { body: { role: 'responder', teamIds: [] }, cookie: w.admin.cookie, headers: { origin: 'null' } }],
      ['/api/v1/enrol', { body: {}, headers: { origin: 'http://localhost:9999' } }],
    ];
    const before = await counts();
    for (const [path, c] of cases) {
      const res = await call(triage(), path, c);
      expect({ path, status: res.status, code: res.json.error?.code }).toEqual({ path, status: 403, code: 'forbidden' });
    }
    expect(await counts()).toEqual(before);
    expect((await t.db.selectFrom('requests').select('status').executeTakeFirstOrThrow()).status).toBe('new');
    // Same origin passes; so does a GET from anywhere (it changes nothing, and the cookie is SameSite=Strict).
    const same = await call(triage(), `/api/v1/requests/${b64(id)}`, { method: 'PATCH', body: { status: 'triaged' }, cookie: w.member.cookie, headers: { origin: 'http://localhost' } });
    expect(same.status).toBe(200);
  });

  describe('enrolment', () => {
    async function adminCookie(): Promise<SignedInAdmin> {
      const creds = await makeCredentials(p, 'admin.one');
      const id = await createAdminAccount(t.db, p, demo, creds);
      return { cookie: (await signIn(creds)).cookie, creds, id };
    }

    it('uses an invitation once, refuses an expired one, and keeps it unspent when the user name is taken', async () => {
      const admin = await adminCookie();
      const first = await makeCredentials(p, 'first.one');
      const code = await invite(admin, [legal.id]);
      await enrol(first, code);
      const reuse = await call(triage(), '/api/v1/enrol', { body: enrolBody(await makeCredentials(p, 'second.one'), code) });
      expect(reuse.status).toBe(403);

      const code2 = await invite(admin, [legal.id]);
      const taken = await call(triage(), '/api/v1/enrol', { body: enrolBody(await makeCredentials(p, 'FIRST.one'), code2) });
      expect(taken.status).toBe(409);
      expect(taken.json.error.code).toBe('conflict');
      expect(await counts()).toMatchObject({ accounts: 2, used: 1 });
      await enrol(await makeCredentials(p, 'second.one'), code2);

      const code3 = await invite(admin, [legal.id]);
      await t.db.updateTable('invitations').set({ expires_hour: new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000) }).where('used', '=', false).execute();
      const expired = await call(triage(), '/api/v1/enrol', { body: enrolBody(await makeCredentials(p, 'third.one'), code3) });
      expect(expired.status).toBe(403);
      const unknown = await call(triage(), '/api/v1/enrol', { body: enrolBody(await makeCredentials(p, 'third.one'), b64(p.randomBytes(32))) });
      expect(unknown.status).toBe(403);
      expect(await counts()).toMatchObject({ accounts: 3, used: 2 });

      // Two enrolments racing for one code: exactly one account is made.
      const code4 = await invite(admin, [legal.id]);
      const racers = await Promise.all(['race.one', 'race.two'].map(async (name) => call(triage(), '/api/v1/enrol', { body: enrolBody(await makeCredentials(p, name), code4) })));
      expect(racers.map((r) => r.status).sort()).toEqual([201, 403]);
      expect(await counts()).toMatchObject({ accounts: 4, used: 3 });
    });

    it('refuses every bad-input class with a typed error and writes nothing', async () => {
      const admin = await adminCookie();
      const code = await invite(admin, [legal.id]);
      const creds = await makeCredentials(p, 'new.one');
      const good = enrolBody(creds, code);
      const weakBundle = wrapAccountKeys(p, { wrapKey: creds.secrets.wrapKey, salt: creds.salt, params: { ops: 1, memKiB: 8192 }, x25519Secret: creds.x25519Secret, ed25519Seed: creds.ed25519Seed });
      const otherSalt = wrapAccountKeys(p, { wrapKey: creds.secrets.wrapKey, salt: p.randomBytes(16), params: RESPONDER_DEFAULT_PARAMS, x25519Secret: creds.x25519Secret, ed25519Seed: creds.ed25519Seed });
      const badVersion = creds.keyBundle.slice();
      badVersion[0] = 9;
      const cases: [string, unknown, number, string][] = [
        ['not JSON', '{nope', 400, 'bad_request'],
        ['no user name', { ...good, username: undefined }, 400, 'validation_failed'],
        ['a short user name', { ...good, username: 'ab' }, 400, 'validation_failed'],
        ['a user name with spaces', { ...good, username: 'a b c' }, 400, 'validation_failed'],
        ['an oversized user name', { ...good, username: 'a'.repeat(5000) }, 400, 'validation_failed'],
        ['a short invitation code', { ...good, invitationCode: 'AAAA' }, 400, 'validation_failed'],
        ['a bundle of the wrong size', { ...good, keyBundle: b64(creds.keyBundle.subarray(1)) }, 400, 'validation_failed'],
        ['a bundle of an unknown version', { ...good, keyBundle: b64(badVersion) }, 400, 'unknown_version'],
        ['a bundle with weak Argon2id parameters', { ...good, keyBundle: b64(weakBundle) }, 400, 'validation_failed'],
        ['a salt that does not match the bundle', { ...good, keyBundle: b64(otherSalt) }, 400, 'validation_failed'],
        ['an all-zero public key', { ...good, encPublicKey: b64(new Uint8Array(32)) }, 400, 'validation_failed'],
        ['a short verifier', { ...good, loginVerifier: b64(p.randomBytes(16)) }, 400, 'validation_failed'],
        ['a verifier hash instead of the verifier (wrong field)', { ...good, loginVerifier: undefined, verifierHash: b64(p.randomBytes(32)) }, 400, 'validation_failed'],
      ];
      const before = await counts();
      for (const [name, body, status, code] of cases) {
        const res = await call(triage(), '/api/v1/enrol', { body });
        expect({ name, status: res.status, code: res.json.error?.code }).toEqual({ name, status, code });
      }
      expect(await counts()).toEqual(before);
      await enrol(creds, code);
    });
  });

  describe('requests', () => {
    it('pages by latest activity first with a server-side cursor, marks unread, and filters by status and team', async () => {
      const w = await world();
      await approveAccount(t.db, p, demo, w.admin.id, []);
      await t.db.insertInto('team_members').values([{ team_id: legal.id, account_id: w.admin.id }, { team_id: medical.id, account_id: w.admin.id }]).execute();
      const made: Uint8Array[] = [];
      for (let i = 0; i < 5; i++) made.push((await submitRequest(i < 3 ? legal : medical, `r${i}`, `word${i} apple banana cherry delta echo foxtrot golf`)).id);
      // Latest activity first: the last submitted is on top (no time is involved: a counter).
      const newestFirst = [...made].reverse();
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const q: string = `/api/v1/requests?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const page: { json: Json } = await call(triage(), q, { cookie: w.admin.cookie });
        expect(page.json.requests.length).toBeLessThanOrEqual(2);
        seen.push(...page.json.requests.map((r: Json) => r.id));
        cursor = page.json.nextCursor;
      } while (cursor);
      expect(seen).toEqual(newestFirst.map(b64));
      const all = async (cookie: string) => (await call(triage(), '/api/v1/requests?limit=100', { cookie })).json.requests as Json[];
      // Never opened: unread. Opening the thread marks it read for this account only.
      expect((await all(w.admin.cookie)).every((r) => r.unread === true)).toBe(true);
      await call(triage(), `/api/v1/requests/${b64(made[3]!)}`, { cookie: w.admin.cookie });
      expect((await all(w.admin.cookie)).filter((r) => !r.unread).map((r) => r.id)).toEqual([b64(made[3]!)]);
      // A triage change moves the request to the top, read for whoever made it.
      await call(triage(), `/api/v1/requests/${b64(made[4]!)}`, { method: 'PATCH', body: { priority: 'high' }, cookie: w.admin.cookie });
      const after = await all(w.admin.cookie);
      expect(after[0]).toMatchObject({ id: b64(made[4]!), unread: false });
      // The change marker moved with it.
      const marker = (await call(triage(), '/api/v1/changes', { cookie: w.admin.cookie })).json.marker;
      expect(typeof marker).toBe('string');
      expect((await call(triage(), '/api/v1/changes', { cookie: w.admin.cookie })).json.marker).toBe(marker);
      await call(triage(), `/api/v1/requests/${b64(made[2]!)}`, { method: 'PATCH', body: { priority: 'low' }, cookie: w.admin.cookie });
      expect((await call(triage(), '/api/v1/changes', { cookie: w.admin.cookie })).json.marker).not.toBe(marker);

      await call(triage(), `/api/v1/requests/${b64(made[1]!)}`, { method: 'PATCH', body: { status: 'closed' }, cookie: w.admin.cookie });
      const closed = await call(triage(), '/api/v1/requests?status=closed', { cookie: w.admin.cookie });
      expect(closed.json.requests.map((r: Json) => r.id)).toEqual([b64(made[1]!)]);
      const med = await call(triage(), `/api/v1/requests?team=${b64(medical.id)}`, { cookie: w.admin.cookie });
      // made[4] changed last (priority), so it leads its team's list.
      expect(med.json.requests.map((r: Json) => r.id)).toEqual([b64(made[4]!), b64(made[3]!)]);
      // A team the caller is not in filters to nothing.
      const foreign = await call(triage(), `/api/v1/requests?team=${b64(medical.id)}`, { cookie: w.member.cookie });
      expect(foreign.json.requests).toEqual([]);

      for (const q of ['limit=0', 'limit=101', 'limit=x', 'status=done', 'team=abc', 'cursor=%%%', `cursor=${b64(p.randomBytes(5))}`]) {
        const res = await call(triage(), `/api/v1/requests?${q}`, { cookie: w.admin.cookie });
        expect({ q, status: res.status, code: res.json.error?.code }).toEqual({ q, status: 400, code: 'validation_failed' });
      }
      expect((await call(triage(), '/api/v1/requests?limit=100', { cookie: w.admin.cookie })).status).toBe(200);
    });

    it('allows only an active member of the team as assignee, and refuses empty or bad changes', async () => {
      const w = await world();
      const { id } = await submitRequest(legal);
      const path = `/api/v1/requests/${b64(id)}`;
      const patch = (body: unknown) => call(triage(), path, { method: 'PATCH', body, cookie: w.member.cookie });
      expect((await patch({ assigneeId: b64(w.outsider.id) })).status).toBe(400);
      expect((await patch({ assigneeId: b64(p.randomBytes(16)) })).status).toBe(400);
      expect((await patch({})).status).toBe(400);
      expect((await patch({ status: 'done' })).status).toBe(400);
      expect((await patch({ priority: 3 })).status).toBe(400);
      expect((await patch({ assigneeId: 'xyz' })).status).toBe(400);
      const row = await t.db.selectFrom('requests').select(['status', 'priority', 'assignee_id']).executeTakeFirstOrThrow();
      expect(row).toEqual({ status: 'new', priority: 'normal', assignee_id: null });
      expect((await patch({ assigneeId: b64(w.member.id) })).json.request.assigneeId).toBe(b64(w.member.id));
      await t.db.updateTable('accounts').set({ status: 'removed' }).where('id', '=', w.outsider.id).execute();
      expect((await patch({ assigneeId: null })).json.request.assigneeId).toBeNull();
    });

    it('refuses every bad message envelope with a typed error and writes nothing; tags append at new positions', async () => {
      const w = await world();
      const { id, keys } = await submitRequest(legal);
      const { id: otherId } = await submitRequest(legal, 'other', 'zulu yankee xray whiskey victor uniform tango sierra');
      const path = `/api/v1/requests/${b64(id)}/messages`;
      const post = (kind: unknown, envelope: Uint8Array | string) => call(triage(), path, { body: { kind, envelope: typeof envelope === 'string' ? envelope : b64(envelope) }, cookie: w.member.cookie });
      const dup = p.randomBytes(16);
      expect((await post('note', sealFor('note', legal, id, 'first', undefined, { messageId: dup }))).status).toBe(201);
      const good = sealFor('note', legal, id, 'x', undefined, { position: 2 });
      const v1Note = sealMessage(p, {
        kind: MessageKind.note, orgId: demo.organisationId, teamId: legal.id, epoch: legal.epoch, threadId: id, messageId: p.randomBytes(16), teamPublic: legal.publicKey, body: utf8Encode('{"message":"x"}'),
      });
      const truncated = good.subarray(0, good.length - 1);
      const cases: [string, unknown, Uint8Array | string, number, string][] = [
        ['an unknown kind', 'request', good, 400, 'validation_failed'],
        ['a kind that does not match the envelope', 'reply', good, 400, 'malformed'],
        ['bad base64url', 'note', '***', 400, 'validation_failed'],
        ['a truncated envelope', 'note', truncated, 400, 'malformed'],
        ['a v1 (unsigned) envelope', 'note', v1Note, 400, 'unsupported_version'],
        ['a position already taken', 'note', sealFor('note', legal, id, 'x', undefined, { position: 1 }), 409, 'position_taken'],
        ['a position ahead of the thread', 'note', sealFor('note', legal, id, 'x', undefined, { position: 3 }), 409, 'position_taken'],
        ['another organisation', 'note', sealFor('note', legal, id, 'x', undefined, { orgId: p.randomBytes(16) }), 400, 'validation_failed'],
        ['another thread', 'note', sealFor('note', legal, otherId, 'x'), 400, 'validation_failed'],
        ['another team', 'note', sealFor('note', medical, id, 'x'), 400, 'validation_failed'],
        ['a stale epoch', 'note', sealFor('note', legal, id, 'x', undefined, { epoch: 2, position: 2 }), 409, 'conflict'],
        ['a reused message id', 'note', sealFor('note', legal, id, 'x', undefined, { messageId: dup, position: 2 }), 409, 'conflict'],
        ['a request id reused as message id', 'reply', sealFor('reply', legal, id, 'x', keys, { messageId: id, position: 2 }), 409, 'conflict'],
      ];
      const before = await counts();
      for (const [name, kind, envelope, status, code] of cases) {
        const res = await post(kind, envelope);
        expect({ name, status: res.status, code: res.json.error?.code }).toEqual({ name, status, code });
      }
      expect(await counts()).toEqual(before);

      expect((await post('tags', sealFor('tags', legal, id, '["a"]', undefined, { position: 2 }))).status).toBe(201);
      const latest = sealFor('tags', legal, id, '["b"]', undefined, { position: 3 });
      expect((await post('tags', latest)).status).toBe(201);
      // Positions are never reused: both stay, and readers take the highest position's.
      const thread = await call(triage(), `/api/v1/requests/${b64(id)}`, { cookie: w.member.cookie });
      const tags = thread.json.messages.filter((m: Json) => m.kind === 'tags');
      expect(tags.map((m: Json) => m.position)).toEqual([2, 3]);
      expect(unb64(tags[1].blob)).toEqual(latest);
    });
  });

  it('[little metadata] logs no IP, user agent, user name, token or plaintext on the triage API', async () => {
    const w = await world();
    const { id } = await submitRequest(legal);
    const headers = { 'X-Forwarded-For': '203.0.113.77', 'User-Agent': `Mozilla/5.0 ${CANARY}` };
    await call(triage(), '/api/v1/login', { body: { username: 'legal.one', verifier: b64(p.randomBytes(32)) }, headers });
    await call(triage(), '/api/v1/login', { body: { username: CANARY.toLowerCase(), verifier: b64(p.randomBytes(32)) }, headers });
    await call(triage(), '/api/v1/requests?status=new', { cookie: w.member.cookie, headers });
    await call(triage(), `/api/v1/requests/${b64(id)}`, { cookie: w.member.cookie, headers });
    await call(triage(), `/api/v1/requests/${b64(id)}`, { method: 'PATCH', body: { status: 'done' }, cookie: w.member.cookie, headers });
    await call(triage(), '/api/v1/enrol', { body: { username: CANARY }, headers });
    const all = apps.logLines.join('\n');
    expect(apps.logLines.length).toBeGreaterThan(5);
    expect(all).not.toMatch(/203\.0\.113|Mozilla/);
    expect(all.toLowerCase()).not.toContain(CANARY.toLowerCase());
    expect(all).not.toContain('legal.one');
    expect(all).not.toContain(b64(id));
    expect(all).not.toContain(w.member.cookie.split('=')[1]!);
    expect(all).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\b1\d{12}\b/);
    for (const line of apps.logLines) {
      expect(Object.keys(JSON.parse(line) as Json).sort()).toEqual(['event', 'level', 'method', 'ms', 'route', 'status']);
    }
  });
});
