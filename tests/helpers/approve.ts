/**
 * Shortcuts for API tests that need approved accounts without driving the admin dashboard:
 * thin wrappers over the demo seed's approval (seeds/demo.ts), which does what an admin's
 * browser does with the demo organisation's secrets.
 */
import type { Kysely } from 'kysely';
import { loginVerifierHash } from '../../crypto/v1/account.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import type { AccountRole, Database } from '../../api/db/schema.ts';
import { approveDemoAccount, insertDemoAccount, type DemoOrganisation } from '../../seeds/demo.ts';
import type { ResponderCredentials } from './responder-client.ts';

/**
 * Approves a pending account for the teams its invitation named (or `teamIds` if given).
 * @returns the responder certificate.
 */
export async function approveAccount(db: Kysely<Database>, p: Primitives, demo: DemoOrganisation, accountId: Uint8Array, teamIds?: Uint8Array[]): Promise<Uint8Array> {
  const invited = teamIds ?? (
    await db
      .selectFrom('invitation_teams')
      .innerJoin('invitations', 'invitations.code_hash', 'invitation_teams.code_hash')
      .select('invitation_teams.team_id')
      .where('invitations.account_id', '=', accountId)
      .execute()
  ).map((r) => r.team_id);
  return approveDemoAccount(db, p, demo, accountId, invited);
}

/** What the dashboard uploads at enrolment, from test credentials. */
export function accountKeysOf(p: Primitives, c: ResponderCredentials) {
  return { username: c.username, salt: c.salt, verifierHash: loginVerifierHash(p, c.secrets.loginVerifier), keyBundle: c.keyBundle, encPublicKey: c.encPublicKey, signPublicKey: c.signPublicKey };
}

/** Inserts an account straight into the database (pending), as enrolment would. @returns its id. */
export function insertAccountDirectly(db: Kysely<Database>, p: Primitives, c: ResponderCredentials, role: AccountRole): Promise<Uint8Array> {
  return insertDemoAccount(db, p, accountKeysOf(p, c), role);
}

/** An active admin account (member of `teamIds`, none by default). @returns its id. */
export async function createAdminAccount(db: Kysely<Database>, p: Primitives, demo: DemoOrganisation, c: ResponderCredentials, teamIds: Uint8Array[] = []): Promise<Uint8Array> {
  const id = await insertAccountDirectly(db, p, c, 'admin');
  await approveAccount(db, p, demo, id, teamIds);
  return id;
}
