/**
 * Connection flood: one local client holds N sockets against the requester site (half idle,
 * half trickling a request body) while probes sign in and list requests on the triage site.
 * Reports the probes' success rate and latency, and how long the requester site takes to
 * answer again once the flood ends.
 *
 * Method: Haven runs as a child process (`api/main.ts`, PGlite, the demo organisation, one
 * approved responder), with the production timeouts and the requester connection budget set
 * to exactly N, so the flood takes the whole budget and the server really holds every socket.
 * The flood runs in a process of its own (bench/connection-flood-client.ts) and re-opens any
 * socket the server's timeouts close, a second later. Once it holds all N, a probe loop runs
 * for BENCH_PROBE_SECONDS: `POST /api/v1/login`, then `GET /api/v1/requests?limit=50` with the
 * session, back to back, each with a 5 s client timeout. Then the flood stops and
 * `GET /api/v1/health/live` is polled on the requester site every 20 ms until it answers.
 *
 * An invalid run prints why instead of figures: the client could not hold N sockets (its own
 * open-file limit, or ports), the flood client hit a limit of its own, or a probe failed in a
 * way that is not the server's answer.
 *
 * Layouts (BENCH_LAYOUT): `one` (default): one Haven process serving both sites on PGlite, as
 * `npm start` runs. `split`: PostgreSQL at DATABASE_URL (a throwaway database is created and
 * dropped), the requester site in one process (HAVEN_SITES=requester, the one flooded) and
 * the triage site in another (HAVEN_SITES=triage, the one probed), as docs/DEPLOY.md section 9
 * recommends for a hotline that expects floods.
 *
 * Knobs: BENCH_SOCKETS (total, default 10000), BENCH_PROBE_SECONDS (default 15), BENCH_LAYOUT.
 * Loopback only; every phase is bounded and the run stops by itself.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../api/config.ts';
import { openDatabase } from '../api/db/connect.ts';
import { migrateToLatest } from '../api/db/migrate.ts';
import { openFileLimit } from '../api/http/connection-limits.ts';
import { base64urlEncode } from '../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { seedDemo } from '../seeds/demo.ts';
import { approveAccount, insertAccountDirectly } from '../tests/helpers/approve.ts';
import { startHaven, type HavenProcess } from '../tests/helpers/haven-process.ts';
import { createPostgresDatabase } from '../tests/helpers/test-database.ts';
import { makeCredentials, sessionCookie } from '../tests/helpers/responder-client.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 10_000);
const PROBE_SECONDS = Number(process.env.BENCH_PROBE_SECONDS ?? 15);
const RAMP_LIMIT_MS = 90_000;
const RECOVERY_LIMIT_MS = 30_000;
/** Descriptors the flood process needs beside its sockets (stdio, the runtime, tsx). */
const CLIENT_OVERHEAD = 100;
const LAYOUT = process.env.BENCH_LAYOUT ?? 'one';
const ADMIN_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

interface FloodState {
  connected: number;
  peak: number;
  opened: number;
  closedByServer: number;
  clientLimitErrors: number;
  errors: Record<string, number>;
  stopped?: boolean;
}

