/**
 * The demo organisation: a root key, three teams, and a first intake key epoch for each.
 * Used by `npm run seed` and by tests. For local use only: the demo keeps its secrets where
 * a real deployment never would (see seed.ts).
 */
import type { Kysely } from 'kysely';
import { createRootKey, createX25519Key, signTeamKey } from '../crypto/v1/certs.ts';
import type { Ed25519Keypair, Primitives } from '../crypto/primitives.ts';
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

export interface DemoTeam {
  id: Uint8Array;
  slug: string;
  epoch: number;
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface DemoOrganisation {
  organisationId: Uint8Array;
  root: Ed25519Keypair;
  teams: DemoTeam[];
}

export type SeedResult = { created: true; demo: DemoOrganisation } | { created: false; organisationId: Uint8Array };

/** Creates the demo organisation once. Throws SeedRefusedError in production or over a real organisation. */
export async function seedDemo(db: Kysely<Database>, config: Config, p: Primitives): Promise<SeedResult> {
  if (config.mode === 'production') throw new SeedRefusedError('refusing to seed demo data in production mode');
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('organisations').select(['id', 'is_demo']).execute();
    if (existing.some((o) => !o.is_demo)) {
      throw new SeedRefusedError('refusing to seed: this database holds a real organisation');
    }
    if (existing[0]) return { created: false, organisationId: existing[0].id };

    const organisationId = p.randomBytes(16);
    const root = createRootKey(p);
    const hour = coarseHour();
    await trx.insertInto('organisations').values({ id: organisationId, name: 'Haven demo hotline', is_demo: true, created_hour: hour }).execute();
    const teams: DemoTeam[] = [];
    for (const [position, t] of DEMO_TEAMS.entries()) {
      const id = p.randomBytes(16);
      const key = createX25519Key(p);
      const certificate = signTeamKey(p, root.seed, { orgId: organisationId, teamId: id, epoch: 1, publicKey: key.publicKey });
      await trx.insertInto('teams').values({ id, organisation_id: organisationId, slug: t.slug, name: t.name, position, created_hour: hour }).execute();
      await trx
        .insertInto('team_epochs')
        .values({ team_id: id, epoch: 1, public_key: key.publicKey, certificate, state: 'current', created_hour: hour })
        .execute();
      teams.push({ id, slug: t.slug, epoch: 1, publicKey: key.publicKey, secretKey: key.secretKey });
    }
    return { created: true, demo: { organisationId, root, teams } };
  });
}
