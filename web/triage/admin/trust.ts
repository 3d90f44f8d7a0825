/**
 * The Admin screen's Protocol v2 trust checks, apart from the DOM: invitations signed here,
 * approval bound to what the inviting admin signed, the root seed sealed only to verified
 * admins, and the audit chain verified with keys from root-verified certificates.
 *
 * Threat (docs/THREAT-MODEL.md, "compromised server code"): the server lists accounts, their
 * roles, teams and keys, and may lie about any of them. So the role and teams this browser
 * signs come ONLY from an invitation statement whose signer's admin certificate verifies
 * against the page-embedded root; a listing that disagrees with its statement is refused, not
 * corrected; and the root seed is sealed only to an account whose admin certificate AND admin
 * invitation this browser verified itself.
 */
import { base64urlDecode as unb64, base64urlEncode as b64 } from '../../../crypto/encoding.ts';
import type { Primitives } from '../../../crypto/primitives.ts';
import { Role } from '../../../crypto/v1/certs.ts';
import { createInvitation, verifyInvitation } from '../../../crypto/v2/invitation.ts';
import { verifyAuditChain as verifyChain, type AuditChainEntry } from '../../../crypto/v2/audit.ts';
import { type AdminAccountJson, type AdminKeys, type AuditEntryJson, verifiedCertificate } from './keys.ts';

/** How long an invitation made here stays open (the server accepts at most 31 days). */
export const INVITATION_HOURS = 7 * 24;
/**
 * An account may be approved up to this long after its invitation expired: enrolment closed at
 * expiry (the server's check), approval may lag; older statements are not accepted at all.
 */
export const APPROVAL_GRACE_HOURS = 30 * 24;

/** Why this browser refused; the page words each reason and says that nothing was signed. */
export class AdminTrustError extends Error {
  constructor(readonly reason: 'no_invitation' | 'invitation_invalid' | 'listing_differs' | 'not_admin') {
    super(reason);
    this.name = 'AdminTrustError';
  }
}

export function currentHour(now = Date.now()): number {
  return Math.floor(now / 3_600_000);
}

/**
 * An invitation made in this browser: the 32-byte code (for the link's fragment only), its id
 * and the statement signed with this admin's certified key. The server gets id and statement.
 */
export function makeInvitation(p: Primitives, k: AdminKeys, role: 'responder' | 'admin', teamIds: string[], nowHour = currentHour()) {
  const expiresHour = nowHour + INVITATION_HOURS;
  const made = createInvitation(p, k.ed25519Seed, {
    orgId: k.orgId, role: role === 'admin' ? Role.admin : Role.responder, expiresHour, teamIds: teamIds.map((t) => unb64(t)), adminAccountId: k.accountId,
  });
  return { code: b64(made.inviteCode), invitationId: b64(made.invitationId), statement: b64(made.statement), expiresHour };
}

export interface VerifiedInvitation {
  role: 'responder' | 'admin';
  /** base64url team ids, in the statement's order */
  teamIds: string[];
  invitationId: string;
}

/**
 * The role and teams to sign for a pending account: read from its invitation statement after
 * verifying root -> inviting admin's certificate (role admin, this org, the account the
 * statement names) -> statement signature. The listing must agree with the statement (role,
 * invited teams), and no other listed account may carry the same invitation: a server that
 * edits any of it is refused.
 * @throws AdminTrustError.
 */
export function verifiedInvitation(p: Primitives, k: AdminKeys, a: AdminAccountJson, all: AdminAccountJson[], nowHour = currentHour()): VerifiedInvitation {
  if (!a.invitation || !a.invitation.inviterCertificate) throw new AdminTrustError('no_invitation');
  let fields;
  try {
    fields = verifyInvitation(p, k.rootPublic, unb64(a.invitation.statement), {
      orgId: k.orgId, adminCert: unb64(a.invitation.inviterCertificate), nowHour: Math.max(0, nowHour - APPROVAL_GRACE_HOURS),
    });
  } catch {
    throw new AdminTrustError('invitation_invalid');
  }
  const role = fields.role === Role.admin ? 'admin' : 'responder';
  const teamIds = fields.teamIds.map((t) => b64(t));
  const listed = [...a.invitedTeamIds].sort();
  if (a.role !== role || listed.length !== teamIds.length || [...teamIds].sort().some((t, i) => t !== listed[i])) throw new AdminTrustError('listing_differs');
  const invitationId = b64(fields.invitationId);
  for (const other of all) {
    if (other.id === a.id || !other.invitation) continue;
    try {
      if (b64(unb64(other.invitation.statement).subarray(18, 34)) === invitationId) throw new AdminTrustError('listing_differs');
    } catch (err) {
      if (err instanceof AdminTrustError) throw err;
    }
  }
  return { role, teamIds, invitationId };
}

