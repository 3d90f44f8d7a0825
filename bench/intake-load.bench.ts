/**
 * Intake load: how many request submissions per second Haven commits, next to the ceiling of
 * a naive intake on the same machine, in one run.
 *
 * - baseline: a bare Hono app on @hono/node-server whose POST handler parses the same JSON
 *   body, decodes the envelope and runs one `insert ... returning id` per request through a
 *   `pg` Pool (max 10), durable commit (synchronous_commit as the server has it, normally on).
 * - haven: the real requester app (createRequesterApp, the production middleware, request
 *   log to /dev/null) over the demo organisation, POSTing real sealed 4 KiB-bucket envelopes
 *   with proofs of work solved before the timed phase (difficulty 0: the proof is checked in
 *   full, MAC, expiry, hash and replay, but solving it costs one hash), one unused challenge
 *   per request body.
 *
 * Each server runs in its own child process (its own event loop, like production); autocannon
 * runs here. 50 connections, loopback only, a short warm-up, then the timed phase. Everything
 * happens in a throwaway database `haven_bench_<random>` that is dropped afterwards.
 *
 * Run: `node --import tsx bench/intake-load.bench.ts` (also part of `npm run bench`).
 * Env: DATABASE_URL (admin URL, default postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_DURATION (seconds, default 10), BENCH_CONNECTIONS (default 50), BENCH_BODIES (bodies
 * to pre-build), BENCH_SERVER_NODE_ARGS (extra node flags for the server processes).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** The part of autocannon's API used here (the package ships no types). */
interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  setupRequest?: (req: AutocannonRequest) => AutocannonRequest;
}
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p97_5: number; p99: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (opts: { url: string; connections: number; duration: number; timeout: number; requests: AutocannonRequest[] }) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const ADMIN_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = 2;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
/** A message that pads into the 4 KiB bucket, as in the docs/BENCHMARKS.md baseline (a long letter). */
const MESSAGE = 'x'.repeat(3000);
/** Bodies made before any timed phase; more than this machine can commit in WARMUP + DURATION. */
const BODIES = Number(process.env.BENCH_BODIES ?? 0) || Math.max(20_000, Math.ceil(3000 * (WARMUP + DURATION)));

type Side = 'baseline' | 'haven';

interface Figures {
  rps: number;
  p50: number;
  p975: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Server process CPU time (user + system) per completed request, in milliseconds. */
  cpuMsPerRequest: number;
}

// ---------------------------------------------------------------------------------------
// Child side: one server per process.

/** The parent asks for the server's CPU time around the timed phase (CPU per request). */
function answerCpuQueries(): void {
  process.on('message', (m) => {
    if (m === 'cpu') {
      const u = process.cpuUsage();
      process.send!({ cpuMicros: u.user + u.system });
    }
  });
}

async function serveBaseline(url: string): Promise<void> {
  const { Hono } = await import('hono');
  const { serve } = await import('@hono/node-server');
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const app = new Hono();
  app.post('/bench', async (c) => {
    const body = (await c.req.json()) as { envelope: string };
    const blob = Buffer.from(body.envelope, 'base64url');
    const r = await pool.query<{ id: string }>('insert into bench_baseline (blob) values ($1) returning id', [blob]);
    return c.json({ id: r.rows[0]!.id }, 201);
  });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => process.send!({ port: info.port }));
  answerCpuQueries();
  process.on('disconnect', () => {
    server.close();
    void pool.end().finally(() => process.exit(0));
  });
}

