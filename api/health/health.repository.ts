/** What the readiness check reads: the organisation and a sample of what its root key signed. */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

export interface RootSignedSample {
  organisationId: Uint8Array;
  /** Current team key certificates (v1, `crypto/v1/certs.ts`), signed by the root at setup or rotation. */
  teamCertificates: { teamId: Uint8Array; certificate: Uint8Array }[];
  /** Admin account certificates, signed by the root at setup or approval. */
  adminCertificates: { accountId: Uint8Array; certificate: Uint8Array }[];
  /** Root hand-over statements (root rotations), oldest first. */
  handovers: Uint8Array[];
}

/** How many of each are read: one that verifies is proof enough, and a health check must stay cheap. */
const SAMPLE = 20;

/** @throws the driver's error when the database is unreachable. */
export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}

/** The first organisation and what its root signed, or null when there is no organisation. */
export async function rootSignedSample(db: Kysely<Database>): Promise<RootSignedSample | null> {
  const org = await db.selectFrom('organisations').select('id').orderBy('created_hour').limit(1).executeTakeFirst();
  if (!org) return null;
  const teams = await db
    .selectFrom('team_epochs')
    .innerJoin('teams', 'teams.id', 'team_epochs.team_id')
    .where('teams.organisation_id', '=', org.id)
    .where('team_epochs.state', '=', 'current')
    .select(['team_epochs.team_id', 'team_epochs.certificate'])
    .limit(SAMPLE)
    .execute();
  const admins = await db
    .selectFrom('accounts')
    .where('role', '=', 'admin')
    .where('status', '=', 'active')
    .where('certificate', 'is not', null)
    .select(['id', 'certificate'])
    .limit(SAMPLE)
    .execute();
  const handovers = await db.selectFrom('root_handovers').select('statement').orderBy('serial').execute();
  return {
    organisationId: org.id,
    handovers: handovers.map((h) => h.statement),
    teamCertificates: teams.map((t) => ({ teamId: t.team_id, certificate: t.certificate })),
    adminCertificates: admins.map((a) => ({ accountId: a.id, certificate: a.certificate! })),
  };
}
