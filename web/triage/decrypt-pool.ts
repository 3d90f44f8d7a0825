/**
 * Runs list decryption in a Web Worker (decrypt-worker.ts) so a long list never freezes the
 * page; falls back to this thread where workers are unavailable or a job fails. The worker is
 * terminated on every wipe (sign-out, idle lock, 401), so nothing it held outlives the session.
 */
import type { Primitives } from '../../crypto/primitives.ts';
import type { RequestBody } from '../../crypto/v1/request-body.ts';
import { type DecryptContext, type Opened, openRequestRow, type RequestRowJson, type Vault } from './keys.ts';

declare const __WORKER_URLS__: Record<string, string> | undefined;

let worker: Worker | null = null;
let nextJob = 0;
const waiting = new Map<number, (results: Opened<RequestBody>[] | null) => void>();

function workerUrl(): string | null {
  try {
    return typeof Worker === 'undefined' ? null : (__WORKER_URLS__?.['decrypt-worker'] ?? null);
  } catch {
    return null; // not built by web/build.ts (a test harness): no worker
  }
}

function getWorker(): Worker | null {
  if (worker) return worker;
  const url = workerUrl();
  if (!url) return null;
  worker = new Worker(url);
  worker.onmessage = (e: MessageEvent<{ id: number; results: Opened<RequestBody>[] | null }>) => {
    waiting.get(e.data.id)?.(e.data.results);
    waiting.delete(e.data.id);
  };
  worker.onerror = () => terminateDecryptWorker();
  return worker;
}

/** Stops the worker and drops every pending job (their callers fall back or are stale). */
export function terminateDecryptWorker(): void {
  worker?.terminate();
  worker = null;
  for (const done of waiting.values()) done(null);
  waiting.clear();
}

/** Opens rows, in the worker when there is one; same results as `openRequestRow` row by row. */
export async function openRows(p: Primitives, vault: Vault, ctx: DecryptContext, rows: RequestRowJson[]): Promise<Opened<RequestBody>[]> {
  const w = rows.length > 0 ? getWorker() : null;
  if (w) {
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
    const results = await new Promise<Opened<RequestBody>[] | null>((resolve) => {
      waiting.set(id, resolve);
      w.postMessage({ id, orgId: vault.orgId, rootPublic: vault.rootPublic, secrets, rows });
    });
    for (const s of secrets) s.secret.fill(0);
    if (results && results.length === rows.length) return results;
  }
  return rows.map((r) => openRequestRow(p, ctx, r));
}
