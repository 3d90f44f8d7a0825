/**
 * Database access for root rotation (root-rotation.service.ts): the hand-over statements, and
 * the rows a rotation rewrites in one transaction (every active account's certificate, every
 * epoch's key statement, every root-seed wrap), locked so no approval, team change or key
 * upload interleaves.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { AccountRole, Database, EpochState } from '../db/schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

export async function listHandovers(db: Db): Promise<Uint8Array[]> {
  const rows = await db.selectFrom('root_handovers').select('statement').orderBy('serial').execute();
  return rows.map((r) => r.statement);
}

export async function highestHandoverSerial(trx: Transaction<Database>): Promise<number> {
  const r = await trx.selectFrom('root_handovers').select(sql<number>`coalesce(max(serial), 0)`.as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function insertHandover(trx: Transaction<Database>, serial: number, statement: Uint8Array): Promise<void> {
  await trx.insertInto('root_handovers').values({ serial, statement }).execute();
}

/**
 * Serialises a rotation against every other admin change: approvals lock account rows, team
 * changes lock team and epoch rows, setup locks the organisation table. A rotation locks them
 * all, in that order.
 */
export async function lockForRotation(trx: Transaction<Database>): Promise<void> {
  await sql`lock table organisations in exclusive mode`.execute(trx);
  await trx.selectFrom('accounts').select('id').forUpdate().execute();
  await trx.selectFrom('teams').select('id').forUpdate().execute();
  await trx.selectFrom('team_epochs').select('team_id').forUpdate().execute();
}

export interface RotationAccount {
  id: Uint8Array;
  role: AccountRole;
  encPublicKey: Uint8Array;
  signPublicKey: Uint8Array;
}

export async function activeAccounts(trx: Transaction<Database>): Promise<RotationAccount[]> {
  const rows = await trx.selectFrom('accounts').select(['id', 'role', 'enc_public_key', 'sign_public_key']).where('status', '=', 'active').execute();
  return rows.map((r) => ({ id: r.id, role: r.role, encPublicKey: r.enc_public_key, signPublicKey: r.sign_public_key }));
}

export interface RotationEpoch {
  teamId: Uint8Array;
  epoch: number;
  state: EpochState;
  publicKey: Uint8Array;
  certificate: Uint8Array;
}

export async function allEpochs(trx: Transaction<Database>): Promise<RotationEpoch[]> {
  const rows = await trx.selectFrom('team_epochs').select(['team_id', 'epoch', 'state', 'public_key', 'certificate']).orderBy('epoch').execute();
  return rows.map((r) => ({ teamId: r.team_id, epoch: r.epoch, state: r.state, publicKey: r.public_key, certificate: r.certificate }));
}

export async function setAccountCertificate(trx: Transaction<Database>, id: Uint8Array, certificate: Uint8Array): Promise<void> {
  await trx.updateTable('accounts').set({ certificate }).where('id', '=', id).execute();
}

/** Every wrap of the old root seed goes: only the new seed, wrapped for the remaining admins, stays. */
export async function replaceRootWraps(trx: Transaction<Database>, wraps: { accountId: Uint8Array; sealed: Uint8Array }[], hour: Date): Promise<void> {
  await trx.deleteFrom('root_wraps').execute();
  if (wraps.length > 0) await trx.insertInto('root_wraps').values(wraps.map((w) => ({ account_id: w.accountId, sealed: w.sealed, created_hour: hour }))).execute();
}
