/**
 * Message blobs are stored without a compression attempt (migration 0015: ciphertext never
 * compresses, and trying cost a third of a 4 KiB insert), and a blob of every padding
 * bucket still comes back byte for byte, in line or out of line.
 */
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { allowedMessageSizesV2 } from '../crypto/v2/message.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import { seedDemoOrganisation } from './helpers/test-app.ts';

const p = await loadSodiumPrimitives();

describeEachDatabase('message blob storage', (t) => {
  it('keeps messages.blob as EXTERNAL (out of line when large, never compressed)', async () => {
    const { rows } = await sql<{ storage: string }>`
      select a.attstorage as storage from pg_attribute a
      where a.attrelid = 'messages'::regclass and a.attname = 'blob'`.execute(t.db);
    expect(rows).toEqual([{ storage: 'e' }]);
  });

  it('returns a random blob of every bucket size byte for byte', async () => {
    const demo = await seedDemoOrganisation(t.db);
    const team = demo.teams[0]!;
    const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    for (const size of allowedMessageSizesV2(2)) {
      const id = p.randomBytes(16);
      const blob = p.randomBytes(size);
      await t.db.insertInto('requests').values({ id, team_id: team.id, epoch: team.epoch, lookup_hash: p.randomBytes(32), created_hour: hour, updated_hour: hour }).execute();
      await t.db.insertInto('messages').values({ id, request_id: id, position: 0, kind: 'request', epoch: team.epoch, author_id: null, blob, created_hour: hour }).execute();
      const row = await t.db.selectFrom('messages').select('blob').where('id', '=', id).executeTakeFirstOrThrow();
      expect(Buffer.from(row.blob).equals(Buffer.from(blob))).toBe(true);
    }
  });
});
