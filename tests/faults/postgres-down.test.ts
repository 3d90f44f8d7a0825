/**
 * [availability] PostgreSQL going away under load is a 503 with Retry-After in the one JSON
 * error shape, answered within seconds (never a 500, never a hang); PostgreSQL coming back
 * heals the service by itself, without restarting Haven; and nothing answered 201 is lost.
 *
 * The cluster is a throwaway of this test's own (tests/helpers/throwaway-postgres.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { startHaven, type HavenProcess } from '../helpers/haven-process.ts';
import { startThrowawayPostgres, throwawayPostgresUnavailable, type ThrowawayPostgres } from '../helpers/throwaway-postgres.ts';
import { FaultClient, tearDown, sameBytes, seedForHaven, sleep, tempDir, type Outcome, type Submission } from './fault-kit.ts';

const p = await loadSodiumPrimitives();

/** Concurrent clients submitting in a loop. */
const CLIENTS = 8;
/** Hard bounds on the load loop, whatever happens. */
const MAX_ATTEMPTS = 1500;
const MAX_LOAD_MS = 45_000;
/** "Never a hang": no answer may take longer than this. */
const MAX_ANSWER_MS = 5000;

const noPostgres = throwawayPostgresUnavailable();
if (noPostgres && process.env.CI === 'true') throw new Error(`CI=true but ${noPostgres}`);

interface Attempt {
  submission: Submission;
  outcome: Outcome;
  finishedAt: number;
}

async function health(url: string): Promise<Outcome & { at: number }> {
  const startedAt = Date.now();
  try {
    const res = await fetch(new URL('/api/v1/health', url), { signal: AbortSignal.timeout(MAX_ANSWER_MS * 2) });
    const text = await res.text();
    return { status: res.status, failure: null, retryAfter: res.headers.get('retry-after'), contentType: res.headers.get('content-type'), json: JSON.parse(text) as unknown, ms: Date.now() - startedAt, startedAt, at: Date.now() };
  } catch (err) {
    return { status: null, failure: String(err), retryAfter: null, contentType: null, json: null, ms: Date.now() - startedAt, startedAt, at: Date.now() };
  }
}

