/**
 * "No freshness" (Protocol v2, item 2), the server's half: every new team key is a root-signed
 * v2 statement whose serial is above every stored serial of the team and that has not expired.
 * Each test names the attack it stops. Browsers enforce the other half (they remember the
 * highest serial they saw): tests/adversarial/epochs.test.ts.
 */
import type { Hono } from 'hono';
import { beforeEach, expect, it } from 'vitest';
import { base64urlDecode as unb64, base64urlEncode as b64 } from '../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { createX25519Key, signTeamKey } from '../crypto/v1/certs.ts';
import { rewrapMessage, sealMessage, MessageKind } from '../crypto/v1/message.ts';
import { unixHour } from '../crypto/v2/constants.ts';
import { parseTeamKeyStatementUnverified } from '../crypto/v2/team-key.ts';
import { currentKeySerialFloors } from '../api/admin/admin.service.ts';
import { setupOrganisation } from '../api/admin/setup.service.ts';
import { insertRequest } from '../api/intake/intake.repository.ts';
import { coarseHour } from '../api/time.ts';
import { formatKeySerialFloors } from '../api/web/static-site.ts';
import { createTestApps } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import { AdminBrowser, type Json } from './helpers/admin-browser.ts';

const p = await loadSodiumPrimitives();
const ADMIN_PASS = 'the first admin passphrase';

