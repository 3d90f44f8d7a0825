/**
 * Protocol v2 invitations and approval, server side: the inviting admin's browser signs the
 * invitation statement (role, teams, expiry); the server stores only statements that verify
 * with the caller's root-signed admin certificate, audits `invitation.create` without the
 * code, and at approval refuses a certificate role or granted teams that differ from the
 * statement (defence in depth behind the approving browser's own check), writing nothing.
 * The root seed is sealed only to accounts invited AND approved as admins.
 */
import { sql } from 'kysely';
import type { Hono } from 'hono';
import { beforeEach, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { base64urlDecode as unb64, base64urlEncode as b64 } from '../crypto/encoding.ts';
import { Role, type RoleValue } from '../crypto/v1/certs.ts';
import { invitationIdFromCode, signInvitation } from '../crypto/v2/invitation.ts';
import { wrapRootSeed } from '../crypto/v1/admin.ts';
import { setupOrganisation } from '../api/admin/setup.service.ts';
import { createTestApps } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import { enrolBody, makeCredentials } from './helpers/responder-client.ts';
import { AdminBrowser, call, type Json } from './helpers/admin-browser.ts';

const p = await loadSodiumPrimitives();
const PASS = 'the first admin passphrase';
const nowHour = () => Math.floor(Date.now() / 3_600_000);

describeEachDatabase('signed invitations', (t) => {
  let admin: AdminBrowser;
  let triage: Hono;
  let legalId: Uint8Array;
  let medicalId: Uint8Array;

  beforeEach(async () => {
    const setup = await setupOrganisation(t.db, p, { name: 'Invite hotline', username: 'admin.one', passphrase: PASS, teams: [{ slug: 'legal', name: 'Legal' }, { slug: 'medical', name: 'Medical' }] });
    legalId = setup.teams[0]!.id;
    medicalId = setup.teams[1]!.id;
    triage = createTestApps(t.db, { rootPublicKey: setup.rootPublicKey }).triage as unknown as Hono;
    admin = new AdminBrowser(triage, p, setup.rootPublicKey);
    await admin.signIn('admin.one', PASS);
  });

  async function enrol(name: string, role: 'responder' | 'admin', teamIds: Uint8Array[]): Promise<Uint8Array> {
    const inv = await admin.invite(role, teamIds);
    expect(inv.status).toBe(201);
    const res = await call(triage, '/api/v1/enrol', { body: enrolBody(await makeCredentials(p, name), inv.code) });
    expect(res.status).toBe(201);
    return unb64(res.json.account.id);
  }

  async function counts(): Promise<Json> {
    const r = await sql<Json>`
      select (select count(*)::int from grants) as grants, (select count(*)::int from team_members) as members,
             (select count(*)::int from audit_log) as audit, (select count(*)::int from accounts where status = 'active') as active,
             (select count(*)::int from invitations) as invitations, (select count(*)::int from root_wraps) as wraps`.execute(t.db);
    return r.rows[0]!;
  }

  /** An approval body: certificate with `role`, grants for every live epoch of `teamIds`. */
  async function approval(id: Uint8Array, role: 'responder' | 'admin', teamIds: Uint8Array[]): Promise<Json> {
    const certificate = await admin.certificateFor(id, role);
    const teamGrants = [];
    for (const teamId of teamIds) for (const g of await admin.grantsFor(certificate, teamId)) teamGrants.push({ teamId: b64(teamId), ...g });
    return { certificate: b64(certificate), teamGrants, audit: await admin.audit('account.approve', { accountId: b64(id), teamIds: teamIds.map(b64) }) };
  }

  it('[approval binds what the admin saw] approval whose certificate role or teams differ from the invitation statement is refused and nothing is written', async () => {
    const id = await enrol('legal.one', 'responder', [legalId]);
    const before = await counts();
    const attempts: [string, 'responder' | 'admin', Uint8Array[]][] = [
      ['escalated role', 'admin', [legalId]],
      ['an extra team', 'responder', [legalId, medicalId]],
      ['another team', 'responder', [medicalId]],
      ['fewer teams', 'responder', []],
    ];
    for (const [what, role, teams] of attempts) {
      const res = await admin.send(`/accounts/${b64(id)}/approve`, await approval(id, role, teams));
      expect({ what, status: res.status, code: res.json.error?.code }).toEqual({ what, status: 400, code: 'validation_failed' });
      expect(await counts()).toEqual(before);
      expect((await admin.account(id)).status).toBe('pending');
    }
    const ok = await admin.send(`/accounts/${b64(id)}/approve`, await approval(id, 'responder', [legalId]));
    expect(ok.status).toBe(200);
    expect((await admin.account(id)).teamIds).toEqual([b64(legalId)]);
  });

  it('[root seed only to verified admins] a responder is never given the root seed; an account invited as admin needs an admin certificate first', async () => {
    const responder = await enrol('legal.one', 'responder', [legalId]);
    expect((await admin.send(`/accounts/${b64(responder)}/approve`, await approval(responder, 'responder', [legalId]))).status).toBe(200);
    const listed = await admin.account(responder);
    const wrap = (id: Uint8Array, x25519: string) => b64(wrapRootSeed(p, { adminX25519Public: unb64(x25519), rootSeed: admin.rootSeed, orgId: admin.orgId, accountId: id }));
    const before = await counts();
    const grab = await admin.send('/admins', {
      accountId: b64(responder), certificate: b64(await admin.certificateFor(responder, 'admin')), rootWrap: wrap(responder, listed.encPublicKey),
      audit: await admin.audit('admin.add', { accountId: b64(responder) }),
    });
    expect(grab.status).toBe(409);
    expect(grab.json.error.code).toBe('conflict');
    expect(await counts()).toEqual(before);

    const second = await enrol('admin.two', 'admin', []);
    // Pending: not yet approved as an admin, so no wrap either.
    const early = await admin.send('/admins', {
      accountId: b64(second), certificate: b64(await admin.certificateFor(second, 'admin')), rootWrap: wrap(second, (await admin.account(second)).encPublicKey),
      audit: await admin.audit('admin.add', { accountId: b64(second) }),
    });
    expect(early.status).toBe(409);
    // Invited as admin: a responder certificate is refused; the admin one goes through.
    expect((await admin.send(`/accounts/${b64(second)}/approve`, await approval(second, 'responder', []))).status).toBe(400);
    expect((await admin.send(`/accounts/${b64(second)}/approve`, await approval(second, 'admin', []))).status).toBe(200);
    const made = await admin.send('/admins', {
      accountId: b64(second), certificate: b64(await admin.certificateFor(second, 'admin')), rootWrap: wrap(second, (await admin.account(second)).encPublicKey),
      audit: await admin.audit('admin.add', { accountId: b64(second) }),
    });
    expect(made.status).toBe(201);
    expect((await counts()).wraps).toBe(2);
  });

  it('[signed invitations] stores only a statement that verifies with the caller\'s admin certificate, for its id, unexpired, naming known teams; refusals write nothing', async () => {
    const orgId = admin.orgId;
    const good: { orgId: Uint8Array; role: RoleValue; expiresHour: number; teamIds: Uint8Array[]; adminAccountId: Uint8Array } = { orgId, role: Role.responder, expiresHour: nowHour() + 24, teamIds: [legalId], adminAccountId: admin.id };
    const body = async (o: { seed?: Uint8Array; fields?: Partial<typeof good>; id?: Uint8Array; targets?: Json; statement?: Uint8Array } = {}) => {
      const code = p.randomBytes(32);
      const invitationId = invitationIdFromCode(p, code);
      const f = { ...good, ...o.fields };
      const statement = o.statement ?? signInvitation(p, o.seed ?? admin.ed25519Seed, { ...f, invitationId: o.id ?? invitationId, teamIds: [...f.teamIds] });
      const targets = o.targets ?? { invitationId: b64(o.id ?? invitationId), role: f.role === Role.admin ? 'admin' : 'responder', teamIds: f.teamIds.map(b64), expiresHour: f.expiresHour };
      return { invitationId: b64(invitationId), statement: b64(statement), audit: await admin.audit('invitation.create', targets) };
    };
    const before = await counts();
    const attempts: [string, Json][] = [
      ['the pre-v2 body (the server made the code)', { role: 'responder', teamIds: [b64(legalId)], audit: await admin.audit('retention.set', { closedRetentionDays: 1 }) }],
      ['a statement signed by another key', await body({ seed: p.randomBytes(32) })],
      ['a statement naming another admin', await body({ fields: { adminAccountId: p.randomBytes(16) } })],
      ['a statement for another invitation id', await body({ id: p.randomBytes(16) })],
      ['an expired statement', await body({ fields: { expiresHour: nowHour() } })],
      ['a statement open for too long', await body({ fields: { expiresHour: nowHour() + 40 * 24 } })],
      ['an unknown team', await body({ fields: { teamIds: [p.randomBytes(16)] } })],
      ['an audit entry saying admin for a responder statement', await body({ targets: { role: 'admin' } })],
      ['bytes of an unknown version', await body({ statement: new Uint8Array(200).fill(9) })],
      ['truncated bytes', { ...(await body()), statement: b64(new Uint8Array([2, 0x13, 1, 2, 3])) }],
    ];
    for (const [what, b] of attempts) {
      const res = await admin.send('/invitations', b);
      expect({ what, status: res.status }).toEqual({ what, status: 400 });
      expect(typeof res.json.error.code).toBe('string');
      expect(await counts()).toEqual(before);
    }

    const inv = await admin.invite('responder', [legalId, medicalId]);
    expect(inv.status).toBe(201);
    const entries = (await admin.get('/audit')).json.entries as Json[];
    const last = JSON.parse(entries[entries.length - 1]!.entryText);
    expect(last.action).toBe('invitation.create');
    expect(last.targets).toEqual({ invitationId: inv.json.invitationId, role: 'responder', teamIds: [b64(legalId), b64(medicalId)], expiresHour: last.targets.expiresHour });
    // The code is nowhere on the server: not in the audit log, not in the invitations table.
    const dump = JSON.stringify((await sql`select * from invitations, audit_log`.execute(t.db)).rows);
    const code = unb64(inv.code);
    expect(dump.includes(inv.code)).toBe(false);
    expect(dump.includes(Buffer.from(code).toString('hex'))).toBe(false);
    // The id alone (what the server saw) does not enrol; the code does, and the listing then
    // carries the statement and its signer's certificate for the approving browser.
    const creds = await makeCredentials(p, 'legal.one');
    expect((await call(triage, '/api/v1/enrol', { body: enrolBody(creds, inv.json.invitationId) })).status).toBe(400);
    const enrolled = await call(triage, '/api/v1/enrol', { body: enrolBody(creds, inv.code) });
    expect(enrolled.status).toBe(201);
    const listed = await admin.account(unb64(enrolled.json.account.id));
    expect(listed.invitation.inviterCertificate).toBe((await admin.account(admin.id)).certificate);
    expect(unb64(listed.invitation.statement).subarray(18, 34)).toEqual(invitationIdFromCode(p, code));
  });
});
