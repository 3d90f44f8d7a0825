/**
 * Triage-site API, mounted at `/api/v1` on the triage app only: enrolment, login, sessions,
 * the responder's teams and requests. (Invitations: POST /api/v1/admin/invitations, admin.routes.ts.)
 *
 * Every endpoint but enrol, login and logout needs a full session cookie (a half-open one,
 * owing a second factor, reaches only the second-factor endpoints); state-changing requests
 * from another origin are refused (the cookie is also SameSite=Strict).
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { ACCOUNT_BUNDLE_BYTES } from '../../crypto/v1/account.ts';
import type { Config } from '../config.ts';
import type { RequestPriority, RequestStatus } from '../db/schema.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { bytesField, decodeBase64url, encodeBase64url, enumField, intField, objectField, queryBytes, queryInt, readJsonObject, type JsonObject } from '../http/validate.ts';
import { POW_V2_MAX_EFFORT, POW_V2_NONCE_BYTES } from '../../crypto/v2/pow.ts';
import type { SessionStage } from '../db/schema.ts';
import { MAX_ENVELOPE_BYTES } from '../intake/limits.ts';
import type { Account, AccountService, FullLogin, Session } from './account.service.ts';
import type { RelyingParty } from './passkey.service.ts';
import type { PasskeySummary } from './passkey.service.ts';
import type { RequestSummary } from './account.repository.ts';
import {
  CURSOR_BYTES, decodeCursor, encodeCursor, MAX_PAGE, REQUEST_PRIORITIES, REQUEST_STATUSES, RESPONDER_KINDS, type Cursor, type TriageService,
} from './triage.service.ts';

export const SESSION_COOKIE = 'haven_session';
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

type Env = { Variables: { session: Session } };

/**
 * Refuses a state-changing request whose Origin names another site: a second line behind
 * SameSite=Strict, for browsers or proxies that get SameSite wrong. Requests without an
 * Origin (non-browser clients, same-origin GETs) pass; they carry no ambient cookie risk.
 *
 * The expected origin is the Host header with `https:` when HAVEN_BEHIND_TLS is set (the
 * proxy speaks http to Haven), except that an `.onion` host is also reached over `http:`
 * (Tor encrypts end to end; see docs/deploy/torrc-haven). When the Origin names this very
 * host but another scheme or port, the cause is the deployment, not another site: the
 * refusal then says which setting to fix, in fixed words that repeat neither value.
 */
export function sameOriginOnly(behindTls: boolean): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && STATE_CHANGING.has(c.req.method)) {
      const own = new URL(c.req.url);
      const problem = originProblem(origin.toLowerCase(), (c.req.header('host') ?? own.host).toLowerCase(), behindTls ? 'https:' : own.protocol);
      if (problem !== null) throw new ForbiddenError(problem);
    }
    await next();
  };
}

const CROSS_SITE = 'Cross-site requests are refused.';

/** Why `origin` is not this site's (`scheme//host`), or null when it is. */
function originProblem(origin: string, host: string, scheme: string): string | null {
  if (origin === `${scheme}//${host}`) return null;
  const onion = /\.onion(:\d+)?$/.test(host);
  if (onion && origin === `http://${host}`) return null;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return CROSS_SITE;
  }
  let ownHostname: string;
  try {
    ownHostname = new URL(`http://${host}`).hostname;
  } catch {
    return CROSS_SITE;
  }
  if (origin === 'null' || parsed.hostname !== ownHostname) return CROSS_SITE;
  if (parsed.protocol !== scheme) {
    return scheme === 'http:'
      ? 'Refused: the page was loaded over https but HAVEN_BEHIND_TLS is false. Behind a TLS proxy, set HAVEN_BEHIND_TLS=true.'
      : 'Refused: the page was loaded over plain http but HAVEN_BEHIND_TLS is true. Open the dashboard over https, or set HAVEN_BEHIND_TLS=false if nothing in front of Haven speaks TLS.';
  }
  return 'Refused: the page\'s port is not the one in the Host header Haven received. If this is the dashboard\'s own page, the proxy in front of Haven changes Host: pass it as the browser sent it, port included (nginx: proxy_set_header Host $http_host).';
}

