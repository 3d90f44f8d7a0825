/**
 * [durability] The backup procedure of docs/DEPLOY.md section 8 restores a working service:
 * a request submitted through the real API is in a `pg_dump -Fc` of the database; restored
 * with `pg_restore` into a fresh database, Haven starts against it, is ready (the root key
 * still matches), and the requester's lookup token opens the thread with the stored blob
 * byte-identical.
 *
 * The cluster is a throwaway of this test's own (tests/helpers/throwaway-postgres.ts).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { startHaven, type HavenProcess } from '../helpers/haven-process.ts';
import { postgresBinDir, startThrowawayPostgres, throwawayPostgresUnavailable, type ThrowawayPostgres } from '../helpers/throwaway-postgres.ts';
import { FaultClient, sameBytes, seedForHaven, tearDown, tempDir } from './fault-kit.ts';

const p = await loadSodiumPrimitives();

const noPostgres = throwawayPostgresUnavailable();
if (noPostgres && process.env.CI === 'true') throw new Error(`CI=true but ${noPostgres}`);

/** Runs one of PostgreSQL's client tools; rejects with its output when it fails. */
function tool(name: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(path.join(postgresBinDir()!, name), args, { timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${name} failed: ${stderr || String(error)}`));
      else resolve(stdout);
    });
  });
}

describe.skipIf(noPostgres !== null)('[durability] backup with pg_dump, restore with pg_restore', () => {
  const running: HavenProcess[] = [];
  const dirs: string[] = [];
  let cluster: ThrowawayPostgres | null = null;

  afterAll(() => tearDown(running, cluster, dirs));

  it('restores a database whose request Haven reads back byte for byte', async () => {
    cluster = await startThrowawayPostgres();
    const liveUrl = await cluster.createDatabase('haven_live');
    const dataDir = tempDir('haven-backup-');
    const work = tempDir('haven-backup-dump-');
    dirs.push(dataDir, work);
    const { demo, env } = await seedForHaven({ dataDir, databaseUrl: liveUrl });
    const client = await FaultClient.create(p, demo);

    // A request through the real API.
    const live = await startHaven(env);
    running.push(live);
    const submission = client.submission(1);
    const outcome = await client.submit(live.requesterUrl, submission);
    expect(outcome.status).toBe(201);
    const before = await client.lookup(live.requesterUrl, submission.token);
    expect(before).toHaveLength(1);

    // Section 8: the dump, taken while Haven runs (pg_dump reads one consistent snapshot).
    const dump = path.join(work, 'haven.dump');
    await tool('pg_dump', ['--format=custom', `--file=${dump}`, liveUrl]);
    live.child.kill('SIGTERM');
    expect(await live.exited).toBe(0);

    // Section 8: restore into a fresh, empty database, then start Haven on it with the same
    // HAVEN_SERVER_SECRET and root public key.
    const restoredUrl = await cluster.createDatabase('haven_restored');
    await tool('pg_restore', ['--exit-on-error', '--no-owner', '--single-transaction', `--dbname=${restoredUrl}`, dump]);
    const restored = await startHaven({ ...env, DATABASE_URL: restoredUrl });
    running.push(restored);
    // Nothing left to migrate: the restore carried the migration bookkeeping too.
    expect(restored.stdout()).not.toContain('"event":"migrated"');

    const ready = await fetch(new URL('/api/v1/health/ready', restored.triageUrl));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ rootKey: 'ok' });

    const after = await client.lookup(restored.requesterUrl, submission.token);
    expect(after).toHaveLength(1);
    expect(after[0]!.kind).toBe('request');
    expect(sameBytes(after[0]!.blob, submission.envelope)).toBe(true);
    expect(sameBytes(after[0]!.blob, before[0]!.blob)).toBe(true);

    // The restored service takes new requests too (the proof-of-work secret came along).
    expect((await client.submit(restored.requesterUrl, client.submission(2))).status).toBe(201);
    expect(restored.stderr()).toBe('');
  }, 180_000);
});
