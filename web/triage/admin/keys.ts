/**
 * The admin's key work in the dashboard, kept apart from the DOM (like keys.ts): open the
 * root seed from the admin's wrap, sign responder and admin certificates, make and certify
 * team epoch keys, grant epoch secrets to verified certificates only, re-wrap old records to
 * the current epoch, sign audit entries, and verify the whole audit chain.
 *
 * Threat model (docs/THREAT-MODEL.md, adversary "compromised server code"): the server
 * lists accounts, teams, certificates and grants, and may lie about any of them. So every public key this module
 * seals to comes out of a certificate it verified against the configured root for the exact
 * account, team and epoch; every epoch secret it uses is checked against that epoch's
 * root-signed certificate; and the root seed is checked to belong to the configured root.
 *
 * The root seed lives in memory only; `wipeAdminKeys` zero-fills it. The admin's own account
 * secrets are the vault's (wiped by wipeVault), only borrowed here.
 */
import { base64urlDecode as unb64, base64urlEncode as b64, utf8Decode } from '../../../crypto/encoding.ts';
import type { Primitives } from '../../../crypto/primitives.ts';
import { AUDIT_GENESIS_HASH, auditEntryHash, verifyAuditHash } from '../../../crypto/v1/audit.ts';
import {
  accountFingerprint, createGrant, createX25519Key, openGrant, Role, rootFingerprint, signResponderCert, signTeamKey, verifyResponderCert, verifyTeamKey,
} from '../../../crypto/v1/certs.ts';
import { rewrapMessage } from '../../../crypto/v1/message.ts';
import { auditJson, signAuditEntry, unwrapRootSeed, wrapRootSeed, type AuditAction, type AuditTargets } from '../../../crypto/v1/admin.ts';
import { verifiedTeamPublic, type Vault } from '../keys.ts';
import { rewrapMessageV2 } from '../../../crypto/v2/message.ts';

export interface AdminKeys {
  orgId: Uint8Array;
  accountId: Uint8Array;
  rootPublic: Uint8Array;
  /** The organisation's root signing seed: owned here, zero-filled by wipeAdminKeys. */
  rootSeed: Uint8Array;
  /** Borrowed from the vault (wiped with it). */
  x25519Secret: Uint8Array;
  ed25519Seed: Uint8Array;
}

export interface RootWrapJson {
  organisationId: string;
  rootPublicKey: string;
  rootWrap: string;
}

export interface AdminAccountJson {
  id: string;
  username: string;
  role: string;
  status: string;
  encPublicKey: string;
  signPublicKey: string;
  fingerprint: string;
  certificate: string | null;
  teamIds: string[];
  invitedTeamIds: string[];
  hasRootWrap: boolean;
  createdHour: string;
}

export interface AdminTeamJson {
  id: string;
  slug: string;
  name: string;
  position: number;
  createdHour: string;
  currentEpoch: number | null;
  currentEpochAgeDays: number | null;
  rotationDue: boolean;
  staleMessages: number;
  memberIds: string[];
  epochs: { epoch: number; state: string; certificate: string; createdHour: string }[];
  grants: { epoch: number; grant: string }[];
}

export interface RewrapPageJson {
  currentEpoch: number;
  currentCertificate: string;
  epochs: { epoch: number; state: string; certificate: string }[];
  grants: { epoch: number; grant: string }[];
  messages: { id: string; requestId: string; kind: string; epoch: number; blob: string }[];
  remaining: number;
  nextCursor: string | null;
}

export interface AuditEntryJson {
  seq: number;
  actorId: string;
  entry: string;
  entryText: string;
  prevHash: string;
  hash: string;
  signature: string;
}

export type AuditJson = ReturnType<typeof auditJson>;

/** Why a step refused to go on; the page words each reason. */
export class AdminKeyError extends Error {
  constructor(readonly reason: 'root' | 'certificate' | 'no_secret' | 'member') {
    super(reason);
  }
}

/**
 * Opens the admin's root wrap. The root public key must be the one the vault was opened with
 * (its fingerprint, from GET /teams, is the one shown to every responder), the organisation the
 * vault's, and the seed must derive that public key (unwrapRootSeed checks).
 * @throws AdminKeyError('root') on any mismatch or a wrap that does not open.
 */