/**
 * The triage site as WebAuthn sees it: HAVEN_TRIAGE_ORIGIN when set; else the origin the Origin
 * rule expects (the Host header, https when HAVEN_BEHIND_TLS; an .onion host also over http).
 */
export function relyingParty(c: Context, config: Pick<Config, 'behindTls' | 'triageOrigin'>): RelyingParty {
  if (config.triageOrigin !== null) return { id: new URL(config.triageOrigin).hostname, origins: [config.triageOrigin] };
  const own = new URL(c.req.url);
  const host = (c.req.header('host') ?? own.host).toLowerCase();
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname;
  } catch {
    throw new ValidationError('The Host header is not a host name.');
  }
  const scheme = config.behindTls ? 'https:' : own.protocol;
  const origins = [`${scheme}//${host}`];
  if (/\.onion$/.test(hostname) && scheme !== 'http:') origins.push(`http://${host}`);
  return { id: hostname, origins };
}

export function passkeyJson(k: PasskeySummary) {
  return { id: encodeBase64url(k.id), createdHour: hourIso(k.createdHour), holdsKeys: k.holdsKeys };
}

function accountJson(a: Account) {
  return { id: encodeBase64url(a.id), username: a.username, role: a.role, status: a.status };
}

function hourIso(d: Date): string {
  return d.toISOString().slice(0, 13) + ':00:00Z';
}

function summaryJson(r: RequestSummary) {
  return {
    id: encodeBase64url(r.id),
    teamId: encodeBase64url(r.teamId),
    epoch: r.epoch,
    status: r.status,
    priority: r.priority,
    assigneeId: r.assigneeId ? encodeBase64url(r.assigneeId) : null,
    createdHour: hourIso(r.createdHour),
    updatedHour: hourIso(r.updatedHour),
  };
}

function stringField(body: JsonObject, name: string, max: number): string {
  const value = body[name];
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(`Field "${name}" is required (a string).`);
  if (value.length > max) throw new ValidationError(`Field "${name}" is too long.`);
  return value;
}

function pathId(c: Context): Uint8Array {
  const id = decodeBase64url(c.req.param('id') ?? '');
  // A malformed id is as unknown as a well-formed one that does not exist.
  if (id === null || id.length !== 16) throw new NotFoundError('No such request.');
  return id;
}

function passkeyPathId(c: Context): Uint8Array {
  const id = decodeBase64url(c.req.param('id') ?? '');
  if (id === null || id.length !== 16) throw new NotFoundError('No such passkey.');
  return id;
}

