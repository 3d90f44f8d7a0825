/**
 * Retention: deletes closed requests (and with them every message, so every wrap of their
 * content keys, and every attachment blob) once they have been closed for the configured number of days, plus a
 * per-request spread of 0-48 hours; also sweeps spent proof-of-work ids and expired sessions.
 *
 * Why the spread: deletions are observable (backups, disk snapshots taken over time); without
 * it, "deleted at T" would say "closed at T - N days" to the hour. The spread is derived from
 * the request id with a key only the server holds (from HAVEN_SERVER_SECRET), so it is the
 * same on every run (a request is not deleted at a different time each run) yet cannot be
 * subtracted by someone who holds only the database.
 */
import type { Kysely } from 'kysely';
import { utf8Encode } from '../../crypto/encoding.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import * as repo from './admin.repository.ts';
import { DEFAULT_CLOSED_RETENTION_DAYS } from './admin.service.ts';

const KEY_PERSONAL = utf8Encode('haven-retkey-v1');
const SPREAD_PERSONAL = utf8Encode('haven-retain-v1');
export const MAX_SPREAD_MINUTES = 48 * 60;
const DELETE_CHUNK = 500;

export interface RetentionResult {
  requests: number;
  messages: number;
  attachments: number;
  sessions: number;
  challenges: number;
  /** how many tables were VACUUMed after losing rows */
  vacuumed: number;
}

/** The retention key: BLAKE2b-256(serverSecret, personal "haven-retkey-v1"). */
export function retentionKey(p: Primitives, serverSecret: Uint8Array): Uint8Array {
  return p.blake2b(32, serverSecret, { personal: KEY_PERSONAL });
}

/** 0 .. 48 h in whole minutes: BLAKE2b-32bit(requestId; key) mod 2881. Stable per request. */
export function retentionSpreadMinutes(p: Primitives, key: Uint8Array, requestId: Uint8Array): number {
  const h = p.blake2b(8, requestId, { key, personal: SPREAD_PERSONAL });
  const n = new DataView(h.buffer, h.byteOffset, h.byteLength).getUint32(0);
  return n % (MAX_SPREAD_MINUTES + 1);
}

export async function runRetention(
  db: Kysely<Database>,
  p: Primitives,
  a: { serverSecret: Uint8Array; config: Pick<Config, 'sessionIdleMinutes' | 'sessionMaxHours'>; now?: Date },
): Promise<RetentionResult> {
  const now = a.now ?? new Date();
  const days = (await repo.retentionDays(db)) ?? DEFAULT_CLOSED_RETENTION_DAYS;
  const keepMs = days * 86_400_000;
  const key = retentionKey(p, a.serverSecret);
  // The spread only ever adds time, so every due request is older than N days.
  const candidates = await repo.closedRequestsBefore(db, new Date(now.getTime() - keepMs));
  const due = candidates
    .filter((c) => c.updatedHour.getTime() + keepMs + retentionSpreadMinutes(p, key, c.id) * 60_000 <= now.getTime())
    .map((c) => c.id);
  const result: RetentionResult = { requests: 0, messages: 0, attachments: 0, sessions: 0, challenges: 0, vacuumed: 0 };
  for (let i = 0; i < due.length; i += DELETE_CHUNK) {
    const r = await repo.deleteClosedRequests(db, due.slice(i, i + DELETE_CHUNK));
    result.requests += r.requests;
    result.messages += r.messages;
    result.attachments += r.attachments;
  }
  result.sessions = await repo.deleteExpiredSessions(
    db,
    new Date(now.getTime() - a.config.sessionIdleMinutes * 60_000),
    new Date(now.getTime() - a.config.sessionMaxHours * 3_600_000),
  );
  result.challenges = await repo.deleteSpentChallenges(db, now);
  // Deleted rows stay in their pages until a vacuum; do it now for what this run deleted
  // rather than whenever autovacuum's thresholds are next crossed.
  const touched: repo.RetentionTable[] = [];
  if (result.requests > 0) touched.push('requests');
  if (result.messages > 0) touched.push('messages');
  if (result.attachments > 0) touched.push('attachments');
  if (result.sessions > 0) touched.push('sessions');
  if (result.challenges > 0) touched.push('pow_spent');
  await repo.vacuumTables(db, touched);
  result.vacuumed = touched.length;
  return result;
}

/**
 * Runs retention hourly (first run a minute after start). @returns stop(). Failures are logged
 * by class only and retried at the next tick.
 */
export function startRetentionJob(
  db: Kysely<Database>,
  p: Primitives,
  a: { serverSecret: Uint8Array; config: Pick<Config, 'sessionIdleMinutes' | 'sessionMaxHours'>; logger: Logger; intervalMs?: number },
): () => void {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const r = await runRetention(db, p, a);
      if (r.requests + r.sessions + r.challenges > 0) a.logger.info('retention', { ...r });
    } catch (err) {
      a.logger.warn('retention_failed', { kind: err instanceof Error ? err.name : 'unknown' });
    } finally {
      running = false;
    }
  };
  const first = setTimeout(() => void tick(), 60_000);
  const timer = setInterval(() => void tick(), a.intervalMs ?? 3_600_000);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
