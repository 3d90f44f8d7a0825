import { describe, expect, it } from 'vitest';
import { coarseHour } from '../api/time.ts';
import { DEMO_TEAMS, seedDemo, SeedRefusedError } from '../seeds/demo.ts';
import { testConfig } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';

describeEachDatabase('demo seed', (t) => {
  it('creates the demo organisation and its teams once', async () => {
    const first = await seedDemo(t.db, testConfig());
    expect(first.created).toBe(true);
    const second = await seedDemo(t.db, testConfig());
    expect(second.created).toBe(false);
    const teams = await t.db.selectFrom('teams').select('slug').orderBy('position').execute();
    expect(teams.map((r) => r.slug)).toEqual(DEMO_TEAMS.map((d) => d.slug));
    expect(await t.db.selectFrom('organisations').selectAll().execute()).toHaveLength(1);
  });

  it('refuses to run over a real organisation, writing nothing', async () => {
    await t.db.insertInto('organisations').values({ id: new Uint8Array(16).fill(9), name: 'Real', is_demo: false, created_hour: coarseHour() }).execute();
    await expect(seedDemo(t.db, testConfig())).rejects.toBeInstanceOf(SeedRefusedError);
    expect(await t.db.selectFrom('teams').selectAll().execute()).toHaveLength(0);
  });
});

describe('demo seed in production', () => {
  it('is refused before touching the database', async () => {
    const config = testConfig({ HAVEN_MODE: 'production' });
    await expect(seedDemo(null as never, config)).rejects.toThrow(/production/);
  });
});
