/**
 * Invitation statements (Protocol v2, crypto/v2/invitation.ts): the inviting admin's browser
 * signs role, teams and expiry with its certified Ed25519 key, and the approving admin's
 * browser signs exactly what the statement says. The server keeps the statement bytes so it
 * can hand them to the approving admin; it cannot change them without breaking the signature.
 *
 * For a v2 invitation, code_hash = BLAKE2b-256(invitationId, personal "haven-invite-v1") with
 * invitationId = BLAKE2b-128(code, personal "haven-invite-v2"): the code still never reaches
 * the server before enrolment, and at enrolment the server recomputes both steps from it.
 * Rows made before this migration have no statement, and their codes are refused at enrolment
 * (enrolment now takes exactly the 32-byte code of a v2 invitation): invite again.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('invitations')
    // The signed statement, 2 + 16 + 16 + 1 + 4 + 1 + 16 * 64 + 16 + 64 = 1144 bytes at most.
    .addColumn('statement', 'bytea', (c) => c.check(sql`octet_length(statement) between 120 and 1144`))
    // The admin who signed it (the statement names it too): whose certificate verifies it.
    .addColumn('inviter_id', 'bytea', (c) => c.references('accounts.id').onDelete('set null'))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('invitations').dropColumn('inviter_id').dropColumn('statement').execute();
}
