/**
 * What the admin dashboard does, in Node, through `app.request()`: sign in, open the root
 * wrap, approve accounts (certificate + grants), create teams, rotate and re-wrap, retire,
 * each with a signed audit entry built on the current head. Used by tests/admin-*.test.ts
 * and bench/rotation.bench.ts. Real crypto throughout; the server sees only what a browser sends.
 */
import type { Hono } from 'hono';
import { base64urlDecode as unb64, base64urlEncode as b64 } from '../../crypto/encoding.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { deriveAccountSecrets, unwrapAccountKeys } from '../../crypto/v1/account.ts';
import { createGrant, createX25519Key, openGrant, Role, signResponderCert, verifyResponderCert } from '../../crypto/v1/certs.ts';
import { verifyCurrentTeamKey, verifyHistoricTeamKey } from '../../crypto/team-key-any.ts';
import { unixHour } from '../../crypto/v2/constants.ts';
import { signTeamKeyStatement, TEAM_KEY_DEFAULT_LIFETIME_HOURS } from '../../crypto/v2/team-key.ts';
import { storedKeyInfo } from '../../api/admin/admin.service.ts';
import { rewrapMessage } from '../../crypto/v1/message.ts';
import { rewrapMessageV2 } from '../../crypto/v2/message.ts';
import { auditJson, signAuditEntry, unwrapRootSeed, type AuditAction, type AuditTargets } from '../../crypto/v1/admin.ts';
import { inviteThrough } from './invite.ts';

// API answers are read field by field in assertions; a declared type per answer would restate the API.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see the line above
export type Json = Record<string, any>;

export async function call(app: Hono, path: string, c: { method?: string; body?: unknown; cookie?: string } = {}): Promise<{ status: number; json: Json; res: Response }> {
  const headers: Record<string, string> = {};
  if (c.body !== undefined) headers['content-type'] = 'application/json';
  if (c.cookie) headers.cookie = c.cookie;
  const res = await app.request(path, { method: c.method ?? (c.body === undefined ? 'GET' : 'POST'), headers, ...(c.body !== undefined ? { body: JSON.stringify(c.body) } : {}) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Json) : {}, res };
}

export class AdminBrowser {
  cookie = '';
  id!: Uint8Array;
  x25519Secret!: Uint8Array;
  ed25519Seed!: Uint8Array;
  rootSeed!: Uint8Array;
  orgId!: Uint8Array;

  constructor(
    readonly app: Hono,
    readonly p: Primitives,
    readonly rootPublic: Uint8Array,
  ) {}

  /** Signs in like the dashboard and opens the caller's root wrap (checking it is the configured root). */
  async signIn(username: string, passphrase: string, withRoot = true): Promise<void> {
    const salt = await call(this.app, '/api/v1/login/salt', { body: { username } });
    const secrets = await deriveAccountSecrets(this.p, passphrase, unb64(salt.json.salt), salt.json.params);
    const login = await call(this.app, '/api/v1/login', { body: { username, verifier: b64(secrets.loginVerifier) } });
    if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
    this.cookie = /haven_session=[^;]*/.exec(login.res.headers.get('set-cookie') ?? '')![0];
    const keys = unwrapAccountKeys(this.p, secrets.wrapKey, unb64(login.json.keyBundle));
    this.id = unb64(login.json.account.id);
    this.x25519Secret = keys.x25519Secret;
    this.ed25519Seed = keys.ed25519Seed;
    if (!withRoot) return;
    const wrap = await call(this.app, '/api/v1/admin/root-wrap', { cookie: this.cookie });
    if (wrap.status !== 200) throw new Error(`root wrap: ${wrap.status}`);
    this.orgId = unb64(wrap.json.organisationId);
    this.rootSeed = unwrapRootSeed(this.p, { x25519Secret: this.x25519Secret, wrap: unb64(wrap.json.rootWrap), orgId: this.orgId, accountId: this.id, rootPublic: this.rootPublic });
  }

  get(path: string) {
    return call(this.app, `/api/v1/admin${path}`, { cookie: this.cookie });
  }

  send(path: string, body: Json, method = 'POST') {
    return call(this.app, `/api/v1/admin${path}`, { method, body, cookie: this.cookie });
  }

  async audit(action: AuditAction, targets: AuditTargets) {
    const head = await this.get('/audit/head');
    return auditJson(signAuditEntry(this.p, { action, actorId: this.id, targets, prevHash: unb64(head.json.hash), ed25519Seed: this.ed25519Seed }));
  }

