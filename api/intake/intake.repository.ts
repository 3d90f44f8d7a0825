/** Database access for the requester side: organisation, teams, requests, threads, spent proofs. */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, MessageKindName } from '../db/schema.ts';

export interface OrganisationRecord {
  id: Uint8Array;
  name: string;
}

export interface IntakeTeam {
  id: Uint8Array;
  slug: string;
  name: string;
  epoch: number;
  publicKey: Uint8Array;
  certificate: Uint8Array;
}

export interface StoredMessage {
  id: Uint8Array;
  kind: MessageKindName;
  position: number;
  blob: Uint8Array;
}

export async function findOrganisation(db: Kysely<Database>): Promise<OrganisationRecord | null> {
  const row = await db.selectFrom('organisations').select(['id', 'name']).orderBy('created_hour').limit(1).executeTakeFirst();
  return row ? { id: row.id, name: row.name } : null;
}

export async function listTeamsWithCurrentEpoch(db: Kysely<Database>): Promise<IntakeTeam[]> {
  const rows = await db
    .selectFrom('teams')
    .innerJoin('team_epochs', 'team_epochs.team_id', 'teams.id')
    .where('team_epochs.state', '=', 'current')
    .select(['teams.id', 'teams.slug', 'teams.name', 'team_epochs.epoch', 'team_epochs.public_key', 'team_epochs.certificate'])
    .orderBy('teams.position')
    .orderBy('teams.slug')
    .execute();
  return rows.map((r) => ({ id: r.id, slug: r.slug, name: r.name, epoch: r.epoch, publicKey: r.public_key, certificate: r.certificate }));
}

/** The current epoch number of a team, or null for an unknown team. */
export async function findCurrentEpoch(db: Kysely<Database>, teamId: Uint8Array): Promise<number | null> {
  const row = await db
    .selectFrom('team_epochs')
    .select('epoch')
    .where('team_id', '=', teamId)
    .where('state', '=', 'current')
    .executeTakeFirst();
  return row?.epoch ?? null;
}

