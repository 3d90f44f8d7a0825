/**
 * What the admin dashboard does to invite someone (Protocol v2): the browser makes the
 * 32-byte code, signs the invitation statement (role, teams, expiry) with the admin's
 * certified Ed25519 seed, and sends the server only the invitation id, the statement and a
 * signed `invitation.create` audit entry. The code goes into the link's fragment.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../api/db/schema.ts';
import { invitationCodeHash } from '../../api/accounts/account.service.ts';
import { base64urlDecode as unb64, base64urlEncode as b64 } from '../../crypto/encoding.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { Role } from '../../crypto/v1/certs.ts';
import { createInvitation } from '../../crypto/v2/invitation.ts';
import { auditJson, signAuditEntry } from '../../crypto/v1/admin.ts';

// API answers are read field by field in assertions (as tests/helpers/admin-browser.ts does).
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see the line above
type Json = Record<string, any>;

export interface Inviter {
  id: Uint8Array;
  ed25519Seed: Uint8Array;
  orgId: Uint8Array;
}

/** `request(method, pathUnderAdmin, body?)`: the test's way of calling /api/v1/admin with the admin's session. */
export type AdminRequest = (method: string, path: string, body?: unknown) => Promise<{ status: number; json: Json }>;

export const INVITATION_HOURS = 7 * 24;

/** The request body for POST /api/v1/admin/invitations and the code for the link. */
export function invitationBody(
  p: Primitives,
  inviter: Inviter,
  headHash: Uint8Array,
  a: { role: 'responder' | 'admin'; teamIds: Uint8Array[]; expiresHour?: number },
): { code: string; invitationId: Uint8Array; statement: Uint8Array; body: Record<string, unknown> } {
  const expiresHour = a.expiresHour ?? Math.floor(Date.now() / 3_600_000) + INVITATION_HOURS;
  const role = a.role === 'admin' ? Role.admin : Role.responder;
  const made = createInvitation(p, inviter.ed25519Seed, { orgId: inviter.orgId, role, expiresHour, teamIds: a.teamIds, adminAccountId: inviter.id });
  const audit = signAuditEntry(p, {
    action: 'invitation.create', actorId: inviter.id, prevHash: headHash, ed25519Seed: inviter.ed25519Seed,
    targets: { invitationId: b64(made.invitationId), role: a.role, teamIds: a.teamIds.map(b64), expiresHour },
  });
  return {
    code: b64(made.inviteCode), invitationId: made.invitationId, statement: made.statement,
    body: { invitationId: b64(made.invitationId), statement: b64(made.statement), audit: auditJson(audit) },
  };
}

/** Invites through the API. @returns the status, the answer and the code (valid only on 201). */
export async function inviteThrough(
  p: Primitives,
  request: AdminRequest,
  inviter: Inviter,
  a: { role: 'responder' | 'admin'; teamIds: Uint8Array[]; expiresHour?: number },
): Promise<{ status: number; json: Json; code: string }> {
  const head = await request('GET', '/audit/head');
  if (head.status !== 200) throw new Error(`audit head: ${head.status}`);
  const made = invitationBody(p, inviter, unb64(head.json.hash as string), a);
  const res = await request('POST', '/invitations', made.body);
  return { ...res, code: made.code };
}

/**
 * Gives an account that was inserted straight into the database (tests/helpers/approve.ts) the
 * signed invitation it would have enrolled with, so the dashboard's approval and root-seal
 * checks can verify its role and teams. Does what POST /invitations + enrolment store.
 */
export async function insertSignedInvitation(
  db: Kysely<Database>,
  p: Primitives,
  inviter: Inviter,
  a: { accountId: Uint8Array; role: 'responder' | 'admin'; teamIds: Uint8Array[] },
): Promise<void> {
  const expiresHour = Math.floor(Date.now() / 3_600_000) + INVITATION_HOURS;
  const made = createInvitation(p, inviter.ed25519Seed, {
    orgId: inviter.orgId, role: a.role === 'admin' ? Role.admin : Role.responder, expiresHour, teamIds: a.teamIds, adminAccountId: inviter.id,
  });
  const codeHash = invitationCodeHash(p, made.invitationId);
  const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('invitations').values({
      code_hash: codeHash, role: a.role, expires_hour: new Date(expiresHour * 3_600_000), used: true, account_id: a.accountId,
      created_hour: hour, statement: made.statement, inviter_id: inviter.id,
    }).execute();
    if (a.teamIds.length) await trx.insertInto('invitation_teams').values(a.teamIds.map((team_id) => ({ code_hash: codeHash, team_id }))).execute();
  });
}
