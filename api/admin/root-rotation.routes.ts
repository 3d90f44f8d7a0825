/**
 * Root rotation on the triage site (docs/PROTOCOL.md 14.6 and 24.10):
 * - `GET /api/v1/root-handovers`: every hand-over statement, oldest first. Public: each is
 *   signed by two roots, and a dashboard needs them BEFORE sign-in, to follow its pinned root
 *   to the one its page embeds (rule P2).
 * - `POST /api/v1/admin/root-rotation`: the ceremony's one upload (admin session, same origin,
 *   audited).
 */
import { Hono } from 'hono';
import { RESPONDER_CERT_BYTES } from '../../crypto/v1/certs.ts';
import { ROOT_HANDOVER_BYTES } from '../../crypto/v2/root-handover.ts';
import { TEAM_KEY_STATEMENT_BYTES } from '../../crypto/v2/team-key.ts';
import type { Config } from '../config.ts';
import { bytesField, encodeBase64url, intField, readJsonObject } from '../http/validate.ts';
import { sameOriginOnly } from '../accounts/account.routes.ts';
import type { AccountService } from '../accounts/account.service.ts';
import { adminOnly, auditField, listField, type AdminEnv } from './admin.routes.ts';
import type { RootRotationService } from './root-rotation.service.ts';

const b64 = encodeBase64url;
/** Accounts and epochs a rotation may cover in one request (the body limit bounds it too). */
const MAX_ITEMS = 1000;

export function rootRotationRoutes(rotation: RootRotationService, accounts: AccountService, config: Pick<Config, 'behindTls'>) {
  const app = new Hono<AdminEnv>();

  app.get('/root-handovers', async (c) => {
    const { organisationId, handovers } = await rotation.handovers();
    return c.json({ organisationId: b64(organisationId), handovers: handovers.map(b64) });
  });

  app.post('/admin/root-rotation', sameOriginOnly(config.behindTls), adminOnly(accounts), async (c) => {
    const body = await readJsonObject(c);
    const input = {
      handover: bytesField(body, 'handover', { length: ROOT_HANDOVER_BYTES }),
      certificates: listField(body, 'certificates', MAX_ITEMS).map((x) => ({
        accountId: bytesField(x, 'accountId', { length: 16 }),
        certificate: bytesField(x, 'certificate', { length: RESPONDER_CERT_BYTES }),
      })),
      teamKeys: listField(body, 'teamKeys', MAX_ITEMS).map((x) => ({
        teamId: bytesField(x, 'teamId', { length: 16 }),
        epoch: intField(x, 'epoch', 1, 0xffffffff),
        statement: bytesField(x, 'statement', { length: TEAM_KEY_STATEMENT_BYTES }),
      })),
      rootWraps: listField(body, 'rootWraps', MAX_ITEMS).map((x) => ({
        accountId: bytesField(x, 'accountId', { length: 16 }),
        sealed: bytesField(x, 'sealed', { maxLength: 256 }),
      })),
      audit: auditField(body),
    };
    const result = await rotation.rotate(c.get('session').account, input);
    return c.json({ serial: result.serial, rootKeyFileWritten: result.rootKeyFile !== null });
  });

  return app;
}
