/**
 * Registered statement texts run as named prepared statements on PostgreSQL (parsed and planned
 * once per connection), give the same answers as before on both engines, and nothing else is
 * prepared: an unregistered text stays an unnamed statement.
 */
import { randomBytes } from 'node:crypto';
import { CompiledQuery } from 'kysely';
import { describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../api/db/connect.ts';
import { preparedStatement } from '../api/db/prepared.ts';
import { createPostgresDatabase, engines, openTestDatabase } from './helpers/test-database.ts';

// A text unique to this run, so no other test's registration can be mistaken for it.
const tag = randomBytes(4).toString('hex');
const registered = preparedStatement(`select $1::int + 1 as n, '${tag}' as tag`);
const unregistered = `select $1::int + 2 as n, '${tag}' as tag`;

describe.each(engines())('prepared statements [%s]', (kind) => {
  it('answers registered and unregistered texts alike, with their own parameters each time', async () => {
    const open = await openTestDatabase(kind);
    try {
      for (const n of [1, 41, -7]) {
        expect((await open.db.executeQuery<{ n: number }>(CompiledQuery.raw(registered, [n]))).rows).toEqual([{ n: n + 1, tag }]);
        expect((await open.db.executeQuery<{ n: number }>(CompiledQuery.raw(unregistered, [n]))).rows).toEqual([{ n: n + 2, tag }]);
      }
    } finally {
      await open.close();
    }
  });
});

describe.runIf(inject('postgresAdminUrl'))('prepared statements on PostgreSQL', () => {
  it('prepares a registered text once on its connection, under one name, and never an unregistered one', async () => {
    const created = await createPostgresDatabase(inject('postgresAdminUrl')!);
    // One connection: the session that ran the statements is the one asked about them.
    const open = await openDatabase({ databaseUrl: created.url, dataDir: '', poolSize: 1 });
    try {
      for (let i = 0; i < 3; i++) {
        await open.db.executeQuery(CompiledQuery.raw(registered, [i]));
        await open.db.executeQuery(CompiledQuery.raw(unregistered, [i]));
      }
      const { rows } = await open.db.executeQuery<{ name: string; statement: string }>(
        CompiledQuery.raw('select name, statement from pg_prepared_statements order by name'),
      );
      expect(rows.filter((r) => r.statement.includes(tag))).toEqual([{ name: expect.stringMatching(/^haven_prepared_\d+$/), statement: registered }]);
    } finally {
      await open.close();
      await created.drop();
    }
  });
});
