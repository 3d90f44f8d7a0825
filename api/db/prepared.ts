/**
 * Statements PostgreSQL should parse and plan once per connection, not once per call.
 *
 * `pg` sends every query as an unnamed statement, which PostgreSQL parses and plans afresh each
 * time. That is right for most of Haven's queries, but the intake's batch insert
 * (api/intake/intake.repository.ts) is a long statement run for every group commit, and its
 * parsing and planning cost about a fifth of the database work per stored request
 * (docs/BENCHMARKS.md, intake load). Texts registered here are sent as named prepared
 * statements on PostgreSQL; PGlite, in-process, runs them as before.
 *
 * A text's name depends only on the text, so every connection prepares it once under the same
 * name. Register only statements whose text comes from the code, never from input: each one
 * stays prepared on every pooled connection for the connection's life.
 */
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

const names = new Map<string, string>();

/** Marks `text` for preparation; returns it unchanged, so it can wrap a statement where it is built. */
export function preparedStatement(text: string): string {
  if (!names.has(text)) names.set(text, `haven_prepared_${names.size}`);
  return text;
}

/** A pool for Kysely's PostgresDialect that sends registered texts as named statements. */
export function preparingPool(pool: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      return {
        // Only the (text, values) form: the dialect is set up without cursors, so Kysely never passes one.
        query: ((text: string, values: unknown[]) => {
          const name = names.get(text);
          return name === undefined ? client.query(text, values) : client.query({ name, text, values });
        }) as unknown as PostgresPoolClient['query'],
        release: () => client.release(),
      };
    },
    end: () => pool.end(),
  };
}