  /** Invites like the dashboard: code and signed statement made here. @returns status and the code for the link. */
  invite(role: 'responder' | 'admin', teamIds: Uint8Array[], expiresHour?: number) {
    const request = (method: string, path: string, body?: unknown) => call(this.app, `/api/v1/admin${path}`, { method, ...(body !== undefined ? { body } : {}), cookie: this.cookie });
    return inviteThrough(this.p, request, { id: this.id, ed25519Seed: this.ed25519Seed, orgId: this.orgId }, { role, teamIds, ...(expiresHour !== undefined ? { expiresHour } : {}) });
  }

  async teams(): Promise<Json[]> {
    return (await this.get('/teams')).json.teams;
  }

  /** Every live epoch secret of a team the admin holds, checked against the root-signed certificates. */
  async epochSecrets(teamId: Uint8Array): Promise<Map<number, Uint8Array>> {
    const team = (await this.teams()).find((t) => t.id === b64(teamId))!;
    const out = new Map<number, Uint8Array>();
    for (const g of team.grants) {
      const e = team.epochs.find((x: Json) => x.epoch === g.epoch);
      if (!e || e.state === 'retired') continue;
      const cert = verifyHistoricTeamKey(this.p, this.rootPublic, unb64(e.certificate), { orgId: this.orgId, teamId, epoch: g.epoch });
      out.set(g.epoch, openGrant(this.p, { responderSecret: this.x25519Secret, bytes: unb64(g.grant), expected: { orgId: this.orgId, teamId, epoch: g.epoch, accountId: this.id }, teamPublic: cert.publicKey }).epochSecret);
    }
    return out;
  }

  /** The highest serial of a team's listed keys (v1 certificates count 0), as the dashboard computes it. */
  highestSerial(team: Json): number {
    return Math.max(0, ...team.epochs.map((e: Json) => storedKeyInfo(unb64(e.certificate)).serial));
  }

  /** A v2 team key statement signed with the root seed: by default the next serial and the default lifetime from now. */
  statement(teamId: Uint8Array, epoch: number, publicKey: Uint8Array, o: { serial: number; issuedHour?: number; expiresHour?: number }): Uint8Array {
    const issuedHour = o.issuedHour ?? unixHour(Date.now());
    return signTeamKeyStatement(this.p, this.rootSeed, {
      orgId: this.orgId, teamId, epoch, serial: o.serial, issuedHour, expiresHour: o.expiresHour ?? issuedHour + TEAM_KEY_DEFAULT_LIFETIME_HOURS, publicKey,
    });
  }

  /** Renews a team's current epoch: same key, the next serial (or the one given), a new expiry. */
  async renew(teamId: Uint8Array, o: { serial?: number; statement?: Uint8Array } = {}) {
    const team = (await this.teams()).find((t) => t.id === b64(teamId))!;
    const current = team.epochs.find((e: Json) => e.state === 'current');
    const key = verifyHistoricTeamKey(this.p, this.rootPublic, unb64(current.certificate), { orgId: this.orgId, teamId, epoch: current.epoch });
    const statement = o.statement ?? this.statement(teamId, current.epoch, key.publicKey, { serial: o.serial ?? this.highestSerial(team) + 1 });
    const serial = storedKeyInfo(statement).serial;
    const audit = await this.audit('team.epoch.renew', { teamId: b64(teamId), epoch: current.epoch, serial });
    return this.send(`/teams/${b64(teamId)}/epochs/${current.epoch}/renew`, { statement: b64(statement), audit });
  }

  async account(id: Uint8Array): Promise<Json> {
    return (await this.get('/accounts')).json.accounts.find((a: Json) => a.id === b64(id));
  }

  /** Signs the account's certificate from the keys the server lists (after the out-of-band fingerprint check). */
  async certificateFor(id: Uint8Array, role: 'responder' | 'admin'): Promise<Uint8Array> {
    const a = await this.account(id);
    return signResponderCert(this.p, this.rootSeed, { orgId: this.orgId, accountId: id, role: role === 'admin' ? Role.admin : Role.responder, x25519Public: unb64(a.encPublicKey), ed25519Public: unb64(a.signPublicKey) });
  }

  async grantsFor(certificate: Uint8Array, teamId: Uint8Array): Promise<{ epoch: number; grant: string }[]> {
    const secrets = await this.epochSecrets(teamId);
    return [...secrets].map(([epoch, epochSecret]) => ({ epoch, grant: b64(createGrant(this.p, { rootPublic: this.rootPublic, responderCert: certificate, orgId: this.orgId, teamId, epoch, epochSecret })) }));
  }