export function openAdminKeys(p: Primitives, vault: Vault, wrap: RootWrapJson): AdminKeys {
  try {
    const rootPublic = unb64(wrap.rootPublicKey);
    const orgId = unb64(wrap.organisationId);
    if (rootFingerprint(p, rootPublic) !== vault.rootFingerprint || !p.constantTimeEqual(orgId, vault.orgId)) throw new AdminKeyError('root');
    const rootSeed = unwrapRootSeed(p, { x25519Secret: vault.x25519Secret, wrap: unb64(wrap.rootWrap), orgId, accountId: vault.accountId, rootPublic });
    return { orgId, accountId: vault.accountId, rootPublic, rootSeed, x25519Secret: vault.x25519Secret, ed25519Seed: vault.ed25519Seed };
  } catch {
    throw new AdminKeyError('root');
  }
}

export function wipeAdminKeys(k: AdminKeys): void {
  k.rootSeed.fill(0);
}

/** Builds and signs an audit entry on top of the head hash the caller just read. */
export function signAudit(p: Primitives, k: AdminKeys, action: AuditAction, targets: AuditTargets, headHash: string): AuditJson {
  return auditJson(signAuditEntry(p, { action, actorId: k.accountId, targets, prevHash: unb64(headHash), ed25519Seed: k.ed25519Seed }));
}

/** The fingerprint recomputed from the listed keys (never the server's own copy). */
export function fingerprintOf(p: Primitives, a: AdminAccountJson): string {
  return accountFingerprint(p, unb64(a.encPublicKey), unb64(a.signPublicKey));
}

/**
 * Signs a certificate for the keys the server lists for `a`. Call only after the admin compared
 * `fingerprintOf(a)` with the person: that comparison is what stops a swapped key.
 */
export function signAccountCertificate(p: Primitives, k: AdminKeys, a: AdminAccountJson, role: 'responder' | 'admin'): Uint8Array {
  return signResponderCert(p, k.rootSeed, {
    orgId: k.orgId, accountId: unb64(a.id), role: role === 'admin' ? Role.admin : Role.responder,
    x25519Public: unb64(a.encPublicKey), ed25519Public: unb64(a.signPublicKey),
  });
}

/**
 * The account's stored certificate, verified against the root for this organisation AND this
 * account id and naming exactly the listed keys.
 * @throws AdminKeyError('certificate').
 */
export function verifiedCertificate(p: Primitives, k: AdminKeys, a: AdminAccountJson): { certificate: Uint8Array; x25519Public: Uint8Array; ed25519Public: Uint8Array; role: number } {
  if (!a.certificate) throw new AdminKeyError('certificate');
  try {
    const certificate = unb64(a.certificate);
    const f = verifyResponderCert(p, k.rootPublic, certificate, { orgId: k.orgId, accountId: unb64(a.id) });
    if (!p.constantTimeEqual(f.x25519Public, unb64(a.encPublicKey)) || !p.constantTimeEqual(f.ed25519Public, unb64(a.signPublicKey))) throw new AdminKeyError('certificate');
    return { certificate, x25519Public: f.x25519Public, ed25519Public: f.ed25519Public, role: f.role };
  } catch {
    throw new AdminKeyError('certificate');
  }
}

/** The account fingerprint from a VERIFIED certificate (shown when confirming grants). */
export function certifiedFingerprint(p: Primitives, k: AdminKeys, a: AdminAccountJson): string {
  const c = verifiedCertificate(p, k, a);
  return accountFingerprint(p, c.x25519Public, c.ed25519Public);
}

/**
 * Opens the admin's own grants of every non-retired epoch of a team, each checked against
 * that epoch's root-signed certificate. Caller zero-fills the returned secrets.
 * @throws AdminKeyError('no_secret') when a live epoch has no grant for the admin that opens.
 */
