/**
 * STOPGAP until the demo seed signs v2 team key statements (branch wip-v2epoch): replaces each
 * demo team's v1 certificate with a v2 statement for the same epoch and key, signed by the demo
 * root, so pages that refuse v1 team keys for encryption (protocol v2) can be driven in tests.
 * Delete this file, and its one call in live-server.ts, once seeds/demo.ts does it itself.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../api/db/schema.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { TEAM_KEY_DEFAULT_LIFETIME_HOURS, signTeamKeyStatement } from '../../crypto/v2/team-key.ts';
import { unixHour } from '../../crypto/v2/constants.ts';
import type { DemoOrganisation } from '../../seeds/demo.ts';

export async function signDemoTeamKeysV2(db: Kysely<Database>, p: Primitives, demo: DemoOrganisation): Promise<void> {
  const issuedHour = unixHour(Date.now());
  for (const team of demo.teams) {
    const statement = signTeamKeyStatement(p, demo.root.seed, {
      orgId: demo.organisationId, teamId: team.id, epoch: team.epoch, serial: 1, issuedHour, expiresHour: issuedHour + TEAM_KEY_DEFAULT_LIFETIME_HOURS, publicKey: team.publicKey,
    });
    await db.updateTable('team_epochs').set({ certificate: statement }).where('team_id', '=', team.id).where('epoch', '=', team.epoch).execute();
  }
}
