/** The demo organisation: a name, three teams. Used by `npm run seed` and by tests. */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Config } from '../api/config.ts';
import type { Database } from '../api/db/schema.ts';
import { coarseHour } from '../api/time.ts';

export class SeedRefusedError extends Error {
  override name = 'SeedRefusedError';
}

export const DEMO_TEAMS = [
  { slug: 'legal', name: 'Legal help' },
  { slug: 'medical', name: 'Medical help' },
  { slug: 'evacuation', name: 'Evacuation' },
] as const;

export interface SeedResult {
  organisationId: Uint8Array;
  created: boolean;
  lines: string[];
}

/** Creates the demo organisation once. Throws SeedRefusedError over a real organisation. */
export async function seedDemo(db: Kysely<Database>, config: Config): Promise<SeedResult> {
  if (config.mode === 'production') throw new SeedRefusedError('refusing to seed demo data in production mode');
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('organisations').select(['id', 'is_demo']).execute();
    if (existing.some((o) => !o.is_demo)) {
      throw new SeedRefusedError('refusing to seed: this database holds a real organisation');
    }
    if (existing[0]) {
      return { organisationId: existing[0].id, created: false, lines: ['The demo organisation already exists; nothing to do.'] };
    }
    const organisationId = new Uint8Array(randomBytes(16));
    const hour = coarseHour();
    await trx.insertInto('organisations').values({ id: organisationId, name: 'Haven demo hotline', is_demo: true, created_hour: hour }).execute();
    await trx
      .insertInto('teams')
      .values(DEMO_TEAMS.map((t, position) => ({ id: new Uint8Array(randomBytes(16)), organisation_id: organisationId, slug: t.slug, name: t.name, position, created_hour: hour })))
      .execute();
    return {
      organisationId,
      created: true,
      lines: ['Created the demo organisation "Haven demo hotline" with teams: ' + DEMO_TEAMS.map((t) => t.slug).join(', '), 'For local use only.'],
    };
  });
}
