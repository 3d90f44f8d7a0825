/**
 * Retention: closed requests older than the setting (plus a keyed, per-request spread of up to
 * 48 hours) are deleted with every message of theirs; open and recent ones stay; expired
 * sessions and spent proof-of-work ids are swept.
 */
import { sql } from 'kysely';
import { beforeEach, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { setupOrganisation } from '../api/admin/setup.service.ts';
import { MAX_SPREAD_MINUTES, retentionKey, retentionSpreadMinutes, runRetention } from '../api/admin/retention.service.ts';
import { coarseHour } from '../api/time.ts';
import type { RequestStatus } from '../api/db/schema.ts';
import { testConfig } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';

const p = await loadSodiumPrimitives();
const DAY = 86_400_000;
const HOUR = 3_600_000;

describeEachDatabase('retention', (t) => {
  const config = testConfig();
  const secret = config.serverSecret!;
  let teamId: Uint8Array;
  let adminId: Uint8Array;

  beforeEach(async () => {
    const setup = await setupOrganisation(t.db, p, { name: 'Retention hotline', username: 'admin.one', passphrase: 'the first admin passphrase', teams: [{ slug: 'legal', name: 'Legal' }] });
    teamId = setup.teams[0]!.id;
    adminId = setup.adminId;
  });

  async function request(status: RequestStatus, updated: Date, extraMessages = 2): Promise<Uint8Array> {
    const id = p.randomBytes(16);
    const hour = coarseHour(updated);
    await t.db.insertInto('requests').values({ id, team_id: teamId, epoch: 1, lookup_hash: p.randomBytes(32), status, created_hour: hour, updated_hour: hour }).execute();
    for (let i = 0; i <= extraMessages; i++) {
      await t.db.insertInto('messages').values({ id: i === 0 ? id : p.randomBytes(16), request_id: id, position: i + 1, kind: i === 0 ? 'request' : 'note', epoch: 1, author_id: null, blob: p.randomBytes(1217), created_hour: hour }).execute();
    }
    return id;
  }

  const setDays = async (days: number) => {
    await sql`insert into settings (id, closed_retention_days) values (1, ${days}) on conflict (id) do update set closed_retention_days = ${days}`.execute(t.db);
  };
  const exists = async (id: Uint8Array) => (await t.db.selectFrom('requests').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  const messagesOf = async (id: Uint8Array) => (await t.db.selectFrom('messages').select('id').where('request_id', '=', id).execute()).length;

  it('[forward secrecy at rest] deletes expired closed requests and every message of them, keeps the rest', async () => {
    await setDays(10);
    const now = new Date();
    const expired = await request('closed', new Date(now.getTime() - 13 * DAY));
    const recent = await request('closed', new Date(now.getTime() - 5 * DAY));
    const open = await request('in_progress', new Date(now.getTime() - 60 * DAY));
    const resolved = await request('resolved', new Date(now.getTime() - 60 * DAY));
    const r = await runRetention(t.db, p, { serverSecret: secret, config, now });
    expect(r.requests).toBe(1);
    expect(r.messages).toBe(3);
    expect(await exists(expired)).toBe(false);
    expect(await messagesOf(expired)).toBe(0);
    for (const id of [recent, open, resolved]) {
      expect(await exists(id)).toBe(true);
      expect(await messagesOf(id)).toBe(3);
    }
  });

  it('spreads deletions by a keyed, per-request 0-48 h delay that is the same on every run', async () => {
    await setDays(10);
    const key = retentionKey(p, secret);
    const closedAt = coarseHour(new Date(Date.now() - 10 * DAY - 3 * DAY));
    const id = await request('closed', closedAt, 0);
    const spread = retentionSpreadMinutes(p, key, id);
    expect(spread).toBeGreaterThanOrEqual(0);
    expect(spread).toBeLessThanOrEqual(MAX_SPREAD_MINUTES);
    expect(retentionSpreadMinutes(p, key, id)).toBe(spread);
    // Another key gives another spread for most ids: it cannot be recomputed from the database alone.
    const otherKey = retentionKey(p, p.randomBytes(32));
    const ids = Array.from({ length: 20 }, () => p.randomBytes(16));
    expect(ids.filter((x) => retentionSpreadMinutes(p, key, x) !== retentionSpreadMinutes(p, otherKey, x)).length).toBeGreaterThan(15);
    const due = closedAt.getTime() + 10 * DAY + spread * 60_000;
    await runRetention(t.db, p, { serverSecret: secret, config, now: new Date(due - 60_000) });
    expect(await exists(id)).toBe(true);
    await runRetention(t.db, p, { serverSecret: secret, config, now: new Date(due - 60_000) });
    expect(await exists(id)).toBe(true);
    await runRetention(t.db, p, { serverSecret: secret, config, now: new Date(due) });
    expect(await exists(id)).toBe(false);
  });

  it('uses the default of 90 days when no setting is stored', async () => {
    await sql`delete from settings`.execute(t.db);
    const now = new Date();
    const kept = await request('closed', new Date(now.getTime() - 80 * DAY), 0);
    const gone = await request('closed', new Date(now.getTime() - 93 * DAY), 0);
    await runRetention(t.db, p, { serverSecret: secret, config, now });
    expect(await exists(kept)).toBe(true);
    expect(await exists(gone)).toBe(false);
  });

  it('sweeps expired sessions and spent proof-of-work ids', async () => {
    const now = new Date();
    const minute = (ms: number) => new Date(Math.floor((now.getTime() - ms) / 60_000) * 60_000);
    await t.db.insertInto('sessions').values([
      { token_hash: p.randomBytes(32), account_id: adminId, created_at: minute(HOUR), last_seen_at: minute(60_000) },
      { token_hash: p.randomBytes(32), account_id: adminId, created_at: minute(2 * HOUR), last_seen_at: minute(2 * HOUR) },
      { token_hash: p.randomBytes(32), account_id: adminId, created_at: minute(13 * HOUR), last_seen_at: minute(60_000) },
    ]).execute();
    await t.db.insertInto('pow_spent').values([
      { challenge_id: p.randomBytes(16), expires_hour: coarseHour(new Date(now.getTime() - 2 * HOUR)) },
      { challenge_id: p.randomBytes(16), expires_hour: coarseHour(new Date(now.getTime() + 2 * HOUR)) },
    ]).execute();
    const r = await runRetention(t.db, p, { serverSecret: secret, config, now });
    expect(r.sessions).toBe(2);
    expect(r.challenges).toBe(1);
    expect(await t.db.selectFrom('sessions').select('token_hash').execute()).toHaveLength(1);
    expect(await t.db.selectFrom('pow_spent').select('challenge_id').execute()).toHaveLength(1);
  });

  it('[metadata at rest] VACUUMs every table it deleted from, on this database, without error', async () => {
    await setDays(10);
    const now = new Date();
    const expired = await request('closed', new Date(now.getTime() - 13 * DAY));
    await t.db.insertInto('sessions').values({ token_hash: p.randomBytes(32), account_id: adminId, created_at: new Date(Math.floor((now.getTime() - 13 * HOUR) / 60_000) * 60_000), last_seen_at: new Date(Math.floor((now.getTime() - 13 * HOUR) / 60_000) * 60_000) }).execute();
    await t.db.insertInto('pow_spent').values({ challenge_id: p.randomBytes(16), expires_hour: coarseHour(new Date(now.getTime() - 2 * HOUR)) }).execute();
    const r = await runRetention(t.db, p, { serverSecret: secret, config, now });
    expect(r).toMatchObject({ requests: 1, messages: 3, sessions: 1, challenges: 1, vacuumed: 4 });
    expect(await exists(expired)).toBe(false);
    const stats = await sql<{ relname: string; vacuumed: boolean }>`
      select relname, last_vacuum is not null as vacuumed from pg_stat_user_tables
      where relname in ('requests', 'messages', 'sessions', 'pow_spent') order by relname`.execute(t.db);
    expect(stats.rows).toEqual([
      { relname: 'messages', vacuumed: true },
      { relname: 'pow_spent', vacuumed: true },
      { relname: 'requests', vacuumed: true },
      { relname: 'sessions', vacuumed: true },
    ]);
    // A run that deletes nothing vacuums nothing.
    expect((await runRetention(t.db, p, { serverSecret: secret, config, now })).vacuumed).toBe(0);
  });
});