/** Records a challenge as used. @returns false when it was already spent (a replay). */
export async function spendChallenge(trx: Transaction<Database>, challengeId: Uint8Array, expiresHour: Date): Promise<boolean> {
  const inserted = await trx
    .insertInto('pow_spent')
    .values({ challenge_id: challengeId, expires_hour: expiresHour })
    .onConflict((oc) => oc.column('challenge_id').doNothing())
    .returning('challenge_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export interface IntakeTargets {
  organisationId: Uint8Array | null;
  /** Current epoch by team (`bytesKey` of the team id); unknown teams are absent. */
  currentEpochs: Map<string, number>;
  /**
   * Teams that exist but whose current epoch changed while this transaction waited for the
   * rotation holding it (`bytesKey`): their submissions are stale, not addressed to an unknown team.
   */
  rotatingTeams: Set<string>;
}

/**
 * The organisation and the current epoch of each given team, in one round trip (a group
 * commit runs this once per batch, inside its transaction).
 *
 * Threat it closes (issue 13, "rotation can lose a record"): the epoch rows are share-locked
 * until the caller's transaction ends. A rotation locks them for update, so it waits for every
 * write that checked the old epoch to commit (its record is then visible to the re-wrap and to
 * the retire count), and a write that starts after the rotation sees the old epoch no longer
 * current (PostgreSQL re-reads a locked row once the lock holder commits) and is refused as
 * stale. Without the lock a record checked against epoch n before the rotation but committed
 * after the re-wrap and the retirement stayed wrapped only to the retired epoch.
 */
export async function findIntakeTargets(db: Kysely<Database> | Transaction<Database>, teamIds: readonly Uint8Array[]): Promise<IntakeTargets> {
  const { rows } = await sql<{ org_id: Uint8Array; team_id: Uint8Array | null; epoch: number | null; state: string | null }>`
    select o.id as org_id, e.team_id, e.epoch, e.state
    from (select id from organisations order by created_hour limit 1) o
    left join lateral (
      select team_id, epoch, state from team_epochs
      where state <> 'retired' and team_id in (${sql.join(teamIds.length > 0 ? [...teamIds] : [null])})
      order by team_id, epoch
      for share
    ) e on true`.execute(db);
  const currentEpochs = new Map<string, number>();
  const rotatingTeams = new Set<string>();
  for (const r of rows) {
    if (r.team_id === null || r.epoch === null) continue;
    if (r.state === 'current') currentEpochs.set(bytesKey(r.team_id), r.epoch);
    else rotatingTeams.add(bytesKey(r.team_id));
  }
  for (const t of currentEpochs.keys()) rotatingTeams.delete(t);
  return { organisationId: rows[0]?.org_id ?? null, currentEpochs, rotatingTeams };
}

export interface ChallengeToSpend {
  challengeId: Uint8Array;
  expiresHour: Date;
}

/**
 * Records many challenges as used in one statement.
 * @returns the ids (as `bytesKey`) that were spent now; an id missing was already spent (a replay).
 */
export async function spendChallenges(trx: Transaction<Database>, challenges: readonly ChallengeToSpend[]): Promise<Set<string>> {
  if (challenges.length === 0) return new Set();
  const rows = await trx
    .insertInto('pow_spent')
    .values(challenges.map((c) => ({ challenge_id: c.challengeId, expires_hour: c.expiresHour })))
    .onConflict((oc) => oc.column('challenge_id').doNothing())
    .returning('challenge_id')
    .execute();
  return new Set(rows.map((r) => bytesKey(r.challenge_id)));
}

/**
 * Inserts many new requests and their first messages in one statement (the message insert
 * rides on a data-modifying CTE; foreign keys are checked at the statement's end).
 * @throws the database's unique violation (23505) when any id or lookup hash is taken.
 */
export async function insertRequests(trx: Transaction<Database>, requests: readonly NewRequest[]): Promise<void> {
  if (requests.length === 0) return;
  await trx
    .with('inserted_requests', (db) =>
      db
        .insertInto('requests')
        .values(requests.map((r) => ({ id: r.id, team_id: r.teamId, epoch: r.epoch, lookup_hash: r.lookupHash, created_hour: r.hour, updated_hour: r.hour })))
        .returning('id'),
    )
    .insertInto('messages')
    .values(requests.map((r) => ({ id: r.id, request_id: r.id, position: r.position ?? V1_REQUEST_POSITION, kind: 'request' as const, epoch: r.epoch, author_id: null, blob: r.blob, created_hour: r.hour })))
    .execute();
}

/** A map key for bytes (ids, hashes): equal bytes give equal keys. Not for secrets. */
export function bytesKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

export async function deleteExpiredChallenges(db: Kysely<Database>, before: Date): Promise<void> {
  await db.deleteFrom('pow_spent').where('expires_hour', '<', before).execute();
}

export interface NewRequest {
  id: Uint8Array;
  teamId: Uint8Array;
  epoch: number;
  lookupHash: Uint8Array;
  blob: Uint8Array;
  hour: Date;
  /** The position in the blob's header (0 for a v2 request); absent for a v1 blob, which has none. */
  position?: number;
}

/** Where a v1 request sits: v1 blobs carry no position, and v1 threads started at 1. */
export const V1_REQUEST_POSITION = 1;

export async function insertRequest(trx: Transaction<Database>, r: NewRequest): Promise<void> {
  await trx
    .insertInto('requests')
    .values({ id: r.id, team_id: r.teamId, epoch: r.epoch, lookup_hash: r.lookupHash, created_hour: r.hour, updated_hour: r.hour })
    .execute();
  await trx
    .insertInto('messages')
    .values({ id: r.id, request_id: r.id, position: r.position ?? V1_REQUEST_POSITION, kind: 'request', epoch: r.epoch, author_id: null, blob: r.blob, created_hour: r.hour })
    .execute();
}

export interface ThreadRef {
  id: Uint8Array;
  teamId: Uint8Array;
}

export async function findRequestByLookupHash(db: Kysely<Database>, lookupHash: Uint8Array): Promise<ThreadRef | null> {
  const row = await db.selectFrom('requests').select(['id', 'team_id']).where('lookup_hash', '=', lookupHash).executeTakeFirst();
  return row ? { id: row.id, teamId: row.team_id } : null;
}

/** The messages a requester may read: theirs and the replies, never notes or tags. */
export async function listRequesterMessages(db: Kysely<Database>, requestId: Uint8Array): Promise<StoredMessage[]> {
  const rows = await db
    .selectFrom('messages')
    .select(['id', 'kind', 'position', 'blob'])
    .where('request_id', '=', requestId)
    .where('kind', 'in', ['request', 'followup', 'reply'])
    .orderBy('position')
    .execute();
  return rows;
}

/**
 * The position the next message of a thread must carry: max + 1 over EVERY kind (notes and tags
 * included), or 0 for an unknown id, after the same one query either way.
 */
export async function nextPosition(db: Kysely<Database>, requestId: Uint8Array): Promise<number> {
  const row = await db
    .selectFrom('messages')
    .select(sql<number | null>`max(position)`.as('max'))
    .where('request_id', '=', requestId)
    .executeTakeFirst();
  return row?.max === null || row?.max === undefined ? 0 : Number(row.max) + 1;
}

export interface NewMessage {
  id: Uint8Array;
  requestId: Uint8Array;
  /** the position signed into the blob's header; must be the thread's max + 1 */
  position: number;
  kind: MessageKindName;
  epoch: number;
  authorId: Uint8Array | null;
  blob: Uint8Array;
  hour: Date;
}

/** What `appendMessage` did. */
export type AppendOutcome = 'appended' | 'position_taken' | 'stale_epoch';

/**
 * Appends to a thread at exactly `m.position`, which must be the thread's max + 1. The row lock
 * on the request serialises concurrent appends, so two messages signed for the same position
 * cannot both land, and a message can never fill a gap or take an old position (a replay).
 * The epoch row the message is sealed to is share-locked first and must still be current (see
 * `findIntakeTargets`: a rotation waits for this write, or this write sees the rotation); it is
 * locked before the request row, in the order rotation and re-wrap lock them, so the two never
 * deadlock.
 * @returns 'position_taken' or 'stale_epoch' (and writes nothing) when the position is not the
 *   next one or the epoch is no longer the team's current one.
 */
export async function appendMessage(trx: Transaction<Database>, m: NewMessage): Promise<AppendOutcome> {
  const epoch = await sql<{ state: string }>`
    select e.state from team_epochs e
    where e.team_id = (select team_id from requests where id = ${m.requestId}) and e.epoch = ${m.epoch}
    for share of e`.execute(trx);
  if (epoch.rows[0]?.state !== 'current') return 'stale_epoch';
  await sql`select 1 from requests where id = ${m.requestId} for update`.execute(trx);
  const next = await trx
    .selectFrom('messages')
    .select(sql<number>`coalesce(max(position), 0) + 1`.as('position'))
    .where('request_id', '=', m.requestId)
    .executeTakeFirstOrThrow();
  if (Number(next.position) !== m.position) return 'position_taken';
  await trx
    .insertInto('messages')
    .values({ id: m.id, request_id: m.requestId, position: m.position, kind: m.kind, epoch: m.epoch, author_id: m.authorId, blob: m.blob, created_hour: m.hour })
    .execute();
  // A new message is new activity: the request moves to the top of every list (migration 0013).
  await trx.updateTable('requests').set({ updated_hour: m.hour, activity: sql<string>`nextval('request_activity_seq')` }).where('id', '=', m.requestId).execute();
  return 'appended';
}
