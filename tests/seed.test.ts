import { describe, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { unixHour } from '../crypto/v2/constants.ts';
import { TEAM_KEY_DEFAULT_LIFETIME_HOURS, verifyTeamKeyStatement } from '../crypto/v2/team-key.ts';
import { coarseHour } from '../api/time.ts';
import { DEMO_TEAMS, seedDemo, SeedRefusedError } from '../seeds/demo.ts';
import { testConfig } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';

const p = await loadSodiumPrimitives();

describeEachDatabase('demo seed', (t) => {
  it('creates the demo organisation, its teams and root-signed intake keys, once', async () => {
    const first = await seedDemo(t.db, testConfig(), p);
    if (!first.created) throw new Error('expected a new organisation');
    const second = await seedDemo(t.db, testConfig(), p);
    expect(second.created).toBe(false);
    const teams = await t.db.selectFrom('teams').select(['id', 'slug']).orderBy('position').execute();
    expect(teams.map((r) => r.slug)).toEqual(DEMO_TEAMS.map((d) => d.slug));
    for (const team of teams) {
      const epoch = await t.db.selectFrom('team_epochs').selectAll().where('team_id', '=', team.id).executeTakeFirstOrThrow();
      // A v2 statement from the start: serial 1, the default lifetime.
      const verified = verifyTeamKeyStatement(p, first.demo.root.publicKey, epoch.certificate, { orgId: first.demo.organisationId, teamId: team.id, epoch: 1, nowHour: unixHour(Date.now()) });
      expect(verified.serial).toBe(1);
      expect(verified.expiresHour - verified.issuedHour).toBe(TEAM_KEY_DEFAULT_LIFETIME_HOURS);
      expect(new Uint8Array(verified.publicKey)).toEqual(new Uint8Array(epoch.public_key));
    }
  });

  it('refuses to run over a real organisation, writing nothing', async () => {
    await t.db.insertInto('organisations').values({ id: new Uint8Array(16).fill(9), name: 'Real', is_demo: false, created_hour: coarseHour() }).execute();
    await expect(seedDemo(t.db, testConfig(), p)).rejects.toBeInstanceOf(SeedRefusedError);
    expect(await t.db.selectFrom('teams').selectAll().execute()).toHaveLength(0);
  });
});

describe('demo seed in production', () => {
  it('is refused before touching the database', async () => {
    const config = testConfig({ HAVEN_MODE: 'production' });
    await expect(seedDemo(null as never, config, p)).rejects.toThrow(/production/);
  });
});
