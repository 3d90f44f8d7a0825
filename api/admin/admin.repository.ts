/**
 * Database access for the admin features: accounts and their approval or removal, teams and
 * their key epochs, grants, the re-wrap walk, root-seed wraps, the audit log, settings, and
 * the retention sweep. Functions that must run inside a transaction take a `Transaction`.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { AccountRole, AccountStatus, Database, EpochState, MessageKindName, SecondFactorPolicy } from '../db/schema.ts';

type Db = Kysely<Database> | Transaction<Database>;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// ---- organisation

export async function findOrganisationId(db: Db): Promise<Uint8Array | null> {
  const row = await db.selectFrom('organisations').select('id').orderBy('created_hour').limit(1).executeTakeFirst();
  return row?.id ?? null;
}

/** Takes the organisation table lock and tells whether any organisation (real or demo) exists. */
export async function lockOrganisations(trx: Transaction<Database>): Promise<{ real: number; demo: number }> {
  await sql`lock table organisations in exclusive mode`.execute(trx);
  const rows = await trx.selectFrom('organisations').select('is_demo').execute();
  return { real: rows.filter((r) => !r.is_demo).length, demo: rows.filter((r) => r.is_demo).length };
}

export async function insertOrganisation(trx: Transaction<Database>, o: { id: Uint8Array; name: string; hour: Date }): Promise<void> {
  await trx.insertInto('organisations').values({ id: o.id, name: o.name, is_demo: false, created_hour: o.hour }).execute();
}

// ---- accounts

export interface AdminAccount {
  id: Uint8Array;
  username: string;
  role: AccountRole;
  status: AccountStatus;
  encPublicKey: Uint8Array;
  signPublicKey: Uint8Array;
  certificate: Uint8Array | null;
  createdHour: Date;
  teamIds: Uint8Array[];
  invitedTeamIds: Uint8Array[];
  /** The signed invitation the account enrolled with and its signer's certificate (v2), else null. */
  invitation: { statement: Uint8Array; inviterCertificate: Uint8Array | null } | null;
  hasRootWrap: boolean;
}

const accountColumns = ['id', 'username', 'role', 'status', 'enc_public_key', 'sign_public_key', 'certificate', 'created_hour'] as const;

export async function listAccounts(db: Db): Promise<AdminAccount[]> {
  const rows = await db.selectFrom('accounts').select(accountColumns).orderBy('username').execute();
  const members = await db.selectFrom('team_members').select(['team_id', 'account_id']).execute();
  const invited = await db
    .selectFrom('invitation_teams')
    .innerJoin('invitations', 'invitations.code_hash', 'invitation_teams.code_hash')
    .select(['invitations.account_id', 'invitation_teams.team_id'])
    .where('invitations.account_id', 'is not', null)
    .execute();
  const wraps = new Set((await db.selectFrom('root_wraps').select('account_id').execute()).map((r) => hex(r.account_id)));
  const statements = new Map(
    (
      await db
        .selectFrom('invitations')
        .leftJoin('accounts as inviter', 'inviter.id', 'invitations.inviter_id')
        .select(['invitations.account_id', 'invitations.statement', 'inviter.certificate as inviterCertificate'])
        .where('invitations.account_id', 'is not', null)
        .where('invitations.statement', 'is not', null)
        .execute()
    ).map((i) => [hex(i.account_id!), { statement: i.statement!, inviterCertificate: i.inviterCertificate }]),
  );
  return rows.map((r) => ({
    id: r.id, username: r.username, role: r.role, status: r.status, encPublicKey: r.enc_public_key, signPublicKey: r.sign_public_key,
    certificate: r.certificate, createdHour: r.created_hour,
    teamIds: members.filter((m) => hex(m.account_id) === hex(r.id)).map((m) => m.team_id),
    invitedTeamIds: invited.filter((i) => i.account_id && hex(i.account_id) === hex(r.id)).map((i) => i.team_id),
    invitation: statements.get(hex(r.id)) ?? null,
    hasRootWrap: wraps.has(hex(r.id)),
  }));
}

