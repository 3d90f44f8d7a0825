/**
 * Database access for the triage side: accounts, invitations, sessions, team membership,
 * grants, and the responder's view of requests and threads.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type {
  AccountRole, AccountStatus, Database, EpochState, MessageKindName, RequestPriority, RequestStatus, SecondFactorPolicy, SessionStage,
} from '../db/schema.ts';

export interface Account {
  id: Uint8Array;
  username: string;
  role: AccountRole;
  status: AccountStatus;
  certificate: Uint8Array | null;
}

export interface AccountLogin extends Account {
  salt: Uint8Array;
  verifierHash: Uint8Array;
  keyBundle: Uint8Array;
  /** Whether a TOTP secret is set (its value is read only by the TOTP check). */
  hasTotp: boolean;
  /** Whether the account has a passkey (migration 0018). */
  hasPasskey: boolean;
}

/** Stand-in column values for a name without an account: the same sizes as a real row's. */
export interface DecoyRow {
  id: Uint8Array;
  salt: Uint8Array;
  verifierHash: Uint8Array;
  keyBundle: Uint8Array;
  certificate: Uint8Array;
}

/**
 * The one query of a login attempt, shaped so a name without an account costs what a real one
 * costs: always exactly one row of the same columns and sizes (the decoy's values fill in
 * where no account matched), no second query, no write. Only `found` tells them apart, and
 * the caller does the same work either way.
 */
export async function findAccountForLogin(db: Kysely<Database>, username: string, decoy: DecoyRow): Promise<AccountLogin & { found: boolean }> {
  const r = await sql<{
    id: Uint8Array; username: string; role: AccountRole; status: AccountStatus; certificate: Uint8Array | null; salt: Uint8Array;
    verifier_hash: Uint8Array; key_bundle: Uint8Array; has_totp: boolean; has_passkey: boolean; found: boolean;
  }>`
    select coalesce(a.id, d.id) as id, coalesce(a.username, ${username}) as username, coalesce(a.role, 'responder') as role,
           coalesce(a.status, 'removed') as status, case when a.id is null then d.certificate else a.certificate end as certificate,
           coalesce(a.salt, d.salt) as salt, coalesce(a.verifier_hash, d.verifier_hash) as verifier_hash,
           coalesce(a.key_bundle, d.key_bundle) as key_bundle, coalesce(a.totp_secret is not null, false) as has_totp,
           exists (select 1 from passkeys k where k.account_id = a.id) as has_passkey, a.id is not null as found
      from (select ${decoy.id}::bytea as id, ${decoy.salt}::bytea as salt, ${decoy.verifierHash}::bytea as verifier_hash,
                   ${decoy.keyBundle}::bytea as key_bundle, ${decoy.certificate}::bytea as certificate) d
      left join accounts a on a.username = ${username}`.execute(db);
  const row = r.rows[0]!;
  return {
    id: row.id, username: row.username, role: row.role, status: row.status, certificate: row.certificate,
    salt: row.salt, verifierHash: row.verifier_hash, keyBundle: row.key_bundle, hasTotp: row.has_totp === true,
    hasPasskey: row.has_passkey === true, found: row.found === true,
  };
}

export interface NewAccount {
  id: Uint8Array;
  username: string;
  role: AccountRole;
  salt: Uint8Array;
  verifierHash: Uint8Array;
  keyBundle: Uint8Array;
  encPublicKey: Uint8Array;
  signPublicKey: Uint8Array;
  hour: Date;
}

/**
 * Inserts an account: pending (enrolment) without a certificate, or active with its
 * root-signed certificate (setup's first admin).
 */
export async function insertAccount(trx: Transaction<Database>, a: NewAccount & { certificate?: Uint8Array }): Promise<void> {
  await trx
    .insertInto('accounts')
    .values({
      id: a.id, username: a.username, role: a.role, status: a.certificate ? 'active' : 'pending', salt: a.salt,
      verifier_hash: a.verifierHash, key_bundle: a.keyBundle, enc_public_key: a.encPublicKey, sign_public_key: a.signPublicKey,
      certificate: a.certificate ?? null, totp_secret: null, created_hour: a.hour,
    })
    .execute();
}

// ---- invitations

/** Locks an unused, unexpired invitation for this transaction. @returns its role, or null. */
export async function lockInvitation(trx: Transaction<Database>, codeHash: Uint8Array, now: Date): Promise<AccountRole | null> {
  const row = await trx
    .selectFrom('invitations')
    .select('role')
    .where('code_hash', '=', codeHash)
    .where('used', '=', false)
    .where('expires_hour', '>', now)
    .forUpdate()
    .executeTakeFirst();
  return row?.role ?? null;
}

