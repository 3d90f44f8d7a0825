/**
 * POST /api/v1/setup on the triage site: the first-run setup from the link `npm start`
 * printed (docs/PROTOCOL.md 22.6). No session (there is no account yet); the one-time token
 * in the body is the authority. Byte fields are unpadded base64url.
 */
import { Hono } from 'hono';
import { GRANT_BYTES, RESPONDER_CERT_BYTES } from '../../crypto/v1/certs.ts';
import { ACCOUNT_BUNDLE_BYTES } from '../../crypto/v1/account.ts';
import { TEAM_KEY_STATEMENT_BYTES } from '../../crypto/v2/team-key.ts';
import { sameOriginOnly } from '../accounts/account.routes.ts';
import { ValidationError } from '../errors.ts';
import { bytesField, encodeBase64url, objectField, readJsonObject, type JsonObject } from '../http/validate.ts';
import type { FirstRun } from './setup-first-run.ts';
import { SETUP_MAX_TEAMS } from './setup-browser.service.ts';

function text(body: JsonObject, name: string, max: number): string {
  const v = body[name];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new ValidationError(`Field "${name}" must be a string of 1-${max} characters.`);
  return v;
}

export function setupRoutes(firstRun: FirstRun, behindTls: boolean) {
  const app = new Hono();
  app.use('*', sameOriginOnly(behindTls));
  app.post('/setup', async (c) => {
    const body = await readJsonObject(c);
    const token = text(body, 'token', 100);
    await firstRun.precheck(token);
    const org = objectField(body, 'organisation');
    const admin = objectField(body, 'admin');
    const audit = objectField(body, 'audit');
    const teams = body.teams;
    if (!Array.isArray(teams) || teams.length > SETUP_MAX_TEAMS) throw new ValidationError(`Field "teams" must be a list of at most ${SETUP_MAX_TEAMS} teams.`);
    const result = await firstRun.setup(token, {
      organisation: { id: bytesField(org, 'id', { length: 16 }), name: text(org, 'name', 200) },
      rootPublicKey: bytesField(body, 'rootPublicKey', { length: 32 }),
      admin: {
        id: bytesField(admin, 'id', { length: 16 }),
        username: text(admin, 'username', 100),
        keyBundle: bytesField(admin, 'keyBundle', { length: ACCOUNT_BUNDLE_BYTES }),
        salt: bytesField(admin, 'salt', { length: 16 }),
        encPublicKey: bytesField(admin, 'encPublicKey', { length: 32 }),
        signPublicKey: bytesField(admin, 'signPublicKey', { length: 32 }),
        loginVerifier: bytesField(admin, 'loginVerifier', { length: 32 }),
        certificate: bytesField(admin, 'certificate', { length: RESPONDER_CERT_BYTES }),
        rootWrap: bytesField(admin, 'rootWrap', { maxLength: 256 }),
      },
      teams: teams.map((t: unknown) => {
        if (typeof t !== 'object' || t === null || Array.isArray(t)) throw new ValidationError('Field "teams" must list objects.');
        const team = t as JsonObject;
        return {
          id: bytesField(team, 'id', { length: 16 }),
          slug: text(team, 'slug', 40),
          name: text(team, 'name', 200),
          certificate: bytesField(team, 'certificate', { length: TEAM_KEY_STATEMENT_BYTES }),
          grant: bytesField(team, 'grant', { length: GRANT_BYTES }),
        };
      }),
      audit: {
        entry: bytesField(audit, 'entry', { maxLength: 4096 }),
        prevHash: bytesField(audit, 'prevHash', { length: 32 }),
        signature: bytesField(audit, 'signature', { length: 64 }),
      },
    });
    return c.json({
      organisationId: encodeBase64url(result.organisationId),
      adminId: encodeBase64url(result.adminId),
      rootFingerprint: result.rootFingerprint,
      rootKeyPersisted: result.rootKeyFile !== null,
    }, 201);
  });
  return app;
}