export interface LockedAccount {
  id: Uint8Array;
  role: AccountRole;
  status: AccountStatus;
  encPublicKey: Uint8Array;
  signPublicKey: Uint8Array;
  certificate: Uint8Array | null;
}

/** Locks one account row for this transaction. @returns null when there is none. */
export async function lockAccount(trx: Transaction<Database>, id: Uint8Array): Promise<LockedAccount | null> {
  const r = await trx
    .selectFrom('accounts')
    .select(['id', 'role', 'status', 'enc_public_key', 'sign_public_key', 'certificate'])
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return r ? { id: r.id, role: r.role, status: r.status, encPublicKey: r.enc_public_key, signPublicKey: r.sign_public_key, certificate: r.certificate } : null;
}

export async function activateAccount(trx: Transaction<Database>, id: Uint8Array, certificate: Uint8Array, role: AccountRole): Promise<void> {
  await trx.updateTable('accounts').set({ status: 'active', certificate, role }).where('id', '=', id).execute();
}

/**
 * Marks an account removed and deletes everything that gives it access: grants, sessions,
 * memberships and its root wrap. @returns the teams it was a member of or held grants for.
 */
export async function removeAccountAccess(trx: Transaction<Database>, id: Uint8Array): Promise<Uint8Array[]> {
  const member = await trx.selectFrom('team_members').select('team_id').where('account_id', '=', id).execute();
  const granted = await trx.selectFrom('grants').select('team_id').where('account_id', '=', id).execute();
  await trx.deleteFrom('grants').where('account_id', '=', id).execute();
  await trx.deleteFrom('sessions').where('account_id', '=', id).execute();
  await trx.deleteFrom('team_members').where('account_id', '=', id).execute();
  await trx.deleteFrom('root_wraps').where('account_id', '=', id).execute();
  await trx.updateTable('accounts').set({ status: 'removed' }).where('id', '=', id).execute();
  const teams = new Map<string, Uint8Array>();
  for (const r of [...member, ...granted]) teams.set(hex(r.team_id), r.team_id);
  return [...teams.values()];
}

/** Teams the account is a member of or holds grants for. */
export async function teamsOfAccount(db: Db, accountId: Uint8Array): Promise<Uint8Array[]> {
  const member = await db.selectFrom('team_members').select('team_id').where('account_id', '=', accountId).execute();
  const granted = await db.selectFrom('grants').select('team_id').where('account_id', '=', accountId).execute();
  const teams = new Map<string, Uint8Array>();
  for (const r of [...member, ...granted]) teams.set(hex(r.team_id), r.team_id);
  return [...teams.values()];
}

/** The signed invitation statement an account enrolled with, or null (none, or made before v2). */
export async function invitationStatementOf(trx: Transaction<Database>, accountId: Uint8Array): Promise<Uint8Array | null> {
  const r = await trx.selectFrom('invitations').select('statement').where('account_id', '=', accountId).executeTakeFirst();
  return r?.statement ?? null;
}

// ---- invitations

/** Stores a v2 invitation (statement already verified) with the teams it names. */
export async function insertInvitation(
  trx: Transaction<Database>,
  i: { codeHash: Uint8Array; role: AccountRole; teamIds: Uint8Array[]; expiresHour: Date; hour: Date; statement: Uint8Array; inviterId: Uint8Array },
): Promise<void> {
  await trx
    .insertInto('invitations')
    .values({ code_hash: i.codeHash, role: i.role, expires_hour: i.expiresHour, account_id: null, created_hour: i.hour, statement: i.statement, inviter_id: i.inviterId })
    .execute();
  if (i.teamIds.length > 0) {
    await trx.insertInto('invitation_teams').values(i.teamIds.map((team_id) => ({ code_hash: i.codeHash, team_id }))).execute();
  }
}

export async function invitationExists(trx: Transaction<Database>, codeHash: Uint8Array): Promise<boolean> {
  return (await trx.selectFrom('invitations').select('code_hash').where('code_hash', '=', codeHash).executeTakeFirst()) !== undefined;
}