export function liveEpochSecrets(
  p: Primitives,
  k: AdminKeys,
  team: { id: string; epochs: { epoch: number; state: string; certificate: string }[] },
  grants: { epoch: number; grant: string }[],
): Map<number, Uint8Array> {
  const teamId = unb64(team.id);
  const out = new Map<number, Uint8Array>();
  try {
    for (const e of team.epochs) {
      if (e.state === 'retired') continue;
      const g = grants.find((x) => x.epoch === e.epoch);
      if (!g) throw new AdminKeyError('no_secret');
      // Either version of team key (protocol v2 statements; see keys.ts verifiedTeamPublic).
      const teamPublic = verifiedTeamPublic(p, k.rootPublic, unb64(e.certificate), { orgId: k.orgId, teamId, epoch: e.epoch }, false);
      const opened = openGrant(p, { responderSecret: k.x25519Secret, bytes: unb64(g.grant), expected: { orgId: k.orgId, teamId, epoch: e.epoch, accountId: k.accountId }, teamPublic });
      out.set(e.epoch, opened.epochSecret);
    }
  } catch {
    for (const s of out.values()) s.fill(0);
    throw new AdminKeyError('no_secret');
  }
  return out;
}

/** Grants each epoch secret to the holder of `certificate` (createGrant verifies it against the root first). */
export function grantsFor(p: Primitives, k: AdminKeys, certificate: Uint8Array, teamId: string, secrets: Map<number, Uint8Array>): { epoch: number; grant: string }[] {
  return [...secrets].map(([epoch, epochSecret]) => ({
    epoch,
    grant: b64(createGrant(p, { rootPublic: k.rootPublic, responderCert: certificate, orgId: k.orgId, teamId: unb64(teamId), epoch, epochSecret })),
  }));
}

/** Hex of a team public key in 16 groups of 4, the way the other fingerprints read. */
export function teamKeyFingerprint(publicKey: Uint8Array): string {
  return [...publicKey].map((b) => b.toString(16).padStart(2, '0')).join('').match(/.{4}/g)!.join(' ');
}

export interface NewTeamKey {
  teamId: string;
  epoch: number;
  certificate: Uint8Array;
  /** from the certificate, verified again after signing: this is what the admin confirms */
  publicKey: Uint8Array;
  fingerprint: string;
  secretKey: Uint8Array;
  /** each member's grant, made only for a certificate verified for that member's own id */
  grants: { accountId: string; username: string; fingerprint: string; grant: string }[];
}

/**
 * Makes a team epoch key in this browser, has the root sign it, and grants it to `members`.
 * Each member's certificate must verify for its own account id (so the server cannot point a
 * grant at a key of its own). Caller zero-fills `secretKey` when done.
 * @throws AdminKeyError('member') naming no one: the page says which check failed.
 */
export function makeTeamKey(p: Primitives, k: AdminKeys, teamId: string, epoch: number, members: AdminAccountJson[]): NewTeamKey {
  const key = createX25519Key(p);
  const id = unb64(teamId);
  const certificate = signTeamKey(p, k.rootSeed, { orgId: k.orgId, teamId: id, epoch, publicKey: key.publicKey });
  const publicKey = verifyTeamKey(p, k.rootPublic, certificate, { orgId: k.orgId, teamId: id, epoch }).publicKey;
  const grants = members.map((m) => {
    let c;
    try {
      c = verifiedCertificate(p, k, m);
    } catch {
      key.secretKey.fill(0);
      throw new AdminKeyError('member');
    }
    const grant = createGrant(p, { rootPublic: k.rootPublic, responderCert: c.certificate, orgId: k.orgId, teamId: id, epoch, epochSecret: key.secretKey });
    return { accountId: m.id, username: m.username, fingerprint: accountFingerprint(p, c.x25519Public, c.ed25519Public), grant: b64(grant) };
  });
  return { teamId, epoch, certificate, publicKey, fingerprint: teamKeyFingerprint(publicKey), secretKey: key.secretKey, grants };
}

/**
 * Re-wraps one page of a team's old records to its current epoch: the current key from a
 * certificate verified for this team and epoch, the old secrets from the admin's grants
 * verified against their epochs' certificates. Records that do not open are skipped and
 * counted (they stay on their old epoch, so that epoch cannot be retired yet).
 */
