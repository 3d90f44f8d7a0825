/**
 * Intake load: how many request submissions per second Haven commits, next to a naive intake
 * on the same machine in the same run, and Haven's latency at half of its own saturation.
 *
 * - baseline: a bare Hono app on @hono/node-server whose POST handler parses the same JSON
 *   body, decodes the envelope and runs one `insert ... returning id` per request through a
 *   `pg` Pool (max 10), durable commit (synchronous_commit as the server has it, normally on).
 * - haven: the real requester app (createRequesterApp, the production middleware, request
 *   log to /dev/null) over the demo organisation, POSTing real sealed 4 KiB-bucket envelopes
 *   with proofs of work solved before the timed phase (difficulty 0: the proof is checked in
 *   full, MAC, expiry, hash and replay, but solving it costs one hash).
 *
 * Every HTTP request of the run, on either side, carries a body no other request carried: its
 * own envelope, ids, lookup hash and unused proof. Bodies are made before each phase, never
 * while it is timed, enough for 2.5x the fastest rate seen so far (or a generous first guess).
 *
 * Both servers run for the whole run, each in its own child process (its own event loop, like
 * production); autocannon runs here. Saturation: ROUNDS rounds, each a timed phase of each side
 * back to back, the side that goes first alternating (after a warm-up of each). Then each side
 * at a fixed overall rate of half its own measured saturation, for its p99.
 *
 * Each phase starts right after a CHECKPOINT and a VACUUM of the run's database (the admin URL
 * needs the right to run both), so neither a checkpoint's closing fsyncs nor an autovacuum falls
 * inside a timed phase by chance; the progress lines say when one did anyway.
 *
 * The run is refused (an exception: no figure printed, `npm run bench` exits non-zero) when
 * any answer on either side is not 201, any request errored or timed out, the bodies ran out
 * (no body is ever sent twice: an exhausted pool sends `{}`, which fails), or Haven committed
 * fewer rows than the 201s it sent.
 *
 * Run: `node --import tsx bench/intake-load.bench.ts` (also part of `npm run bench`).
 * Env: DATABASE_URL (admin URL, default postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_DURATION (seconds per timed phase, default 5), BENCH_ROUNDS (default 3),
 * BENCH_CONNECTIONS (default 50), BENCH_LATENCY_DURATION (seconds, default 10),
 * BENCH_SERVER_NODE_ARGS (extra node flags for the server processes, e.g. --cpu-prof),
 * BENCH_FIRST_GUESS_RPS (bodies per second made for the warm-ups, default 8000; too few fails the run).
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
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
  duration: number;
  requests: { average: number; total: number; sent: number };
  latency: { p50: number; p97_5: number; p99: number; max: number };
  statusCodeStats: Record<string, { count: number }>;
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  timeout: number;
  overallRate?: number;
  requests: AutocannonRequest[];
}
type Autocannon = (opts: AutocannonOptions) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const ADMIN_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP = 2;
const LATENCY_DURATION = Number(process.env.BENCH_LATENCY_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
/** A message that pads into the 4 KiB bucket, as in the docs/BENCHMARKS.md baseline (a long letter). */
const MESSAGE = 'x'.repeat(3000);
/** Bodies per second assumed before any rate is measured: above anything this machine has done. */
const FIRST_GUESS_RPS = Number(process.env.BENCH_FIRST_GUESS_RPS ?? 8000);

type Side = 'baseline' | 'haven';

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

interface Phase {
  side: Side;
  kind: 'warm-up' | 'saturation' | 'half-rate';
  seconds: number;
  created: number;
  rps: number;
  p50: number;
  p975: number;
  p99: number;
  max: number;
  /** Server process CPU time (user + system) per answered request, in milliseconds. */
  cpuMsPerRequest: number;
  /** CPU time of the side's PostgreSQL backends per answered request, in milliseconds (null where /proc cannot tell). */
  dbCpuMsPerRequest: number | null;
  /** The whole machine's busy CPU time per answered request, in milliseconds: everything above plus the load client, PostgreSQL's WAL writer, checkpointer and autovacuum, and the kernel's flushing. */
  machineCpuMsPerRequest: number;
  /** WAL bytes PostgreSQL wrote per answered request. */
  walBytesPerRequest: number;
  /** Checkpoints PostgreSQL started during the phase (after one, each page's first change writes the whole page to the WAL). */
  checkpoints: number;
  /** Autovacuum runs on the run's tables that finished during the phase or were running at its end. */
  autovacuums: number;
}