async function serveHaven(url: string): Promise<void> {
  const { serve } = await import('@hono/node-server');
  const { createRequesterApp } = await import('../api/app.ts');
  const { loadConfig } = await import('../api/config.ts');
  const { openDatabase } = await import('../api/db/connect.ts');
  const { createLogger } = await import('../api/logger.ts');
  const { loadSodiumPrimitives } = await import('../crypto/sodium.ts');
  const config = loadConfig({
    HAVEN_MODE: 'production',
    DATABASE_URL: url,
    HAVEN_SERVER_SECRET: process.env.BENCH_SERVER_SECRET,
    HAVEN_ROOT_PUBLIC_KEY: process.env.BENCH_ROOT_PUBLIC_KEY,
    HAVEN_POW_DIFFICULTY: '0',
    HAVEN_POW_MAX_DIFFICULTY: '0',
    HAVEN_LOG_LEVEL: 'info',
  });
  const database = await openDatabase({ databaseUrl: url, dataDir: '' });
  const app = createRequesterApp({
    db: database.db,
    config,
    logger: createLogger(config.logLevel),
    crypto: await loadSodiumPrimitives(),
    serverSecret: config.serverSecret!,
    rootPublicKey: config.rootPublicKey,
  });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => process.send!({ port: info.port }));
  answerCpuQueries();
  process.on('disconnect', () => {
    server.close();
    void database.close().finally(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------------
// Parent side: database, bodies, load.

async function adminQuery(sqlText: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sqlText);
  } finally {
    await client.end();
  }
}

function startChild(side: Side, env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', side], {
    // BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile a server.
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)],
    env: { ...process.env, ...env },
    // The request log goes where production's stdout would: written, but to /dev/null.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, port: (m as { port: number }).port }));
    child.once('exit', (code) => reject(new Error(`${side} server exited early (${code})`)));
  });
}

function childCpuMicros(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (m: unknown) => {
      const micros = (m as { cpuMicros?: number }).cpuMicros;
      if (micros === undefined) return;
      child.off('message', onMessage);
      resolve(micros);
    };
    child.on('message', onMessage);
    child.send('cpu');
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.disconnect();
  });
}

function load(port: number, path: string, bodies: string[], duration: number, start: { next: number }): Promise<AutocannonResult> {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        // One pre-built body per request: each carries its own unused proof and ids.
        setupRequest: (req) => {
          const body = bodies[start.next++ % bodies.length]!;
          return { ...req, body };
        },
      },
    ],
  });
}

