/**
 * The admin features end to end through `app.request()`, with real crypto the way the
 * dashboard does it (tests/helpers/admin-browser.ts): setup, approval with server-side
 * checks, removal + rotation (revocation is cryptographic), rotation with re-wrap of 1,000
 * records and retirement (forward secrecy at rest), and admin-only access.
 */
import { sql } from 'kysely';
import type { Hono } from 'hono';
import { beforeEach, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { base64urlDecode as unb64, base64urlEncode as b64, utf8Encode } from '../crypto/encoding.ts';
import { createGrant, createRootKey, openGrant, Role, signResponderCert } from '../crypto/v1/certs.ts';
import { verifyCurrentTeamKey, verifyHistoricTeamKey } from '../crypto/team-key-any.ts';
import { unixHour } from '../crypto/v2/constants.ts';
import { signTeamKeyStatement } from '../crypto/v2/team-key.ts';
import { MessageKind, openMessage, RecipientKind, sealMessage } from '../crypto/v1/message.ts';
import { openMessageAny, parseMessageHeaderAny } from '../crypto/index.ts';
import { decodeRequestBodyV2 } from '../crypto/v2/request-body.ts';
import { unwrapAccountKeys } from '../crypto/v1/account.ts';
import { setupOrganisation, SetupRefusedError } from '../api/admin/setup.service.ts';
import { insertRequest } from '../api/intake/intake.repository.ts';
import { coarseHour } from '../api/time.ts';
import { seedDemo, type DemoOrganisation, type DemoTeam } from '../seeds/demo.ts';
import { createTestApps, testConfig, type TestApps } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import { enrolBody, makeCredentials, sessionCookie, type ResponderCredentials } from './helpers/responder-client.ts';
import { lookupTokenHash, proofFor, requestBody, requesterKeys, sealRequest } from './helpers/requester-client.ts';
import { AdminBrowser, call, type Json } from './helpers/admin-browser.ts';
import { accountFingerprint } from '../crypto/v1/admin.ts';

const p = await loadSodiumPrimitives();
const ADMIN_PASS = 'the first admin passphrase';

describeEachDatabase('admin API', (t) => {
  let apps: TestApps;
  let admin: AdminBrowser;
  let orgId: Uint8Array;
  let rootPublic: Uint8Array;
  let legalId: Uint8Array;
  const triage = () => apps.triage as unknown as Hono;
  const requester = () => apps.requester as unknown as Hono;

  beforeEach(async () => {
    const setup = await setupOrganisation(t.db, p, { name: 'Test hotline', username: 'admin.one', passphrase: ADMIN_PASS, teams: [{ slug: 'legal', name: 'Legal' }] });
    orgId = setup.organisationId;
    rootPublic = setup.rootPublicKey;
    legalId = setup.teams[0]!.id;
    apps = createTestApps(t.db, { rootPublicKey: rootPublic });
    admin = new AdminBrowser(triage(), p, rootPublic);
    await admin.signIn('admin.one', ADMIN_PASS);
  });

  async function enrolResponder(name: string, teamIds: Uint8Array[] = [legalId]): Promise<{ id: Uint8Array; creds: ResponderCredentials }> {
    const inv = await admin.invite('responder', teamIds);
    expect(inv.status).toBe(201);
    const creds = await makeCredentials(p, name);
    const res = await call(triage(), '/api/v1/enrol', { body: enrolBody(creds, inv.code) });
    expect(res.status).toBe(201);
    return { id: unb64(res.json.account.id), creds };
  }

  async function signIn(c: ResponderCredentials): Promise<string> {
    const res = await call(triage(), '/api/v1/login', { body: { username: c.username, verifier: b64(c.secrets.loginVerifier) } });
    expect(res.status).toBe(200);
    return sessionCookie(res.res);
  }

  async function currentTeam(): Promise<DemoTeam> {
    const info = await call(requester(), '/api/v1/intake');
    const team = info.json.teams.find((x: Json) => x.id === b64(legalId));
    // The requester page's check: the key must verify against the configured root.
    const cert = verifyCurrentTeamKey(p, rootPublic, unb64(team.certificate), { orgId, teamId: legalId, nowHour: unixHour(Date.now()) });
    return { id: legalId, slug: 'legal', epoch: cert.epoch, publicKey: cert.publicKey, secretKey: new Uint8Array(0) };
  }

  async function submit(message: string, passphrase: string): Promise<Uint8Array> {
    const keys = await requesterKeys(p, passphrase, orgId);
    const envelope = sealRequest(p, { organisationId: orgId } as DemoOrganisation, await currentTeam(), keys, requestBody(message, keys));
    const challenge = unb64((await call(requester(), '/api/v1/pow/challenge')).json.challenge);
    const res = await call(requester(), '/api/v1/requests', { body: { envelope: b64(envelope), lookupHash: b64(lookupTokenHash(p, keys.lookupToken)), pow: proofFor(p, challenge) } });
    expect(res.status).toBe(201);
    return unb64(res.json.id);
  }

  async function counts(): Promise<Json> {
    const r = await sql<Json>`
      select (select count(*)::int from grants) as grants, (select count(*)::int from team_members) as members,
             (select count(*)::int from audit_log) as audit, (select count(*)::int from accounts where status = 'active') as active`.execute(t.db);
    return r.rows[0]!;
  }

  it('setup refuses a weak first-admin passphrase (it guards the root key) and writes nothing', async () => {
    await sql`truncate organisations, accounts, audit_log cascade`.execute(t.db);
    for (const weak of ['short', 'password12345', 'admin.one is me', '111111111111']) {
      await expect(setupOrganisation(t.db, p, { name: 'X', username: 'admin.one', passphrase: weak })).rejects.toThrow(/too weak/);
    }
    expect(await t.db.selectFrom('organisations').select('id').execute()).toHaveLength(0);
  });

  it('setup refuses over an existing organisation, real or demo, and writes nothing', async () => {
    const before = await counts();
    await expect(setupOrganisation(t.db, p, { name: 'Second', username: 'admin.two', passphrase: ADMIN_PASS })).rejects.toBeInstanceOf(SetupRefusedError);
    expect(await counts()).toEqual(before);
    expect((await t.db.selectFrom('organisations').select('id').execute()).length).toBe(1);

    await sql`truncate organisations, accounts, audit_log cascade`.execute(t.db);
    const seeded = await seedDemo(t.db, testConfig(), p);
    expect(seeded.created).toBe(true);
    await expect(setupOrganisation(t.db, p, { name: 'Real', username: 'admin.one', passphrase: ADMIN_PASS })).rejects.toThrow(/already exists/);
    expect(await t.db.selectFrom('accounts').select('id').execute()).toHaveLength(0);
    expect(await t.db.selectFrom('audit_log').select('seq').execute()).toHaveLength(0);
  });

  it('[signed key chain] setup stores the root seed only wrapped to the admin, and a root-signed admin certificate', async () => {
    const row = await t.db.selectFrom('accounts').selectAll().where('username', '=', 'admin.one').executeTakeFirstOrThrow();
    expect(row.role).toBe('admin');
    expect(row.status).toBe('active');
    const wraps = await t.db.selectFrom('root_wraps').selectAll().execute();
    expect(wraps).toHaveLength(1);
    expect(admin.rootSeed).toHaveLength(32);
    // The seed never sits in the database in the clear.
    const dump = JSON.stringify((await sql`select * from root_wraps, accounts, organisations, audit_log`.execute(t.db)).rows);
    expect(dump.includes(Buffer.from(admin.rootSeed).toString('hex'))).toBe(false);
    expect(Buffer.from(wraps[0]!.sealed).includes(Buffer.from(admin.rootSeed))).toBe(false);
    // The admin holds the epoch-1 grant of the team created with --teams.
    expect((await admin.epochSecrets(legalId)).size).toBe(1);
    const listed = await admin.account(admin.id);
    expect(listed.fingerprint).toBe(accountFingerprint(p, unb64(listed.encPublicKey), unb64(listed.signPublicKey)));
  });

  it('admin routes need an admin session', async () => {
    expect((await call(triage(), '/api/v1/admin/accounts')).status).toBe(401);
    const r = await enrolResponder('legal.one');
    expect((await admin.approve(r.id, [legalId])).status).toBe(200);
    const cookie = await signIn(r.creds);
    for (const path of ['/accounts', '/teams', '/root-wrap', '/audit']) {
      expect((await call(triage(), `/api/v1/admin${path}`, { cookie })).status).toBe(403);
    }
    const audit = await admin.audit('retention.set', { closedRetentionDays: 5 });
    expect((await call(triage(), '/api/v1/admin/retention', { method: 'PUT', body: { closedRetentionDays: 5, audit }, cookie })).status).toBe(403);
  });

  it('approval: the server refuses a forged certificate or grant and writes nothing; a valid one activates atomically', async () => {
    const r = await enrolResponder('legal.one');
    const before = await counts();
    const good = await admin.certificateFor(r.id, 'responder');
    const grants = await admin.grantsFor(good, legalId);
    const body = async (certificate: Uint8Array, teamGrants: Json[]) => ({
      certificate: b64(certificate),
      teamGrants,
      audit: await admin.audit('account.approve', { accountId: b64(r.id), teamIds: [b64(legalId)] }),
    });
    const legalGrants = grants.map((g) => ({ teamId: b64(legalId), ...g }));
    const account = await admin.account(r.id);
    const keys = { x25519Public: unb64(account.encPublicKey), ed25519Public: unb64(account.signPublicKey) };

    // 1. signed by a root of the server's own
    const otherRoot = createRootKey(p);
    const forged = signResponderCert(p, otherRoot.seed, { orgId, accountId: r.id, role: Role.responder, ...keys });
    // 2. the real root, but keys the server (or someone) slipped in
    const otherKeys = { x25519Public: p.x25519Keypair().publicKey, ed25519Public: p.ed25519KeypairFromSeed(p.randomBytes(32)).publicKey };
    const wrongKeys = signResponderCert(p, admin.rootSeed, { orgId, accountId: r.id, role: Role.responder, ...otherKeys });
    // 3. the real root and keys, but the admin role
    const wrongRole = signResponderCert(p, admin.rootSeed, { orgId, accountId: r.id, role: Role.admin, ...keys });
    // 4. a grant naming another account (made for the admin's own certificate)
    const adminCert = unb64((await admin.account(admin.id)).certificate);
    const secret = (await admin.epochSecrets(legalId)).get(1)!;
    const misaddressed = b64(createGrant(p, { rootPublic, responderCert: adminCert, orgId, teamId: legalId, epoch: 1, epochSecret: secret }));
    // 5. a grant for an epoch the team does not have
    const wrongEpoch = b64(createGrant(p, { rootPublic, responderCert: good, orgId, teamId: legalId, epoch: 7, epochSecret: secret }));

    const attempts: [Uint8Array, Json[]][] = [
      [forged, legalGrants], [wrongKeys, legalGrants], [wrongRole, legalGrants],
      [good, [{ teamId: b64(legalId), epoch: 1, grant: misaddressed }]],
      [good, [{ teamId: b64(legalId), epoch: 7, grant: wrongEpoch }]],
      [good, [{ teamId: b64(legalId), epoch: 1, grant: b64(new Uint8Array(134)) }]],
    ];
    for (const [certificate, teamGrants] of attempts) {
      const res = await admin.send(`/accounts/${b64(r.id)}/approve`, await body(certificate, teamGrants));
      expect(res.status).toBe(400);
      expect(await counts()).toEqual(before);
      expect((await admin.account(r.id)).status).toBe('pending');
    }
    // An audit entry describing another action is refused too.
    const mismatched = { certificate: b64(good), teamGrants: legalGrants, audit: await admin.audit('account.approve', { accountId: b64(r.id), teamIds: [] }) };
    expect((await admin.send(`/accounts/${b64(r.id)}/approve`, mismatched)).status).toBe(400);
    // An entry built on an old head: 409, the client retries.
    const stale = await body(good, legalGrants);
    await admin.send('/retention', { closedRetentionDays: 30, audit: await admin.audit('retention.set', { closedRetentionDays: 30 }) }, 'PUT');
    expect((await admin.send(`/accounts/${b64(r.id)}/approve`, stale)).status).toBe(409);
    expect((await admin.account(r.id)).status).toBe('pending');

    const ok = await admin.send(`/accounts/${b64(r.id)}/approve`, await body(good, legalGrants));
    expect(ok.status).toBe(200);
    const cookie = await signIn(r.creds);
    const teams = await call(triage(), '/api/v1/teams', { cookie });
    const team = teams.json.teams[0];
    const login = await call(triage(), '/api/v1/login', { body: { username: r.creds.username, verifier: b64(r.creds.secrets.loginVerifier) } });
    const keysR = unwrapAccountKeys(p, r.creds.secrets.wrapKey, unb64(login.json.keyBundle));
    const cert = verifyHistoricTeamKey(p, rootPublic, unb64(team.certificate), { orgId, teamId: legalId, epoch: 1 });
    const opened = openGrant(p, { responderSecret: keysR.x25519Secret, bytes: unb64(team.grants[0].grant), expected: { orgId, teamId: legalId, epoch: 1, accountId: r.id }, teamPublic: cert.publicKey });
    expect(opened.epochSecret).toEqual(secret);
    const audit = (await admin.get('/audit')).json.entries.map((e: Json) => JSON.parse(e.entryText).action);
    expect(audit).toEqual(['org.setup', 'invitation.create', 'retention.set', 'account.approve']);
  });

  it('[revocation is cryptographic] after removal and rotation, no key the removed responder ever held opens a new request', async () => {
    const r = await enrolResponder('legal.one');
    expect((await admin.approve(r.id, [legalId])).status).toBe(200);
    const cookie = await signIn(r.creds);
    // Everything the responder ever held: its account secret and every epoch secret granted to it.
    const held: Uint8Array[] = [r.creds.x25519Secret];
    const teams = await call(triage(), '/api/v1/teams', { cookie });
    for (const g of teams.json.teams[0].grants) {
      const cert = verifyHistoricTeamKey(p, rootPublic, unb64(teams.json.teams[0].epochs.find((e: Json) => e.epoch === g.epoch).certificate), { orgId, teamId: legalId });
      held.push(openGrant(p, { responderSecret: r.creds.x25519Secret, bytes: unb64(g.grant), expected: { orgId, teamId: legalId, epoch: g.epoch, accountId: r.id }, teamPublic: cert.publicKey }).epochSecret);
    }
    expect(held).toHaveLength(2);
    const before = await submit('sent before removal', 'alpha bravo charlie delta echo foxtrot golf hotel');

    const removed = await admin.remove(r.id);
    expect(removed.status).toBe(200);
    expect(removed.json.mustRotate).toEqual([b64(legalId)]);
    expect((await call(triage(), '/api/v1/session', { cookie })).status).toBe(401);
    expect(await t.db.selectFrom('grants').select('epoch').where('account_id', '=', r.id).execute()).toHaveLength(0);
    expect((await call(triage(), '/api/v1/login', { body: { username: r.creds.username, verifier: b64(r.creds.secrets.loginVerifier) } })).status).toBe(401);

    const rotated = await admin.rotate(legalId);
    expect(rotated.status).toBe(200);
    expect(rotated.json.currentEpoch).toBe(2);
    const after = await submit('CANARY sent after removal', 'india juliet kilo lima mike november oscar papa');
    const stored = await t.db.selectFrom('messages').select(['blob', 'epoch']).where('id', '=', after).executeTakeFirstOrThrow();
    expect(stored.epoch).toBe(2);
    expect(parseMessageHeaderAny(stored.blob).header.epoch).toBe(2);
    // Try every key the removed responder held, in every slot, on the stored bytes.
    for (const secret of held) {
      for (const recipientKind of [RecipientKind.team, RecipientKind.requester]) {
        expect(() => openMessageAny(p, stored.blob, { recipientKind, secret, rootPublic, expected: { orgId } })).toThrow();
      }
    }
    // ...while the remaining admin (granted epoch 2) reads it.
    const opened = openMessageAny(p, stored.blob, { recipientKind: RecipientKind.team, secret: (await admin.epochSecrets(legalId)).get(2)!, rootPublic, expected: { orgId, teamId: legalId, epoch: 2 } });
    expect(decodeRequestBodyV2(opened.body).message).toBe('CANARY sent after removal');
    // The old request still opens with the old epoch until it is re-wrapped.
    const old = await t.db.selectFrom('messages').select('blob').where('id', '=', before).executeTakeFirstOrThrow();
    expect(() => openMessageAny(p, old.blob, { recipientKind: RecipientKind.team, secret: held[1]!, rootPublic, expected: { orgId } })).not.toThrow();
  });

  it('rotation refuses a certificate from another root and grants that miss a member', async () => {
    const r = await enrolResponder('legal.one');
    expect((await admin.approve(r.id, [legalId])).status).toBe(200);
    const rotation = await admin.rotate(legalId);
    expect(rotation.status).toBe(200);
    // Replay of the same rotation (epoch 2 exists now): refused.
    const again = await admin.send(`/teams/${b64(legalId)}/rotate`, {
      epoch: 2, certificate: (await admin.teams())[0]!.epochs[1].certificate, grants: [], audit: await admin.audit('team.rotate', { teamId: b64(legalId), epoch: 2 }),
    });
    expect(again.status).toBe(409);
    const other = createRootKey(p);
    const hour = unixHour(Date.now());
    const badCert = signTeamKeyStatement(p, other.seed, { orgId, teamId: legalId, epoch: 3, serial: 3, issuedHour: hour, expiresHour: hour + 100, publicKey: p.x25519Keypair().publicKey });
    const res = await admin.send(`/teams/${b64(legalId)}/rotate`, { epoch: 3, certificate: b64(badCert), grants: [], audit: await admin.audit('team.rotate', { teamId: b64(legalId), epoch: 3 }) });
    expect(res.status).toBe(400);
    // The real root, but no grant for the current member: a member would silently lose access.
    const realCert = admin.statement(legalId, 3, p.x25519Keypair().publicKey, { serial: 3 });
    const missing = await admin.send(`/teams/${b64(legalId)}/rotate`, { epoch: 3, certificate: b64(realCert), grants: [], audit: await admin.audit('team.rotate', { teamId: b64(legalId), epoch: 3 }) });
    expect(missing.status).toBe(400);
    const epochs = await t.db.selectFrom('team_epochs').select(['epoch', 'state']).where('team_id', '=', legalId).orderBy('epoch').execute();
    expect(epochs).toEqual([{ epoch: 1, state: 'retiring' }, { epoch: 2, state: 'current' }]);
  });

  it('[forward secrecy at rest] rotates, re-wraps 1,000 records through the API, then retires the old epoch', async () => {
    const team = await currentTeam();
    const hour = coarseHour();
    const ids: Uint8Array[] = [];
    for (let batch = 0; batch < 10; batch++) {
      await t.db.transaction().execute(async (trx) => {
        for (let i = 0; i < 100; i++) {
          const id = p.randomBytes(16);
          const keys = { replyPublic: p.x25519Keypair().publicKey };
          const blob = sealMessage(p, {
            kind: MessageKind.request, orgId, teamId: legalId, epoch: 1, threadId: id, messageId: id, teamPublic: team.publicKey,
            requesterPublic: keys.replyPublic, body: utf8Encode(JSON.stringify({ n: batch * 100 + i })),
          });
          await insertRequest(trx, { id, teamId: legalId, epoch: 1, lookupHash: p.randomBytes(32), blob, hour });
          ids.push(id);
        }
      });
    }
    const r = await enrolResponder('legal.one');
    expect((await admin.approve(r.id, [legalId])).status).toBe(200);
    const rotated = await admin.rotate(legalId);
    expect(rotated.status).toBe(200);
    expect((await admin.retire(legalId, 1)).status).toBe(409);
    const listed = (await admin.teams())[0]!;
    expect(listed.staleMessages).toBe(1000);

    // A re-wrapped blob moved to another record is refused, and nothing is written.
    const page = await admin.get(`/teams/${b64(legalId)}/rewrap?limit=2`);
    expect(page.json.messages).toHaveLength(2);
    expect(page.json.grants.map((g: Json) => g.epoch)).toEqual([1]);
    const secrets = await admin.epochSecrets(legalId);
    const { rewrapMessage } = await import('../crypto/v1/message.ts');
    const [m0, m1] = page.json.messages;
    const wrapped0 = rewrapMessage(p, unb64(m0.blob), secrets.get(1)!, rotated.json ? (await currentTeam()).publicKey : new Uint8Array(), 2);
    const rewrapAudit = () => admin.audit('team.rewrap', { teamId: b64(legalId), epoch: 2, count: 1 });
    const swap = await admin.send(`/teams/${b64(legalId)}/rewrap`, { epoch: 2, messages: [{ id: m1.id, blob: b64(wrapped0) }], audit: await rewrapAudit() });
    expect(swap.status).toBe(400);
    const staleEpoch = rewrapMessage(p, unb64(m0.blob), secrets.get(1)!, (await currentTeam()).publicKey, 3);
    expect((await admin.send(`/teams/${b64(legalId)}/rewrap`, { epoch: 2, messages: [{ id: m0.id, blob: b64(staleEpoch) }], audit: await rewrapAudit() })).status).toBe(400);
    // A "re-wrap" that swaps the requester's slot (so replies could go elsewhere) is refused.
    const tampered = rewrapMessage(p, unb64(m0.blob), secrets.get(1)!, (await currentTeam()).publicKey, 2);
    tampered[72 + 81 + 40]! ^= 1;
    expect((await admin.send(`/teams/${b64(legalId)}/rewrap`, { epoch: 2, messages: [{ id: m0.id, blob: b64(tampered) }], audit: await rewrapAudit() })).status).toBe(400);
    // Unaudited, or audited for another count: refused, nothing written.
    const wrapped = rewrapMessage(p, unb64(m0.blob), secrets.get(1)!, (await currentTeam()).publicKey, 2);
    expect((await admin.send(`/teams/${b64(legalId)}/rewrap`, { epoch: 2, messages: [{ id: m0.id, blob: b64(wrapped) }] })).status).toBe(400);
    const miscounted = await admin.audit('team.rewrap', { teamId: b64(legalId), epoch: 2, count: 2 });
    expect((await admin.send(`/teams/${b64(legalId)}/rewrap`, { epoch: 2, messages: [{ id: m0.id, blob: b64(wrapped) }], audit: miscounted })).status).toBe(400);
    expect((await admin.teams())[0]!.staleMessages).toBe(1000);

    const { batches } = await admin.rewrapAll(legalId, 200);
    expect(batches.reduce((n, b) => n + b.n, 0)).toBe(1000);
    expect((await admin.teams())[0]!.staleMessages).toBe(0);
    expect((await admin.retire(legalId, 1)).status).toBe(200);

    expect(await t.db.selectFrom('grants').select('account_id').where('team_id', '=', legalId).where('epoch', '=', 1).execute()).toHaveLength(0);
    const e1 = await t.db.selectFrom('team_epochs').select('state').where('team_id', '=', legalId).where('epoch', '=', 1).executeTakeFirstOrThrow();
    expect(e1.state).toBe('retired');
    const newSecret = (await admin.epochSecrets(legalId)).get(2)!;
    const rows = await t.db.selectFrom('messages').innerJoin('requests', 'requests.id', 'messages.request_id').select(['messages.id', 'messages.blob', 'messages.epoch', 'requests.epoch as requestEpoch']).execute();
    expect(rows).toHaveLength(1000);
    const seen = new Set<number>();
    for (const row of rows) {
      expect(row.epoch).toBe(2);
      expect(row.requestEpoch).toBe(2);
      const opened = openMessage(p, row.blob, { recipientKind: RecipientKind.team, secret: newSecret, expected: { orgId, teamId: legalId, epoch: 2, messageId: row.id } });
      seen.add((JSON.parse(Buffer.from(opened.body).toString('utf8')) as { n: number }).n);
      // The old secret opens nothing any more.
      expect(() => openMessage(p, row.blob, { recipientKind: RecipientKind.team, secret: secrets.get(1)!, expected: { orgId } })).toThrow();
    }
    expect(seen.size).toBe(1000);
    const actions = (await admin.get('/audit?limit=1000')).json.entries.map((e: Json) => JSON.parse(e.entryText).action);
    expect(actions).toContain('team.rotate');
    expect(actions).toContain('team.epoch.retire');
    // [audit] every re-wrap batch is in the log, and together they count every record moved.
    const rewraps = (await admin.get('/audit?limit=1000')).json.entries.map((e: Json) => JSON.parse(e.entryText)).filter((e: Json) => e.action === 'team.rewrap');
    expect(rewraps.length).toBe(batches.length);
    expect(rewraps.reduce((n: number, e: Json) => n + e.targets.count, 0)).toBe(1000);
  }, 120_000);

  it('creates a team, adds and removes a member (with grants for every live epoch), and makes a second admin', async () => {
    const { createX25519Key } = await import('../crypto/v1/certs.ts');
    const { wrapRootSeed, unwrapRootSeed } = await import('../crypto/v1/admin.ts');
    // A team made in the admin's browser: key, root-signed certificate, grant to the admin.
    const teamId = p.randomBytes(16);
    const key = createX25519Key(p);
    const certificate = admin.statement(teamId, 1, key.publicKey, { serial: 1 });
    const adminCert = unb64((await admin.account(admin.id)).certificate);
    const selfGrant = b64(createGrant(p, { rootPublic, responderCert: adminCert, orgId, teamId, epoch: 1, epochSecret: key.secretKey }));
    const noSelf = await admin.send('/teams', { id: b64(teamId), slug: 'medical', name: 'Medical', certificate: b64(certificate), grants: [], audit: await admin.audit('team.create', { teamId: b64(teamId), slug: 'medical', memberIds: [] }) });
    expect(noSelf.status).toBe(400);
    const created = await admin.send('/teams', {
      id: b64(teamId), slug: 'medical', name: 'Medical', certificate: b64(certificate), grants: [{ accountId: b64(admin.id), grant: selfGrant }],
      audit: await admin.audit('team.create', { teamId: b64(teamId), slug: 'medical', memberIds: [b64(admin.id)] }),
    });
    expect(created.status).toBe(201);
    expect((await call(requester(), '/api/v1/intake')).json.teams.map((x: Json) => x.slug)).toEqual(['legal', 'medical']);

    // Invited to no team: the membership below is added (and audited) on its own.
    const r = await enrolResponder('medic.one', []);
    expect((await admin.approve(r.id, [])).status).toBe(200);
    // Rotate first, so the team has two live epochs: a new member needs a grant for each.
    expect((await admin.rotate(teamId)).status).toBe(200);
    const cert = unb64((await admin.account(r.id)).certificate);
    const grants = await admin.grantsFor(cert, teamId);
    expect(grants.map((g) => g.epoch).sort()).toEqual([1, 2]);
    const partial = await admin.send(`/teams/${b64(teamId)}/members/${b64(r.id)}`, { member: true, grants: grants.slice(0, 1), audit: await admin.audit('team.member.add', { teamId: b64(teamId), accountId: b64(r.id) }) }, 'PUT');
    expect(partial.status).toBe(400);
    const added = await admin.send(`/teams/${b64(teamId)}/members/${b64(r.id)}`, { member: true, grants, audit: await admin.audit('team.member.add', { teamId: b64(teamId), accountId: b64(r.id) }) }, 'PUT');
    expect(added.status).toBe(200);
    expect(await t.db.selectFrom('grants').select('epoch').where('account_id', '=', r.id).execute()).toHaveLength(2);
    const removed = await admin.send(`/teams/${b64(teamId)}/members/${b64(r.id)}`, { member: false, audit: await admin.audit('team.member.remove', { teamId: b64(teamId), accountId: b64(r.id) }) }, 'PUT');
    expect(removed.status).toBe(200);
    expect(removed.json.mustRotate).toEqual([b64(teamId)]);
    expect(await t.db.selectFrom('grants').select('epoch').where('account_id', '=', r.id).execute()).toHaveLength(0);

    // A second admin: invited as admin, then given an admin certificate and a root wrap.
    const inv = await admin.invite('admin', []);
    expect(inv.status).toBe(201);
    const creds = await makeCredentials(p, 'admin.two', 'second admin passphrase');
    const enrolled = await call(triage(), '/api/v1/enrol', { body: enrolBody(creds, inv.code) });
    const id2 = unb64(enrolled.json.account.id);
    expect((await admin.approve(id2, [], 'admin')).status).toBe(200);
    const cert2 = await admin.certificateFor(id2, 'admin');
    const listed = await admin.account(id2);
    const rootWrap = wrapRootSeed(p, { adminX25519Public: unb64(listed.encPublicKey), rootSeed: admin.rootSeed, orgId, accountId: id2 });
    const asResponder = await admin.certificateFor(id2, 'responder');
    expect((await admin.send('/admins', { accountId: b64(id2), certificate: b64(asResponder), rootWrap: b64(rootWrap), audit: await admin.audit('admin.add', { accountId: b64(id2) }) })).status).toBe(400);
    const made = await admin.send('/admins', { accountId: b64(id2), certificate: b64(cert2), rootWrap: b64(rootWrap), audit: await admin.audit('admin.add', { accountId: b64(id2) }) });
    expect(made.status).toBe(201);
    const second = new AdminBrowser(triage(), p, rootPublic);
    await second.signIn('admin.two', 'second admin passphrase');
    expect(second.rootSeed).toEqual(admin.rootSeed);
    // The wrap is bound to its account: moved to another admin's row it does not open.
    expect(() => unwrapRootSeed(p, { x25519Secret: second.x25519Secret, wrap: rootWrap, orgId, accountId: admin.id, rootPublic })).toThrow();
    // Neither admin can remove itself; one can remove the other.
    expect((await second.remove(second.id)).status).toBe(409);
    expect((await second.remove(admin.id)).status).toBe(200);
    expect(await t.db.selectFrom('root_wraps').select('account_id').execute()).toHaveLength(1);
  });

  it('lists teams with the current epoch age and a rotation reminder', async () => {
    await sql`update team_epochs set created_hour = ${new Date(coarseHour().getTime() - 91 * 86_400_000)}`.execute(t.db);
    const teams = await admin.teams();
    expect(teams[0]).toMatchObject({ slug: 'legal', currentEpoch: 1, rotationDue: true });
    expect(teams[0]!.currentEpochAgeDays).toBeGreaterThanOrEqual(91);
  });

  it('[undecryptable requests] an admin removes junk in one audited action; only untouched new requests, all or nothing', async () => {
    const team = await currentTeam();
    // Junk as a flood can send it: a well-formed v2 request sealed to the team key, whose inside is garbage.
    const junk = [await submit('junk one', 'junk passphrase one here'), await submit('junk two', 'junk passphrase two here')];
    const real = await submit('a real request', 'real passphrase words here');
    await t.db.updateTable('requests').set({ status: 'triaged' }).where('id', '=', real).execute();
    const remove = async (ids: Uint8Array[]) =>
      admin.send('/requests/remove-undecryptable', { requestIds: ids.map(b64), audit: await admin.audit('requests.remove_undecryptable', { requestIds: ids.map(b64) }) });
    // A triaged request is not junk: refused, and nothing of the batch goes.
    const refused = await remove([...junk, real]);
    expect(refused.status).toBe(409);
    expect(await t.db.selectFrom('requests').select('id').execute()).toHaveLength(3);
    // Without an audit entry: refused.
    expect((await admin.send('/requests/remove-undecryptable', { requestIds: junk.map(b64) })).status).toBe(400);
    const ok = await remove(junk);
    expect(ok.status).toBe(200);
    expect(ok.json.removed).toBe(2);
    expect((await t.db.selectFrom('requests').select('id').execute()).map((r) => b64(r.id))).toEqual([b64(real)]);
    const last = (await admin.get('/audit?limit=1000')).json.entries.map((e: Json) => JSON.parse(e.entryText)).at(-1);
    expect(last).toMatchObject({ action: 'requests.remove_undecryptable', targets: { requestIds: junk.map(b64) } });
    expect(team.epoch).toBe(1);
  });

  it('"rotation due" after a removal is stored: it survives signing out and clears only with the rotation', async () => {
    const r = await enrolResponder('legal.leaver');
    expect((await admin.approve(r.id, [legalId])).status).toBe(200);
    expect((await admin.teams())[0]).toMatchObject({ rotationDue: false, rotationRequired: false });
    const res = await admin.send(`/teams/${b64(legalId)}/members/${b64(r.id)}`, { member: false, audit: await admin.audit('team.member.remove', { teamId: b64(legalId), accountId: b64(r.id) }) }, 'PUT');
    expect(res.status).toBe(200);
    // A new session (another sign-in, another browser) still sees it.
    const again = new AdminBrowser(triage(), p, rootPublic);
    await again.signIn('admin.one', ADMIN_PASS);
    expect((await again.teams())[0]).toMatchObject({ rotationDue: true, rotationRequired: true });
    expect((await again.rotate(legalId)).status).toBe(200);
    expect((await again.teams())[0]).toMatchObject({ rotationDue: false, rotationRequired: false });
    // Removing an account marks every team it was in.
    const s = await enrolResponder('legal.removed');
    expect((await again.approve(s.id, [legalId])).status).toBe(200);
    expect((await again.remove(s.id)).status).toBe(200);
    expect((await admin.teams())[0]).toMatchObject({ rotationRequired: true });
  });
});

// A demo-seeded database also refuses setup (covered above); this keeps the import used.
export type { DemoTeam };