/** Runs `use` on a fresh connection to `url`, closed afterwards (the bench's few queries between phases). */
async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/**
 * CPU time (user + system, ms) of the PostgreSQL backends serving one side, read from /proc:
 * only possible when PostgreSQL runs on this machine (as in this bench's setup). Shared work
 * (the WAL writer, checkpoints) is not in it.
 */
async function backendCpuMs(dbUrl: string, side: Side): Promise<Map<number, number> | null> {
  const { rows } = await withClient(dbUrl, (c) => c.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [`bench_${side}`]));
  const ticks = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      // utime and stime: fields 14 and 15 of stat, 12 and 13 after "pid (comm) ".
      ticks.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS);
    } catch {
      return null;
    }
  }
  return ticks;
}

/** Busy CPU time of the whole machine so far (ms): every field of /proc/stat's cpu line but idle and iowait. */
function machineBusyMs(): number {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const busy = fields[0]! + fields[1]! + fields[2]! + fields[5]! + fields[6]! + fields[7]!;
  return (busy * 1000) / CLOCK_TICKS;
}

/** Where PostgreSQL's WAL is (bytes) and how many checkpoints it has started. */
async function walPosition(dbUrl: string): Promise<{ bytes: bigint; checkpoints: number }> {
  const { rows } = await withClient(dbUrl, (c) =>
    c.query<{ lsn: string; checkpoints: string }>(
      `select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text as lsn, (select checkpoints_timed + checkpoints_req from pg_stat_bgwriter)::text as checkpoints`,
    ),
  );
  return { bytes: BigInt(rows[0]!.lsn), checkpoints: Number(rows[0]!.checkpoints) };
}

/** Autovacuum runs of the run's database: finished so far, and running now. */
async function autovacuums(dbUrl: string): Promise<{ finished: number; running: number }> {
  const { rows } = await withClient(dbUrl, (c) =>
    c.query<{ finished: string; running: string }>(
      `select (select coalesce(sum(autovacuum_count + autoanalyze_count), 0) from pg_stat_all_tables)::text as finished,
              (select count(*) from pg_stat_activity where backend_type = 'autovacuum worker' and datname = current_database())::text as running`,
    ),
  );
  return { finished: Number(rows[0]!.finished), running: Number(rows[0]!.running) };
}

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const CLOCK_TICKS = 100;

function cpuSpent(before: Map<number, number> | null, after: Map<number, number> | null): number | null {
  if (!before || !after) return null;
  let ms = 0;
  for (const [pid, t] of after) ms += t - (before.get(pid) ?? 0);
  return ms;
}

/** A run that must not produce a figure. */
export class InvalidRunError extends Error {}

