/**
 * Triage listing at 10,000 requests: how long the server takes to answer `GET /requests`
 * pages, and how long the dashboard's own list path takes in headless Chromium to turn
 * 10,000 rows into rows ready to render: the decrypt pool (web/triage/decrypt-pool.ts, the
 * real worker built by web/build.ts, libsodium WebAssembly in each worker) and `toRow`.
 * The goal: 10,000 requests listed in under 2 s. The run refuses to print a figure if any
 * row failed, came back out of place, or the workers were not used.
 *
 * Seeding: 10,000 REAL envelopes, each sealed separately with libsodium in Node (fresh ids,
 * fresh content keys, the demo legal team's key, 1 KiB bucket), inserted straight into the
 * live server's database (PGlite by default; `DATABASE_URL` for PostgreSQL) spread over
 * 500 coarse hours, so cursors cross hour boundaries as in real use.
 *
 * Server time is measured over loopback HTTP from Node (request to last byte, JSON
 * included), which is what the dashboard waits for, minus the browser.
 *
 * Run: `node --import tsx bench/triage-listing.bench.ts`.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { base64urlEncode } from '../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { MessageKind, sealMessage } from '../crypto/v1/message.ts';
import { encodeRequestBody } from '../crypto/v1/request-body.ts';
import { approveAccount, insertAccountDirectly } from '../tests/helpers/approve.ts';
import { launchBrowser } from '../tests/helpers/browser.ts';
import { startLiveServer } from '../tests/helpers/live-server.ts';
import { makeCredentials } from '../tests/helpers/responder-client.ts';
import { buildSite } from '../web/build.ts';
import type { RequestRowJson } from '../web/triage/keys.ts';

interface BrowserResult {
  pool: number;
  cores: number;
  load: number;
  cold: number;
  warm: number;
  page50: number;
  thread: number;
  threadOk: number;
  rows: (number | string)[];
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const TOTAL = 10_000;
const HOURS = 500;
const PAGE = 100;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

/**
 * The harness page: the dashboard's own list path, as list.ts runs it after a page of rows
 * arrives: `openRows` (decrypt-pool.ts: the rows cut across the pool of decrypt workers, the
 * real worker asset built by web/build.ts) and then `toRow` (rows.ts: excerpt and search text,
 * what renderRows draws from). For comparison, the same rows opened one by one on the page's
 * own thread (`openRequestRow`), which is what the dashboard did before the pool. Paths are
 * relative to the repository root (esbuild's resolveDir below).
 */
const HARNESS = `
import { loadSodiumPrimitives } from './crypto/sodium.ts';
import { base64urlDecode } from './crypto/encoding.ts';
import { openRows, poolSize } from './web/triage/decrypt-pool.ts';
import { openRequestRow, vaultContext } from './web/triage/keys.ts';
import { toRow } from './web/triage/rows.ts';
window.runBench = async (orgId, secret, teamKey, epoch) => {
  const t0 = performance.now();
  const p = await loadSodiumPrimitives();
  const load = performance.now() - t0;
  const rows = await (await fetch('/rows.json')).json();
  const vault = { orgId: base64urlDecode(orgId), rootPublic: new Uint8Array(32), teams: new Map([[teamKey, { secrets: new Map([[epoch, base64urlDecode(secret)]]) }]]) };
  const ctx = vaultContext(vault);
  const list = async (batch) => {
    const start = performance.now();
    const opened = await openRows(p, vault, ctx, batch);
    const ready = batch.map((r, i) => toRow(r, opened[i]));
    return { ms: performance.now() - start, ready };
  };
  // Cold: no worker started yet (each starts and loads its own libsodium inside the timing).
  const cold = await list(rows);
  const warm = [];
  for (let i = 0; i < 3; i++) warm.push((await list(rows)).ms);
  const page50 = [];
  for (let i = 0; i < 5; i++) page50.push((await list(rows.slice(0, 50))).ms);
  const threadStart = performance.now();
  let threadOk = 0;
  for (const r of rows) if (openRequestRow(p, ctx, r).ok) threadOk++;
  const thread = performance.now() - threadStart;
  const sorted = (xs) => [...xs].sort((a, b) => a - b);
  return {
    pool: poolSize(),
    cores: navigator.hardwareConcurrency,
    load,
    cold: cold.ms,
    warm: sorted(warm)[1],
    page50: sorted(page50)[2],
    thread,
    threadOk,
    // What each row became, in list order: the request number its text names, or why it failed.
    rows: cold.ready.map((r) => (r.body ? Number(/^Request number (\\d+):/.exec(r.excerpt)?.[1] ?? -1) : r.failure)),
  };
};
`;