  async approve(id: Uint8Array, teamIds: Uint8Array[], role: 'responder' | 'admin' = 'responder') {
    const certificate = await this.certificateFor(id, role);
    const teamGrants = [];
    for (const teamId of teamIds) for (const g of await this.grantsFor(certificate, teamId)) teamGrants.push({ teamId: b64(teamId), ...g });
    const audit = await this.audit('account.approve', { accountId: b64(id), teamIds: teamIds.map(b64) });
    return this.send(`/accounts/${b64(id)}/approve`, { certificate: b64(certificate), teamGrants, audit });
  }

  async remove(id: Uint8Array) {
    return this.send(`/accounts/${b64(id)}/remove`, { audit: await this.audit('account.remove', { accountId: b64(id) }) });
  }

  /** Rotates a team: new key, root-signed, granted to each current member after verifying its certificate. */
  async rotate(teamId: Uint8Array, o: { serial?: number; certificate?: (publicKey: Uint8Array, epoch: number) => Uint8Array } = {}): Promise<{ status: number; json: Json; epoch: number; secret: Uint8Array }> {
    const team = (await this.teams()).find((t) => t.id === b64(teamId))!;
    const epoch = Math.max(...team.epochs.map((e: Json) => e.epoch)) + 1;
    const key = createX25519Key(this.p);
    const certificate = o.certificate?.(key.publicKey, epoch) ?? this.statement(teamId, epoch, key.publicKey, { serial: o.serial ?? this.highestSerial(team) + 1 });
    const accounts = (await this.get('/accounts')).json.accounts as Json[];
    const grants = team.memberIds.map((m: string) => {
      const a = accounts.find((x) => x.id === m)!;
      const cert = unb64(a.certificate);
      verifyResponderCert(this.p, this.rootPublic, cert, { orgId: this.orgId, accountId: unb64(m) });
      return { accountId: m, grant: b64(createGrant(this.p, { rootPublic: this.rootPublic, responderCert: cert, orgId: this.orgId, teamId, epoch, epochSecret: key.secretKey })) };
    });
    const audit = await this.audit('team.rotate', { teamId: b64(teamId), epoch });
    const res = await this.send(`/teams/${b64(teamId)}/rotate`, { epoch, certificate: b64(certificate), grants, audit });
    return { ...res, epoch, secret: key.secretKey };
  }

  /**
   * Re-wraps every stale message of a team, page by page. @returns timings (client crypto vs
   * upload) per batch for the benchmark.
   */
  async rewrapAll(teamId: Uint8Array, batch = 200): Promise<{ batches: { n: number; cryptoMs: number; uploadMs: number; fetchMs: number }[] }> {
    const secrets = await this.epochSecrets(teamId);
    const batches = [];
    for (;;) {
      const t0 = performance.now();
      const page = await this.get(`/teams/${b64(teamId)}/rewrap?limit=${batch}`);
      if (page.status !== 200) throw new Error(`rewrap page ${page.status}`);
      const t1 = performance.now();
      if (page.json.messages.length === 0) break;
      const current = page.json.currentEpoch as number;
      const cert = verifyCurrentTeamKey(this.p, this.rootPublic, unb64(page.json.currentCertificate), { orgId: this.orgId, teamId, epoch: current, nowHour: unixHour(Date.now()) });
      const messages = page.json.messages.map((m: Json) => {
        const blob = unb64(m.blob);
        // A re-wrap keeps the protocol version (docs/PROTOCOL.md 24.6).
        const rewrap = blob[0] === 2 ? rewrapMessageV2 : rewrapMessage;
        return { id: m.id, blob: b64(rewrap(this.p, blob, secrets.get(m.epoch)!, cert.publicKey, current)) };
      });
      const t2 = performance.now();
      const audit = await this.audit('team.rewrap', { teamId: b64(teamId), epoch: current, count: messages.length });
      const up = await this.send(`/teams/${b64(teamId)}/rewrap`, { epoch: current, messages, audit });
      if (up.status !== 200) throw new Error(`rewrap upload ${up.status} ${JSON.stringify(up.json)}`);
      batches.push({ n: messages.length, fetchMs: t1 - t0, cryptoMs: t2 - t1, uploadMs: performance.now() - t2 });
    }
    return { batches };
  }

  async retire(teamId: Uint8Array, epoch: number) {
    return this.send(`/teams/${b64(teamId)}/epochs/${epoch}/retire`, { audit: await this.audit('team.epoch.retire', { teamId: b64(teamId), epoch }) });
  }
}