export function rewrapPage(p: Primitives, k: AdminKeys, teamId: string, page: RewrapPageJson): { messages: { id: string; blob: string }[]; failed: number } {
  const id = unb64(teamId);
  const current = verifiedTeamPublic(p, k.rootPublic, unb64(page.currentCertificate), { orgId: k.orgId, teamId: id, epoch: page.currentEpoch }, true);
  const secrets = new Map<number, Uint8Array>();
  for (const g of page.grants) {
    const e = page.epochs.find((x) => x.epoch === g.epoch);
    if (!e || e.state === 'retired') continue;
    try {
      const teamPublic = verifiedTeamPublic(p, k.rootPublic, unb64(e.certificate), { orgId: k.orgId, teamId: id, epoch: g.epoch }, false);
      secrets.set(g.epoch, openGrant(p, { responderSecret: k.x25519Secret, bytes: unb64(g.grant), expected: { orgId: k.orgId, teamId: id, epoch: g.epoch, accountId: k.accountId }, teamPublic }).epochSecret);
    } catch {
      // An old grant that does not verify is not used; its records are reported as failed.
    }
  }
  const messages: { id: string; blob: string }[] = [];
  let failed = 0;
  try {
    for (const m of page.messages) {
      const secret = secrets.get(m.epoch);
      if (!secret) {
        failed++;
        continue;
      }
      try {
        const blob = unb64(m.blob);
        // v2 messages keep their signed inner plaintext untouched (crypto/v2 rewrapMessageV2).
        const rewrapped = blob[0] === 2 ? rewrapMessageV2(p, blob, secret, current, page.currentEpoch) : rewrapMessage(p, blob, secret, current, page.currentEpoch);
        messages.push({ id: m.id, blob: b64(rewrapped) });
      } catch {
        failed++;
      }
    }
  } finally {
    for (const s of secrets.values()) s.fill(0);
  }
  return { messages, failed };
}

/** Seals the root seed to a new admin's key, taken from a certificate verified for that account. */
export function rootWrapFor(p: Primitives, k: AdminKeys, a: AdminAccountJson): Uint8Array {
  const c = verifiedCertificate(p, k, a);
  return wrapRootSeed(p, { adminX25519Public: c.x25519Public, rootSeed: k.rootSeed, orgId: k.orgId, accountId: unb64(a.id) });
}

// ---------------------------------------------------------------- audit chain

export type ChainFault = 'missing' | 'prev' | 'hash' | 'json' | 'actor' | 'unknown_actor' | 'signature';
export type ChainVerdict = { ok: true; count: number; head: string | null } | { ok: false; seq: number; fault: ChainFault; count: number };

/**
 * Walks the chain from the genesis hash, like api/admin/audit.service.ts verifyAuditChain, but
 * here in the admin's browser so a server cannot simply claim "verified": positions 1, 2, 3 ...
 * without gaps; each prevHash is the hash before it; each hash is recomputed from the entry
 * bytes (the stored hash is not trusted); the entry names its actor; the signature verifies
 * with that actor's Ed25519 key from the accounts list. Stops at the first broken link.
 * A server that cuts entries off the end cannot be caught this way; compare the head
 * (seq and hash shown) with one noted earlier.
 */
export function verifyAuditChain(p: Primitives, entries: AuditEntryJson[], signKeys: Map<string, Uint8Array>): ChainVerdict {
  let prev: Uint8Array = AUDIT_GENESIS_HASH;
  let count = 0;
  for (const [i, e] of entries.entries()) {
    const broken = (fault: ChainFault): ChainVerdict => ({ ok: false, seq: fault === 'missing' ? i + 1 : e.seq, fault, count });
    if (e.seq !== i + 1) return broken('missing');
    let entry: Uint8Array;
    let prevHash: Uint8Array;
    let stored: Uint8Array;
    let signature: Uint8Array;
    try {
      entry = unb64(e.entry);
      prevHash = unb64(e.prevHash);
      stored = unb64(e.hash);
      signature = unb64(e.signature);
    } catch {
      return broken('json');
    }
    if (prevHash.length !== 32 || !p.constantTimeEqual(prevHash, prev)) return broken('prev');
    const hash = auditEntryHash(p, prev, entry);
    if (stored.length !== 32 || !p.constantTimeEqual(hash, stored)) return broken('hash');
    let actor: unknown;
    try {
      actor = (JSON.parse(utf8Decode(entry)) as { actor?: unknown }).actor;
    } catch {
      return broken('json');
    }
    if (actor !== e.actorId) return broken('actor');
    const key = signKeys.get(e.actorId);
    if (!key) return broken('unknown_actor');
    try {
      verifyAuditHash(p, key, hash, signature);
    } catch {
      return broken('signature');
    }
    prev = hash;
    count++;
  }
  return { ok: true, count, head: count ? b64(prev) : null };
}
