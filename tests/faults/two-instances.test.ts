/**
 * [horizontal scaling] Two Haven processes on one PostgreSQL database, sharing
 * HAVEN_SERVER_SECRET, behave as one service: what one stores the other serves, a
 * challenge one issues the other accepts, and a proof spent on one is refused on the other
 * (the spent-proof table is shared, not per process), even when both race for it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import type { DemoOrganisation } from '../../seeds/demo.ts';
import { startHaven, type HavenProcess } from '../helpers/haven-process.ts';
import { startThrowawayPostgres, throwawayPostgresUnavailable, type ThrowawayPostgres } from '../helpers/throwaway-postgres.ts';
import { FaultClient, tearDown, sameBytes, seedForHaven, tempDir } from './fault-kit.ts';

const p = await loadSodiumPrimitives();

const noPostgres = throwawayPostgresUnavailable();
if (noPostgres && process.env.CI === 'true') throw new Error(`CI=true but ${noPostgres}`);

describe.skipIf(noPostgres !== null)('[horizontal scaling] two instances on one PostgreSQL database', () => {
  let cluster: ThrowawayPostgres;
  const dirs: string[] = [];
  const running: HavenProcess[] = [];
  let a: HavenProcess;
  let b: HavenProcess;
  let client: FaultClient;
  let demo: DemoOrganisation;

  beforeAll(async () => {
    cluster = await startThrowawayPostgres();
    const databaseUrl = await cluster.createDatabase('haven_two');
    const secret = randomBytes(32).toString('hex');
    dirs.push(tempDir('haven-a-'), tempDir('haven-b-'));
    const seeded = await seedForHaven({ dataDir: dirs[0]!, databaseUrl, serverSecret: secret });
    demo = seeded.demo;
    // Same database, same secret, same root key; separate data directories (no shared disk).
    [a, b] = await Promise.all([startHaven(seeded.env), startHaven({ ...seeded.env, HAVEN_DATA_DIR: dirs[1]! })]);
    running.push(a, b);
    client = await FaultClient.create(p, demo);
  }, 90_000);

  afterAll(() => tearDown(running, cluster, dirs));

  it('serves through B, byte for byte, a request submitted through A (and the other way round)', async () => {
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const s = client.submission(1);
      const created = await client.submit(from.requesterUrl, s);
      expect(created.status).toBe(201);
      const messages = await client.lookup(to.requesterUrl, s.token);
      expect(messages).toHaveLength(1);
      expect(messages[0]!.kind).toBe('request');
      expect(messages[0]!.id).toBe((created.json as { id: string }).id);
      expect(sameBytes(messages[0]!.blob, s.envelope)).toBe(true);
    }
  });

  it('accepts on B a challenge issued by A', async () => {
    const challenge = await client.challenge(a.requesterUrl);
    const s = client.submission(2);
    const res = await client.post(b.requesterUrl, s, client.proof(challenge));
    expect(res.status).toBe(201);
    expect(sameBytes((await client.lookup(a.requesterUrl, s.token))[0]!.blob, s.envelope)).toBe(true);
  });

  it('refuses on B, as proof_replayed (409), a proof already spent on A, and stores nothing', async () => {
    const pow = client.proof(await client.challenge(a.requesterUrl));
    const first = client.submission(3);
    expect((await client.post(a.requesterUrl, first, pow)).status).toBe(201);

    const second = client.submission(4);
    const replay = await client.post(b.requesterUrl, second, pow);
    expect(replay.status).toBe(409);
    expect(replay.json).toMatchObject({ error: { code: 'proof_replayed' } });
    expect(await client.lookup(a.requesterUrl, second.token)).toEqual([]);
    expect(await client.lookup(b.requesterUrl, second.token)).toEqual([]);
  });

  it('lets exactly one of two simultaneous submissions with the same proof through, across instances', async () => {
    for (let round = 0; round < 10; round++) {
      const pow = client.proof(await client.challenge(round % 2 === 0 ? a.requesterUrl : b.requesterUrl));
      const [onA, onB] = [client.submission(10 + 2 * round), client.submission(11 + 2 * round)];
      const results = await Promise.all([client.post(a.requesterUrl, onA, pow), client.post(b.requesterUrl, onB, pow)]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      const loser = results.find((r) => r.status === 409)!;
      expect(loser.json).toMatchObject({ error: { code: 'proof_replayed' } });
      const stored = await Promise.all([client.lookup(b.requesterUrl, onA.token), client.lookup(a.requesterUrl, onB.token)]);
      expect(stored.map((m) => m.length).sort()).toEqual([0, 1]);
    }
  });
});
