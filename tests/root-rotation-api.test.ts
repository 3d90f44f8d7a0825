/**
 * Root key rotation through the API (docs/PROTOCOL.md 14.6, 24.10), with the upload built the
 * way the dashboard builds it (crypto/v2/root-rotation.ts). The attacks: a server root slipped
 * in as a hand-over, a rotation that leaves someone or some epoch out, keys swapped under an
 * account, rolled-back serials, and a removed admin who kept the old root seed.
 */
import type { Hono } from 'hono';
import { beforeEach, expect, it } from 'vitest';
import { base64urlDecode as unb64, base64urlEncode as b64 } from '../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { Role, signResponderCert, verifyResponderCert, type RoleValue } from '../crypto/v1/certs.ts';
import { unwrapRootSeed } from '../crypto/v1/admin.ts';
import { verifyHistoricTeamKey } from '../crypto/team-key-any.ts';
import { unixHour } from '../crypto/v2/constants.ts';
import { followRootChain } from '../crypto/v2/root-handover.ts';
import { buildRootRotation, type RootRotationUpload } from '../crypto/v2/root-rotation.ts';
import { verifyTeamKeyStatement } from '../crypto/v2/team-key.ts';
import { setupOrganisation } from '../api/admin/setup.service.ts';
import { verifyAuditChain } from '../api/admin/audit.service.ts';
import { checkRootKey } from '../api/health/root-key.service.ts';
import { createTestApps, type TestApps } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import { enrolBody, makeCredentials } from './helpers/responder-client.ts';
import { AdminBrowser, call, type Json } from './helpers/admin-browser.ts';

const p = await loadSodiumPrimitives();
const ADMIN_PASS = 'the first admin passphrase';

