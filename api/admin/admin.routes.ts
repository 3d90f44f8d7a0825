/**
 * Admin API, mounted at `/api/v1/admin` on the triage app only. Every route needs a session
 * of an active admin; every state-changing route takes `audit: {entry, prevHash, signature}`
 * made by the admin's browser (crypto/v1/admin.ts signAuditEntry) on top of the head
 * from GET /audit/head. Byte fields are unpadded base64url. Shapes are documented in
 * docs/PROTOCOL.md ("Admin API").
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { GRANT_BYTES, RESPONDER_CERT_BYTES } from '../../crypto/v1/certs.ts';
import { INVITATION_MAX_TEAMS } from '../../crypto/v2/invitation.ts';
import { TEAM_KEY_STATEMENT_BYTES } from '../../crypto/v2/team-key.ts';
import type { Config } from '../config.ts';
import { ForbiddenError, NotFoundError, UnavailableError, ValidationError } from '../errors.ts';
import { bytesField, decodeBase64url, encodeBase64url, enumField, intField, INT4_MAX, objectField, pathInt, queryBytes, queryInt, readJsonObject, type JsonObject } from '../http/validate.ts';
import { MAX_ENVELOPE_BYTES } from '../intake/limits.ts';
import { sameOriginOnly, SESSION_COOKIE } from '../accounts/account.routes.ts';
import type { AccountService, Session } from '../accounts/account.service.ts';
import type { AuditInput } from './audit.service.ts';
import { REWRAP_MAX_PAGE, REWRAP_PAGE, type AdminService } from './admin.service.ts';
import { readSignatureBody } from '../site/site-manifest.routes.ts';
import type { SiteManifestService } from '../site/site-manifest.service.ts';

export type AdminEnv = { Variables: { session: Session } };
type Env = AdminEnv;

const MAX_LIST = 1000;
/** 2 + 16 + 16 + 1 + 4 + 1 + 16 * INVITATION_MAX_TEAMS + 16 + 64 (crypto/v2/invitation.ts). */
const INVITATION_STATEMENT_MAX_BYTES = 120 + 16 * INVITATION_MAX_TEAMS;
const b64 = encodeBase64url;

function hourIso(d: Date): string {
  return d.toISOString().slice(0, 13) + ':00:00Z';
}

export function auditField(body: JsonObject): AuditInput {
  const a = objectField(body, 'audit');
  return {
    entry: bytesField(a, 'entry', { maxLength: 4096 }),
    prevHash: bytesField(a, 'prevHash', { length: 32 }),
    signature: bytesField(a, 'signature', { length: 64 }),
  };
}

/** A signed-in admin's session, or 401/403: every admin route (and root rotation) sits behind it. */
export function adminOnly(accounts: AccountService): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    const value = getCookie(c, SESSION_COOKIE);
    const token = value && value.length <= 64 ? decodeBase64url(value) : null;
    const session = await accounts.authenticate(token);
    if (session.account.role !== 'admin') throw new ForbiddenError('Only an admin can do this.');
    c.set('session', session);
    await next();
  };
}

export function listField(body: JsonObject, name: string, max = MAX_LIST): JsonObject[] {
  const value = body[name];
  if (!Array.isArray(value) || value.length > max) throw new ValidationError(`Field "${name}" must be a list of at most ${max} items.`);
  return value.map((v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ValidationError(`Field "${name}" must list objects.`);
    return v as JsonObject;
  });
}

function stringField(body: JsonObject, name: string, max: number): string {
  const v = body[name];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new ValidationError(`Field "${name}" must be a string of 1-${max} characters.`);
  return v;
}

/**
 * A team key: up to the size of a v2 statement, so that a v1 certificate (134 bytes) reaches the
 * service and is refused with `unsupported_version` rather than a bare length error.
 */
function teamKeyField(body: JsonObject, name: string): Uint8Array {
  return bytesField(body, name, { maxLength: TEAM_KEY_STATEMENT_BYTES });
}

function hourNumberIso(hour: number): string {
  return hourIso(new Date(hour * 3_600_000));
}

function pathEpoch(c: Context): number {
  const text = c.req.param('epoch') ?? '';
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffffffff) throw new NotFoundError('No such epoch.');
  return Number(text);
}

function pathId(c: Context, name: string, what: string): Uint8Array {
  const id = decodeBase64url(c.req.param(name) ?? '');
  if (id === null || id.length !== 16) throw new NotFoundError(`No such ${what}.`);
  return id;
}

/** `?path=`: an absolute URL path of printable ASCII, at most 512 characters (as a manifest lists). */
function readFilePath(value: string | undefined): string {
  if (value === undefined || value.length > 512 || !/^\/[\x21-\x7e]*$/.test(value)) throw new ValidationError('Query parameter "path" must be an absolute path of at most 512 printable characters.');
  return value;
}

