/** `GET /api/v1/health`: answers 200 only when the database answers too. */
import { Hono } from 'hono';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { UnavailableError } from '../errors.ts';

export function healthRoutes(db: Kysely<Database>) {
  return new Hono().get('/', async (c) => {
    try {
      await sql`select 1`.execute(db);
    } catch {
      throw new UnavailableError('The database is not reachable.');
    }
    return c.json({ status: 'ok', database: 'ok' });
  });
}