describeEachDatabase('root key rotation API', (t) => {
  let apps: TestApps;
  let admin: AdminBrowser;
  let oldRoot: Uint8Array;
  let legalId: Uint8Array;
  let replacedWith: Uint8Array[];
  let currentRoot: Uint8Array;
  const triage = () => apps.triage as unknown as Hono;

  function build(rootPublicKey: Uint8Array): void {
    currentRoot = rootPublicKey;
    apps = createTestApps(t.db, {
      rootPublicKey,
      // As api/server.ts does: from now on every service trusts the new root.
      onRootReplaced: async (newRoot) => {
        replacedWith.push(newRoot);
        build(newRoot);
        return { rootKeyFile: null };
      },
    });
  }

  beforeEach(async () => {
    replacedWith = [];
    const setup = await setupOrganisation(t.db, p, { name: 'Test hotline', username: 'admin.one', passphrase: ADMIN_PASS, teams: [{ slug: 'legal', name: 'Legal' }] });
    oldRoot = setup.rootPublicKey;
    legalId = setup.teams[0]!.id;
    build(oldRoot);
    admin = new AdminBrowser(triage(), p, oldRoot);
    await admin.signIn('admin.one', ADMIN_PASS);
  });

  async function enrolAndApprove(name: string): Promise<Uint8Array> {
    const inv = await admin.invite('responder', [legalId]);
    const res = await call(triage(), '/api/v1/enrol', { body: enrolBody(await makeCredentials(p, name), inv.code) });
    expect(res.status).toBe(201);
    const id = unb64(res.json.account.id);
    expect((await admin.approve(id, [legalId])).status).toBe(200);
    return id;
  }

  /** The dashboard's side: every active account (its certificate checked against the pinned root) and every live epoch. */
  async function upload(newSeed: Uint8Array, serial = 1): Promise<RootRotationUpload> {
    const accounts = (await admin.get('/accounts')).json.accounts.filter((a: Json) => a.status === 'active');
    const teams = (await admin.get('/teams')).json.teams as Json[];
    const floors = new Map<string, number>();
    const epochs = teams.flatMap((team: Json) => {
      const teamId = unb64(team.id);
      return team.epochs.map((e: Json) => {
        const k = verifyHistoricTeamKey(p, currentRoot, unb64(e.certificate), { orgId: admin.orgId, teamId });
        floors.set(Buffer.from(teamId).toString('hex'), Math.max(floors.get(Buffer.from(teamId).toString('hex')) ?? 0, k.serial ?? 0));
        return { teamId, epoch: e.epoch, current: e.state === 'current', publicKey: k.publicKey, retired: e.state === 'retired' };
      });
    }).filter((e: Json) => !e.retired);
    return buildRootRotation(p, {
      orgId: admin.orgId, oldRootSeed: admin.rootSeed, newRootSeed: newSeed, handoverSerial: serial, nowHour: unixHour(Date.now()),
      accounts: accounts.map((a: Json) => {
        const cert = verifyResponderCert(p, currentRoot, unb64(a.certificate), { orgId: admin.orgId, accountId: unb64(a.id) });
        return { accountId: cert.accountId, role: cert.role as RoleValue, x25519Public: cert.x25519Public, ed25519Public: cert.ed25519Public };
      }),
      epochs, teamSerialFloors: floors,
    });
  }

  async function send(u: RootRotationUpload, over: Partial<Record<'handover' | 'certificates' | 'teamKeys' | 'rootWraps', unknown>> = {}, as = admin) {
    const newRoot = u.newRootPublic;
    const serial = new DataView(u.handover.buffer, u.handover.byteOffset).getUint32(18);
    const audit = await as.audit('root.rotate', { serial, newRoot: b64(newRoot) });
    return as.send('/root-rotation', {
      handover: b64(u.handover),
      certificates: u.certificates.map((c) => ({ accountId: b64(c.accountId), certificate: b64(c.certificate) })),
      teamKeys: u.teamKeys.map((k) => ({ teamId: b64(k.teamId), epoch: k.epoch, statement: b64(k.statement) })),
      rootWraps: u.rootWraps.map((w) => ({ accountId: b64(w.accountId), sealed: b64(w.sealed) })),
      audit,
      ...over,
    });
  }

  async function unchanged(): Promise<void> {
    expect(replacedWith).toHaveLength(0);
    expect(await t.db.selectFrom('root_handovers').select('serial').execute()).toHaveLength(0);
    for (const a of await t.db.selectFrom('accounts').select(['id', 'certificate']).where('status', '=', 'active').execute()) {
      expect(() => verifyResponderCert(p, oldRoot, a.certificate!, { orgId: admin.orgId, accountId: a.id })).not.toThrow();
    }
  }

  it('[root rotation] re-signs every active account and live epoch, hands over, and makes the new root the only one trusted', async () => {
    const responder = await enrolAndApprove('legal.one');
    const newSeed = p.randomBytes(32);
    const u = await upload(newSeed);
    const res = await send(u);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.serial).toBe(1);
    expect(replacedWith.map((k) => b64(k))).toEqual([b64(u.newRootPublic)]);

    // A dashboard pinned to the old root follows the published chain to the new one.
    const listed = await call(triage(), '/api/v1/root-handovers');
    expect(listed.status).toBe(200);
    const chain = followRootChain(p, { orgId: admin.orgId, pinnedRoot: oldRoot, targetRoot: u.newRootPublic, handovers: listed.json.handovers.map(unb64) });
    expect(chain).toHaveLength(1);

    // Every certificate and live statement now verifies against the new root, keys unchanged.
    const rows = await t.db.selectFrom('accounts').select(['id', 'certificate', 'enc_public_key']).where('status', '=', 'active').execute();
    expect(rows.map((r) => b64(r.id)).sort()).toEqual([b64(admin.id), b64(responder)].sort());
    for (const r of rows) expect(verifyResponderCert(p, u.newRootPublic, r.certificate!, { orgId: admin.orgId, accountId: r.id }).x25519Public).toEqual(r.enc_public_key);
    const epoch = await t.db.selectFrom('team_epochs').selectAll().where('team_id', '=', legalId).executeTakeFirstOrThrow();
    const s = verifyTeamKeyStatement(p, u.newRootPublic, epoch.certificate, { orgId: admin.orgId, teamId: legalId, epoch: epoch.epoch, nowHour: unixHour(Date.now()) });
    expect(s.publicKey).toEqual(epoch.public_key);

    // The new seed is wrapped for the admin, bound to the new root; no wrap of the old seed remains.
    const wraps = await t.db.selectFrom('root_wraps').selectAll().execute();
    expect(wraps).toHaveLength(1);
    const seed = unwrapRootSeed(p, { x25519Secret: admin.x25519Secret, wrap: wraps[0]!.sealed, orgId: admin.orgId, accountId: admin.id, rootPublic: u.newRootPublic });
    expect(seed).toEqual(newSeed);

    // The audit chain records the rotation and verifies with the new root.
    const audit = await t.db.selectFrom('audit_log').select('entry').orderBy('seq').execute();
    expect(Buffer.from(audit.at(-1)!.entry).toString()).toContain('"action":"root.rotate"');
    expect((await verifyAuditChain(t.db, p, u.newRootPublic)).ok).toBe(true);

    // An instance still configured with the old root says so, and is not ready (health).
    expect(await checkRootKey(t.db, p, oldRoot)).toBe('superseded');
    expect(await checkRootKey(t.db, p, u.newRootPublic)).toBe('ok');
    expect(await checkRootKey(t.db, p, p.ed25519KeypairFromSeed(p.randomBytes(32)).publicKey)).toBe('mismatch');
  });

  it('[removed root holder cut off] after the rotation, nothing signed with the old root seed is accepted', async () => {
    const oldSeed = admin.rootSeed;
    const u = await upload(p.randomBytes(32));
    expect((await send(u)).status).toBe(200);
    admin = new AdminBrowser(triage(), p, u.newRootPublic);
    await admin.signIn('admin.one', ADMIN_PASS);
    const inv = await admin.invite('responder', [legalId]);
    const enrolled = await call(triage(), '/api/v1/enrol', { body: enrolBody(await makeCredentials(p, 'mallory'), inv.code) });
    const id = unb64(enrolled.json.account.id);
    // An approval whose certificate is signed with the old seed (what a removed admin could make),
    // with grants that are otherwise right.
    const valid = await admin.certificateFor(id, 'responder');
    const teamGrants = (await admin.grantsFor(valid, legalId)).map((g) => ({ teamId: b64(legalId), ...g }));
    const a = await admin.account(id);
    const forged = signResponderCert(p, oldSeed, { orgId: admin.orgId, accountId: id, role: Role.responder, x25519Public: unb64(a.encPublicKey), ed25519Public: unb64(a.signPublicKey) });
    const refused = await admin.send(`/accounts/${b64(id)}/approve`, { certificate: b64(forged), teamGrants, audit: await admin.audit('account.approve', { accountId: b64(id), teamIds: [b64(legalId)] }) });
    expect([refused.status, refused.json.error.message]).toEqual([400, 'The certificate does not verify against the organisation root for this account.']);
    expect((await admin.approve(id, [legalId])).status).toBe(200);
    // A second hand-over from the OLD root (to a root of the holder's choosing) does not start at the configured root.
    const fork = buildRootRotation(p, {
      orgId: admin.orgId, oldRootSeed: oldSeed, newRootSeed: p.randomBytes(32), handoverSerial: 2, nowHour: unixHour(Date.now()),
      accounts: [{ accountId: admin.id, role: Role.admin, x25519Public: p.x25519PublicFromSecret(admin.x25519Secret), ed25519Public: p.ed25519KeypairFromSeed(admin.ed25519Seed).publicKey }],
      epochs: [], teamSerialFloors: new Map(),
    });
    const res = await send(await upload(p.randomBytes(32), 2), { handover: b64(fork.handover) });
    expect([res.status, res.json.error.message]).toEqual([400, 'The hand-over is not signed by the configured root.']);
  });

  it('[root swap] a hand-over that does not start at the configured root is refused, and nothing changes', async () => {
    const u = await upload(p.randomBytes(32));
    const attackerSeed = p.randomBytes(32);
    const forged = buildRootRotation(p, { orgId: admin.orgId, oldRootSeed: attackerSeed, newRootSeed: p.randomBytes(32), handoverSerial: 1, nowHour: unixHour(Date.now()), accounts: [{ accountId: admin.id, role: Role.admin, x25519Public: p.x25519PublicFromSecret(admin.x25519Secret), ed25519Public: p.ed25519KeypairFromSeed(admin.ed25519Seed).publicKey }], epochs: [], teamSerialFloors: new Map() });
    const res = await send(u, { handover: b64(forged.handover) });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(/configured root/);
    await unchanged();
  });

  it('[nobody left behind] a rotation must cover exactly every active account, admin and live epoch', async () => {
    const responder = await enrolAndApprove('legal.one');
    const u = await upload(p.randomBytes(32));
    const certs = (list: typeof u.certificates) => list.map((c) => ({ accountId: b64(c.accountId), certificate: b64(c.certificate) }));
    // One account left out.
    expect((await send(u, { certificates: certs(u.certificates.filter((c) => b64(c.accountId) !== b64(responder))) })).status).toBe(400);
    // One account twice.
    expect((await send(u, { certificates: certs([...u.certificates, u.certificates[0]!]) })).status).toBe(400);
    // No epoch statements.
    expect((await send(u, { teamKeys: [] })).status).toBe(400);
    // No wrap for the admin: the new seed would be lost.
    expect((await send(u, { rootWraps: [] })).status).toBe(400);
    await unchanged();
  });

  it('[key swap] a certificate naming other keys, or a statement for another key or an old serial, is refused', async () => {
    const responder = await enrolAndApprove('legal.one');
    const newSeed = p.randomBytes(32);
    const u = await upload(newSeed);
    const other = signResponderCert(p, newSeed, { orgId: admin.orgId, accountId: responder, role: Role.responder, x25519Public: p.randomBytes(32), ed25519Public: p.ed25519KeypairFromSeed(p.randomBytes(32)).publicKey });
    const swapped = u.certificates.map((c) => ({ accountId: b64(c.accountId), certificate: b64(b64(c.accountId) === b64(responder) ? other : c.certificate) }));
    expect((await send(u, { certificates: swapped })).json.error.message).toMatch(/keys/);
    // Promotion: the responder re-signed as an admin.
    const promoted = signResponderCert(p, newSeed, { ...verifyResponderCert(p, u.newRootPublic, u.certificates.find((c) => b64(c.accountId) === b64(responder))!.certificate, { orgId: admin.orgId }), role: Role.admin });
    const withPromotion = u.certificates.map((c) => ({ accountId: b64(c.accountId), certificate: b64(b64(c.accountId) === b64(responder) ? promoted : c.certificate) }));
    expect((await send(u, { certificates: withPromotion })).json.error.message).toMatch(/role/);
    // A statement for a key of the attacker's choosing, and one with the old serial.
    const attackerKey = buildRootRotation(p, { orgId: admin.orgId, oldRootSeed: admin.rootSeed, newRootSeed: newSeed, handoverSerial: 1, nowHour: unixHour(Date.now()), accounts: [{ accountId: admin.id, role: Role.admin, x25519Public: p.x25519PublicFromSecret(admin.x25519Secret), ed25519Public: p.ed25519KeypairFromSeed(admin.ed25519Seed).publicKey }], epochs: [{ teamId: legalId, epoch: 1, current: true, publicKey: p.x25519PublicFromSecret(p.randomBytes(32)) }], teamSerialFloors: new Map([[Buffer.from(legalId).toString('hex'), 5]]) });
    expect((await send(u, { teamKeys: attackerKey.teamKeys.map((k) => ({ teamId: b64(k.teamId), epoch: k.epoch, statement: b64(k.statement) })) })).json.error.message).toMatch(/another key/);
    const rolledBack = buildRootRotation(p, { orgId: admin.orgId, oldRootSeed: admin.rootSeed, newRootSeed: newSeed, handoverSerial: 1, nowHour: unixHour(Date.now()), accounts: [{ accountId: admin.id, role: Role.admin, x25519Public: p.x25519PublicFromSecret(admin.x25519Secret), ed25519Public: p.ed25519KeypairFromSeed(admin.ed25519Seed).publicKey }], epochs: [{ teamId: legalId, epoch: 1, current: true, publicKey: (await t.db.selectFrom('team_epochs').select('public_key').where('team_id', '=', legalId).executeTakeFirstOrThrow()).public_key }], teamSerialFloors: new Map([[Buffer.from(legalId).toString('hex'), -1]]) });
    expect((await send(u, { teamKeys: rolledBack.teamKeys.map((k) => ({ teamId: b64(k.teamId), epoch: k.epoch, statement: b64(k.statement) })) })).json.error.message).toMatch(/serial/);
    await unchanged();
  });

  it('refuses a hand-over serial out of order (409), a non-admin (403), bad shapes (400), and a server that cannot change its root (409)', async () => {
    const u = await upload(p.randomBytes(32), 2);
    expect((await send(u)).status).toBe(409);
    const bad = await admin.send('/root-rotation', { handover: 'AAAA', certificates: [], teamKeys: [], rootWraps: [], audit: await admin.audit('root.rotate', { serial: 1, newRoot: 'x' }) });
    expect([bad.status, bad.json.error.code]).toEqual([400, 'validation_failed']);
    expect((await call(triage(), '/api/v1/admin/root-rotation', { body: {} })).status).toBe(401);
    await unchanged();
    apps = createTestApps(t.db, { rootPublicKey: oldRoot });
    admin = new AdminBrowser(triage(), p, oldRoot);
    await admin.signIn('admin.one', ADMIN_PASS);
    const refused = await send(await upload(p.randomBytes(32)));
    expect([refused.status, refused.json.error.code]).toEqual([409, 'conflict']);
    await unchanged();
  });
});
