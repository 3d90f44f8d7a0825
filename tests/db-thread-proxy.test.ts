/**
 * The database across a thread boundary (api/db/thread-proxy.ts), as the triage thread uses
 * it: both ends of a MessageChannel in this thread here, the same messages as across threads.
 * A transaction runs on one session and rolls back whole, concurrent transactions do not
 * interleave, a unique violation keeps its code (the services map 23505 to a 409), and bytes
 * come back byte for byte.
 */
import { MessageChannel } from 'node:worker_threads';
import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { proxiedDatabase, serveDatabase } from '../api/db/thread-proxy.ts';
import type { Database } from '../api/db/schema.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import { seedDemoOrganisation } from './helpers/test-app.ts';

const p = await loadSodiumPrimitives();

describeEachDatabase('database over a MessagePort', (t) => {
  let channel: MessageChannel;
  let db: Kysely<Database>;

  beforeEach(() => {
    channel = new MessageChannel();
    serveDatabase(t.db, channel.port1);
    db = proxiedDatabase(channel.port2);
  });

  afterEach(() => {
    channel.port1.close();
    channel.port2.close();
  });

  const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);

  async function insertRequest(trx: Kysely<Database>, teamId: Uint8Array, epoch: number, id = p.randomBytes(16), lookupHash = p.randomBytes(32)) {
    await trx.insertInto('requests').values({ id, team_id: teamId, epoch, lookup_hash: lookupHash, created_hour: hour, updated_hour: hour }).execute();
    return id;
  }

  it('reads and writes bytes, dates and numbers unchanged', async () => {
    const demo = await seedDemoOrganisation(t.db);
    const team = demo.teams[0]!;
    const id = await insertRequest(db, team.id, team.epoch);
    const row = await db.selectFrom('requests').select(['id', 'epoch', 'created_hour']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(Buffer.from(row.id).equals(Buffer.from(id))).toBe(true);
    expect(row.epoch).toBe(team.epoch);
    expect(new Date(row.created_hour).getTime()).toBe(hour.getTime());
  });

  it('rolls a failed transaction back whole and keeps the database error code', async () => {
    const demo = await seedDemoOrganisation(t.db);
    const team = demo.teams[0]!;
    const taken = p.randomBytes(32);
    await insertRequest(db, team.id, team.epoch, p.randomBytes(16), taken);
    const failed = db.transaction().execute(async (trx) => {
      await insertRequest(trx, team.id, team.epoch);
      await insertRequest(trx, team.id, team.epoch, p.randomBytes(16), taken);
    });
    await expect(failed).rejects.toMatchObject({ code: '23505' });
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from requests`.execute(t.db);
    expect(rows[0]!.n).toBe(1);
  });

  it('runs concurrent transactions each on its own session', async () => {
    const demo = await seedDemoOrganisation(t.db);
    const team = demo.teams[0]!;
    const txid = async (trx: Kysely<Database>) => (await sql<{ x: string }>`select txid_current()::text as x`.execute(trx)).rows[0]!.x;
    // Every statement of a transaction on one session (one transaction id throughout), and no
    // two transactions sharing one: a shared session would give two of them the same id.
    const ids = await Promise.all(
      Array.from({ length: 5 }, () =>
        db.transaction().execute(async (trx) => {
          const before = await txid(trx);
          await insertRequest(trx, team.id, team.epoch);
          await new Promise((r) => setTimeout(r, 5));
          expect(await txid(trx)).toBe(before);
          return before;
        }),
      ),
    );
    expect(new Set(ids).size).toBe(5);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from requests`.execute(t.db);
    expect(rows[0]!.n).toBe(5);
  });
});
