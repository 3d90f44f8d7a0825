/** Database access for the requester side: organisation, teams, requests, threads, spent proofs. */
import { CompiledQuery, sql, type Kysely, type Transaction } from 'kysely';
import type { Database, MessageKindName } from '../db/schema.ts';
import { preparedStatement } from '../db/prepared.ts';

export interface OrganisationRecord {
  id: Uint8Array;
  name: string;
}

export interface IntakeTeam {
  id: Uint8Array;
  slug: string;
  name: string;
  /** display names by page language (migrations/0011), only string values kept */
  names: Record<string, string>;
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

/** The string values of a JSON object column (a driver may hand back the text if not parsed). */
function stringValues(value: unknown): Record<string, string> {
  const obj = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  const out: Record<string, string> = {};
  if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
    for (const [k, v] of Object.entries(obj)) if (typeof v === 'string' && v !== '') out[k] = v;
  }
  return out;
}

export async function listTeamsWithCurrentEpoch(db: Kysely<Database>): Promise<IntakeTeam[]> {
  const rows = await db
    .selectFrom('teams')
    .innerJoin('team_epochs', 'team_epochs.team_id', 'teams.id')
    .where('team_epochs.state', '=', 'current')
    .select(['teams.id', 'teams.slug', 'teams.name', 'teams.display_names', 'team_epochs.epoch', 'team_epochs.public_key', 'team_epochs.certificate'])
    .orderBy('teams.position')
    .orderBy('teams.slug')
    .execute();
  return rows.map((r) => ({ id: r.id, slug: r.slug, name: r.name, names: stringValues(r.display_names), epoch: r.epoch, publicKey: r.public_key, certificate: r.certificate }));
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

/**
 * Records a challenge as used (requester proofs, and sign-in proofs: one table, random ids).
 * @returns false when it was already spent (a replay).
 */
export async function spendChallenge(db: Kysely<Database> | Transaction<Database>, challengeId: Uint8Array, expiresHour: Date): Promise<boolean> {
  const inserted = await db
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

/** One submission for `writeRequestBatch`: its envelope's header fields, the blob and the proof to spend. */
export interface BatchedRequest {
  orgId: Uint8Array;
  teamId: Uint8Array;
  epoch: number;
  id: Uint8Array;
  position: number;
  lookupHash: Uint8Array;
  blob: Uint8Array;
  challengeId: Uint8Array;
  expiresHour: Date;
}

/** What became of one `BatchedRequest`, in the order given. */
export interface BatchedOutcome {
  /** False when the envelope names another organisation; null when no organisation exists. */
  orgOk: boolean | null;
  /** The team's current epoch; null for an unknown team, or one whose epoch a rotation just replaced. */
  currentEpoch: number | null;
  /** Whether the team exists (tells a rotation that just committed from an unknown team). */
  teamExists: boolean;
  /** True when the request was stored (its proof spent now); false when the checks failed or the proof was already spent. */
  stored: boolean;
}

/**
 * Writes a batch of new requests in ONE statement, so one round trip and one commit (the
 * statement is its own transaction): the organisation and current-epoch checks, the spending
 * of each proof (`on conflict do nothing`: an id already there is a replay), and the request
 * and message rows of exactly the items that passed both. Data-modifying CTEs all run, once,
 * against one snapshot; foreign keys are checked at the statement's end.
 *
 * Challenge ids must be distinct within a batch (the caller fails repeats as replays).
 * @throws the database's unique violation (23505) when any id or lookup hash is taken; then
 * nothing of the batch is written.
 */
export async function writeRequestBatch(db: Kysely<Database>, items: readonly BatchedRequest[], hour: Date): Promise<BatchedOutcome[]> {
  if (items.length === 0) return [];
  const parameters: unknown[] = [hour];
  for (const r of items) for (const column of BATCH_COLUMNS) parameters.push(column.value(r));
  const { rows: result } = await db.executeQuery<{ n: number; org_ok: boolean | null; current_epoch: number | null; team_exists: boolean; stored: boolean }>(
    CompiledQuery.raw(batchStatement(items.length), parameters),
  );
  const outcomes: BatchedOutcome[] = items.map(() => ({ orgOk: null, currentEpoch: null, teamExists: false, stored: false }));
  for (const r of result) outcomes[r.n] = { orgOk: r.org_ok, currentEpoch: r.current_epoch, teamExists: r.team_exists, stored: r.stored };
  return outcomes;
}

/** Each item's columns in the batch statement, in parameter order: the one place that order is written. */
const BATCH_COLUMNS: readonly { name: string; type: string; value: (r: BatchedRequest) => unknown }[] = [
  { name: 'org_id', type: 'bytea', value: (r) => r.orgId },
  { name: 'team_id', type: 'bytea', value: (r) => r.teamId },
  { name: 'epoch', type: 'int', value: (r) => r.epoch },
  { name: 'id', type: 'bytea', value: (r) => r.id },
  { name: 'position', type: 'int', value: (r) => r.position },
  { name: 'lookup_hash', type: 'bytea', value: (r) => r.lookupHash },
  { name: 'blob', type: 'bytea', value: (r) => r.blob },
  { name: 'challenge_id', type: 'bytea', value: (r) => r.challengeId },
  { name: 'expires_hour', type: 'timestamptz', value: (r) => r.expiresHour },
];

/** Statement text by batch size: it depends on nothing else, so it is built once per size. */
const batchStatements = new Map<number, string>();

/**
 * The statement of `writeRequestBatch` for `size` items: `$1` is the hour, then BATCH_COLUMNS
 * for each item. Casts on every row: a VALUES list takes its column types from the first row
 * only when the parameters are typed, and PGlite infers nothing from an untyped parameter.
 */
function batchStatement(size: number): string {
  const cached = batchStatements.get(size);
  if (cached !== undefined) return cached;
  const rows: string[] = [];
  for (let n = 0; n < size; n++) {
    const values = BATCH_COLUMNS.map((column, k) => `$${2 + n * BATCH_COLUMNS.length + k}::${column.type}`);
    rows.push(`(${n}::int, ${values.join(', ')})`);
  }
  const text = `
    with input (n, ${BATCH_COLUMNS.map((column) => column.name).join(', ')}) as (values ${rows.join(', ')}),
    current_epochs as (
      -- Share-locked until this statement's transaction ends: the rotation race of
      -- findIntakeTargets, closed here too (a rotation waits for this write; a write that waited
      -- for a rotation re-reads the row, finds it no longer current, and stores nothing).
      select team_id, epoch from team_epochs
      where state = 'current' and team_id in (select team_id from input)
      for share
    ),
    checked as (
      select i.*, (select o.id from organisations o order by o.created_hour limit 1) = i.org_id as org_ok, e.epoch as current_epoch,
        exists (select 1 from teams t where t.id = i.team_id) as team_exists
      from input i left join current_epochs e on e.team_id = i.team_id
    ),
    spent as (
      insert into pow_spent (challenge_id, expires_hour)
      select challenge_id, expires_hour from checked where org_ok and current_epoch = epoch
      on conflict (challenge_id) do nothing
      returning challenge_id
    ),
    passed as (select c.* from checked c join spent s on s.challenge_id = c.challenge_id),
    inserted_requests as (
      insert into requests (id, team_id, epoch, lookup_hash, created_hour, updated_hour)
      select id, team_id, epoch, lookup_hash, $1::timestamptz, $1::timestamptz from passed
    ),
    inserted_messages as (
      insert into messages (id, request_id, position, kind, epoch, author_id, blob, created_hour)
      select id, id, position, 'request', epoch, null, blob, $1::timestamptz from passed
    )
    select c.n, c.org_ok, c.current_epoch, c.team_exists, exists (select 1 from spent s where s.challenge_id = c.challenge_id) as stored
    from checked c`;
  batchStatements.set(size, preparedStatement(text));
  return text;
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

export interface ThreadState extends ThreadRef {
  /** the triage status (migrations/0002), as stored */
  status: string;
  /** the hour of the last change: retention counts from it once the request is closed */
  updatedHour: Date;
}

/** What a returning requester may learn about their own request besides its messages. */
export async function findRequestStateByLookupHash(db: Kysely<Database>, lookupHash: Uint8Array): Promise<ThreadState | null> {
  const row = await db.selectFrom('requests').select(['id', 'team_id', 'status', 'updated_hour']).where('lookup_hash', '=', lookupHash).executeTakeFirst();
  return row ? { id: row.id, teamId: row.team_id, status: row.status, updatedHour: new Date(row.updated_hour) } : null;
}

/** The configured days a closed request is kept (the same setting the retention job reads); null when unset. */
export async function closedRetentionDays(db: Kysely<Database>): Promise<number | null> {
  const r = await db.selectFrom('settings').select('closed_retention_days').where('id', '=', 1).executeTakeFirst();
  return r?.closed_retention_days ?? null;
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

/** An encrypted attachment that arrives with a request (PROTOCOL.md 10.2). */
export interface NewAttachment {
  id: Uint8Array;
  blob: Uint8Array;
}

/**
 * Stores a request's attachments, in the transaction that stores the request itself: nothing
 * is kept unless everything is.
 * @throws the database's unique violation (23505) when an attachment id is taken.
 */
export async function insertAttachments(trx: Transaction<Database>, requestId: Uint8Array, attachments: readonly NewAttachment[]): Promise<void> {
  // One row per statement: a single INSERT of several 8 MiB values would build one huge query.
  for (const a of attachments) {
    await trx.insertInto('attachments').values({ id: a.id, request_id: requestId, blob: a.blob }).execute();
  }
}
