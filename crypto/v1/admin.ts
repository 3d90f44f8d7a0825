/**
 * What an admin's browser (and the setup CLI, and the tests) compute for the admin features,
 * built only on crypto/: the canonical audit entry and its signature, the root-seed wrap for
 * each admin, and the account fingerprint an admin compares out of band before approving.
 *
 * Shared by the dashboard and the server so both build the exact same bytes: the server
 * rebuilds the entry it expects for the action it is about to perform and refuses a signed
 * entry that says anything else (an admin's signature must describe what was done).
 * Imports nothing from api/ (STYLE rule 6).
 */
import { ByteWriter, base64urlEncode, utf8Encode } from '../encoding.ts';
import { MalformedError, SignatureError } from '../errors.ts';
import type { Primitives } from '../primitives.ts';
import { auditEntryHash, signAuditHash } from './audit.ts';
import { VERSION } from './constants.ts';
import { open, seal, SEAL_OVERHEAD } from './seal.ts';

// ---------------------------------------------------------------- canonical JSON

export type CanonicalValue = string | number | boolean | null | CanonicalValue[] | { [key: string]: CanonicalValue };

/**
 * JSON with object keys sorted (UTF-16 order), no whitespace, integers only: one value has
 * exactly one byte string, so a hash over it means one thing.
 * @throws MalformedError for non-integers or other types.
 */
export function canonicalJson(value: CanonicalValue): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new MalformedError('canonical JSON allows integers only');
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`).join(',')}}`;
  }
  throw new MalformedError('value not allowed in canonical JSON');
}

// ---------------------------------------------------------------- audit entries

/** Every action that changes access or keys, and the target fields each one names. */
export const AUDIT_ACTIONS = [
  'org.setup',
  // targets: invitationId (a one-way hash of the code: names the invitation, opens nothing),
  // role, teamIds, expiresHour (hours since the epoch), as the signed statement says.
  'invitation.create',
  'account.approve',
  'account.remove',
  'admin.add',
  'team.create',
  'team.member.add',
  'team.member.remove',
  'team.rotate',
  'team.epoch.retire',
  'team.epoch.renew',
  // targets: teamId, epoch (the current epoch the records moved to), count (records in the
  // batch). One entry per uploaded re-wrap batch: every re-wrap is in the log (issue 13).
  'team.rewrap',
  // targets: requestIds (base64url, the order sent). Requests no member's browser could
  // decrypt (junk a flood can send with a valid proof of work), removed in one action.
  'requests.remove_undecryptable',
  'retention.set',
  // targets: policy ("none", "any" or "passkey"): the organisation's second-factor policy (22.12)
  'second_factor.policy',
  // targets: serial (of the hand-over), newRoot (base64url of the new root public key)
  'root.rotate',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditTargets = { [key: string]: string | number | string[] };

/** An hour as the audit log writes it: `2026-11-23T19:00:00Z` (no finer time is ever recorded). */
export function auditHour(d: Date): string {
  return `${d.toISOString().slice(0, 13)}:00:00Z`;
}

/**
 * The entry bytes: canonical JSON `{"action","actor","hour","targets","v":1}`. No IP, user
 * agent or precise time: the hour only.
 */
export function buildAuditEntry(a: { action: AuditAction; actorId: Uint8Array; targets: AuditTargets; hour: Date }): Uint8Array {
  return utf8Encode(
    canonicalJson({ v: 1, action: a.action, actor: base64urlEncode(a.actorId), hour: auditHour(a.hour), targets: a.targets }),
  );
}

export interface SignedAudit {
  entry: Uint8Array;
  prevHash: Uint8Array;
  signature: Uint8Array;
}

/**
 * Builds and signs an entry on top of the head the caller read (GET /api/v1/admin/audit/head):
 * hash = auditEntryHash(prevHash, entry); signature = signAuditHash(actor's Ed25519 seed, hash).
 * If another admin appends first the server answers 409 and the caller rebuilds on the new head.
 */
export function signAuditEntry(
  p: Primitives,
  a: { action: AuditAction; actorId: Uint8Array; targets: AuditTargets; hour?: Date; prevHash: Uint8Array; ed25519Seed: Uint8Array },
): SignedAudit {
  const entry = buildAuditEntry({ action: a.action, actorId: a.actorId, targets: a.targets, hour: a.hour ?? new Date() });
  const hash = auditEntryHash(p, a.prevHash, entry);
  return { entry, prevHash: a.prevHash, signature: signAuditHash(p, a.ed25519Seed, hash) };
}

/** The JSON shape the admin API takes for `audit`. */
export function auditJson(s: SignedAudit): { entry: string; prevHash: string; signature: string } {
  return { entry: base64urlEncode(s.entry), prevHash: base64urlEncode(s.prevHash), signature: base64urlEncode(s.signature) };
}

// ---------------------------------------------------------------- root seed wraps

/** Object type byte of a root-seed wrap's associated data (not a crypto/v1 object: AD only). */
export const ROOT_WRAP_TYPE = 0x14;
export const ROOT_WRAP_BYTES = SEAL_OVERHEAD + 32;

/** AD = 0x01 | 0x14 | orgId(16) | accountId(16): a wrap cannot be moved to another admin or organisation. */
export function rootWrapAd(orgId: Uint8Array, accountId: Uint8Array): Uint8Array {
  if (orgId.length !== 16 || accountId.length !== 16) throw new MalformedError('id must be 16 bytes');
  return new ByteWriter().u8(VERSION).u8(ROOT_WRAP_TYPE).bytes(orgId, 16).bytes(accountId, 16).finish();
}

/** seal(admin X25519 public, rootSeed, AD). The admin's public key must come from a verified certificate. */
export function wrapRootSeed(p: Primitives, a: { adminX25519Public: Uint8Array; rootSeed: Uint8Array; orgId: Uint8Array; accountId: Uint8Array }): Uint8Array {
  if (a.rootSeed.length !== 32) throw new MalformedError('root seed must be 32 bytes');
  return seal(p, a.adminX25519Public, a.rootSeed, rootWrapAd(a.orgId, a.accountId));
}

/**
 * Opens the caller's root wrap and checks the seed belongs to the configured root public key
 * (anyone can seal to an admin's key: a server could otherwise hand over a root of its own).
 * @throws DecryptionError on a wrong key or a moved wrap; SignatureError if the seed is not the root's.
 */
export function unwrapRootSeed(
  p: Primitives,
  a: { x25519Secret: Uint8Array; wrap: Uint8Array; orgId: Uint8Array; accountId: Uint8Array; rootPublic: Uint8Array },
): Uint8Array {
  const seed = open(p, a.x25519Secret, a.wrap, rootWrapAd(a.orgId, a.accountId));
  if (!p.constantTimeEqual(p.ed25519KeypairFromSeed(seed).publicKey, a.rootPublic)) {
    seed.fill(0);
    throw new SignatureError('root wrap does not hold the configured root key');
  }
  return seed;
}

// ---------------------------------------------------------------- account fingerprint

/**
 * What an admin reads aloud with the responder before approving (crypto/v1/certs.ts): the
 * dashboard recomputes it from the listed keys; the server's copy is a convenience.
 */
export { accountFingerprint } from '../../crypto/v1/certs.ts';