async function adminQuery(sqlText: string): Promise<void> {
  await withClient(ADMIN_URL, (c) => c.query(sqlText));
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

/**
 * The bodies of one run: each handed out once, ever. `take()` past the end hands out `{}`
 * (answered 400, so the phase fails) and remembers it: a replay is never sent.
 */
class BodyPool {
  #bodies: string[] = [];
  #next = 0;
  made = 0;
  ranOut = false;

  constructor(private readonly make: () => string) {}

  /** Makes bodies (untimed) until at least `n` unused ones are ready; drops the used ones. */
  ensure(n: number): void {
    this.#bodies = this.#bodies.slice(this.#next);
    this.#next = 0;
    while (this.#bodies.length < n) {
      this.#bodies.push(this.make());
      this.made++;
    }
  }

  take(): string {
    if (this.#next >= this.#bodies.length) {
      this.ranOut = true;
      return '{}';
    }
    return this.#bodies[this.#next++]!;
  }
}

/**
 * The one place that knows the proof-of-work format: a solved proof for the body's `pow`
 * field, from the same service and secret the Haven server checks with (difficulty 0).
 */
function makeProofFactory(pow: import('../api/intake/pow.service.ts').PowService, prove: (challenge: Uint8Array) => unknown) {
  return () => prove(pow.issue());
}

async function phase(
  side: Side, kind: Phase['kind'], child: ChildProcess, port: number, pool: BodyPool, seconds: number, dbUrl: string, overallRate?: number,
): Promise<Phase> {
  const path = side === 'baseline' ? '/bench' : '/api/v1/requests';
  // Every phase starts right after a checkpoint (untimed), so the end of one, with its fsync of
  // every data file, never lands inside a phase by chance: that stall alone gave one half-rate
  // phase a p99 of 411 ms. Each phase then pays the full-page writes that follow a checkpoint,
  // which Haven's random-key indexes pay more of than the baseline's sequence.
  // Likewise a vacuum of the run's tables, so autovacuum (which PostgreSQL starts on a table
  // after enough inserts) does not start inside a phase by chance. Both are real work of an
  // intake; they are left out of the timed phases, and docs/BENCHMARKS.md says what they cost.
  await adminQuery('checkpoint');
  await withClient(dbUrl, (c) => c.query('vacuum'));
  const vacuumsBefore = await autovacuums(dbUrl);
  const dbBefore = await backendCpuMs(dbUrl, side);
  const walBefore = await walPosition(dbUrl);
  const cpuBefore = await childCpuMicros(child);
  const machineBefore = machineBusyMs();
  const r = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 10,
    ...(overallRate !== undefined ? { overallRate } : {}),
    requests: [
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: pool.take() }),
      },
    ],
  });
  const machineMs = machineBusyMs() - machineBefore;
  const cpuMicros = (await childCpuMicros(child)) - cpuBefore;
  const walAfter = await walPosition(dbUrl);
  const vacuumsAfter = await autovacuums(dbUrl);
  const walBytes = Number(walAfter.bytes - walBefore.bytes);
  const dbMs = cpuSpent(dbBefore, await backendCpuMs(dbUrl, side));
  const codes = Object.entries(r.statusCodeStats).filter(([code]) => code !== '201');
  const what = `${side} ${kind}`;
  if (pool.ranOut) throw new InvalidRunError(`${what}: the pre-built bodies ran out (a body is never sent twice); no figure`);
  if (codes.length > 0) {
    throw new InvalidRunError(`${what}: answers other than 201 (${codes.map(([code, s]) => `${s.count} x ${code}`).join(', ')}); no figure`);
  }
  if (r.errors > 0 || r.timeouts > 0) throw new InvalidRunError(`${what}: ${r.errors} errors, ${r.timeouts} timeouts; no figure`);
  const created = r.statusCodeStats['201']?.count ?? 0;
  return {
    side,
    kind,
    seconds,
    created,
    rps: created / seconds,
    p50: r.latency.p50,
    p975: r.latency.p97_5,
    p99: r.latency.p99,
    max: r.latency.max,
    cpuMsPerRequest: cpuMicros / 1000 / Math.max(1, created),
    dbCpuMsPerRequest: dbMs === null ? null : dbMs / Math.max(1, created),
    machineCpuMsPerRequest: machineMs / Math.max(1, created),
    walBytesPerRequest: walBytes / Math.max(1, created),
    checkpoints: walAfter.checkpoints - walBefore.checkpoints,
    autovacuums: vacuumsAfter.finished - vacuumsBefore.finished + vacuumsAfter.running,
  };
}

export interface SideResult {
  /** 201s per second over every saturation phase of the side. */
  saturationRps: number;
  rounds: Phase[];
  halfRate: Phase;
}

export interface IntakeLoadResult {
  baseline: SideResult;
  haven: SideResult;
  ratio: number;
  /** Rows Haven committed vs the 201s autocannon saw (equal, or a few more when a response was cut off at the end of a phase). */
  havenRows: number;
  havenCreated: number;
  bodies: number;
  envelopeBytes: number;
  synchronousCommit: string;
  loadAverage: [number, number];
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
  const loadBefore = loadavg()[0]!;

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

