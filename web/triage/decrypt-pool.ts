/**
 * Runs list decryption in a pool of Web Workers (decrypt-worker.ts) so a long list never
 * freezes the page and every core helps: a batch of rows is cut into contiguous slices, one
 * per worker, and the answers are put back together in the rows' order. A slice whose worker
 * fails (or where workers are unavailable) is opened on this thread instead, so no row is ever
 * dropped: a row that does not open comes back in its place as `{ ok: false, reason }`.
 * Every worker is terminated on every wipe (sign-out, idle lock, 401), so nothing one held
 * outlives the session.
 */
import type { Primitives } from '../../crypto/primitives.ts';
import type { RequestBody } from '../../crypto/v1/request-body.ts';
import { type DecryptContext, type Opened, openRequestRow, type RequestRowJson, type Vault } from './keys.ts';

declare const __WORKER_URLS__: Record<string, string> | undefined;

/**
 * More workers than this buy little (each loads its own libsodium WebAssembly, a few MB) and
 * phones report 8 cores of which several are slow ones.
 */
export const MAX_WORKERS = 4;
/** Fewer rows than this per slice are not worth waking another worker for (a one-row refresh). */
export const MIN_ROWS_PER_WORKER = 16;

type Results = Opened<RequestBody>[] | null;

let workers: (Worker | null)[] = [];
let nextJob = 0;
/** Pending jobs by id, with the worker that holds each, so one worker's failure ends only its own. */
const waiting = new Map<number, { worker: number; done: (results: Results) => void }>();

/** How many workers the pool runs: what the browser says its cores are, at least 2, at most MAX_WORKERS. */
export function poolSize(): number {
  const cores = typeof navigator === 'undefined' ? 0 : navigator.hardwareConcurrency;
  return Math.min(MAX_WORKERS, Math.max(2, Number.isInteger(cores) ? cores : 0));
}

/** Contiguous slices covering `count` rows in order, as even as possible, one per worker used. */
export function slices(count: number, size: number): { start: number; end: number }[] {
  const n = Math.max(1, Math.min(size, Math.floor(count / MIN_ROWS_PER_WORKER)));
  const out: { start: number; end: number }[] = [];
  for (let i = 0; i < n; i++) out.push({ start: Math.floor((i * count) / n), end: Math.floor(((i + 1) * count) / n) });
  return out;
}

function workerUrl(): string | null {
  try {
    return typeof Worker === 'undefined' ? null : (__WORKER_URLS__?.['decrypt-worker'] ?? null);
  } catch {
    return null; // not built by web/build.ts (a test harness): no worker
  }
}

function stopWorker(index: number): void {
  workers[index]?.terminate();
  workers[index] = null;
  for (const [id, job] of waiting) {
    if (job.worker !== index) continue;
    waiting.delete(id);
    job.done(null);
  }
}

function getWorker(index: number): Worker | null {
  const existing = workers[index];
  if (existing) return existing;
  const url = workerUrl();
  if (!url) return null;
  const w = new Worker(url);
  w.onmessage = (e: MessageEvent<{ id: number; results: Results }>) => {
    waiting.get(e.data.id)?.done(e.data.results);
    waiting.delete(e.data.id);
  };
  w.onerror = () => {
    if (workers[index] === w) stopWorker(index);
  };
  workers[index] = w;
  return w;
}

/** Stops every worker and drops every pending job (their callers fall back or are stale). */
export function terminateDecryptWorkers(): void {
  const all = workers;
  workers = [];
  for (const w of all) w?.terminate();
  for (const job of waiting.values()) job.done(null);
  waiting.clear();
}

/** One slice in worker `index`; null when there is no worker or it failed (the caller falls back). */
async function inWorker(index: number, vault: Vault, rows: RequestRowJson[]): Promise<Results> {
  const w = getWorker(index);
  if (!w) return null;
  // Exactly the secrets these rows need, copied for the job (the worker zero-fills its copies).
  const secrets: { teamKey: string; epoch: number; secret: Uint8Array }[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    const key = `${r.teamId}/${r.epoch}`;
    const secret = vault.teams.get(r.teamId)?.secrets.get(r.epoch);
    if (seen.has(key) || !secret) continue;
    seen.add(key);
    secrets.push({ teamKey: r.teamId, epoch: r.epoch, secret: secret.slice() });
  }
  const id = ++nextJob;
  try {
    const results = await new Promise<Results>((resolve) => {
      waiting.set(id, { worker: index, done: resolve });
      w.postMessage({ id, orgId: vault.orgId, rootPublic: vault.rootPublic, secrets, rows });
    });
    return results && results.length === rows.length ? results : null;
  } finally {
    for (const s of secrets) s.secret.fill(0);
  }
}

/**
 * Opens rows across the pool; the same results, in the same order, as `openRequestRow` row by
 * row on this thread.
 */
export async function openRows(p: Primitives, vault: Vault, ctx: DecryptContext, rows: RequestRowJson[]): Promise<Opened<RequestBody>[]> {
  if (rows.length === 0) return [];
  const parts = await Promise.all(
    slices(rows.length, poolSize()).map(async ({ start, end }, index) => {
      const slice = rows.slice(start, end);
      return (await inWorker(index, vault, slice)) ?? slice.map((r) => openRequestRow(p, ctx, r));
    }),
  );
  return parts.flat();
}