interface Probe {
  ok: boolean;
  loginMs: number;
  listMs: number;
  totalMs: number;
  /** Set when the probe failed: the server's status, or a network error the server caused. */
  failure: string | null;
  /** True when the failure cannot be put down to the server (a client-side error). */
  unattributed: boolean;
  heldAtStart: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;
const sleep = (t: number) => new Promise<void>((r) => setTimeout(r, t));

/** Network errors that mean the server refused, reset or did not answer in time. */
const SERVER_CAUSED = /ECONNREFUSED|ECONNRESET|EPIPE|UND_ERR_SOCKET|UND_ERR_CLOSED|TimeoutError|other side closed/;

function classify(err: unknown): { failure: string; unattributed: boolean } {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const text = `${e.name}:${e.cause?.code ?? ''}:${e.cause?.message ?? e.message}`;
  return { failure: text.slice(0, 120), unattributed: !SERVER_CAUSED.test(text) };
}

async function seed(dataDir: string, serverSecret: string, databaseUrl: string | null) {
  const p = await loadSodiumPrimitives();
  const base = { HAVEN_MODE: 'test', HAVEN_DATA_DIR: dataDir, HAVEN_SERVER_SECRET: serverSecret };
  const database = await openDatabase({ databaseUrl, dataDir });
  try {
    await migrateToLatest(database.db);
    const seeded = await seedDemo(database.db, loadConfig(base), p);
    if (!seeded.created) throw new Error('expected a fresh database');
    const creds = await makeCredentials(p, 'flood.probe');
    const accountId = await insertAccountDirectly(database.db, p, creds, 'responder');
    await approveAccount(database.db, p, seeded.demo, accountId, seeded.demo.teams.map((t) => t.id));
    return { demo: seeded.demo, username: creds.username, verifier: base64urlEncode(creds.secrets.loginVerifier) };
  } finally {
    await database.close();
  }
}

export async function run(): Promise<string> {
  const idle = Math.floor(SOCKETS / 2);
  const slow = SOCKETS - idle;
  const limit = openFileLimit();
  // Node raised its soft limit to the hard one at start; the flood process inherits the same.
  if (limit !== null && limit < SOCKETS + CLIENT_OVERHEAD) {
    return `INVALID RUN, no figures: the open-file limit here is ${limit} (hard), so one client can hold at most about ${limit - CLIENT_OVERHEAD} sockets, not the ${SOCKETS} requested. Raise it (\`ulimit -Hn\`, LimitNOFILE=) or set BENCH_SOCKETS.`;
  }

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-flood-bench-'));
  const serverSecret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex');
  if (LAYOUT !== 'one' && LAYOUT !== 'split') return `INVALID RUN, no figures: BENCH_LAYOUT must be one or split, not ${LAYOUT}.`;
  const havens: HavenProcess[] = [];
  let flood: ReturnType<typeof spawn> | null = null;
  let dropDatabase = async () => {};
  try {
    let databaseUrl: string | null = null;
    if (LAYOUT === 'split') {
      const created = await createPostgresDatabase(ADMIN_URL);
      databaseUrl = created.url;
      dropDatabase = created.drop;
    }
    const seeded = await seed(dataDir, serverSecret, databaseUrl);
    const env = {
      HAVEN_MODE: 'test',
      HAVEN_DATA_DIR: dataDir,
      HAVEN_SERVER_SECRET: serverSecret,
      HAVEN_ROOT_PUBLIC_KEY: Buffer.from(seeded.demo.root.publicKey).toString('hex'),
      HAVEN_LOG_LEVEL: 'warn',
      HAVEN_REQUESTER_MAX_CONNECTIONS: String(SOCKETS),
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    };
    let triage: string;
    let requester: string;
    if (LAYOUT === 'split') {
      const requesterOnly = await startHaven({ ...env, HAVEN_SITES: 'requester' });
      havens.push(requesterOnly);
      const triageOnly = await startHaven({ ...env, HAVEN_SITES: 'triage' });
      havens.push(triageOnly);
      requester = requesterOnly.requesterUrl;
      triage = triageOnly.triageUrl;
    } else {
      const both = await startHaven(env);
      havens.push(both);
      requester = both.requesterUrl;
      triage = both.triageUrl;
    }

    const probe = async (heldAtStart: number): Promise<Probe> => {
      const t0 = performance.now();
      let loginMs = NaN;
      let listMs = NaN;
      try {
        const login = await fetch(new URL('/api/v1/login', triage), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: seeded.username, verifier: seeded.verifier }),
          signal: AbortSignal.timeout(5000),
        });
        await login.arrayBuffer();
        loginMs = performance.now() - t0;
        if (login.status !== 200) return { ok: false, loginMs, listMs, totalMs: performance.now() - t0, failure: `login ${login.status}`, unattributed: false, heldAtStart };
        const t1 = performance.now();
        const list = await fetch(new URL('/api/v1/requests?limit=50', triage), { headers: { cookie: sessionCookie(login) }, signal: AbortSignal.timeout(5000) });
        await list.arrayBuffer();
        listMs = performance.now() - t1;
        if (list.status !== 200) return { ok: false, loginMs, listMs, totalMs: performance.now() - t0, failure: `list ${list.status}`, unattributed: false, heldAtStart };
        return { ok: true, loginMs, listMs, totalMs: performance.now() - t0, failure: null, unattributed: false, heldAtStart };
      } catch (err) {
        return { ok: false, loginMs, listMs, totalMs: performance.now() - t0, ...classify(err), heldAtStart };
      }
    };

    // Warm-up (JIT, the database's caches), then a baseline with no flood, 3 s of probes.
    for (let i = 0; i < 10; i++) await probe(0);
    const baseline: Probe[] = [];
    for (const end = Date.now() + 3000; Date.now() < end; ) baseline.push(await probe(0));

    // The flood.
    const deadline = Math.ceil((RAMP_LIMIT_MS + PROBE_SECONDS * 1000 + 30_000) / 1000);
    const port = new URL(requester).port;
    flood = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'connection-flood-client.ts'), port, String(idle), String(slow), String(deadline)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let latest: FloodState = { connected: 0, peak: 0, opened: 0, closedByServer: 0, clientLimitErrors: 0, errors: {} };
    const floodExited = new Promise<void>((resolve) => flood!.once('exit', () => resolve()));
    createInterface({ input: flood.stdout! }).on('line', (line) => {
      try {
        latest = JSON.parse(line) as FloodState;
      } catch {
        // Not a state line; ignore.
      }
    });
    const rampStart = Date.now();
    while (latest.connected < SOCKETS && latest.clientLimitErrors === 0 && Date.now() - rampStart < RAMP_LIMIT_MS) await sleep(100);
    const rampMs = Date.now() - rampStart;
    if (latest.connected < SOCKETS) {
      return `INVALID RUN, no figures: the client held ${latest.connected} of the ${SOCKETS} sockets requested after ${(rampMs / 1000).toFixed(0)} s (peak ${latest.peak}; flood client errors ${JSON.stringify(latest.errors)}).`;
    }

    // Probes while the flood holds its sockets; the requester site is tried once a second too.
    const probes: Probe[] = [];
    const held: number[] = [];
    let requesterTries = 0;
    let requesterAnswered = 0;
    const tryRequester = (async () => {
      for (const end = Date.now() + PROBE_SECONDS * 1000; Date.now() < end; await sleep(1000)) {
        requesterTries++;
        const res = await fetch(new URL('/api/v1/health/live', requester), { signal: AbortSignal.timeout(1000) }).catch(() => null);
        if (res?.status === 200) requesterAnswered++;
      }
    })();
    for (const end = Date.now() + PROBE_SECONDS * 1000; Date.now() < end; ) {
      held.push(latest.connected);
      probes.push(await probe(latest.connected));
    }
    await tryRequester;
    const during = { ...latest };

    // The flood ends: how long until the requester site answers again?
    flood.stdin!.write('stop\n');
    await floodExited;
    const ended = performance.now();
    let recoveredMs: number | null = null;
    while (performance.now() - ended < RECOVERY_LIMIT_MS) {
      const res = await fetch(new URL('/api/v1/health/live', requester), { signal: AbortSignal.timeout(1000) }).catch(() => null);
      if (res?.status === 200) {
        recoveredMs = performance.now() - ended;
        break;
      }
      await sleep(20);
    }

    const unattributed = probes.filter((x) => x.unattributed);
    if (during.clientLimitErrors > 0 || unattributed.length > 0) {
      return [
        'INVALID RUN, no figures:',
        during.clientLimitErrors > 0 ? `- the flood client hit its own limits (${JSON.stringify(during.errors)})` : '',
        unattributed.length > 0 ? `- ${unattributed.length} probe errors not attributable to the server: ${[...new Set(unattributed.map((x) => x.failure))].join('; ')}` : '',
      ].filter(Boolean).join('\n');
    }

    const ok = probes.filter((x) => x.ok);
    const failures = probes.filter((x) => !x.ok).reduce<Record<string, number>>((acc, x) => ({ ...acc, [x.failure!]: (acc[x.failure!] ?? 0) + 1 }), {});
    const baseOk = baseline.filter((x) => x.ok);
    const row = (name: string, xs: Probe[], pick: (x: Probe) => number) => `| ${name} | ${ms(quantile(xs.map(pick), 0.5))} | ${ms(quantile(xs.map(pick), 0.99))} | ${ms(Math.max(...xs.map(pick)))} |`;
    return [
      `Layout: ${LAYOUT === 'split' ? 'split (PostgreSQL; requester site in one process, triage site in another)' : 'one process serving both sites (PGlite)'}; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')} (1/5/15 min) at the end.`,
      `Flood: ${SOCKETS.toLocaleString('en')} sockets against the requester site (${idle.toLocaleString('en')} idle, ${slow.toLocaleString('en')} trickling a body), requester budget ${SOCKETS.toLocaleString('en')}, all held after ${(rampMs / 1000).toFixed(1)} s; open-file limit ${limit ?? 'unknown'}.`,
      `While probing: sockets held min ${Math.min(...held).toLocaleString('en')} / median ${quantile(held, 0.5).toLocaleString('en')}; the server's timeouts closed ${during.closedByServer.toLocaleString('en')} sockets over the run (each re-opened a second later); flood client errors ${JSON.stringify(during.errors)}.`,
      `Requester site during the flood (budget taken): answered ${requesterAnswered} of ${requesterTries} tries.`,
      '',
      `Triage probes (sign in + list 50): **${ok.length} of ${probes.length} succeeded (${((100 * ok.length) / probes.length).toFixed(1)}%)**${Object.keys(failures).length ? `; failures ${JSON.stringify(failures)}` : ''}.`,
      '',
      '| triage probe | p50 | p99 | max |',
      '|---|---|---|---|',
      row('no flood: sign in + list (baseline, 3 s)', baseOk, (x) => x.totalMs),
      row('flood: `POST /api/v1/login`', ok, (x) => x.loginMs),
      row('flood: `GET /api/v1/requests?limit=50`', ok, (x) => x.listMs),
      row('flood: sign in + list', ok, (x) => x.totalMs),
      '',
      recoveredMs === null
        ? `Requester site after the flood: NOT answering within ${RECOVERY_LIMIT_MS / 1000} s.`
        : `Requester site after the flood: answered again **${ms(recoveredMs)}** after the flood client exited.`,
    ].join('\n');
  } finally {
    if (flood && flood.exitCode === null) flood.kill('SIGKILL');
    for (const haven of havens) {
      if (haven.child.exitCode !== null) continue;
      haven.child.kill('SIGTERM');
      await Promise.race([haven.exited, sleep(15_000)]);
      if (haven.child.exitCode === null) haven.child.kill('SIGKILL');
    }
    await dropDatabase().catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${await run()}\n`);
}