export async function markInvitationUsed(trx: Transaction<Database>, codeHash: Uint8Array, accountId: Uint8Array): Promise<void> {
  await trx.updateTable('invitations').set({ used: true, account_id: accountId }).where('code_hash', '=', codeHash).execute();
}

/** The team ids the account's invitation named (what the approving admin grants). */
export async function invitedTeamIds(db: Kysely<Database>, accountId: Uint8Array): Promise<Uint8Array[]> {
  const rows = await db
    .selectFrom('invitation_teams')
    .innerJoin('invitations', 'invitations.code_hash', 'invitation_teams.code_hash')
    .select('invitation_teams.team_id')
    .where('invitations.account_id', '=', accountId)
    .execute();
  return rows.map((r) => r.team_id);
}

// ---- sessions

export interface SessionRecord {
  account: Account;
  createdAt: Date;
  lastSeenAt: Date;
  stage: SessionStage;
}

export async function insertSession(db: Kysely<Database>, s: { tokenHash: Uint8Array; accountId: Uint8Array; minute: Date; stage: SessionStage }): Promise<void> {
  await db.insertInto('sessions').values({ token_hash: s.tokenHash, account_id: s.accountId, created_at: s.minute, last_seen_at: s.minute, stage: s.stage }).execute();
}

export async function findSession(db: Kysely<Database>, tokenHash: Uint8Array): Promise<SessionRecord | null> {
  const r = await db
    .selectFrom('sessions')
    .innerJoin('accounts', 'accounts.id', 'sessions.account_id')
    .select(['accounts.id', 'accounts.username', 'accounts.role', 'accounts.status', 'accounts.certificate', 'sessions.created_at', 'sessions.last_seen_at', 'sessions.stage'])
    .where('sessions.token_hash', '=', tokenHash)
    .executeTakeFirst();
  return r
    ? { account: { id: r.id, username: r.username, role: r.role, status: r.status, certificate: r.certificate }, createdAt: r.created_at, lastSeenAt: r.last_seen_at, stage: r.stage }
    : null;
}

export async function touchSession(db: Kysely<Database>, tokenHash: Uint8Array, minute: Date): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: minute }).where('token_hash', '=', tokenHash).where('last_seen_at', '<', minute).execute();
}

export async function deleteSession(db: Kysely<Database>, tokenHash: Uint8Array): Promise<void> {
  await db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
}

/** Moves a session to its next stage (after a second factor, or its enrolment). */
export async function setSessionStage(db: Kysely<Database>, tokenHash: Uint8Array, stage: SessionStage): Promise<void> {
  await db.updateTable('sessions').set({ stage }).where('token_hash', '=', tokenHash).execute();
}

/** Counts a wrong second factor on a half-open session. @returns the new count. */
export async function recordSecondFactorFailure(db: Kysely<Database>, tokenHash: Uint8Array): Promise<number> {
  const row = await db
    .updateTable('sessions')
    .set((eb) => ({ second_factor_failures: eb('second_factor_failures', '+', 1) }))
    .where('token_hash', '=', tokenHash)
    .returning('second_factor_failures')
    .executeTakeFirst();
  return row?.second_factor_failures ?? Number.MAX_SAFE_INTEGER;
}

// ---- login proofs of work

/** Spends a login challenge id (the shared pow_spent table; ids are random). @returns false on a replay. */
export { spendChallenge as spendLoginProof } from '../intake/intake.repository.ts';

// ---- second factors

/** The organisation's second-factor policy (the first organisation: one per deployment). */
export async function secondFactorPolicy(db: Kysely<Database>): Promise<SecondFactorPolicy> {
  const row = await db.selectFrom('organisations').select('second_factor_policy').orderBy('created_hour').limit(1).executeTakeFirst();
  return row?.second_factor_policy ?? 'none';
}


/** The sealed TOTP secret and used-step hashes, locked for this transaction. */
export async function lockTotp(trx: Transaction<Database>, accountId: Uint8Array): Promise<{ sealed: Uint8Array | null; used: Uint8Array | null }> {
  const row = await trx.selectFrom('accounts').select(['totp_secret', 'totp_used']).where('id', '=', accountId).forUpdate().executeTakeFirst();
  return { sealed: row?.totp_secret ?? null, used: row?.totp_used ?? null };
}

export async function setTotpUsed(trx: Transaction<Database>, accountId: Uint8Array, used: Uint8Array): Promise<void> {
  await trx.updateTable('accounts').set({ totp_used: used }).where('id', '=', accountId).execute();
}

