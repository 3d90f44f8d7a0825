/**
 * Login timing: can a stranger tell a user name that exists from one that does not by how
 * long the server takes? Measures, over loopback HTTP against a live server (what a prober
 * sees, minus the network), the median time of
 *   - POST /api/v1/login/salt for known and unknown names, and
 *   - POST /api/v1/login with a wrong verifier for known and unknown names,
 * interleaved (known, unknown, known, ...) so drift in machine load hits both alike.
 *
 * Each name gets ROUNDS wrong attempts, so no name is throttled and both sides take the same
 * (unthrottled) path; the throttle itself treats both alike by design
 * (tests/login-hardening.test.ts). The target of issue 13: medians within 10%.
 *
 * Refuses to print figures when any request got an answer other than the expected one
 * (200 for the salt, 401 for a wrong verifier): a run with errors measures something else.
 *
 * Run: `node --import tsx bench/login-timing.bench.ts` (PGlite), or with DATABASE_URL set to
 * an empty PostgreSQL database.
 */
import { performance } from 'node:perf_hooks';
import { base64urlEncode } from '../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { FREE_FAILURES } from '../api/accounts/login-throttle.ts';
import { AccountService } from '../api/accounts/account.service.ts';
import { UnauthorizedError } from '../api/errors.ts';
import { approveAccount, insertAccountDirectly } from '../tests/helpers/approve.ts';
import { startLiveServer } from '../tests/helpers/live-server.ts';
import { makeCredentials } from '../tests/helpers/responder-client.ts';

const NAMES = 500;
/**
 * Two wrong attempts per name: two names can share a throttle bucket (a keyed hash into 2^16
 * buckets; about 4 pairs among 1,000 names), and 2 + 2 stays under FREE_FAILURES.
 */
const ROUNDS = 2;
const WARMUP = 200;
/** Rounds of the in-process measurement; each name fails at most ROUNDS times per fresh service. */
const SERVICE_ROUNDS = 8;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))]!;
}

export async function run(): Promise<string> {
  if (2 * ROUNDS >= FREE_FAILURES) throw new Error('ROUNDS too high: a shared bucket would throttle');
  const p = await loadSodiumPrimitives();
  const env: Record<string, string> = {};
  if (process.env.DATABASE_URL) env.DATABASE_URL = process.env.DATABASE_URL;
  const live = await startLiveServer(env);
  const errors: string[] = [];
  try {
    const db = live.server.database.db;
    const known: string[] = [];
    for (let i = 0; i < NAMES; i++) {
      const creds = await makeCredentials(p, `known.${i}`);
      await approveAccount(db, p, live.demo, await insertAccountDirectly(db, p, creds, 'responder'), [live.demo.teams[0]!.id]);
      known.push(creds.username);
    }
    const unknown = known.map((_, i) => `ghost.${i}`);
    const url = (path: string) => new URL(path, live.server.triageUrl);

    const timed = async (path: string, body: unknown, expected: number): Promise<number> => {
      const started = performance.now();
      const res = await fetch(url(path), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await res.arrayBuffer();
      const took = performance.now() - started;
      if (res.status !== expected) errors.push(`${path}: ${res.status}`);
      return took;
    };
    const wrong = () => base64urlEncode(p.randomBytes(32));

    // Warm-up on names outside both sets (JIT, connection pool, query plans).
    for (let i = 0; i < WARMUP; i++) {
      await timed('/api/v1/login/salt', { username: `warm.${i}` }, 200);
      await timed('/api/v1/login', { username: `warm.${i}.x`, verifier: wrong() }, 401);
    }
    errors.length = 0;

    const salt = { known: [] as number[], unknown: [] as number[] };
    const login = { known: [] as number[], unknown: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < NAMES; i++) {
        // Alternate which side goes first, so neither always follows the other.
        const order = (i + round) % 2 === 0 ? (['known', 'unknown'] as const) : (['unknown', 'known'] as const);
        for (const side of order) {
          const name = side === 'known' ? known[i]! : unknown[i]!;
          salt[side].push(await timed('/api/v1/login/salt', { username: name }, 200));
          login[side].push(await timed('/api/v1/login', { username: name, verifier: wrong() }, 401));
        }
      }
    }
    // The server's own work, without HTTP: the service called directly on the same database,
    // a fresh service (fresh throttle) per round so each name can be tried many times.
    const svcSalt = { known: [] as number[], unknown: [] as number[] };
    const svcLogin = { known: [] as number[], unknown: [] as number[] };
    const svcTime = async (f: () => Promise<unknown>, expectUnauthorized: boolean): Promise<number> => {
      const started = performance.now();
      try {
        await f();
        if (expectUnauthorized) errors.push('service login: accepted');
      } catch (err) {
        if (!expectUnauthorized || !(err instanceof UnauthorizedError)) errors.push(`service: ${(err as Error).name}`);
      }
      return performance.now() - started;
    };
    for (let round = 0; round < SERVICE_ROUNDS; round++) {
      const svc = new AccountService(db, p, { sessionIdleMinutes: 30, sessionMaxHours: 12, powBaseDifficulty: 8, powMaxDifficulty: 20 }, p.randomBytes(32));
      for (let i = 0; i < NAMES; i++) {
        const order = (i + round) % 2 === 0 ? (['known', 'unknown'] as const) : (['unknown', 'known'] as const);
        for (const side of order) {
          const name = side === 'known' ? known[i]! : unknown[i]!;
          svcSalt[side].push(await svcTime(() => svc.loginSalt(name), false));
          if (i % 2 === round % 2) svcLogin[side].push(await svcTime(() => svc.login(name, p.randomBytes(32)), true));
        }
      }
    }
    if (errors.length > 0) {
      throw new Error(`refusing to report: ${errors.length} request(s) got an unexpected answer (first: ${errors[0]})`);
    }
    const row = (label: string, m: { known: number[]; unknown: number[] }) => {
      const k = quantile(m.known, 0.5);
      const u = quantile(m.unknown, 0.5);
      const diff = ((u - k) / k) * 100;
      return `| ${label} | ${m.known.length} + ${m.unknown.length} | ${k.toFixed(3)} ms | ${u.toFixed(3)} ms | ${diff >= 0 ? '+' : ''}${diff.toFixed(1)}% | ${quantile(m.known, 0.9).toFixed(3)} / ${quantile(m.unknown, 0.9).toFixed(3)} ms |`;
    };
    return [
      `database: ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}; ${NAMES} known and ${NAMES} unknown names, ${ROUNDS} rounds, loopback HTTP`,
      '',
      '| request | samples (known + unknown) | median known | median unknown | unknown vs known | p90 known / unknown |',
      '| --- | --- | --- | --- | --- | --- |',
      row('POST /login/salt', salt),
      row('POST /login (wrong verifier)', login),
      row('service loginSalt (no HTTP)', svcSalt),
      row('service login, wrong verifier (no HTTP)', svcLogin),
    ].join('\n');
  } finally {
    await live.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then(
    (text) => process.stdout.write(`${text}\n`),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
