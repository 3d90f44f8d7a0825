/**
 * [durability] A 201 means committed: Haven is SIGKILLed in the middle of a burst of
 * concurrent submissions and restarted on the same data, and every request that had been
 * answered 201 is there, byte for byte. Requests whose answer was lost with the process may
 * or may not be there, but whatever is stored is exactly what was sent.
 *
 * Runs on embedded PGlite (data directory) and on PostgreSQL (a throwaway cluster).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { startHaven, type HavenProcess } from '../helpers/haven-process.ts';
import { startThrowawayPostgres, throwawayPostgresUnavailable, type ThrowawayPostgres } from '../helpers/throwaway-postgres.ts';
import { FaultClient, tearDown, pooled, sameBytes, seedForHaven, tempDir, type Outcome } from './fault-kit.ts';

const p = await loadSodiumPrimitives();

const BURST = 200;
const WIDTH = 20;
/** Kill once half the burst has its 201, with WIDTH requests in flight. */
const KILL_AFTER = 100;

const running: HavenProcess[] = [];
const dirs: string[] = [];
let cluster: ThrowawayPostgres | null = null;

afterAll(() => tearDown(running, cluster, dirs));

const noPostgres = throwawayPostgresUnavailable();
if (noPostgres && process.env.CI === 'true') throw new Error(`CI=true but ${noPostgres}`);

describe('[durability] SIGKILL in the middle of a burst of submissions', () => {
  for (const engine of ['pglite', 'postgres'] as const) {
    it.skipIf(engine === 'postgres' && noPostgres !== null)(`keeps every request answered 201, byte-identical [${engine}]`, async () => {
      const t0 = Date.now();
      const phases: string[] = [];
      const phase = (name: string) => phases.push(`${name} ${Date.now() - t0}ms`);
      const dataDir = tempDir('haven-sigkill-');
      dirs.push(dataDir);
      let databaseUrl: string | null = null;
      if (engine === 'postgres') {
        cluster = await startThrowawayPostgres();
        databaseUrl = await cluster.createDatabase('haven_sigkill');
      }
      const { demo, env } = await seedForHaven({ dataDir, databaseUrl });
      const client = await FaultClient.create(p, demo, 5000);
      const submissions = Array.from({ length: BURST }, (_, i) => client.submission(i));

      phase('seeded');
      const first = await startHaven(env);
      phase('started');
      running.push(first);
      let ok = 0;
      let killedAt = -1;
      const outcomes: (Outcome | null)[] = await pooled(submissions, WIDTH, async (s) => {
        // Once the process is gone there is no point queueing more connection refusals.
        if (killedAt >= 0) return null;
        const outcome = await client.submit(first.requesterUrl, s);
        if (outcome.status === 201 && killedAt < 0) {
          ok += 1;
          if (ok >= KILL_AFTER) {
            killedAt = ok;
            first.child.kill('SIGKILL');
          }
        }
        return outcome;
      });
      await first.exited;
      phase('killed');
      expect(first.child.signalCode).toBe('SIGKILL');

      const accepted = submissions.filter((_, i) => outcomes[i]?.status === 201);
      const unanswered = outcomes.filter((o) => o !== null && o.status === null).length;
      // Only 201s and lost answers: the server never said anything else before dying.
      const otherStatuses = outcomes.filter((o) => o !== null && o.status !== null && o.status !== 201).map((o) => o!.status);
      expect(otherStatuses).toEqual([]);
      console.info(`[sigkill ${engine}] ${accepted.length} answered 201 before the kill, ${unanswered} lost with the process, ${outcomes.filter((o) => o === null).length} never sent`);
      expect(accepted.length).toBeGreaterThanOrEqual(KILL_AFTER);
      // The kill really landed mid-burst: some requests got no answer.
      expect(accepted.length).toBeLessThan(BURST);

      const second = await startHaven(env);
      running.push(second);
      phase('restarted');
      const stored = await pooled(submissions, WIDTH, (s) => client.lookup(second.requesterUrl, s.token));
      const missing: number[] = [];
      const altered: number[] = [];
      for (const [i, s] of submissions.entries()) {
        const messages = stored[i]!;
        if (outcomes[i]?.status === 201 && messages.length === 0) missing.push(i);
        if (messages.length > 0) {
          // Present at all (201 or answer lost): exactly the one request, exactly as sent.
          if (messages.length !== 1 || messages[0]!.kind !== 'request' || !sameBytes(messages[0]!.blob, s.envelope)) altered.push(i);
        }
        if (outcomes[i] === null && messages.length > 0) altered.push(i);
      }
      phase('verified');
      console.info(`[sigkill ${engine}] ${phases.join(', ')}`);
      expect(missing).toEqual([]);
      expect(altered).toEqual([]);

      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      if (cluster) {
        await cluster.destroy();
        cluster = null;
      }
      // ~10 s each on an idle 2-core machine; PGlite's first start (initdb in WebAssembly)
      // and two Haven starts stretch far beyond that when the machine is busy.
    }, 90_000);
  }
});
