/** Notification subscriptions: the only module that touches `notification_subscriptions`. */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

export interface SealedSubscription {
  accountId: Uint8Array;
  addressSealed: Uint8Array;
}

export async function upsertSubscription(db: Kysely<Database>, accountId: Uint8Array, addressSealed: Uint8Array): Promise<void> {
  await db
    .insertInto('notification_subscriptions')
    .values({ account_id: accountId, address_sealed: addressSealed })
    .onConflict((oc) => oc.column('account_id').doUpdateSet({ address_sealed: addressSealed }))
    .execute();
}

export async function deleteSubscription(db: Kysely<Database>, accountId: Uint8Array): Promise<boolean> {
  const r = await db.deleteFrom('notification_subscriptions').where('account_id', '=', accountId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function findSubscription(db: Kysely<Database>, accountId: Uint8Array): Promise<SealedSubscription | null> {
  const row = await db.selectFrom('notification_subscriptions').select(['account_id', 'address_sealed']).where('account_id', '=', accountId).executeTakeFirst();
  return row ? { accountId: row.account_id, addressSealed: row.address_sealed } : null;
}

/** Who opted in (active accounts only), by user name: what an admin may see. */
export async function listSubscribers(db: Kysely<Database>): Promise<{ id: Uint8Array; username: string }[]> {
  const rows = await db
    .selectFrom('notification_subscriptions')
    .innerJoin('accounts', 'accounts.id', 'notification_subscriptions.account_id')
    .select(['accounts.id', 'accounts.username'])
    .where('accounts.status', '=', 'active')
    .orderBy('accounts.username')
    .execute();
  return rows.map((r) => ({ id: r.id, username: r.username }));
}

/**
 * Marks pending every subscription of an active member of one of `teamIds`. A flag already
 * set stays set: one account gets one e-mail per batch however many teams or requests.
 */
export async function markTeamsPending(db: Kysely<Database>, teamIds: readonly Uint8Array[]): Promise<number> {
  if (teamIds.length === 0) return 0;
  const r = await db
    .updateTable('notification_subscriptions')
    .set({ pending: true })
    .where('pending', '=', false)
    .where('account_id', 'in', (qb) =>
      qb
        .selectFrom('team_members')
        .innerJoin('accounts', 'accounts.id', 'team_members.account_id')
        .select('team_members.account_id')
        .where('team_members.team_id', 'in', [...teamIds])
        .where('accounts.status', '=', 'active'),
    )
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/**
 * Claims up to `limit` pending subscriptions for sending: clears their flags and returns
 * them, in one statement. `FOR UPDATE SKIP LOCKED` lets two instances claim at the same
 * moment without waiting on each other, and each row goes to exactly one of them (the other
 * skips it, or finds its flag already cleared). The claim is at most once: a process that
 * dies after claiming and before sending loses that batch's e-mail, which `restorePending`
 * cannot know about; never is one sent twice.
 */
export async function claimPending(db: Kysely<Database>, limit: number): Promise<SealedSubscription[]> {
  const rows = await sql<{ account_id: Uint8Array; address_sealed: Uint8Array }>`
    update notification_subscriptions set pending = false
    where account_id in (
      select s.account_id from notification_subscriptions s
      join accounts a on a.id = s.account_id
      where s.pending and a.status = 'active'
      limit ${limit}
      for update of s skip locked
    ) and pending
    returning account_id, address_sealed`.execute(db);
  return rows.rows.map((r) => ({ accountId: r.account_id, addressSealed: r.address_sealed }));
}

/** Sets the flags again for accounts whose e-mail could not be sent: retried next batch. */
export async function restorePending(db: Kysely<Database>, accountIds: readonly Uint8Array[]): Promise<void> {
  if (accountIds.length === 0) return;
  await db.updateTable('notification_subscriptions').set({ pending: true }).where('account_id', 'in', [...accountIds]).execute();
}
