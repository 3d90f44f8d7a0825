/**
 * Liveness and readiness, on both sites.
 *
 * - `GET /api/v1/health/live`: the process is up and its event loop answers. No database,
 *   so a supervisor does not restart Haven for an outage a restart cannot fix.
 * - `GET /api/v1/health/ready` (and `GET /api/v1/health`, the same): the database answers AND
 *   the configured root public key matches the organisation. This is what a load balancer
 *   asks: an instance with the wrong key would serve pages whose form refuses to send.
 */
import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import type { Primitives } from '../../crypto/primitives.ts';
import type { Database } from '../db/schema.ts';
import { MisconfiguredError, UnavailableError } from '../errors.ts';
import { pingDatabase } from './health.repository.ts';
import { checkRootKey, describeRootKeyStatus, rootKeyIsWrong } from './root-key.service.ts';

export function healthRoutes(db: Kysely<Database>, p: Primitives, rootPublicKey: Uint8Array | null) {
  const ready = async () => {
    try {
      await pingDatabase(db);
    } catch {
      throw new UnavailableError('The database is not reachable.');
    }
    let rootKey;
    try {
      rootKey = await checkRootKey(db, p, rootPublicKey);
    } catch {
      throw new UnavailableError('The database is not reachable.');
    }
    if (rootKeyIsWrong(rootKey)) throw new MisconfiguredError(describeRootKeyStatus(rootKey));
    return { status: 'ok', database: 'ok', rootKey } as const;
  };
  return new Hono()
    .get('/live', (c) => c.json({ status: 'ok' }))
    .get('/ready', async (c) => c.json(await ready()))
    .get('/', async (c) => c.json(await ready()));
}
