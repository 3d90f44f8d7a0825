/**
 * Invitation statement v2 (type 0x13), signed by the inviting ADMIN's certified Ed25519 key:
 *
 *   0x02 | 0x13 | orgId(16) | invitationId(16) | role(1) | expiresHour(u32) | teamCount(1) |
 *   teamId(16) * teamCount | adminAccountId(16) | sig(64)     sig = Ed25519(admin, all bytes before)
 *
 *   invitationId = BLAKE2b-16(inviteCode(32); personal "haven-invite-v2")
 *
 * Threat: a server that edits an invitation (responder -> admin, or extra teams) between the
 * inviting admin and the approving admin. The approving admin's browser verifies the admin
 * certificate against the pinned root, then this signature, and signs exactly the role and
 * teams read FROM THE STATEMENT. The server only ever sees invitationId, never the code.
 */
import { ByteReader, ByteWriter } from '../encoding.ts';
import { ExpiredStatementError, MalformedError, SignatureError } from '../errors.ts';
import type { Primitives } from '../primitives.ts';
import { Role, verifyResponderCert, type RoleValue } from '../v1/certs.ts';
import { checkId, checkU32 } from '../v1/constants.ts';
import { ObjectTypeV2, PersonalV2, readVersionAndTypeV2, VERSION_V2 } from './constants.ts';

export const INVITE_CODE_BYTES = 32;
/**
 * Decision beyond the plan: at most 64 teams per invitation (a hotline has a handful; the cap
 * bounds the statement at 2 + 16 + 16 + 1 + 4 + 1 + 1024 + 16 + 64 bytes), team ids distinct,
 * and zero teams allowed (an admin may be invited to no team).
 */
export const INVITATION_MAX_TEAMS = 64;

export interface InvitationFields {
  orgId: Uint8Array;
  invitationId: Uint8Array;
  role: RoleValue;
  expiresHour: number;
  teamIds: Uint8Array[];
  adminAccountId: Uint8Array;
}

/** @throws MalformedError unless the code is 32 bytes. */
export function invitationIdFromCode(p: Primitives, inviteCode: Uint8Array): Uint8Array {
  if (!(inviteCode instanceof Uint8Array) || inviteCode.length !== INVITE_CODE_BYTES) throw new MalformedError('invite code must be 32 bytes');
  return p.blake2b(16, inviteCode, { personal: PersonalV2.invitationId });
}

function checkFields(f: InvitationFields): void {
  checkId(f.orgId);
  checkId(f.invitationId);
  checkId(f.adminAccountId);
  if (f.role !== Role.responder && f.role !== Role.admin) throw new MalformedError('unknown role');
  checkU32(f.expiresHour);
  if (!Array.isArray(f.teamIds) || f.teamIds.length > INVITATION_MAX_TEAMS) throw new MalformedError('too many teams');
  const seen = new Set<string>();
  for (const t of f.teamIds) {
    checkId(t);
    const k = t.join(',');
    if (seen.has(k)) throw new MalformedError('duplicate team');
    seen.add(k);
  }
}

function signedPart(f: InvitationFields): Uint8Array {
  const w = new ByteWriter()
    .u8(VERSION_V2).u8(ObjectTypeV2.invitation)
    .bytes(f.orgId, 16).bytes(f.invitationId, 16).u8(f.role).u32(f.expiresHour).u8(f.teamIds.length);
  for (const t of f.teamIds) w.bytes(t, 16);
  return w.bytes(f.adminAccountId, 16).finish();
}

/**
 * Signs an invitation statement with the inviting admin's Ed25519 seed.
 * @throws MalformedError on bad fields.
 */
export function signInvitation(p: Primitives, adminSeed: Uint8Array, f: InvitationFields): Uint8Array {
  checkFields(f);
  const body = signedPart(f);
  return new ByteWriter().bytes(body).bytes(p.ed25519Sign(body, adminSeed), 64).finish();
}

/**
 * The inviting admin's browser: makes a fresh 32-byte invite code (for the link given to the
 * invitee, never to the server), derives its id and signs the statement.
 */
export function createInvitation(
  p: Primitives,
  adminSeed: Uint8Array,
  f: Omit<InvitationFields, 'invitationId'>,
): { inviteCode: Uint8Array; invitationId: Uint8Array; statement: Uint8Array } {
  const inviteCode = p.randomBytes(INVITE_CODE_BYTES);
  const invitationId = invitationIdFromCode(p, inviteCode);
  return { inviteCode, invitationId, statement: signInvitation(p, adminSeed, { ...f, invitationId }) };
}

/**
 * Strict structure without the signature (the server's check before storing).
 * @throws version errors, MalformedError.
 */
export function parseInvitationUnverified(bytes: Uint8Array): InvitationFields & { signature: Uint8Array; signedBytes: Uint8Array } {
  const r = new ByteReader(bytes);
  readVersionAndTypeV2(r, ObjectTypeV2.invitation);
  const orgId = r.bytes(16);
  const invitationId = r.bytes(16);
  const role = r.u8() as RoleValue;
  const expiresHour = r.u32();
  const count = r.u8();
  if (count > INVITATION_MAX_TEAMS) throw new MalformedError('too many teams');
  const teamIds: Uint8Array[] = [];
  for (let i = 0; i < count; i++) teamIds.push(r.bytes(16));
  const adminAccountId = r.bytes(16);
  const signedBytes = bytes.slice(0, r.offset);
  const signature = r.bytes(64);
  r.end();
  const f: InvitationFields = { orgId, invitationId, role, expiresHour, teamIds, adminAccountId };
  checkFields(f);
  return { ...f, signature, signedBytes };
}

/**
 * The approving admin's (or the invitee's) browser: verifies the inviting admin's certificate
 * against the pinned root (same org, the account the statement names, role ADMIN), then the
 * statement's signature with that certificate's key, then expiry and (if given) the id.
 * Returns the fields to show and to sign: role and teams come from here, never from the server.
 * @throws version errors / MalformedError on structure; SignatureError if the certificate is not
 *   the root's for this org and account, is not an admin's, the signature is bad, or the id or org
 *   differ from expected; ExpiredStatementError when expiresHour <= nowHour.
 */
export function verifyInvitation(
  p: Primitives,
  rootPublic: Uint8Array,
  bytes: Uint8Array,
  a: { orgId: Uint8Array; adminCert: Uint8Array; nowHour: number; invitationId?: Uint8Array },
): InvitationFields {
  const s = parseInvitationUnverified(bytes);
  if (!p.constantTimeEqual(s.orgId, a.orgId)) throw new SignatureError('invitation names another organisation');
  let cert;
  try {
    cert = verifyResponderCert(p, rootPublic, a.adminCert, { orgId: a.orgId, accountId: s.adminAccountId });
  } catch (e) {
    // a certificate that does not even parse cannot vouch for anyone: same answer as a forged one
    if (e instanceof MalformedError) throw new SignatureError('inviting admin certificate is not valid');
    throw e;
  }
  if (cert.role !== Role.admin) throw new SignatureError('invitation signed by an account that is not an admin');
  if (!p.ed25519Verify(s.signature, s.signedBytes, cert.ed25519Public)) throw new SignatureError();
  if (a.invitationId && !p.constantTimeEqual(a.invitationId, s.invitationId)) throw new SignatureError('statement is for another invitation');
  checkU32(a.nowHour);
  if (s.expiresHour <= a.nowHour) throw new ExpiredStatementError();
  const { signature: _s, signedBytes: _b, ...fields } = s;
  return fields;
}