describe.skipIf(noPostgres !== null)('[availability] PostgreSQL stops and starts under load', () => {
  let cluster: ThrowawayPostgres;
  let haven: HavenProcess | null = null;
  let dataDir: string;

  beforeAll(async () => {
    cluster = await startThrowawayPostgres();
    dataDir = tempDir('haven-pgdown-');
  });

  afterAll(() => tearDown(haven ? [haven] : [], cluster, dataDir ? [dataDir] : []));

  it('answers 503 + Retry-After while it is down, recovers by itself, and loses no 201', async () => {
    const databaseUrl = await cluster.createDatabase('haven_down');
    const { demo, env } = await seedForHaven({ dataDir, databaseUrl });
    const client = await FaultClient.create(p, demo, MAX_ANSWER_MS * 2);
    haven = await startHaven(env);
    const url = haven.requesterUrl;
    const pid = haven.child.pid;

    const attempts: Attempt[] = [];
    let stopLoad = false;
    const loadStarted = Date.now();
    let index = 0;
    const loop = async () => {
      while (!stopLoad && index < MAX_ATTEMPTS && Date.now() - loadStarted < MAX_LOAD_MS) {
        const submission = client.submission(index++);
        const outcome = await client.submit(url, submission);
        attempts.push({ submission, outcome, finishedAt: Date.now() });
        // A real client honours Retry-After; a test client only paces itself a little.
        if (outcome.status !== 201) await sleep(50);
      }
    };
    const load = Promise.all(Array.from({ length: CLIENTS }, loop));

    const waitFor = async (what: string, done: () => boolean, timeoutMs: number) => {
      const until = Date.now() + timeoutMs;
      while (!done()) {
        if (haven!.child.exitCode !== null || haven!.child.signalCode !== null) throw new Error(`haven exited while waiting for ${what}`);
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
        await sleep(50);
      }
    };
    const okSince = (t: number) => attempts.filter((a) => a.outcome.startedAt >= t && a.outcome.status === 201).length;

    try {
      // Up: the load is being accepted.
      await waitFor('20 accepted submissions', () => okSince(0) >= 20, 15_000);
      expect((await health(url)).status).toBe(200);

      // Down.
      const stopIssued = Date.now();
      await cluster.stop();
      const down = Date.now();
      const downAnswers = () => attempts.filter((a) => a.outcome.startedAt >= down);
      await waitFor('answers while PostgreSQL is down', () => downAnswers().length >= 20, 15_000);
      await sleep(1000);
      const healthDown = await health(url);
      const restartIssued = Date.now();

      // Up again, without touching Haven.
      await cluster.start();
      const up = Date.now();
      await waitFor('20 accepted submissions after PostgreSQL came back', () => okSince(up) >= 20, 20_000);
      const healthUp = await health(url);
      stopLoad = true;
      await load;

      // While down, every answer (that began after the stop completed and ended before the
      // restart began) was a well-formed 503 with Retry-After.
      const whileDown = attempts.filter((a) => a.outcome.startedAt >= down && a.finishedAt <= restartIssued);
      expect(whileDown.length).toBeGreaterThanOrEqual(10);
      for (const a of whileDown) expect(a.outcome.status).toBe(503);

      // Throughout: only 201 or 503, always answered, always in time, 503s always well-formed.
      const summary = attempts.reduce<Record<string, number>>((acc, a) => {
        const key = a.outcome.status === null ? `no answer (${a.outcome.failure})` : String(a.outcome.status);
        acc[key] = (acc[key] ?? 0) + 1;
        return acc;
      }, {});
      const slowest = Math.max(...attempts.map((a) => a.outcome.ms));
      console.info(`[postgres-down] ${attempts.length} attempts: ${JSON.stringify(summary)}; slowest answer ${slowest} ms; stop took ${down - stopIssued} ms, start ${up - restartIssued} ms`);
      expect(Object.keys(summary).sort()).toEqual(['201', '503']);
      expect(slowest).toBeLessThan(MAX_ANSWER_MS);
      for (const a of attempts.filter((x) => x.outcome.status === 503)) {
        expect(a.outcome.retryAfter).toMatch(/^[1-9]\d*$/);
        expect(a.outcome.contentType).toContain('application/json');
        expect(a.outcome.json).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
      }

      // Health follows the database.
      expect(healthDown.status).toBe(503);
      expect(healthDown.retryAfter).toMatch(/^[1-9]\d*$/);
      expect(healthDown.json).toMatchObject({ error: { code: 'unavailable' } });
      expect(healthUp.status).toBe(200);

      // It healed by itself: the same process is still serving, and it never met an
      // error it did not understand.
      expect(haven.child.exitCode).toBeNull();
      expect(haven.child.pid).toBe(pid);
      expect(haven.stdout()).not.toContain('unhandled_error');
      expect(haven.stderr()).toBe('');

      // Every 201, before or after the outage, is stored exactly as sent.
      const accepted = attempts.filter((a) => a.outcome.status === 201);
      expect(accepted.some((a) => a.finishedAt <= stopIssued)).toBe(true);
      expect(accepted.some((a) => a.outcome.startedAt >= up)).toBe(true);
      const missing: number[] = [];
      for (let i = 0; i < accepted.length; i += 20) {
        const batch = accepted.slice(i, i + 20);
        const stored = await Promise.all(batch.map((a) => client.lookup(url, a.submission.token)));
        for (const [j, messages] of stored.entries()) {
          const a = batch[j]!;
          if (messages.length !== 1 || !sameBytes(messages[0]!.blob, a.submission.envelope)) missing.push(a.submission.index);
        }
      }
      expect(missing).toEqual([]);
    } catch (err) {
      console.error(`[postgres-down] haven stdout (tail):\n${haven.stdout().slice(-3000)}\nstderr:\n${haven.stderr().slice(-3000)}`);
      throw err;
    } finally {
      stopLoad = true;
      await load;
    }
  }, 90_000);
});
