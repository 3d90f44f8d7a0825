/**
 * Database access for the live dashboard (migration 0013): the request list ordered by last
 * activity with each row's unread mark for the reading account, the change counter a page
 * polls, and per-account read state. Activity values are an organisation-wide counter, never
 * times; only each request's latest value is kept.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, RequestStatus } from '../db/schema.ts';
import type { RequestSummary } from './account.repository.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface ActivityCursor {
  activity: number;
  id: Uint8Array;
}

export interface ActivityListItem extends RequestSummary {
  activity: number;
  /** the request changed since this account last opened it (never opened counts as unread) */
  unread: boolean;
  blob: Uint8Array;
}

/**
 * One page of the teams' requests, latest activity first (activity desc, id asc: keyset
 * pagination; a request that changes while someone pages moves to the top and may be seen
 * twice or, if it was below the cursor, at the next refresh: never lost from a fresh list).
 */
export async function listByActivity(
  db: Db,
  f: { accountId: Uint8Array; teamIds: Uint8Array[]; status?: RequestStatus; after?: ActivityCursor; limit: number },
): Promise<ActivityListItem[]> {
  if (f.teamIds.length === 0) return [];
  let q = db
    .selectFrom('requests')
    .innerJoin('messages', 'messages.id', 'requests.id')
    .leftJoin('request_reads', (j) => j.onRef('request_reads.request_id', '=', 'requests.id').on('request_reads.account_id', '=', f.accountId))
    .select([
      'requests.id', 'requests.team_id', 'requests.epoch', 'requests.status', 'requests.priority', 'requests.assignee_id',
      'requests.created_hour', 'requests.updated_hour', 'requests.activity', 'request_reads.seen_activity', 'messages.blob',
    ])
    .where('requests.team_id', 'in', f.teamIds);
  if (f.status) q = q.where('requests.status', '=', f.status);
  const after = f.after;
  if (after) {
    const a = String(after.activity);
    q = q.where((eb) => eb.or([eb('requests.activity', '<', a), eb.and([eb('requests.activity', '=', a), eb('requests.id', '>', after.id)])]));
  }
  const rows = await q.orderBy('requests.activity', 'desc').orderBy('requests.id', 'asc').limit(f.limit).execute();
  return rows.map((r) => ({
    id: r.id, teamId: r.team_id, epoch: r.epoch, status: r.status, priority: r.priority, assigneeId: r.assignee_id,
    createdHour: r.created_hour, updatedHour: r.updated_hour, activity: Number(r.activity),
    unread: r.seen_activity === null || Number(r.seen_activity) < Number(r.activity), blob: r.blob,
  }));
}

/**
 * What a page polls: the highest activity and the number of requests in the teams. Either
 * changes whenever anything the page lists changes (a new request or message, a triage
 * change, a deletion); neither says what.
 */
export async function changeMarker(db: Db, teamIds: Uint8Array[]): Promise<{ activity: number; count: number }> {
  if (teamIds.length === 0) return { activity: 0, count: 0 };
  const r = await db
    .selectFrom('requests')
    .select([sql<string | null>`max(activity)`.as('a'), sql<string>`count(*)`.as('n')])
    .where('team_id', 'in', teamIds)
    .executeTakeFirstOrThrow();
  return { activity: r.a === null ? 0 : Number(r.a), count: Number(r.n) };
}

/** The request's current activity value, or null for an unknown id. */
export async function activityOf(db: Db, requestId: Uint8Array): Promise<number | null> {
  const r = await db.selectFrom('requests').select('activity').where('id', '=', requestId).executeTakeFirst();
  return r ? Number(r.activity) : null;
}

/** Moves a request to the top: it changed now (a message, a triage change). */
export async function bumpActivity(db: Db, requestId: Uint8Array): Promise<void> {
  await db.updateTable('requests').set({ activity: sql<string>`nextval('request_activity_seq')` }).where('id', '=', requestId).execute();
}

/** Records that the account has seen the request up to `activity` (never lowers it). */
export async function markSeen(db: Db, accountId: Uint8Array, requestId: Uint8Array, activity: number): Promise<void> {
  await db
    .insertInto('request_reads')
    .values({ account_id: accountId, request_id: requestId, seen_activity: activity })
    .onConflict((oc) => oc.columns(['account_id', 'request_id']).doUpdateSet({ seen_activity: sql`greatest(request_reads.seen_activity, excluded.seen_activity)` }))
    .execute();
}
