/**
 * Test-only stand-ins for what the admin's browser will do (issue 6): approve a pending
 * account (sign its responder certificate with the root key, grant it each invited team's
 * current epoch secret, add it to those teams, mark it active), and create an admin account
 * directly in the database, since there is no `npm run setup` yet.
 *
 * Uses the demo organisation's secrets, which only the demo seed keeps.
 */
import type { Kysely } from 'kysely';
import { createGrant, Role, signResponderCert } from '../../crypto/v1/certs.ts';
import { loginVerifierHash } from '../../crypto/v1/account.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import type { AccountRole, Database } from '../../api/db/schema.ts';
import { coarseHour } from '../../api/time.ts';
import type { DemoOrganisation } from '../../seeds/demo.ts';
import type { ResponderCredentials } from './responder-client.ts';

function sameId(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/**
 * Approves a pending account for the teams its invitation named (or `teamIds` if given).
 * @returns the responder certificate.
 */
export async function approveAccount(db: Kysely<Database>, p: Primitives, demo: DemoOrganisation, accountId: Uint8Array, teamIds?: Uint8Array[]): Promise<Uint8Array> {
  const account = await db.selectFrom('accounts').select(['role', 'enc_public_key', 'sign_public_key']).where('id', '=', accountId).executeTakeFirstOrThrow();
  const invited = teamIds ?? (
    await db
      .selectFrom('invitation_teams')
      .innerJoin('invitations', 'invitations.code_hash', 'invitation_teams.code_hash')
      .select('invitation_teams.team_id')
      .where('invitations.account_id', '=', accountId)
      .execute()
  ).map((r) => r.team_id);
  const certificate = signResponderCert(p, demo.root.seed, {
    orgId: demo.organisationId,
    accountId,
    role: account.role === 'admin' ? Role.admin : Role.responder,
    x25519Public: account.enc_public_key,
    ed25519Public: account.sign_public_key,
  });
  await db.transaction().execute(async (trx) => {
    for (const teamId of invited) {
      const team = demo.teams.find((t) => sameId(t.id, teamId));
      if (!team) throw new Error('not a demo team');
      const sealed = createGrant(p, { rootPublic: demo.root.publicKey, responderCert: certificate, orgId: demo.organisationId, teamId, epoch: team.epoch, epochSecret: team.secretKey });
      await trx.insertInto('team_members').values({ team_id: teamId, account_id: accountId }).execute();
      await trx.insertInto('grants').values({ team_id: teamId, epoch: team.epoch, account_id: accountId, sealed }).execute();
    }
    await trx.updateTable('accounts').set({ certificate, status: 'active' }).where('id', '=', accountId).execute();
  });
  return certificate;
}

/** Inserts an account straight into the database (pending), as enrolment would. @returns its id. */
export async function insertAccountDirectly(db: Kysely<Database>, p: Primitives, c: ResponderCredentials, role: AccountRole): Promise<Uint8Array> {
  const id = p.randomBytes(16);
  await db
    .insertInto('accounts')
    .values({
      id, username: c.username, role, status: 'pending', salt: c.salt, verifier_hash: loginVerifierHash(p, c.secrets.loginVerifier),
      key_bundle: c.keyBundle, enc_public_key: c.encPublicKey, sign_public_key: c.signPublicKey, certificate: null, totp_secret: null,
      created_hour: coarseHour(),
    })
    .execute();
  return id;
}

/** An active admin account (member of `teamIds`, none by default). @returns its id. */
export async function createAdminAccount(db: Kysely<Database>, p: Primitives, demo: DemoOrganisation, c: ResponderCredentials, teamIds: Uint8Array[] = []): Promise<Uint8Array> {
  const id = await insertAccountDirectly(db, p, c, 'admin');
  await approveAccount(db, p, demo, id, teamIds);
  return id;
}