    // Bodies: real sealed envelopes, fresh ids and lookup hashes, solved proofs; each used once.
    const secret = p.randomBytes(32);
    const proof = makeProofFactory(new PowService(p, secret, 0, 0), (challenge) => proofFor(p, challenge, 0));
    const keys = await requesterKeys(p, 'apple banana cherry delta echo foxtrot golf hotel', demo.organisationId);
    const plain = requestBody(MESSAGE, keys);
    let envelopeBytes = 0;
    let made = 0;
    const pool = new BodyPool(() => {
      const team = demo.teams[made++ % demo.teams.length]!;
      const envelope = sealRequest(p, demo, team, keys, plain);
      envelopeBytes = envelope.length;
      return JSON.stringify({
        envelope: Buffer.from(envelope).toString('base64url'),
        lookupHash: Buffer.from(lookupTokenHash(p, p.randomBytes(32))).toString('base64url'),
        pow: proof(),
      });
    });

    const env = {
      BENCH_DB_URL: url.toString(),
      BENCH_SERVER_SECRET: Buffer.from(secret).toString('hex'),
      BENCH_ROOT_PUBLIC_KEY: Buffer.from(demo.root.publicKey).toString('base64url'),
    };
    const servers = {} as Record<Side, { child: ChildProcess; port: number }>;
    for (const side of ['baseline', 'haven'] as const) {
      servers[side] = await startChild(side, env);
      children.push(servers[side].child);
    }

    let fastest = 0;
    const ready = (seconds: number, rps?: number) => {
      const started = performance.now();
      pool.ensure(Math.ceil((rps ?? (fastest > 0 ? fastest * 2.5 : FIRST_GUESS_RPS)) * seconds) + CONNECTIONS * 2);
      return performance.now() - started;
    };
    const run = async (side: Side, kind: Phase['kind'], seconds: number, overallRate?: number) => {
      const made = ready(seconds, overallRate !== undefined ? overallRate * 1.2 : undefined);
      if (made > 1000) process.stderr.write(`[intake-load] made bodies for ${side} ${kind} in ${(made / 1000).toFixed(1)} s (untimed)\n`);
      const result = await phase(side, kind, servers[side].child, servers[side].port, pool, seconds, url.toString(), overallRate);
      fastest = Math.max(fastest, result.rps);
      process.stderr.write(
        `[intake-load] ${side} ${kind}: ${result.rps.toFixed(0)}/s, p99 ${result.p99} ms, ` +
          `WAL ${(result.walBytesPerRequest / 1024).toFixed(1)} KiB/request${result.checkpoints > 0 ? `, ${result.checkpoints} checkpoint(s) began` : ''}` +
          `${result.autovacuums > 0 ? `, autovacuum ran (${result.autovacuums})` : ''}\n`,
      );
      return result;
    };

    const phases: Phase[] = [];
    for (const side of ['baseline', 'haven'] as const) phases.push(await run(side, 'warm-up', WARMUP));
    for (let round = 0; round < ROUNDS; round++) {
      const order: Side[] = round % 2 === 0 ? ['baseline', 'haven'] : ['haven', 'baseline'];
      for (const side of order) phases.push(await run(side, 'saturation', DURATION));
    }
    const saturation = (side: Side) => {
      const mine = phases.filter((f) => f.side === side && f.kind === 'saturation');
      return mine.reduce((sum, f) => sum + f.created, 0) / mine.reduce((sum, f) => sum + f.seconds, 0);
    };
    const result = {} as Record<Side, SideResult>;
    for (const side of ['baseline', 'haven'] as const) {
      const rate = Math.max(1, Math.floor(saturation(side) / 2));
      const halfRate = await run(side, 'half-rate', LATENCY_DURATION, rate);
      phases.push(halfRate);
      result[side] = { saturationRps: saturation(side), rounds: phases.filter((f) => f.side === side && f.kind === 'saturation'), halfRate };
    }