export async function countTeams(trx: Transaction<Database>, ids: Uint8Array[]): Promise<number> {
  if (ids.length === 0) return 0;
  const row = await trx.selectFrom('teams').select((eb) => eb.fn.countAll<string>().as('n')).where('id', 'in', ids).executeTakeFirstOrThrow();
  return Number(row.n);
}

// ---- root wraps

export async function findRootWrap(db: Db, accountId: Uint8Array): Promise<Uint8Array | null> {
  const r = await db.selectFrom('root_wraps').select('sealed').where('account_id', '=', accountId).executeTakeFirst();
  return r?.sealed ?? null;
}

export async function upsertRootWrap(trx: Transaction<Database>, accountId: Uint8Array, sealed: Uint8Array, hour: Date): Promise<void> {
  await trx
    .insertInto('root_wraps')
    .values({ account_id: accountId, sealed, created_hour: hour })
    .onConflict((oc) => oc.column('account_id').doUpdateSet({ sealed, created_hour: hour }))
    .execute();
}

// ---- teams, epochs, membership, grants

export interface EpochRecord {
  epoch: number;
  state: EpochState;
  publicKey: Uint8Array;
  certificate: Uint8Array;
  createdHour: Date;
}

export interface AdminTeam {
  id: Uint8Array;
  slug: string;
  name: string;
  position: number;
  createdHour: Date;
  epochs: EpochRecord[];
  memberIds: Uint8Array[];
  /** a member left (or was removed) since the last rotation: the team must rotate */
  rotationRequired: boolean;
}

function toEpoch(r: { epoch: number; state: EpochState; public_key: Uint8Array; certificate: Uint8Array; created_hour: Date }): EpochRecord {
  return { epoch: r.epoch, state: r.state, publicKey: r.public_key, certificate: r.certificate, createdHour: r.created_hour };
}

export async function listTeams(db: Db): Promise<AdminTeam[]> {
  const teams = await db.selectFrom('teams').select(['id', 'slug', 'name', 'position', 'created_hour', 'rotation_required']).orderBy('position').orderBy('slug').execute();
  const epochs = await db.selectFrom('team_epochs').select(['team_id', 'epoch', 'state', 'public_key', 'certificate', 'created_hour']).orderBy('epoch').execute();
  const members = await db
    .selectFrom('team_members')
    .innerJoin('accounts', 'accounts.id', 'team_members.account_id')
    .select(['team_members.team_id', 'team_members.account_id'])
    .where('accounts.status', '=', 'active')
    .execute();
  return teams.map((t) => ({
    id: t.id, slug: t.slug, name: t.name, position: t.position, createdHour: t.created_hour, rotationRequired: t.rotation_required,
    epochs: epochs.filter((e) => hex(e.team_id) === hex(t.id)).map(toEpoch),
    memberIds: members.filter((m) => hex(m.team_id) === hex(t.id)).map((m) => m.account_id),
  }));
}

export async function grantsOf(db: Db, accountId: Uint8Array): Promise<{ teamId: Uint8Array; epoch: number; sealed: Uint8Array }[]> {
  const rows = await db.selectFrom('grants').select(['team_id', 'epoch', 'sealed']).where('account_id', '=', accountId).orderBy('epoch').execute();
  return rows.map((r) => ({ teamId: r.team_id, epoch: r.epoch, sealed: r.sealed }));
}

/** Locks a team's epoch rows (so no rotation or retirement runs alongside). @returns null for an unknown team. */
export async function lockTeam(trx: Transaction<Database>, teamId: Uint8Array): Promise<{ epochs: EpochRecord[] } | null> {
  const team = await trx.selectFrom('teams').select('id').where('id', '=', teamId).forUpdate().executeTakeFirst();
  if (!team) return null;
  const epochs = await trx
    .selectFrom('team_epochs')
    .select(['epoch', 'state', 'public_key', 'certificate', 'created_hour'])
    .where('team_id', '=', teamId)
    .orderBy('epoch')
    .forUpdate()
    .execute();
  return { epochs: epochs.map(toEpoch) };
}