function figures(r: AutocannonResult, cpuMicros: number): Figures {
  return {
    cpuMsPerRequest: cpuMicros / 1000 / Math.max(1, r['2xx'] + r.non2xx),
    rps: r.requests.average,
    p50: r.latency.p50,
    p975: r.latency.p97_5,
    p99: r.latency.p99,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}

export interface IntakeLoadResult {
  baseline: Figures;
  haven: Figures;
  ratio: number;
  /** Rows Haven committed vs the 201s autocannon saw (equal, or more when a response was cut off at the end). */
  havenRows: number;
  havenCreated: number;
  bodies: number;
  envelopeBytes: number;
  synchronousCommit: string;
}

export async function measure(): Promise<IntakeLoadResult> {
  const { loadSodiumPrimitives } = await import('../crypto/sodium.ts');
  const { openDatabase } = await import('../api/db/connect.ts');
  const { migrateToLatest } = await import('../api/db/migrate.ts');
  const { seedDemo } = await import('../seeds/demo.ts');
  const { loadConfig } = await import('../api/config.ts');
  const { PowService } = await import('../api/intake/pow.service.ts');
  const { lookupTokenHash } = await import('../crypto/v1/requester.ts');
  const { proofFor, requestBody, requesterKeys, sealRequest } = await import('../tests/helpers/requester-client.ts');
  const p = await loadSodiumPrimitives();

  const name = `haven_bench_${randomBytes(6).toString('hex')}`;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  await adminQuery(`create database ${name}`);
  const children: ChildProcess[] = [];
  try {
    const open = await openDatabase({ databaseUrl: url.toString(), dataDir: '', poolSize: 2 });
    let demo;
    let synchronousCommit = '?';
    try {
      await migrateToLatest(open.db);
      const seeded = await seedDemo(open.db, loadConfig({ HAVEN_MODE: 'test' }), p);
      if (!seeded.created) throw new Error('seed expected on an empty database');
      demo = seeded.demo;
      const { sql } = await import('kysely');
      await sql`create table bench_baseline (id bigserial primary key, blob bytea not null)`.execute(open.db);
      synchronousCommit = (await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(open.db)).rows[0]!.synchronous_commit;
    } finally {
      await open.close();
    }

    // Pre-built bodies: real sealed envelopes, fresh ids and lookup hashes, solved proofs.
    const secret = p.randomBytes(32);
    const pow = new PowService(p, secret, 0, 0);
    const keys = await requesterKeys(p, 'apple banana cherry delta echo foxtrot golf hotel', demo.organisationId);
    const body = requestBody(MESSAGE, keys);
    const started = performance.now();
    const bodies: string[] = [];
    let envelopeBytes = 0;
    for (let i = 0; i < BODIES; i++) {
      const team = demo.teams[i % demo.teams.length]!;
      const envelope = sealRequest(p, demo, team, keys, body);
      envelopeBytes = envelope.length;
      const challenge = pow.issue();
      bodies.push(
        JSON.stringify({
          envelope: Buffer.from(envelope).toString('base64url'),
          lookupHash: Buffer.from(lookupTokenHash(p, p.randomBytes(32))).toString('base64url'),
          pow: proofFor(p, challenge, 0),
        }),
      );
    }
    process.stderr.write(`[intake-load] ${BODIES} bodies (${envelopeBytes}-byte envelopes) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

    const result = {} as Record<Side, Figures>;
    const env = {
      BENCH_DB_URL: url.toString(),
      BENCH_SERVER_SECRET: Buffer.from(secret).toString('hex'),
      BENCH_ROOT_PUBLIC_KEY: Buffer.from(demo.root.publicKey).toString('base64url'),
    };
    let havenCreated = 0;
    for (const side of ['baseline', 'haven'] as const) {
      const { child, port } = await startChild(side, env);
      children.push(child);
      const path = side === 'baseline' ? '/bench' : '/api/v1/requests';
      const cursor = { next: 0 };
      const warm = await load(port, path, bodies, WARMUP, cursor);
      const cpuBefore = await childCpuMicros(child);
      const loaded = await load(port, path, bodies, DURATION, cursor);
      const timed = figures(loaded, (await childCpuMicros(child)) - cpuBefore);
      if (side === 'haven') {
        havenCreated = warm['2xx'] + timed.ok;
        if (cursor.next > bodies.length) process.stderr.write('[intake-load] WARNING: bodies ran out; replays were sent (raise BENCH_BODIES)\n');
      }
      result[side] = timed;
      await stopChild(child);
    }

    const check = new pg.Client({ connectionString: url.toString() });
    await check.connect();
    const rows = Number((await check.query<{ n: string }>('select count(*) as n from requests')).rows[0]!.n);
    await check.end();

    return {
      baseline: result.baseline,
      haven: result.haven,
      ratio: result.haven.rps / result.baseline.rps,
      havenRows: rows,
      havenCreated,
      bodies: BODIES,
      envelopeBytes,
      synchronousCommit,
    };
  } finally {
    await Promise.all(children.map(stopChild));
    await adminQuery(`drop database if exists ${name} with (force)`);
  }
}

export function format(r: IntakeLoadResult): string {
  const row = (label: string, f: Figures) =>
    `| ${label} | ${f.rps.toFixed(0)} | ${f.p50} ms | ${f.p975} ms | ${f.p99} ms | ${f.ok} | ${f.non2xx} | ${f.errors + f.timeouts} | ${f.cpuMsPerRequest.toFixed(2)} ms |`;
  return [
    `${CONNECTIONS} connections, ${DURATION} s (after a ${WARMUP} s warm-up), ${cpus().length} cores, Node ${process.version}, ` +
      `envelope ${r.envelopeBytes} bytes, synchronous_commit=${r.synchronousCommit}`,
    '',
    '| side | requests/s | p50 | p97.5 | p99 | 2xx | non-2xx | errors+timeouts | server CPU/request |',
    '|---|---|---|---|---|---|---|---|---|',
    row('baseline (bare Hono + pg, 1 insert per request)', r.baseline),
    row('Haven POST /api/v1/requests', r.haven),
    '',
    `Haven / baseline: **${(r.ratio * 100).toFixed(0)}%** (target >= 80%). ` +
      `Haven rows committed: ${r.havenRows}, 201s seen (warm-up + timed): ${r.havenCreated}.`,
  ].join('\n');
}

export async function run(): Promise<string> {
  return format(await measure());
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt !== -1) {
  const side = process.argv[serveAt + 1] as Side;
  const dbUrl = process.env.BENCH_DB_URL!;
  await (side === 'baseline' ? serveBaseline(dbUrl) : serveHaven(dbUrl));
} else if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${await run()}\n`);
}