/**
 * Before sealing the root seed to `a`: its stored certificate must verify against the root for
 * its own id with role ADMIN, and its invitation statement must verify with role ADMIN. A server
 * that lists a responder as an admin is refused here, before anything is sealed.
 * @throws AdminTrustError('not_admin').
 */
export function checkAdminTarget(p: Primitives, k: AdminKeys, a: AdminAccountJson, all: AdminAccountJson[], nowHour = currentHour()): void {
  try {
    if (verifiedCertificate(p, k, a).role !== Role.admin) throw new AdminTrustError('not_admin');
    if (verifiedInvitation(p, k, a, all, nowHour).role !== 'admin') throw new AdminTrustError('not_admin');
  } catch {
    throw new AdminTrustError('not_admin');
  }
}

export type ChainFault = 'missing' | 'prev' | 'hash' | 'json' | 'actor' | 'unknown_actor' | 'signature';
export type ChainVerdict = { ok: true; count: number; head: string | null } | { ok: false; seq: number; fault: ChainFault; count: number };

/** crypto/v2's fixed reasons, worded by the page (fault_* strings). */
function faultOf(reason: string): ChainFault {
  if (/missing|out of order/.test(reason)) return 'missing';
  if (/previous hash/.test(reason)) return 'prev';
  if (/not valid JSON/.test(reason)) return 'json';
  if (/names another actor/.test(reason)) return 'actor';
  if (/no certificate/.test(reason)) return 'unknown_actor';
  if (/signature/.test(reason)) return 'signature';
  return 'hash';
}

/**
 * Verifies the whole audit chain here (a server cannot simply claim "verified") with crypto/v2
 * verifyAuditChain: every actor's key comes from the actor's certificate verified against the
 * page-embedded root, never from the listed signPublicKey, so a database writer who swaps an
 * account's key and re-signs the chain is caught at the first re-signed entry. A server that
 * cuts entries off the end is not caught this way: compare the head (shown) with one noted earlier.
 */
export function verifyAuditChainCertified(p: Primitives, root: { rootPublic: Uint8Array; orgId: Uint8Array }, entries: AuditEntryJson[], accounts: AdminAccountJson[]): ChainVerdict {
  const chain: AuditChainEntry[] = [];
  for (const e of entries) {
    try {
      chain.push({ seq: e.seq, actorId: unb64(e.actorId), entry: unb64(e.entry), prevHash: unb64(e.prevHash), hash: unb64(e.hash), signature: unb64(e.signature) });
    } catch {
      // An entry that does not even decode breaks the chain here; verify what comes before it.
      const before = verifyChain(p, root.rootPublic, root.orgId, chain, certificates(accounts));
      if (!before.ok) return { ok: false, seq: before.brokenAt, fault: faultOf(before.reason), count: before.count };
      return { ok: false, seq: chain.length + 1, fault: 'json', count: chain.length };
    }
  }
  const r = verifyChain(p, root.rootPublic, root.orgId, chain, certificates(accounts));
  if (!r.ok) return { ok: false, seq: r.brokenAt, fault: faultOf(r.reason), count: r.count };
  return { ok: true, count: r.count, head: r.head ? b64(r.head.hash) : null };
}

function certificates(accounts: AdminAccountJson[]): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const a of accounts) {
    if (!a.certificate) continue;
    try {
      out.set(a.id, unb64(a.certificate));
    } catch {
      // A malformed certificate vouches for nothing.
    }
  }
  return out;
}