export async function run(): Promise<string> {
  const p = await loadSodiumPrimitives();
  const live = await startLiveServer();
  const browser = await launchBrowser();
  try {
    const { db } = live.server.database;
    const team = live.demo.teams.find((x) => x.slug === 'legal') ?? live.demo.teams[0]!;
    const replyPublic = p.x25519PublicFromSecret(p.randomBytes(32));

    // ---- seed 10,000 real envelopes
    const sealStart = performance.now();
    const now = Math.floor(Date.now() / 3_600_000);
    const seeded: { id: Uint8Array; blob: Uint8Array; hour: Date; lookup: Uint8Array }[] = [];
    // Which request number each id carries, to check the browser's answers come back in row order.
    const numberOf = new Map<string, number>();
    for (let i = 0; i < TOTAL; i++) {
      const id = p.randomBytes(16);
      const body = encodeRequestBody({ topic: 'Legal help', message: `Request number ${i}: I was detained and need a lawyer.`, replyPublicKey: replyPublic, argon: { ops: 1, memKiB: 2048 } });
      const blob = sealMessage(p, { kind: MessageKind.request, orgId: live.demo.organisationId, teamId: team.id, epoch: team.epoch, threadId: id, messageId: id, teamPublic: team.publicKey, requesterPublic: replyPublic, body });
      numberOf.set(base64urlEncode(id), i);
      seeded.push({ id, blob, hour: new Date((now - (i % HOURS)) * 3_600_000), lookup: p.randomBytes(32) });
    }
    const sealMs = performance.now() - sealStart;
    const insertStart = performance.now();
    for (let i = 0; i < seeded.length; i += 500) {
      const batch = seeded.slice(i, i + 500);
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('requests').values(batch.map((r) => ({ id: r.id, team_id: team.id, epoch: team.epoch, lookup_hash: r.lookup, created_hour: r.hour, updated_hour: r.hour }))).execute();
        await trx.insertInto('messages').values(batch.map((r) => ({ id: r.id, request_id: r.id, position: 1, kind: 'request' as const, epoch: team.epoch, author_id: null, blob: r.blob, created_hour: r.hour }))).execute();
      });
    }
    const insertMs = performance.now() - insertStart;

    // ---- a signed-in member of the team
    const creds = await makeCredentials(p, 'bench.responder');
    const accountId = await insertAccountDirectly(db, p, creds, 'responder');
    await approveAccount(db, p, live.demo, accountId, [team.id]);
    const base = live.server.triageUrl;
    const login = await fetch(new URL('/api/v1/login', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: creds.username, verifier: base64urlEncode(creds.secrets.loginVerifier) }),
    });
    if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
    const cookie = /haven_session=[^;]+/.exec(login.headers.get('set-cookie') ?? '')![0];

    const getPage = async (cursor: string | null, limit = PAGE) => {
      const q = new URLSearchParams({ limit: String(limit) });
      if (cursor) q.set('cursor', cursor);
      const start = performance.now();
      const res = await fetch(new URL(`/api/v1/requests?${q}`, base), { headers: { cookie } });
      const text = await res.text();
      const elapsed = performance.now() - start;
      if (res.status !== 200) throw new Error(`list failed: ${res.status}`);
      const json = JSON.parse(text) as { requests: RequestRowJson[]; nextCursor: string | null };
      return { elapsed, bytes: text.length, json };
    };

    // Warm-up, then first page (limit 100), median of 15.
    await getPage(null);
    const firstTimes: number[] = [];
    let firstBytes = 0;
    for (let i = 0; i < 15; i++) {
      const r = await getPage(null);
      firstTimes.push(r.elapsed);
      firstBytes = r.bytes;
    }
    const first50: number[] = [];
    for (let i = 0; i < 15; i++) first50.push((await getPage(null, 50)).elapsed);

    // All 10,000 paged through (100 pages of 100), keeping the rows and the cursor of a deep page.
    const allRows: RequestRowJson[] = [];
    const pageTimes: number[] = [];
    let cursor: string | null = null;
    let deepCursor: string | null = null;
    const walkStart = performance.now();
    do {
      const r = await getPage(cursor);
      pageTimes.push(r.elapsed);
      allRows.push(...r.json.requests);
      cursor = r.json.nextCursor;
      if (pageTimes.length === 90) deepCursor = cursor;
    } while (cursor);
    const walkMs = performance.now() - walkStart;
    if (allRows.length !== TOTAL || new Set(allRows.map((r) => r.id)).size !== TOTAL) throw new Error(`paging lost rows: ${allRows.length}`);
    const deepTimes: number[] = [];
    for (let i = 0; i < 15; i++) deepTimes.push((await getPage(deepCursor)).elapsed);

    // ---- browser side: the dashboard's own list path, with the real decrypt worker asset
    const site = await buildSite('triage');
    const workerPath = [...site.assets.keys()].find((k) => /^\/assets\/decrypt-worker-[0-9a-f]+\.js$/.test(k));
    if (!workerPath) throw new Error('the triage build has no decrypt worker');
    const workerJs = site.assets.get(workerPath)!.body;
    const harness = await build({
      stdin: { contents: HARNESS, resolveDir: REPO_ROOT, loader: 'js' },
      bundle: true, write: false, format: 'esm', platform: 'browser', target: ['es2020'], minify: true, logLevel: 'silent',
      define: { __WORKER_URLS__: JSON.stringify({ 'decrypt-worker': workerPath }) },
    });
    const js = harness.outputFiles[0]!.text;
    const rowsJson = JSON.stringify(allRows);
    const page = await browser.newPage();
    await page.route('http://bench.invalid/**', (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/harness.js') return route.fulfill({ status: 200, contentType: 'text/javascript', body: js });
      if (path === workerPath) return route.fulfill({ status: 200, contentType: 'text/javascript', body: Buffer.from(workerJs) });
      if (path === '/rows.json') return route.fulfill({ status: 200, contentType: 'application/json', body: rowsJson });
      return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><script type="module" src="/harness.js"></script>' });
    });
    await page.goto('http://bench.invalid/');
    await page.waitForFunction(() => typeof (window as unknown as { runBench?: unknown }).runBench === 'function');
    const loadBefore = os.loadavg()[0]!;
    const b = await page.evaluate(
      ([org, secret, teamKey, epoch]) => (window as unknown as { runBench: (a: string, b: string, c: string, e: number) => Promise<BrowserResult> }).runBench(org, secret, teamKey, epoch),
      [base64urlEncode(live.demo.organisationId), base64urlEncode(team.secretKey), base64urlEncode(team.id), team.epoch] as const,
    );
    const loadAfter = os.loadavg()[0]!;
    // No figure for a run that lost, failed or reordered a row, or that never used the workers.
    const workers = page.workers().filter((w) => w.url().endsWith(workerPath)).length;
    if (workers !== b.pool || b.pool < 2) throw new Error(`expected ${b.pool} (at least 2) decrypt workers, the page ran ${workers}`);
    if (b.rows.length !== TOTAL) throw new Error(`the pool answered ${b.rows.length} of ${TOTAL} rows`);
    const failed = b.rows.filter((x) => typeof x !== 'number').length;
    if (failed > 0) throw new Error(`${failed} of ${TOTAL} rows failed to open in the pool`);
    const misplaced = b.rows.filter((x, i) => x !== numberOf.get(allRows[i]!.id)).length;
    if (misplaced > 0) throw new Error(`${misplaced} rows came back out of order or with another row's text`);
    if (b.threadOk !== TOTAL) throw new Error(`the page thread opened ${b.threadOk} of ${TOTAL}`);

    const chromium = browser.version();
    const dbKind = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite (embedded)';
    return [
      `Seeded ${TOTAL.toLocaleString('en')} real request envelopes (each sealed separately with libsodium in Node: fresh ids and content keys, 1 KiB bucket, 1,298-byte blobs) over ${HOURS} coarse hours into ${dbKind}: sealing ${(sealMs / 1000).toFixed(1)} s, inserting ${(insertMs / 1000).toFixed(1)} s.`,
      '',
      '| server: `GET /api/v1/requests` (loopback HTTP, request to last byte) | time |',
      '|---|---|',
      `| first page, limit 100 (median of 15; ${Math.round(firstBytes / 1024)} KiB of JSON) | ${ms(median(firstTimes))} |`,
      `| first page, limit 50 (the dashboard's page size; median of 15) | ${ms(median(first50))} |`,
      `| deep page (page 91 of 100, by cursor), limit 100 (median of 15) | ${ms(median(deepTimes))} |`,
      `| all 10,000 paged through, 100 pages of 100 (total) | ${ms(walkMs)} |`,
      `| per page while paging through: median / slowest | ${ms(median(pageTimes))} / ${ms(Math.max(...pageTimes))} |`,
      '',
      `| browser: headless Chromium ${chromium}, ${b.cores} cores reported, pool of ${b.pool} decrypt workers | time |`,
      '|---|---|',
      `| **10,000 rows listed**: \`openRows\` across the pool + \`toRow\`, workers not yet started (cold) | **${ms(b.cold)}** |`,
      `| the same, workers already running (median of 3) | ${ms(b.warm)} (${((b.warm / TOTAL) * 1000).toFixed(0)} µs/row) |`,
      `| one dashboard page, 50 rows, workers running (median of 5) | ${ms(b.page50)} |`,
      `| for comparison: 10,000 rows one by one on the page's thread (\`openRequestRow\`, the old path) | ${ms(b.thread)} |`,
      `| load libsodium on the page (instantiate WebAssembly) | ${ms(b.load)} |`,
      '',
      `All ${TOTAL.toLocaleString('en')} rows opened, in row order. Load average (1 min) on the ${os.cpus().length}-core machine: ${loadBefore.toFixed(2)} before the browser part, ${loadAfter.toFixed(2)} after.`,
    ].join('\n');
  } finally {
    await browser.close();
    await live.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${await run()}\n`);
}