/** Sets (or with null, clears) the sealed TOTP secret; the used steps start afresh either way. */
export async function setTotpSecret(trx: Transaction<Database>, accountId: Uint8Array, sealed: Uint8Array | null): Promise<void> {
  await trx.updateTable('accounts').set({ totp_secret: sealed, totp_used: null }).where('id', '=', accountId).execute();
}

/** Replaces all of an account's recovery codes with these hashes. */
export async function replaceRecoveryCodes(trx: Transaction<Database>, accountId: Uint8Array, hashes: Uint8Array[]): Promise<void> {
  await trx.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
  if (hashes.length > 0) await trx.insertInto('recovery_codes').values(hashes.map((h) => ({ code_hash: h, account_id: accountId }))).execute();
}

/** Deletes the recovery code if it is this account's. @returns whether it was. */
export async function spendRecoveryCode(db: Kysely<Database>, accountId: Uint8Array, hash: Uint8Array): Promise<boolean> {
  const row = await db.deleteFrom('recovery_codes').where('code_hash', '=', hash).where('account_id', '=', accountId).returning('code_hash').executeTakeFirst();
  return row !== undefined;
}

export async function countRecoveryCodes(db: Kysely<Database>, accountId: Uint8Array): Promise<number> {
  const row = await db.selectFrom('recovery_codes').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function hasTotp(db: Kysely<Database>, accountId: Uint8Array): Promise<boolean> {
  const row = await db.selectFrom('accounts').select('id').where('id', '=', accountId).where('totp_secret', 'is not', null).executeTakeFirst();
  return row !== undefined;
}

// ---- teams and grants

export interface MemberTeam {
  id: Uint8Array;
  slug: string;
  name: string;
  epochs: { epoch: number; state: EpochState; publicKey: Uint8Array; certificate: Uint8Array }[];
  grants: { epoch: number; sealed: Uint8Array }[];
  /** Active members, so the dashboard can offer them as assignees. */
  members: { id: Uint8Array; username: string }[];
}

export async function memberTeamIds(db: Kysely<Database>, accountId: Uint8Array): Promise<Uint8Array[]> {
  const rows = await db.selectFrom('team_members').select('team_id').where('account_id', '=', accountId).execute();
  return rows.map((r) => r.team_id);
}

export async function isActiveMember(db: Kysely<Database>, teamId: Uint8Array, accountId: Uint8Array): Promise<boolean> {
  const row = await db
    .selectFrom('team_members')
    .innerJoin('accounts', 'accounts.id', 'team_members.account_id')
    .select('team_members.account_id')
    .where('team_members.team_id', '=', teamId)
    .where('team_members.account_id', '=', accountId)
    .where('accounts.status', '=', 'active')
    .executeTakeFirst();
  return row !== undefined;
}

export async function listMemberTeams(db: Kysely<Database>, accountId: Uint8Array): Promise<MemberTeam[]> {
  const teams = await db
    .selectFrom('teams')
    .innerJoin('team_members', 'team_members.team_id', 'teams.id')
    .select(['teams.id', 'teams.slug', 'teams.name'])
    .where('team_members.account_id', '=', accountId)
    .orderBy('teams.position')
    .orderBy('teams.slug')
    .execute();
  if (teams.length === 0) return [];
  const ids = teams.map((t) => t.id);
  const epochs = await db.selectFrom('team_epochs').select(['team_id', 'epoch', 'state', 'public_key', 'certificate']).where('team_id', 'in', ids).orderBy('epoch').execute();
  const grants = await db.selectFrom('grants').select(['team_id', 'epoch', 'sealed']).where('account_id', '=', accountId).where('team_id', 'in', ids).orderBy('epoch').execute();
  const members = await db
    .selectFrom('team_members')
    .innerJoin('accounts', 'accounts.id', 'team_members.account_id')
    .select(['team_members.team_id', 'accounts.id', 'accounts.username'])
    .where('team_members.team_id', 'in', ids)
    .where('accounts.status', '=', 'active')
    .orderBy('accounts.username')
    .execute();
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  return teams.map((t) => ({
    id: t.id,
    slug: t.slug,
    name: t.name,
    epochs: epochs.filter((e) => hex(e.team_id) === hex(t.id)).map((e) => ({ epoch: e.epoch, state: e.state, publicKey: e.public_key, certificate: e.certificate })),
    grants: grants.filter((g) => hex(g.team_id) === hex(t.id)).map((g) => ({ epoch: g.epoch, sealed: g.sealed })),
    members: members.filter((m) => hex(m.team_id) === hex(t.id)).map((m) => ({ id: m.id, username: m.username })),
  }));
}

// ---- requests and threads

export interface RequestSummary {
  id: Uint8Array;
  teamId: Uint8Array;
  epoch: number;
  status: RequestStatus;
  priority: RequestPriority;
  assigneeId: Uint8Array | null;
  createdHour: Date;
  updatedHour: Date;
}

export interface RequestListItem extends RequestSummary {
  blob: Uint8Array;
}

export interface ThreadMessage {
  id: Uint8Array;
  kind: MessageKindName;
  epoch: number;
  position: number;
  authorId: Uint8Array | null;
  blob: Uint8Array;
}

export interface ListFilter {
  teamIds: Uint8Array[];
  status?: RequestStatus;
  after?: { hour: Date; id: Uint8Array };
  limit: number;
}

const summaryColumns = [
  'requests.id', 'requests.team_id', 'requests.epoch', 'requests.status', 'requests.priority', 'requests.assignee_id',
  'requests.created_hour', 'requests.updated_hour',
] as const;

type SummaryRow = {
  id: Uint8Array; team_id: Uint8Array; epoch: number; status: RequestStatus; priority: RequestPriority;
  assignee_id: Uint8Array | null; created_hour: Date; updated_hour: Date;
};

function toSummary(r: SummaryRow): RequestSummary {
  return {
    id: r.id, teamId: r.team_id, epoch: r.epoch, status: r.status, priority: r.priority, assigneeId: r.assignee_id,
    createdHour: r.created_hour, updatedHour: r.updated_hour,
  };
}

/** Newest first by (created_hour desc, id asc): keyset pagination, stable under inserts. */
export async function listRequests(db: Kysely<Database>, f: ListFilter): Promise<RequestListItem[]> {
  if (f.teamIds.length === 0) return [];
  let q = db
    .selectFrom('requests')
    .innerJoin('messages', 'messages.id', 'requests.id')
    .select([...summaryColumns, 'messages.blob'])
    .where('requests.team_id', 'in', f.teamIds);
  if (f.status) q = q.where('requests.status', '=', f.status);
  const after = f.after;
  if (after) {
    q = q.where((eb) =>
      eb.or([
        eb('requests.created_hour', '<', after.hour),
        eb.and([eb('requests.created_hour', '=', after.hour), eb('requests.id', '>', after.id)]),
      ]),
    );
  }
  const rows = await q.orderBy('requests.created_hour', 'desc').orderBy('requests.id', 'asc').limit(f.limit).execute();
  return rows.map((r) => ({ ...toSummary(r), blob: r.blob }));
}

export async function findRequest(db: Kysely<Database>, id: Uint8Array): Promise<RequestSummary | null> {
  const r = await db.selectFrom('requests').select(summaryColumns).where('requests.id', '=', id).executeTakeFirst();
  return r ? toSummary(r) : null;
}

/** Every message of a thread, notes and tags included, in thread order. */
export async function listThread(db: Kysely<Database>, requestId: Uint8Array): Promise<ThreadMessage[]> {
  const rows = await db
    .selectFrom('messages')
    .select(['id', 'kind', 'epoch', 'position', 'author_id', 'blob'])
    .where('request_id', '=', requestId)
    .orderBy('position')
    .execute();
  return rows.map((r) => ({ id: r.id, kind: r.kind, epoch: r.epoch, position: r.position, authorId: r.author_id, blob: r.blob }));
}

/** An attachment blob of this request (PROTOCOL.md 23.3a); null when the id is unknown or another request's. */
export async function findAttachment(db: Kysely<Database>, requestId: Uint8Array, id: Uint8Array): Promise<Uint8Array | null> {
  const row = await db.selectFrom('attachments').select('blob').where('id', '=', id).where('request_id', '=', requestId).executeTakeFirst();
  return row?.blob ?? null;
}

export async function updateRequest(
  db: Kysely<Database>,
  id: Uint8Array,
  changes: { status?: RequestStatus; priority?: RequestPriority; assigneeId?: Uint8Array | null },
  hour: Date,
): Promise<void> {
  await db
    .updateTable('requests')
    .set({
      ...(changes.status !== undefined ? { status: changes.status } : {}),
      ...(changes.priority !== undefined ? { priority: changes.priority } : {}),
      ...(changes.assigneeId !== undefined ? { assignee_id: changes.assigneeId } : {}),
      updated_hour: hour,
    })
    .where('id', '=', id)
    .execute();
}

