/**
 * Triage listing at 10,000 requests: how long the server takes to answer `GET /requests`
 * pages, and how long the dashboard's own decrypt code (web/triage/keys.ts, libsodium
 * WebAssembly) takes in headless Chromium for 100 and 10,000 rows.
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
import type { RequestRowJson } from '../web/triage/keys.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const TOTAL = 10_000;
const HOURS = 500;
const PAGE = 100;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

/** The harness page: imports the dashboard's decrypt function, decrypts what it is given, reports times. Paths are relative to the repository root (esbuild's resolveDir below). */
const HARNESS = `
import { loadSodiumPrimitives } from './crypto/sodium.ts';
import { base64urlDecode } from './crypto/encoding.ts';
import { openRequestRow } from './web/triage/keys.ts';
window.runBench = async (orgId, secret, teamKey) => {
  const t0 = performance.now();
  const p = await loadSodiumPrimitives();
  const load = performance.now() - t0;
  const rows = await (await fetch('/rows.json')).json();
  const ctx = { orgId: base64urlDecode(orgId), secret: (k, e) => (k === teamKey && e === 1 ? base64urlDecode(secret) : undefined) };
  const time = (n) => {
    const start = performance.now();
    let ok = 0;
    for (let i = 0; i < n; i++) if (openRequestRow(p, ctx, rows[i]).ok) ok++;
    return { ms: performance.now() - start, ok };
  };
  time(50); // warm-up
  const first = [];
  for (let i = 0; i < 5; i++) first.push(time(100).ms);
  const all = time(rows.length);
  return { load, hundred: first.sort((a, b) => a - b)[2], all: all.ms, ok: all.ok };
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
    for (let i = 0; i < TOTAL; i++) {
      const id = p.randomBytes(16);
      const body = encodeRequestBody({ topic: 'Legal help', message: `Request number ${i}: I was detained and need a lawyer.`, replyPublicKey: replyPublic, argon: { ops: 1, memKiB: 2048 } });
      const blob = sealMessage(p, { kind: MessageKind.request, orgId: live.demo.organisationId, teamId: team.id, epoch: team.epoch, threadId: id, messageId: id, teamPublic: team.publicKey, requesterPublic: replyPublic, body });
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

    // ---- browser-side decrypt with the dashboard's own code
    const harness = await build({
      stdin: { contents: HARNESS, resolveDir: REPO_ROOT, loader: 'js' },
      bundle: true, write: false, format: 'esm', platform: 'browser', target: ['es2020'], minify: true, logLevel: 'silent',
    });
    const js = harness.outputFiles[0]!.text;
    const rowsJson = JSON.stringify(allRows);
    const page = await browser.newPage();
    await page.route('http://bench.invalid/**', (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/harness.js') return route.fulfill({ status: 200, contentType: 'text/javascript', body: js });
      if (path === '/rows.json') return route.fulfill({ status: 200, contentType: 'application/json', body: rowsJson });
      return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><script type="module" src="/harness.js"></script>' });
    });
    await page.goto('http://bench.invalid/');
    await page.waitForFunction(() => typeof (window as unknown as { runBench?: unknown }).runBench === 'function');
    const browserResult = await page.evaluate(
      ([org, secret, teamKey]) => (window as unknown as { runBench: (a: string, b: string, c: string) => Promise<{ load: number; hundred: number; all: number; ok: number }> }).runBench(org, secret, teamKey),
      [base64urlEncode(live.demo.organisationId), base64urlEncode(team.secretKey), base64urlEncode(team.id)] as const,
    );
    if (browserResult.ok !== TOTAL) throw new Error(`browser decrypted ${browserResult.ok} of ${TOTAL}`);

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
      `| browser: headless Chromium ${chromium}, the dashboard's \`openRequestRow\` (libsodium wasm) | time |`,
      '|---|---|',
      `| load libsodium (instantiate WebAssembly) | ${ms(browserResult.load)} |`,
      `| decrypt + decode 100 rows (median of 5) | ${ms(browserResult.hundred)} (${((browserResult.hundred / 100) * 1000).toFixed(0)} µs/row) |`,
      `| decrypt + decode 10,000 rows | ${ms(browserResult.all)} (${((browserResult.all / TOTAL) * 1000).toFixed(0)} µs/row) |`,
    ].join('\n');
  } finally {
    await browser.close();
    await live.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${await run()}\n`);
}