    const rows = await withClient(url.toString(), async (c) => Number((await c.query<{ n: string }>('select count(*) as n from requests')).rows[0]!.n));
    const havenCreated = phases.filter((f) => f.side === 'haven').reduce((sum, f) => sum + f.created, 0);
    if (rows < havenCreated) throw new InvalidRunError(`Haven answered ${havenCreated} x 201 but committed only ${rows} rows; no figure`);

    return {
      baseline: result.baseline,
      haven: result.haven,
      ratio: result.haven.saturationRps / result.baseline.saturationRps,
      havenRows: rows,
      havenCreated,
      bodies: pool.made,
      envelopeBytes,
      synchronousCommit,
      loadAverage: [loadBefore, loadavg()[0]!],
    };
  } finally {
    await Promise.all(children.map(stopChild));
    await adminQuery(`drop database if exists ${name} with (force)`);
  }
}

export function format(r: IntakeLoadResult): string {
  const rounds = (s: SideResult) => s.rounds.map((f) => f.rps.toFixed(0)).join(' / ');
  const row = (label: string, s: SideResult) => {
    const h = s.halfRate;
    const created = s.rounds.reduce((sum, f) => sum + f.created, 0);
    const cpu = s.rounds.reduce((sum, f) => sum + f.cpuMsPerRequest * f.created, 0) / created;
    const db = s.rounds.some((f) => f.dbCpuMsPerRequest === null)
      ? 'n/a'
      : `${(s.rounds.reduce((sum, f) => sum + f.dbCpuMsPerRequest! * f.created, 0) / created).toFixed(2)} ms`;
    const machine = s.rounds.reduce((sum, f) => sum + f.machineCpuMsPerRequest * f.created, 0) / created;
    const wal = s.rounds.reduce((sum, f) => sum + f.walBytesPerRequest * f.created, 0) / created;
    return `| ${label} | ${s.saturationRps.toFixed(0)} | ${rounds(s)} | ${cpu.toFixed(2)} ms | ${db} | ${machine.toFixed(2)} ms | ${(wal / 1024).toFixed(1)} KiB | ${h.rps.toFixed(0)} | ${h.p50} ms | ${h.p975} ms | ${h.p99} ms |`;
  };
  return [
    `${CONNECTIONS} connections, ${ROUNDS} rounds x ${DURATION} s per side (after a ${WARMUP} s warm-up each), half-rate phases ${LATENCY_DURATION} s, ` +
      `${cpus().length} cores, Node ${process.version}, envelope ${r.envelopeBytes} bytes, synchronous_commit=${r.synchronousCommit}, ` +
      `load average ${r.loadAverage[0].toFixed(1)} before / ${r.loadAverage[1].toFixed(1)} after`,
    '',
    '| side | saturation (201/s) | per round | server CPU/request | PostgreSQL backends CPU/request | machine CPU/request | WAL/request | half rate (201/s) | p50 | p97.5 | p99 |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    row('baseline (bare Hono + pg, 1 insert per request)', r.baseline),
    row('Haven POST /api/v1/requests', r.haven),
    '',
    `Haven / baseline: **${(r.ratio * 100).toFixed(0)}%** (goal >= 100%; per round ${r.haven.rounds.map((h, i) => `${((h.rps / r.baseline.rounds[i]!.rps) * 100).toFixed(0)}%`).join(' / ')}); Haven p99 at half its saturation: **${r.haven.halfRate.p99} ms** (goal < 50 ms). ` +
      `Every answer was 201, every body was used once (${r.bodies} made); Haven rows committed: ${r.havenRows}, 201s seen: ${r.havenCreated}.`,
  ].join('\n');
}

export async function run(): Promise<string> {
  return format(await measure());
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt !== -1) {
  const side = process.argv[serveAt + 1] as Side;
  // Named per side, so the parent can find each side's PostgreSQL backends (their CPU time).
  const dbUrl = `${process.env.BENCH_DB_URL!}?application_name=bench_${side}`;
  await (side === 'baseline' ? serveBaseline(dbUrl) : serveHaven(dbUrl));
} else if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${await run()}\n`);
}