/** Active members of a team (locked with the team by the caller). */
export async function activeMemberIds(trx: Transaction<Database>, teamId: Uint8Array): Promise<Uint8Array[]> {
  const rows = await trx
    .selectFrom('team_members')
    .innerJoin('accounts', 'accounts.id', 'team_members.account_id')
    .select('team_members.account_id')
    .where('team_members.team_id', '=', teamId)
    .where('accounts.status', '=', 'active')
    .execute();
  return rows.map((r) => r.account_id);
}

export async function insertTeam(
  trx: Transaction<Database>,
  t: { id: Uint8Array; organisationId: Uint8Array; slug: string; name: string; position: number; hour: Date },
): Promise<void> {
  await trx.insertInto('teams').values({ id: t.id, organisation_id: t.organisationId, slug: t.slug, name: t.name, position: t.position, created_hour: t.hour }).execute();
}

export async function nextTeamPosition(trx: Transaction<Database>): Promise<number> {
  const r = await trx.selectFrom('teams').select(sql<number>`coalesce(max(position), -1) + 1`.as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function slugTaken(trx: Transaction<Database>, slug: string): Promise<boolean> {
  return (await trx.selectFrom('teams').select('id').where('slug', '=', slug).executeTakeFirst()) !== undefined;
}

export async function insertEpoch(
  trx: Transaction<Database>,
  e: { teamId: Uint8Array; epoch: number; publicKey: Uint8Array; certificate: Uint8Array; state: EpochState; hour: Date },
): Promise<void> {
  await trx.insertInto('team_epochs').values({ team_id: e.teamId, epoch: e.epoch, public_key: e.publicKey, certificate: e.certificate, state: e.state, created_hour: e.hour }).execute();
}

/**
 * Marks teams as having to rotate (a member left: they may hold the epoch secret) or clears
 * the mark (a rotation). Kept in the database so "rotation due" survives signing out.
 */
export async function setRotationRequired(trx: Transaction<Database>, teamIds: Uint8Array[], required: boolean): Promise<void> {
  if (teamIds.length === 0) return;
  await trx.updateTable('teams').set({ rotation_required: required }).where('id', 'in', teamIds).execute();
}

export async function setEpochState(trx: Transaction<Database>, teamId: Uint8Array, epoch: number, state: EpochState): Promise<void> {
  await trx.updateTable('team_epochs').set({ state }).where('team_id', '=', teamId).where('epoch', '=', epoch).execute();
}

/** Replaces the stored key statement of an epoch (a renewal: same key, newer statement). */
export async function setEpochCertificate(trx: Transaction<Database>, teamId: Uint8Array, epoch: number, certificate: Uint8Array): Promise<void> {
  await trx.updateTable('team_epochs').set({ certificate }).where('team_id', '=', teamId).where('epoch', '=', epoch).execute();
}

/**
 * The current epoch's stored key of every team (for the serial floor rendered into the pages).
 * The caller reads the serial from the bytes: v1 certificates have none.
 */
export async function currentTeamKeys(db: Db): Promise<{ teamId: Uint8Array; certificate: Uint8Array }[]> {
  const rows = await db.selectFrom('team_epochs').select(['team_id', 'certificate']).where('state', '=', 'current').execute();
  return rows.map((r) => ({ teamId: r.team_id, certificate: r.certificate }));
}

export async function addMember(trx: Transaction<Database>, teamId: Uint8Array, accountId: Uint8Array): Promise<void> {
  await trx.insertInto('team_members').values({ team_id: teamId, account_id: accountId }).onConflict((oc) => oc.doNothing()).execute();
}

export async function isMember(trx: Transaction<Database>, teamId: Uint8Array, accountId: Uint8Array): Promise<boolean> {
  return (await trx.selectFrom('team_members').select('team_id').where('team_id', '=', teamId).where('account_id', '=', accountId).executeTakeFirst()) !== undefined;
}

/** Removes a member and every grant it held for the team. */
export async function removeMember(trx: Transaction<Database>, teamId: Uint8Array, accountId: Uint8Array): Promise<void> {
  await trx.deleteFrom('grants').where('team_id', '=', teamId).where('account_id', '=', accountId).execute();
  await trx.deleteFrom('team_members').where('team_id', '=', teamId).where('account_id', '=', accountId).execute();
}

export async function insertGrants(trx: Transaction<Database>, rows: { teamId: Uint8Array; epoch: number; accountId: Uint8Array; sealed: Uint8Array }[]): Promise<void> {
  if (rows.length === 0) return;
  await trx
    .insertInto('grants')
    .values(rows.map((g) => ({ team_id: g.teamId, epoch: g.epoch, account_id: g.accountId, sealed: g.sealed })))
    .onConflict((oc) => oc.columns(['team_id', 'epoch', 'account_id']).doUpdateSet((eb) => ({ sealed: eb.ref('excluded.sealed') })))
    .execute();
}

/** Deletes an account's grants of a team's epochs older than `epoch`. */
export async function deleteGrantsOfAccountBefore(trx: Transaction<Database>, teamId: Uint8Array, accountId: Uint8Array, epoch: number): Promise<void> {
  await trx.deleteFrom('grants').where('team_id', '=', teamId).where('account_id', '=', accountId).where('epoch', '<', epoch).execute();
}

export async function deleteGrantsOfEpoch(trx: Transaction<Database>, teamId: Uint8Array, epoch: number): Promise<void> {
  await trx.deleteFrom('grants').where('team_id', '=', teamId).where('epoch', '=', epoch).execute();
}

/** How many requests and messages of the team still depend on `epoch`. */
export async function countEpochReferences(db: Db, teamId: Uint8Array, epoch: number): Promise<number> {
  const r = await sql<{ n: string }>`
    select (select count(*) from requests where team_id = ${teamId} and epoch = ${epoch})
         + (select count(*) from messages m join requests r on r.id = m.request_id where r.team_id = ${teamId} and m.epoch = ${epoch}) as n`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

// ---- re-wrap

export interface RewrapItem {
  id: Uint8Array;
  requestId: Uint8Array;
  kind: MessageKindName;
  epoch: number;
  blob: Uint8Array;
}

/** A team's messages not at `currentEpoch`, in id order after `after`. */
export async function listStaleMessages(db: Db, teamId: Uint8Array, currentEpoch: number, after: Uint8Array | null, limit: number): Promise<RewrapItem[]> {
  let q = db
    .selectFrom('messages')
    .innerJoin('requests', 'requests.id', 'messages.request_id')
    .select(['messages.id', 'messages.request_id', 'messages.kind', 'messages.epoch', 'messages.blob'])
    .where('requests.team_id', '=', teamId)
    .where('messages.epoch', '<>', currentEpoch);
  if (after) q = q.where('messages.id', '>', after);
  const rows = await q.orderBy('messages.id').limit(limit).execute();
  return rows.map((r) => ({ id: r.id, requestId: r.request_id, kind: r.kind, epoch: r.epoch, blob: r.blob }));
}

export async function countStaleMessages(db: Db, teamId: Uint8Array, currentEpoch: number): Promise<number> {
  const r = await db
    .selectFrom('messages')
    .innerJoin('requests', 'requests.id', 'messages.request_id')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('requests.team_id', '=', teamId)
    .where('messages.epoch', '<>', currentEpoch)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Locks the named messages of a team for update. */
export async function lockMessages(trx: Transaction<Database>, teamId: Uint8Array, ids: Uint8Array[]): Promise<RewrapItem[]> {
  if (ids.length === 0) return [];
  const rows = await trx
    .selectFrom('messages')
    .innerJoin('requests', 'requests.id', 'messages.request_id')
    .select(['messages.id', 'messages.request_id', 'messages.kind', 'messages.epoch', 'messages.blob'])
    .where('requests.team_id', '=', teamId)
    .where('messages.id', 'in', ids)
    .forUpdate()
    .execute();
  return rows.map((r) => ({ id: r.id, requestId: r.request_id, kind: r.kind, epoch: r.epoch, blob: r.blob }));
}

/**
 * Moves messages to `epoch` with their re-wrapped blobs (one statement for the batch), and the
 * requests whose request message moved.
 */
export async function rewriteMessages(
  trx: Transaction<Database>,
  epoch: number,
  items: { id: Uint8Array; requestId: Uint8Array; kind: MessageKindName; blob: Uint8Array }[],
): Promise<void> {
  if (items.length === 0) return;
  const values = sql.join(items.map((m) => sql`(${m.id}::bytea, ${m.blob}::bytea)`));
  await sql`update messages set epoch = ${epoch}, blob = v.blob from (values ${values}) as v(id, blob) where messages.id = v.id`.execute(trx);
  const requestIds = items.filter((m) => m.kind === 'request').map((m) => m.requestId);
  if (requestIds.length > 0) await trx.updateTable('requests').set({ epoch }).where('id', 'in', requestIds).execute();
}

// ---- undecryptable requests

/**
 * Deletes requests that nobody has touched: status `new`, no message but the request itself.
 * Locks them first. @returns false (and deletes nothing) unless every id is such a request.
 */
export async function deleteUntouchedRequests(trx: Transaction<Database>, ids: Uint8Array[]): Promise<boolean> {
  const rows = await trx
    .selectFrom('requests')
    .select('id')
    .where('id', 'in', ids)
    .where('status', '=', 'new')
    .where((eb) => eb.not(eb.exists(eb.selectFrom('messages').select('messages.id').whereRef('messages.request_id', '=', 'requests.id').whereRef('messages.id', '<>', 'requests.id'))))
    .forUpdate()
    .execute();
  if (rows.length !== ids.length) return false;
  await trx.deleteFrom('messages').where('request_id', 'in', ids).execute();
  await trx.deleteFrom('requests').where('id', 'in', ids).execute();
  return true;
}

// ---- audit log

export interface AuditRow {
  seq: number;
  actorId: Uint8Array;
  entry: Uint8Array;
  prevHash: Uint8Array;
  hash: Uint8Array;
  signature: Uint8Array;
}

function toAudit(r: { seq: number; actor_id: Uint8Array; entry: Uint8Array; prev_hash: Uint8Array; hash: Uint8Array; signature: Uint8Array }): AuditRow {
  return { seq: Number(r.seq), actorId: r.actor_id, entry: r.entry, prevHash: r.prev_hash, hash: r.hash, signature: r.signature };
}

/**
 * Serialises appenders: the table lock makes every other appender wait until this
 * transaction ends, so "the head" read here stays the head until we insert.
 */
export async function lockAuditHead(trx: Transaction<Database>): Promise<{ seq: number; hash: Uint8Array } | null> {
  await sql`lock table audit_log in share row exclusive mode`.execute(trx);
  const r = await trx.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return r ? { seq: Number(r.seq), hash: r.hash } : null;
}

export async function auditHead(db: Db): Promise<{ seq: number; hash: Uint8Array } | null> {
  const r = await db.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return r ? { seq: Number(r.seq), hash: r.hash } : null;
}

export async function insertAudit(trx: Transaction<Database>, a: AuditRow): Promise<void> {
  await trx
    .insertInto('audit_log')
    .values({ seq: a.seq, actor_id: a.actorId, entry: a.entry, prev_hash: a.prevHash, hash: a.hash, signature: a.signature })
    .execute();
}

export async function listAudit(db: Db, afterSeq: number, limit: number): Promise<AuditRow[]> {
  const rows = await db.selectFrom('audit_log').selectAll().where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
  return rows.map(toAudit);
}

/** The stored certificates of these accounts, keyed by base64url(id) (the audit entry's "actor" form). */
export async function certificatesOf(db: Db, ids: Uint8Array[]): Promise<Map<string, Uint8Array>> {
  const unique = [...new Map(ids.map((id) => [hex(id), id])).values()];
  if (unique.length === 0) return new Map();
  const rows = await db.selectFrom('accounts').select(['id', 'certificate']).where('id', 'in', unique).execute();
  return new Map(rows.filter((r) => r.certificate).map((r) => [Buffer.from(r.id).toString('base64url'), r.certificate!]));
}

// ---- settings and retention

export async function retentionDays(db: Db): Promise<number | null> {
  const r = await db.selectFrom('settings').select('closed_retention_days').where('id', '=', 1).executeTakeFirst();
  return r?.closed_retention_days ?? null;
}

/** The organisation's second-factor policy (PROTOCOL 22.12), in the audited action's transaction. */
export async function setSecondFactorPolicy(trx: Transaction<Database>, policy: SecondFactorPolicy): Promise<void> {
  await trx.updateTable('organisations').set({ second_factor_policy: policy }).execute();
}

export async function setRetentionDays(trx: Transaction<Database>, days: number): Promise<void> {
  await trx
    .insertInto('settings')
    .values({ id: 1, closed_retention_days: days })
    .onConflict((oc) => oc.column('id').doUpdateSet({ closed_retention_days: days }))
    .execute();
}

export async function closedRequestsBefore(db: Db, before: Date): Promise<{ id: Uint8Array; updatedHour: Date }[]> {
  const rows = await db.selectFrom('requests').select(['id', 'updated_hour']).where('status', '=', 'closed').where('updated_hour', '<', before).execute();
  return rows.map((r) => ({ id: r.id, updatedHour: r.updated_hour }));
}

/**
 * Deletes requests (their messages and attachments go with them: ON DELETE CASCADE), but only if they are
 * still closed, so a request re-opened since the scan is kept. @returns how many went.
 */
export async function deleteClosedRequests(db: Kysely<Database>, ids: Uint8Array[]): Promise<{ requests: number; messages: number; attachments: number }> {
  if (ids.length === 0) return { requests: 0, messages: 0, attachments: 0 };
  return db.transaction().execute(async (trx) => {
    // Explicit (the cascade would take them too) so the run can count and vacuum what went.
    const files = await trx
      .deleteFrom('attachments')
      .where('request_id', 'in', trx.selectFrom('requests').select('id').where('id', 'in', ids).where('status', '=', 'closed'))
      .executeTakeFirst();
    const msgs = await trx
      .deleteFrom('messages')
      .where('request_id', 'in', trx.selectFrom('requests').select('id').where('id', 'in', ids).where('status', '=', 'closed'))
      .executeTakeFirst();
    const reqs = await trx.deleteFrom('requests').where('id', 'in', ids).where('status', '=', 'closed').executeTakeFirst();
    return { requests: Number(reqs.numDeletedRows), messages: Number(msgs.numDeletedRows), attachments: Number(files.numDeletedRows) };
  });
}

export async function deleteExpiredSessions(db: Kysely<Database>, idleBefore: Date, createdBefore: Date): Promise<number> {
  const r = await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('last_seen_at', '<=', idleBefore), eb('created_at', '<=', createdBefore)]))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** The tables retention deletes from. */
export type RetentionTable = 'requests' | 'messages' | 'attachments' | 'sessions' | 'pow_spent';

/**
 * VACUUMs the given tables (outside any transaction, as VACUUM requires): the dead rows'
 * space is marked free and their index entries go, so the pages stop carrying deleted rows
 * as live-looking history until some later autovacuum. It does not scrub bytes already on
 * disk, in the WAL or in backups (docs/THREAT-MODEL.md, "Metadata at rest").
 */
export async function vacuumTables(db: Kysely<Database>, tables: readonly RetentionTable[]): Promise<void> {
  if (tables.length === 0) return;
  await sql`vacuum ${sql.join(tables.map((t) => sql.table(t)))}`.execute(db);
}

export async function deleteSpentChallenges(db: Kysely<Database>, before: Date): Promise<number> {
  const r = await db.deleteFrom('pow_spent').where('expires_hour', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}