describeEachDatabase('team key freshness (server)', (t) => {
  let admin: AdminBrowser;
  let legalId: Uint8Array;
  let orgId: Uint8Array;

  beforeEach(async () => {
    const setup = await setupOrganisation(t.db, p, { name: 'Test hotline', username: 'admin.one', passphrase: ADMIN_PASS, teams: [{ slug: 'legal', name: 'Legal' }] });
    legalId = setup.teams[0]!.id;
    orgId = setup.organisationId;
    const apps = createTestApps(t.db, { rootPublicKey: setup.rootPublicKey });
    admin = new AdminBrowser(apps.triage as unknown as Hono, p, setup.rootPublicKey);
    await admin.signIn('admin.one', ADMIN_PASS);
  });

  const epochRows = () => t.db.selectFrom('team_epochs').select(['epoch', 'state', 'certificate']).where('team_id', '=', legalId).orderBy('epoch').execute();
  const auditCount = async () => (await admin.get('/audit?limit=1000')).json.entries.length as number;
  const legal = async () => (await admin.teams()).find((x) => x.id === b64(legalId))!;

  it('[replayed statement] refuses a rotation or renewal whose serial is not above every stored serial, writing nothing', async () => {
    const before = await epochRows();
    const audits = await auditCount();
    // Setup signed serial 1: an equal serial is as much a replay as a lower one.
    for (const serial of [1, 0]) {
      const rotated = await admin.rotate(legalId, { serial });
      expect(rotated.status, `rotation with serial ${serial}`).toBe(serial === 0 ? 400 : 409);
    }
    const renewed = await admin.renew(legalId, { serial: 1 });
    expect(renewed.status).toBe(409);
    expect(renewed.json.error.code).toBe('conflict');
    expect(await epochRows()).toEqual(before);
    expect(await auditCount()).toBe(audits);
    // After a renewal to serial 5, a rotation signed with serial 4 (made before it) is stale.
    expect((await admin.renew(legalId, { serial: 5 })).status).toBe(200);
    const stale = await admin.rotate(legalId, { serial: 4 });
    expect(stale.status).toBe(409);
    expect((await epochRows()).map((e) => e.epoch)).toEqual([1]);
    expect((await admin.rotate(legalId, { serial: 6 })).status).toBe(200);
  });

  it('[expired key] refuses an expired statement for a new team, a rotation and a renewal', async () => {
    const now = unixHour(Date.now());
    const expired = { issuedHour: now - 48, expiresHour: now };
    const rotated = await admin.rotate(legalId, { certificate: (pk, epoch) => admin.statement(legalId, epoch, pk, { serial: 2, ...expired }) });
    expect(rotated.status).toBe(400);
    expect(rotated.json.error.message).toMatch(/expired/);
    const team = await legal();
    const key = parseTeamKeyStatementUnverified(unb64(team.epochs[0].certificate)).publicKey;
    const renewed = await admin.renew(legalId, { statement: admin.statement(legalId, 1, key, { serial: 2, ...expired }) });
    expect(renewed.status).toBe(400);
    // Issued in the future beyond the hour of clock skew: also refused.
    const future = await admin.renew(legalId, { statement: admin.statement(legalId, 1, key, { serial: 2, issuedHour: now + 3, expiresHour: now + 100 }) });
    expect(future.status).toBe(400);
    const teamId = p.randomBytes(16);
    const k = createX25519Key(p);
    const created = await admin.send('/teams', {
      id: b64(teamId), slug: 'medical', name: 'Medical', certificate: b64(admin.statement(teamId, 1, k.publicKey, { serial: 1, ...expired })), grants: [],
      audit: await admin.audit('team.create', { teamId: b64(teamId), slug: 'medical', memberIds: [] }),
    });
    expect(created.status).toBe(400);
    expect((await epochRows()).map((e) => e.epoch)).toEqual([1]);
  });

  it('[downgrade to v1] refuses a v1 certificate for a new epoch or a new team (v1 stays readable as history)', async () => {
    const rotated = await admin.rotate(legalId, { certificate: (pk, epoch) => signTeamKey(p, admin.rootSeed, { orgId, teamId: legalId, epoch, publicKey: pk }) });
    expect(rotated.status).toBe(400);
    expect(rotated.json.error.code).toBe('unsupported_version');
    const teamId = p.randomBytes(16);
    const k = createX25519Key(p);
    const created = await admin.send('/teams', {
      id: b64(teamId), slug: 'medical', name: 'Medical', certificate: b64(signTeamKey(p, admin.rootSeed, { orgId, teamId, epoch: 1, publicKey: k.publicKey })), grants: [],
      audit: await admin.audit('team.create', { teamId: b64(teamId), slug: 'medical', memberIds: [] }),
    });
    expect(created.status).toBe(400);
    expect(created.json.error.code).toBe('unsupported_version');
    const team = await legal();
    const key = parseTeamKeyStatementUnverified(unb64(team.epochs[0].certificate)).publicKey;
    const renewed = await admin.renew(legalId, { statement: signTeamKey(p, admin.rootSeed, { orgId, teamId: legalId, epoch: 1, publicKey: key }) });
    expect(renewed.status).toBe(400);
    expect(renewed.json.error.code).toBe('unsupported_version');
    expect(await t.db.selectFrom('teams').select('slug').execute()).toEqual([{ slug: 'legal' }]);
  });

  it('renews the current epoch (same key, higher serial, new expiry), audited as team.epoch.renew; moves a v1 epoch to v2', async () => {
    // An existing deployment: its current epoch still has a v1 certificate.
    const team = await legal();
    const key = parseTeamKeyStatementUnverified(unb64(team.epochs[0].certificate)).publicKey;
    const v1 = signTeamKey(p, admin.rootSeed, { orgId, teamId: legalId, epoch: 1, publicKey: key });
    await t.db.updateTable('team_epochs').set({ certificate: v1 }).where('team_id', '=', legalId).execute();
    expect((await legal()).currentKey).toEqual({ version: 1, serial: 0, expiresHour: null, needsRenewal: true });
    expect(await currentKeySerialFloors(t.db)).toEqual({});

    const renewed = await admin.renew(legalId);
    expect(renewed.status).toBe(200);
    expect(renewed.json).toMatchObject({ teamId: b64(legalId), epoch: 1, serial: 1 });
    const after = await legal();
    expect(after.currentKey).toMatchObject({ version: 2, serial: 1, needsRenewal: false });
    expect(after.epochs[0].certificate).not.toBe(b64(v1));
    const last = (await admin.get('/audit?limit=1000')).json.entries.at(-1) as Json;
    expect(JSON.parse(last.entryText)).toMatchObject({ action: 'team.epoch.renew', targets: { teamId: b64(legalId), epoch: 1, serial: 1 } });
    // The floor the pages will carry is the team's current serial.
    expect(await currentKeySerialFloors(t.db)).toEqual({ [b64(legalId)]: 1 });
    expect(formatKeySerialFloors(await currentKeySerialFloors(t.db))).toBe(`${b64(legalId)}:1`);

    // A statement that expires within 14 days asks for renewal.
    const now = unixHour(Date.now());
    expect((await admin.renew(legalId, { statement: admin.statement(legalId, 1, key, { serial: 2, expiresHour: now + 24 }) })).status).toBe(200);
    expect((await legal()).currentKey).toMatchObject({ serial: 2, needsRenewal: true });
  });

  it('[key swap by renewal] refuses a renewal that changes the key, of an old epoch, or with a wrong audit entry', async () => {
    const other = createX25519Key(p).publicKey;
    const swapped = await admin.renew(legalId, { statement: admin.statement(legalId, 1, other, { serial: 2 }) });
    expect(swapped.status).toBe(400);
    expect((await admin.rotate(legalId)).status).toBe(200);
    const team = await legal();
    const oldKey = parseTeamKeyStatementUnverified(unb64(team.epochs[0].certificate)).publicKey;
    const statement = admin.statement(legalId, 1, oldKey, { serial: 3 });
    const audit = await admin.audit('team.epoch.renew', { teamId: b64(legalId), epoch: 1, serial: 3 });
    const oldEpoch = await admin.send(`/teams/${b64(legalId)}/epochs/1/renew`, { statement: b64(statement), audit });
    expect(oldEpoch.status).toBe(409);
    const wrongAudit = await admin.send(`/teams/${b64(legalId)}/epochs/2/renew`, {
      statement: b64(admin.statement(legalId, 2, parseTeamKeyStatementUnverified(unb64(team.epochs[1].certificate)).publicKey, { serial: 3 })),
      audit: await admin.audit('team.epoch.renew', { teamId: b64(legalId), epoch: 2, serial: 4 }),
    });
    expect(wrongAudit.status).toBe(400);
    expect((await epochRows()).map((e) => parseTeamKeyStatementUnverified(e.certificate).serial)).toEqual([1, 2]);
  });

  it('answers bad renewal input with typed errors, never a 500', async () => {
    const audit = await admin.audit('team.epoch.renew', { teamId: b64(legalId), epoch: 1, serial: 2 });
    const cases: [string, Json, number, string][] = [
      [`/teams/${b64(legalId)}/epochs/x/renew`, { audit }, 404, 'not_found'],
      [`/teams/${b64(legalId)}/epochs/99999999999/renew`, { audit }, 404, 'not_found'],
      [`/teams/AAAA/epochs/1/renew`, { audit }, 404, 'not_found'],
      [`/teams/${b64(legalId)}/epochs/1/renew`, { audit }, 400, 'validation_failed'],
      [`/teams/${b64(legalId)}/epochs/1/renew`, { statement: 'not base64!', audit }, 400, 'validation_failed'],
      [`/teams/${b64(legalId)}/epochs/1/renew`, { statement: b64(new Uint8Array(146).fill(2)), audit }, 400, 'malformed'],
      [`/teams/${b64(legalId)}/epochs/1/renew`, { statement: b64(new Uint8Array(146).fill(9)), audit }, 400, 'unknown_version'],
      [`/teams/${b64(legalId)}/epochs/1/renew`, { statement: b64(new Uint8Array(400)), audit }, 400, 'payload_too_large'],
      [`/teams/${b64(p.randomBytes(16))}/epochs/1/renew`, { statement: b64(new Uint8Array(146).fill(2)), audit }, 400, 'malformed'],
    ];
    for (const [path, body, status, code] of cases) {
      const res = await admin.send(path, body);
      expect([path, res.status, res.json.error?.code]).toEqual([path, status, code]);
    }
  });

  it('[re-wrap to an old epoch] after two rotations, refuses records re-wrapped to the retiring epoch; only the current one is accepted', async () => {
    const epoch1 = await admin.epochSecrets(legalId);
    const team = await legal();
    const k1 = parseTeamKeyStatementUnverified(unb64(team.epochs[0].certificate)).publicKey;
    const id = p.randomBytes(16);
    const blob = sealMessage(p, { kind: MessageKind.request, orgId, teamId: legalId, epoch: 1, threadId: id, messageId: id, teamPublic: k1, requesterPublic: p.x25519Keypair().publicKey, body: new TextEncoder().encode('{"n":1}') });
    await t.db.transaction().execute((trx) => insertRequest(trx, { id, teamId: legalId, epoch: 1, blob, lookupHash: p.randomBytes(32), hour: coarseHour() }));
    const r2 = await admin.rotate(legalId);
    const r3 = await admin.rotate(legalId);
    expect([r2.status, r3.status]).toEqual([200, 200]);
    const k2 = p.x25519PublicFromSecret(r2.secret);
    const toOld = rewrapMessage(p, blob, epoch1.get(1)!, k2, 2);
    // The body names the current epoch (3); the blob names 2: refused on the blob itself.
    const rewrapAudit = () => admin.audit('team.rewrap', { teamId: b64(legalId), epoch: 3, count: 1 });
    const refused = await admin.send(`/teams/${b64(legalId)}/rewrap`, { epoch: 3, messages: [{ id: b64(id), blob: b64(toOld) }], audit: await rewrapAudit() });
    expect(refused.status).toBe(400);
    expect((await t.db.selectFrom('messages').select('epoch').where('id', '=', id).executeTakeFirstOrThrow()).epoch).toBe(1);
    const k3 = p.x25519PublicFromSecret(r3.secret);
    const ok = await admin.send(`/teams/${b64(legalId)}/rewrap`, { epoch: 3, messages: [{ id: b64(id), blob: b64(rewrapMessage(p, blob, epoch1.get(1)!, k3, 3)) }], audit: await rewrapAudit() });
    expect(ok.status).toBe(200);
  });
});