export function accountRoutes(accounts: AccountService, triage: TriageService, config: Pick<Config, 'behindTls' | 'triageOrigin'>) {
  const app = new Hono<Env>();
  app.use('*', sameOriginOnly(config.behindTls));

  const token = (c: Context): Uint8Array | null => {
    const value = getCookie(c, SESSION_COOKIE);
    return value && value.length <= 64 ? decodeBase64url(value) : null;
  };
  const signedIn: MiddlewareHandler<Env> = async (c, next) => {
    c.set('session', await accounts.authenticate(token(c)));
    await next();
  };

  app.post('/enrol', async (c) => {
    const body = await readJsonObject(c);
    const input = {
      invitationCode: bytesField(body, 'invitationCode', { maxLength: 64 }),
      username: stringField(body, 'username', 100),
      keyBundle: bytesField(body, 'keyBundle', { length: ACCOUNT_BUNDLE_BYTES }),
      salt: bytesField(body, 'salt', { length: 16 }),
      encPublicKey: bytesField(body, 'encPublicKey', { length: 32 }),
      signPublicKey: bytesField(body, 'signPublicKey', { length: 32 }),
      loginVerifier: bytesField(body, 'loginVerifier', { length: 32 }),
    };
    const account = await accounts.enrol(input);
    return c.json({ account: accountJson(account) }, 201);
  });

  const at = (...stages: SessionStage[]): MiddlewareHandler<Env> => async (c, next) => {
    c.set('session', await accounts.authenticate(token(c), stages));
    await next();
  };

  /** The answer that hands over the key bundle: a full session. */
  const fullLogin = (account: Account, login: FullLogin | Uint8Array) => {
    const l: FullLogin = login instanceof Uint8Array ? { keyBundle: login, keysOnPasskeys: false } : login;
    return {
      stage: 'full' as const,
      account: accountJson(account),
      keyBundle: encodeBase64url(l.keyBundle),
      certificate: account.certificate ? encodeBase64url(account.certificate) : null,
      keysOnPasskeys: l.keysOnPasskeys,
      ...(l.passkey ? { passkey: { credentialId: encodeBase64url(l.passkey.credentialId), wrap: l.passkey.wrap ? encodeBase64url(l.passkey.wrap) : null } } : {}),
    };
  };
  const rp = (c: Context) => relyingParty(c, config);

  app.post('/login/salt', async (c) => {
    const body = await readJsonObject(c);
    const { salt, params, challenge, effort } = await accounts.loginSalt(stringField(body, 'username', 100));
    return c.json({ salt: encodeBase64url(salt), params: { ops: params.ops, memKiB: params.memKiB }, challenge: challenge ? encodeBase64url(challenge) : null, effort });
  });

  app.post('/login', async (c) => {
    const body = await readJsonObject(c);
    const username = stringField(body, 'username', 100);
    const verifier = bytesField(body, 'verifier', { length: 32 });
    let proof;
    if (body.pow !== undefined && body.pow !== null) {
      const pow = objectField(body, 'pow');
      // The challenge's length is left to the check: an old 55-byte v1 challenge is `proof_invalid`.
      proof = {
        challenge: bytesField(pow, 'challenge', { maxLength: 64 }),
        effort: intField(pow, 'effort', 0, POW_V2_MAX_EFFORT),
        nonce: bytesField(pow, 'nonce', { length: POW_V2_NONCE_BYTES }),
      };
    }
    const result = await accounts.login(username, verifier, proof);
    setCookie(c, SESSION_COOKIE, encodeBase64url(result.token), {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      secure: config.behindTls,
    });
    if (result.keyBundle) return c.json(fullLogin(result.account, result.keyBundle));
    return c.json({ stage: result.stage, account: accountJson(result.account) });
  });

  // A TOTP code or a recovery code, for a session that owes one.
  app.post('/login/second-factor', at('second_factor'), async (c) => {
    const body = await readJsonObject(c);
    const input: { totp?: string; recoveryCode?: string } = {};
    if (body.totp !== undefined) input.totp = stringField(body, 'totp', 10);
    if (body.recoveryCode !== undefined) input.recoveryCode = stringField(body, 'recoveryCode', 40);
    const session = c.get('session');
    const keyBundle = await accounts.completeSecondFactor(session, input);
    return c.json(fullLogin(session.account, keyBundle));
  });

  app.get('/second-factor', at('full', 'enrol_second_factor'), async (c) => {
    const s = await accounts.secondFactorStatus(c.get('session').account);
    return c.json({ ...s, passkeys: s.passkeys.map(passkeyJson) });
  });

  app.post('/second-factor/totp/start', at('full', 'enrol_second_factor'), (c) => {
    const e = accounts.startTotp(c.get('session'));
    return c.json({ uri: e.uri, secret: e.base32, pending: encodeBase64url(e.pending) });
  });

  app.post('/second-factor/totp/confirm', at('full', 'enrol_second_factor'), async (c) => {
    const body = await readJsonObject(c);
    const session = c.get('session');
    const r = await accounts.confirmTotp(session, bytesField(body, 'pending', { maxLength: 128 }), stringField(body, 'code', 10));
    return c.json({ recoveryCodes: r.recoveryCodes, ...(r.login ? { login: fullLogin(session.account, r.login) } : {}) });
  });

  // Passkeys (PROTOCOL 22.13-22.17). `response` is the browser's PublicKeyCredential as JSON
  // (@simplewebauthn/browser's shape); the WebAuthn library checks every field of it.
  app.post('/second-factor/passkeys/registration-options', at('full', 'enrol_second_factor'), async (c) => {
    return c.json({ options: await accounts.passkeyRegistrationOptions(c.get('session'), rp(c)) });
  });

  app.post('/second-factor/passkeys', at('full', 'enrol_second_factor'), async (c) => {
    const body = await readJsonObject(c);
    const session = c.get('session');
    const r = await accounts.registerPasskey(session, rp(c), objectField(body, 'response'));
    return c.json({ passkey: passkeyJson(r.passkey), recoveryCodes: r.recoveryCodes, ...(r.login ? { login: fullLogin(session.account, r.login) } : {}) }, 201);
  });

  app.post('/second-factor/passkeys/assertion-options', at('full', 'second_factor'), async (c) => {
    return c.json({ options: await accounts.passkeyAssertionOptions(c.get('session'), rp(c)) });
  });

  app.post('/login/passkey', at('second_factor'), async (c) => {
    const body = await readJsonObject(c);
    const session = c.get('session');
    return c.json(fullLogin(session.account, await accounts.completePasskey(session, rp(c), objectField(body, 'response'))));
  });

  app.put('/second-factor/passkeys/:id/wrap', signedIn, async (c) => {
    const id = passkeyPathId(c);
    const body = await readJsonObject(c);
    const wrap = bytesField(body, 'wrap', { maxLength: 256 });
    await accounts.passkeys.storeWrap(c.get('session').account, c.get('session').tokenHash, rp(c), id, objectField(body, 'response'), wrap);
    return c.json({ keysOnPasskeys: true });
  });

  app.delete('/second-factor/passkeys/:id', signedIn, async (c) => {
    await accounts.removePasskey(c.get('session'), passkeyPathId(c));
    return c.body(null, 204);
  });

  app.post('/second-factor/recovery-codes', signedIn, async (c) => c.json({ recoveryCodes: await accounts.renewRecoveryCodes(c.get('session')) }));

  app.post('/logout', async (c) => {
    await accounts.logout(token(c));
    deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Strict', secure: config.behindTls });
    return c.body(null, 204);
  });

  app.get('/session', signedIn, (c) => {
    const { account } = c.get('session');
    return c.json({ account: accountJson(account), certificate: account.certificate ? encodeBase64url(account.certificate) : null });
  });

  app.get('/teams', signedIn, async (c) => {
    const view = await triage.teams(c.get('session').account);
    return c.json({
      organisation: { id: encodeBase64url(view.organisation.id), name: view.organisation.name },
      rootPublicKey: view.rootPublicKey ? encodeBase64url(view.rootPublicKey) : null,
      rootFingerprint: view.rootFingerprint,
      teams: view.teams.map((t) => {
        const current = t.epochs.find((e) => e.state === 'current');
        return {
          id: encodeBase64url(t.id),
          slug: t.slug,
          name: t.name,
          currentEpoch: current?.epoch ?? null,
          certificate: current ? encodeBase64url(current.certificate) : null,
          epochs: t.epochs.map((e) => ({ epoch: e.epoch, state: e.state, certificate: encodeBase64url(e.certificate) })),
          grants: t.grants.map((g) => ({ epoch: g.epoch, grant: encodeBase64url(g.sealed) })),
          members: t.members.map((m) => ({ id: encodeBase64url(m.id), username: m.username })),
        };
      }),
    });
  });

  app.get('/requests', signedIn, async (c) => {
    const statusText = c.req.query('status');
    let status: RequestStatus | undefined;
    if (statusText !== undefined && statusText !== '') {
      if (!(REQUEST_STATUSES as readonly string[]).includes(statusText)) throw new ValidationError(`Query parameter "status" must be one of: ${REQUEST_STATUSES.join(', ')}.`);
      status = statusText as RequestStatus;
    }
    const limit = queryInt(c, 'limit', { min: 1, max: MAX_PAGE, fallback: 50 });
    const teamId = queryBytes(c, 'team', 16);
    const cursorBytes = queryBytes(c, 'cursor', CURSOR_BYTES);
    let cursor: Cursor | undefined;
    if (cursorBytes) {
      cursor = decodeCursor(cursorBytes) ?? undefined;
      if (!cursor) throw new ValidationError('Query parameter "cursor" is not valid.');
    }
    const page = await triage.list(c.get('session').account, { limit, ...(status ? { status } : {}), ...(teamId ? { teamId } : {}), ...(cursor ? { cursor } : {}) });
    return c.json({
      requests: page.requests.map((r) => ({ ...summaryJson(r), activity: r.activity, unread: r.unread, blob: encodeBase64url(r.blob) })),
      nextCursor: page.next ? encodeBase64url(encodeCursor(page.next)) : null,
    });
  });

  // The live dashboard's poll: a content-free change marker (docs/PROTOCOL.md 23.6).
  app.get('/changes', signedIn, async (c) => c.json({ marker: await triage.changes(c.get('session').account) }));

  app.get('/requests/:id', signedIn, async (c) => {
    const thread = await triage.thread(c.get('session').account, pathId(c));
    return c.json({
      request: summaryJson(thread.request),
      messages: thread.messages.map((m) => ({
        id: encodeBase64url(m.id),
        kind: m.kind,
        epoch: m.epoch,
        position: m.position,
        authorId: m.authorId ? encodeBase64url(m.authorId) : null,
        blob: encodeBase64url(m.blob),
      })),
    });
  });

  // An encrypted attachment (PROTOCOL.md 23.3a): bytes only, never a type a browser would render.
  app.get('/requests/:id/attachments/:attachmentId', signedIn, async (c) => {
    const attachmentId = decodeBase64url(c.req.param('attachmentId') ?? '');
    if (attachmentId === null || attachmentId.length !== 16) throw new NotFoundError('No such attachment.');
    const blob = await triage.attachment(c.get('session').account, pathId(c), attachmentId);
    return c.body(new Uint8Array(blob), 200, {
      'content-type': 'application/octet-stream',
      'content-disposition': 'attachment; filename="attachment.bin"',
      'cache-control': 'no-store',
    });
  });

  app.patch('/requests/:id', signedIn, async (c) => {
    const id = pathId(c);
    const body = await readJsonObject(c);
    const changes: { status?: RequestStatus; priority?: RequestPriority; assigneeId?: Uint8Array | null } = {};
    if (body.status !== undefined) changes.status = enumField(body, 'status', REQUEST_STATUSES);
    if (body.priority !== undefined) changes.priority = enumField(body, 'priority', REQUEST_PRIORITIES);
    if (body.assigneeId === null) changes.assigneeId = null;
    else if (body.assigneeId !== undefined) changes.assigneeId = bytesField(body, 'assigneeId', { length: 16 });
    if (Object.keys(changes).length === 0) throw new ValidationError('Send at least one of "status", "priority", "assigneeId".');
    const updated = await triage.update(c.get('session').account, id, changes);
    return c.json({ request: summaryJson(updated) });
  });

  app.post('/requests/:id/messages', signedIn, async (c) => {
    const id = pathId(c);
    const body = await readJsonObject(c);
    const kind = enumField(body, 'kind', RESPONDER_KINDS);
    const envelope = bytesField(body, 'envelope', { maxLength: MAX_ENVELOPE_BYTES });
    const messageId = await triage.post(c.get('session').account, id, kind, envelope);
    return c.json({ id: encodeBase64url(messageId) }, 201);
  });

  return app;
}