export function adminRoutes(admin: AdminService, accounts: AccountService, config: Pick<Config, 'behindTls'>, siteManifests?: SiteManifestService) {
  const app = new Hono<Env>();
  app.use('*', sameOriginOnly(config.behindTls));
  app.use('*', adminOnly(accounts));
  const who = (c: Context<Env>) => c.get('session').account;

  // A root signature over the manifest a site serves now (crypto/v2/site-manifest.ts). No
  // audit entry: the signature itself can only come from a holder of the root seed, and it
  // is stored as is, so it is its own record (see docs/PROTOCOL.md section 24.8).
  app.put('/site-manifest', async (c) => {
    const { site, manifestSha256, signature } = readSignatureBody(await readJsonObject(c));
    if (!siteManifests) throw new UnavailableError('This server serves no site manifest.', 60);
    await siteManifests.accept(site, manifestSha256, signature);
    return c.json({ site, manifestSha256: Buffer.from(manifestSha256).toString('hex'), stored: true });
  });

  // Both sites' manifests as served now, with whether each is signed and whether the pages
  // change at the next restart (a team key changed since they were rendered).
  app.get('/site-manifests', async (c) => {
    if (!siteManifests) throw new UnavailableError('This server serves no site manifest.', 60);
    return c.json(await siteManifests.overview());
  });

  // The bytes a site serves at a path, for the admin's browser to hash: the dashboard's CSP
  // (connect-src 'self') keeps it from fetching the requester site itself.
  app.get('/site-manifests/:site/file', (c) => {
    const site = c.req.param('site');
    if (site !== 'requester' && site !== 'triage') throw new NotFoundError('No such site.');
    const path = readFilePath(c.req.query('path'));
    if (!siteManifests) throw new UnavailableError('This server serves no site manifest.', 60);
    const file = siteManifests.file(site, path);
    return c.json({ site, path, contentType: file.contentType, body: b64(file.body) });
  });

  app.get('/root-wrap', async (c) => {
    const w = await admin.rootWrap(who(c));
    return c.json({ organisationId: b64(w.organisationId), rootPublicKey: b64(w.rootPublicKey), rootWrap: b64(w.sealed) });
  });

  app.get('/audit/head', async (c) => {
    const head = await admin.auditHead(who(c));
    return c.json({ seq: head.seq, hash: b64(head.hash) });
  });

  app.get('/audit', async (c) => {
    const after = queryInt(c, 'after', { min: 0, max: INT4_MAX, fallback: 0 });
    const limit = queryInt(c, 'limit', { min: 1, max: MAX_LIST, fallback: 100 });
    const rows = await admin.audit(who(c), after, limit);
    return c.json({
      entries: rows.map((r) => ({
        seq: r.seq, actorId: b64(r.actorId), entry: b64(r.entry), entryText: Buffer.from(r.entry).toString('utf8'),
        prevHash: b64(r.prevHash), hash: b64(r.hash), signature: b64(r.signature),
      })),
      next: rows.length === limit ? rows[rows.length - 1]!.seq : null,
    });
  });

  app.get('/accounts', async (c) => {
    const list = await admin.accounts(who(c));
    return c.json({
      accounts: list.map((a) => ({
        id: b64(a.id), username: a.username, role: a.role, status: a.status,
        encPublicKey: b64(a.encPublicKey), signPublicKey: b64(a.signPublicKey), fingerprint: a.fingerprint,
        certificate: a.certificate ? b64(a.certificate) : null, teamIds: a.teamIds.map(b64), invitedTeamIds: a.invitedTeamIds.map(b64),
        // The signed invitation and its signer's certificate: what the approving browser
        // verifies against the root it embeds, and the only source of the role and teams it
        // signs. `role` and `invitedTeamIds` above are the server's copy (the browser refuses
        // to approve when they differ from the statement).
        invitation: a.invitation
          ? { statement: b64(a.invitation.statement), inviterCertificate: a.invitation.inviterCertificate ? b64(a.invitation.inviterCertificate) : null }
          : null,
        hasRootWrap: a.hasRootWrap, createdHour: hourIso(a.createdHour),
      })),
    });
  });

  // An invitation made in the admin's browser (crypto/v2 createInvitation): the server gets
  // the invitation id (a hash of the code, which stays in the link's fragment) and the signed
  // statement. Same full path as before v2; the old body {role, teamIds} is refused.
  app.post('/invitations', async (c) => {
    const body = await readJsonObject(c);
    const invitationId = bytesField(body, 'invitationId', { length: 16 });
    const statement = bytesField(body, 'statement', { maxLength: INVITATION_STATEMENT_MAX_BYTES });
    const r = await admin.createInvitation(who(c), { invitationId, statement, audit: auditField(body) });
    return c.json({ invitationId: b64(invitationId), expiresHour: hourIso(r.expiresHour) }, 201);
  });

  app.post('/accounts/:id/approve', async (c) => {
    const id = pathId(c, 'id', 'account');
    const body = await readJsonObject(c);
    const teamGrants = listField(body, 'teamGrants').map((g) => ({
      teamId: bytesField(g, 'teamId', { length: 16 }),
      epoch: intField(g, 'epoch', 1, INT4_MAX),
      grant: bytesField(g, 'grant', { length: GRANT_BYTES }),
    }));
    await admin.approve(who(c), id, { certificate: bytesField(body, 'certificate', { length: RESPONDER_CERT_BYTES }), teamGrants, audit: auditField(body) });
    return c.json({ id: b64(id), status: 'active' });
  });

  app.post('/accounts/:id/remove', async (c) => {
    const id = pathId(c, 'id', 'account');
    const body = await readJsonObject(c);
    const teams = await admin.remove(who(c), id, auditField(body));
    return c.json({ id: b64(id), status: 'removed', mustRotate: teams.map(b64) });
  });

  app.post('/admins', async (c) => {
    const body = await readJsonObject(c);
    const accountId = bytesField(body, 'accountId', { length: 16 });
    await admin.addAdmin(who(c), {
      accountId,
      certificate: bytesField(body, 'certificate', { length: RESPONDER_CERT_BYTES }),
      rootWrap: bytesField(body, 'rootWrap', { maxLength: 256 }),
      audit: auditField(body),
    });
    return c.json({ id: b64(accountId), role: 'admin', status: 'active' }, 201);
  });

  // Requests no member's browser could decrypt, removed in one audited action (24.10).
  app.post('/requests/remove-undecryptable', async (c) => {
    const body = await readJsonObject(c);
    const list = body.requestIds;
    if (!Array.isArray(list) || list.length > 500) throw new ValidationError('Field "requestIds" must be a list of at most 500 ids.');
    const ids = list.map((v) => {
      const bytes = typeof v === 'string' ? decodeBase64url(v) : null;
      if (!bytes || bytes.length !== 16) throw new ValidationError('Field "requestIds" must list 16-byte ids (base64url).');
      return bytes;
    });
    const removed = await admin.removeUndecryptable(who(c), ids, auditField(body));
    return c.json({ removed });
  });

  app.get('/teams', async (c) => {
    const teams = await admin.teams(who(c));
    return c.json({
      teams: teams.map((t) => ({
        id: b64(t.id), slug: t.slug, name: t.name, position: t.position, createdHour: hourIso(t.createdHour),
        currentEpoch: t.currentEpoch,
        currentKey: t.currentKey && {
          version: t.currentKey.version, serial: t.currentKey.serial,
          expiresHour: t.currentKey.expiresHour === null ? null : hourNumberIso(t.currentKey.expiresHour),
          needsRenewal: t.currentKey.needsRenewal,
        },
        currentEpochAgeDays: t.currentEpochAgeDays, rotationDue: t.rotationDue, rotationRequired: t.rotationRequired, staleMessages: t.staleMessages,
        memberIds: t.memberIds.map(b64),
        epochs: t.epochs.map((e) => ({ epoch: e.epoch, state: e.state, certificate: b64(e.certificate), createdHour: hourIso(e.createdHour) })),
        grants: t.grants.map((g) => ({ epoch: g.epoch, grant: b64(g.sealed) })),
      })),
    });
  });

  app.post('/teams', async (c) => {
    const body = await readJsonObject(c);
    const id = bytesField(body, 'id', { length: 16 });
    await admin.createTeam(who(c), {
      id,
      slug: stringField(body, 'slug', 40),
      name: stringField(body, 'name', 200),
      certificate: teamKeyField(body, 'certificate'),
      grants: listField(body, 'grants').map((g) => ({ accountId: bytesField(g, 'accountId', { length: 16 }), grant: bytesField(g, 'grant', { length: GRANT_BYTES }) })),
      audit: auditField(body),
    });
    return c.json({ id: b64(id) }, 201);
  });

  app.put('/teams/:id/members/:accountId', async (c) => {
    const teamId = pathId(c, 'id', 'team');
    const accountId = pathId(c, 'accountId', 'account');
    const body = await readJsonObject(c);
    const member = body.member;
    if (typeof member !== 'boolean') throw new ValidationError('Field "member" must be true or false.');
    if (member) {
      const grants = listField(body, 'grants').map((g) => ({ epoch: intField(g, 'epoch', 1, INT4_MAX), grant: bytesField(g, 'grant', { length: GRANT_BYTES }) }));
      const scope = body.scope ?? 'all';
      if (scope !== 'all' && scope !== 'new') throw new ValidationError('Field "scope" must be "all" or "new".');
      await admin.addMember(who(c), teamId, accountId, grants, auditField(body), scope);
      return c.json({ teamId: b64(teamId), accountId: b64(accountId), member: true, mustRotate: [] });
    }
    const rotate = await admin.removeMember(who(c), teamId, accountId, auditField(body));
    return c.json({ teamId: b64(teamId), accountId: b64(accountId), member: false, mustRotate: rotate.map(b64) });
  });

  app.post('/teams/:id/rotate', async (c) => {
    const teamId = pathId(c, 'id', 'team');
    const body = await readJsonObject(c);
    const epoch = intField(body, 'epoch', 2, INT4_MAX);
    await admin.rotate(who(c), teamId, {
      epoch,
      certificate: teamKeyField(body, 'certificate'),
      grants: listField(body, 'grants').map((g) => ({ accountId: bytesField(g, 'accountId', { length: 16 }), grant: bytesField(g, 'grant', { length: GRANT_BYTES }) })),
      audit: auditField(body),
    });
    return c.json({ teamId: b64(teamId), currentEpoch: epoch });
  });

  app.get('/teams/:id/rewrap', async (c) => {
    const teamId = pathId(c, 'id', 'team');
    const cursor = queryBytes(c, 'cursor', 16) ?? null;
    const limit = queryInt(c, 'limit', { min: 1, max: REWRAP_MAX_PAGE, fallback: REWRAP_PAGE });
    const page = await admin.rewrapPage(who(c), teamId, cursor, limit);
    return c.json({
      currentEpoch: page.currentEpoch,
      currentCertificate: b64(page.currentCertificate),
      epochs: page.epochs.map((e) => ({ epoch: e.epoch, state: e.state, certificate: b64(e.certificate) })),
      grants: page.grants.map((g) => ({ epoch: g.epoch, grant: b64(g.sealed) })),
      messages: page.messages.map((m) => ({ id: b64(m.id), requestId: b64(m.requestId), kind: m.kind, epoch: m.epoch, blob: b64(m.blob) })),
      remaining: page.remaining,
      nextCursor: page.messages.length === limit ? b64(page.messages[page.messages.length - 1]!.id) : null,
    });
  });

  app.post('/teams/:id/rewrap', async (c) => {
    const teamId = pathId(c, 'id', 'team');
    const body = await readJsonObject(c);
    const messages = listField(body, 'messages', REWRAP_MAX_PAGE).map((m) => ({
      id: bytesField(m, 'id', { length: 16 }),
      blob: bytesField(m, 'blob', { maxLength: MAX_ENVELOPE_BYTES }),
    }));
    return c.json(await admin.rewrapUpload(who(c), teamId, { epoch: intField(body, 'epoch', 1, INT4_MAX), messages, audit: auditField(body) }));
  });

  // A new statement for the current epoch's key: higher serial, new expiry (no new key, no grants).
  app.post('/teams/:id/epochs/:epoch/renew', async (c) => {
    const teamId = pathId(c, 'id', 'team');
    const epoch = pathEpoch(c);
    const body = await readJsonObject(c);
    const r = await admin.renew(who(c), teamId, epoch, { statement: teamKeyField(body, 'statement'), audit: auditField(body) });
    return c.json({ teamId: b64(teamId), epoch, serial: r.serial, expiresHour: hourNumberIso(r.expiresHour) });
  });

  app.post('/teams/:id/epochs/:epoch/retire', async (c) => {
    const teamId = pathId(c, 'id', 'team');
    const epoch = pathInt(c, 'epoch', 1, 'epoch');
    const body = await readJsonObject(c);
    await admin.retire(who(c), teamId, epoch, auditField(body));
    return c.json({ teamId: b64(teamId), epoch, state: 'retired' });
  });

  // The second-factor policy (PROTOCOL 22.12): sign-in reads it, the admin sets it, audited.
  app.put('/second-factor-policy', async (c) => {
    const body = await readJsonObject(c);
    const policy = enumField(body, 'policy', ['none', 'any', 'passkey'] as const);
    await admin.setSecondFactorPolicy(who(c), policy, auditField(body));
    return c.json({ policy });
  });

  app.get('/retention', async (c) => c.json({ closedRetentionDays: await admin.retention(who(c)) }));

  app.put('/retention', async (c) => {
    const body = await readJsonObject(c);
    const days = intField(body, 'closedRetentionDays', 1, 3650);
    await admin.setRetention(who(c), days, auditField(body));
    return c.json({ closedRetentionDays: days });
  });

  return app;
}
