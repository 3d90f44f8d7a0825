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
import { base64urlDecode as unb64, base64urlEncode as b64 } from '../../../crypto/encoding.ts';
import type { Primitives } from '../../../crypto/primitives.ts';
import { CryptoError } from '../../../crypto/errors.ts';
import { verifyCurrentTeamKey, verifyHistoricTeamKey } from '../../../crypto/team-key-any.ts';
import {
  accountFingerprint, createGrant, createX25519Key, openGrant, Role, signResponderCert, verifyResponderCert,
} from '../../../crypto/v1/certs.ts';
import { unixHour } from '../../../crypto/v2/constants.ts';
import { signTeamKeyStatement, TEAM_KEY_DEFAULT_LIFETIME_HOURS } from '../../../crypto/v2/team-key.ts';
import type { KeyFloorStore } from '../key-floor.ts';
import { KeyFreshnessError, orgKey } from './key-freshness.ts';
import { rewrapMessage } from '../../../crypto/v1/message.ts';
import { auditJson, signAuditEntry, unwrapRootSeed, wrapRootSeed, type AuditAction, type AuditTargets } from '../../../crypto/v1/admin.ts';
import type { Vault } from '../keys.ts';
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
  /** The server's copy of the invited teams: never signed from; compared with the statement. */
  invitedTeamIds: string[];
  /** The signed invitation and its signer's certificate: the only source of role and teams to sign. */
  invitation: { statement: string; inviterCertificate: string | null } | null;
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
  /** The server's reading of the current key (a convenience: the browser decides by `teamKeyState`). */
  currentKey: { version: 1 | 2; serial: number; expiresHour: string | null; needsRenewal: boolean } | null;
  currentEpochAgeDays: number | null;
  rotationDue: boolean;
  /** a member left since the last rotation (kept by the server until the rotation) */
  rotationRequired?: boolean;
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
 * Opens the admin's root wrap. The root public key is the vault's, which came from this page
 * (root-pin.ts), never the wrap answer's `rootPublicKey` (ignored: a server could name a root
 * of its own there); the organisation must be the vault's, and the seed must derive that
 * public key (unwrapRootSeed checks).
 * @throws AdminKeyError('root') on any mismatch or a wrap that does not open.
 */
export function openAdminKeys(p: Primitives, vault: Vault, wrap: RootWrapJson): AdminKeys {
  try {
    const rootPublic = vault.rootPublic;
    const orgId = unb64(wrap.organisationId);
    if (!p.constantTimeEqual(orgId, vault.orgId)) throw new AdminKeyError('root');
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
      const cert = verifyHistoricTeamKey(p, k.rootPublic, unb64(e.certificate), { orgId: k.orgId, teamId, epoch: e.epoch });
      const opened = openGrant(p, { responderSecret: k.x25519Secret, bytes: unb64(g.grant), expected: { orgId: k.orgId, teamId, epoch: e.epoch, accountId: k.accountId }, teamPublic: cert.publicKey });
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
  /** the v2 team key statement signed here */
  certificate: Uint8Array;
  serial: number;
  /** from the statement, verified again after signing: this is what the admin confirms */
  publicKey: Uint8Array;
  fingerprint: string;
  secretKey: Uint8Array;
  /** each member's grant, made only for a certificate verified for that member's own id */
  grants: { accountId: string; username: string; fingerprint: string; grant: string }[];
}

/**
 * Makes a team epoch key in this browser, has the root sign it as a v2 statement (`serial`,
 * the default lifetime from now), and grants it to `members`. The key granted and confirmed is
 * taken from the statement only after verifying it as the team's current key, so what is
 * shown is exactly what was signed. Each member's certificate must verify for its own account
 * id (so the server cannot point a grant at a key of its own). Caller zero-fills `secretKey`.
 * @throws AdminKeyError('member') naming no one: the page says which check failed.
 */
export function makeTeamKey(p: Primitives, k: AdminKeys, teamId: string, epoch: number, members: AdminAccountJson[], serial: number, now = Date.now()): NewTeamKey {
  const key = createX25519Key(p);
  const id = unb64(teamId);
  const issuedHour = unixHour(now);
  const certificate = signTeamKeyStatement(p, k.rootSeed, {
    orgId: k.orgId, teamId: id, epoch, serial, issuedHour, expiresHour: issuedHour + TEAM_KEY_DEFAULT_LIFETIME_HOURS, publicKey: key.publicKey,
  });
  const publicKey = verifyCurrentTeamKey(p, k.rootPublic, certificate, { orgId: k.orgId, teamId: id, epoch, nowHour: issuedHour, minSerial: serial }).publicKey;
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
  return { teamId, epoch, certificate, serial, publicKey, fingerprint: teamKeyFingerprint(publicKey), secretKey: key.secretKey, grants };
}

/**
 * Re-wraps one page of a team's old records to its current epoch, the old secrets from the
 * admin's grants verified against their epochs' keys. Records that do not open are skipped
 * and counted (they stay on their old epoch, so that epoch cannot be retired yet).
 * Threat: a server (or proxy) that names an OLDER epoch as current, so this browser re-wraps
 * everything to a key a removed member holds. The target must be the newest key this browser
 * has verified: a statement valid now, with a serial at least the remembered one, for an
 * epoch at least the newest listed on the page and at least `knownEpoch` (the newest in the
 * admin's team list); otherwise nothing is re-wrapped.
 * @throws KeyFreshnessError before any record is touched.
 */
export function rewrapPage(
  p: Primitives,
  k: AdminKeys,
  teamId: string,
  page: RewrapPageJson,
  floors: KeyFloorStore,
  knownEpoch = 0,
  now = Date.now(),
): { messages: { id: string; blob: string }[]; failed: number } {
  const id = unb64(teamId);
  if (page.currentEpoch < knownEpoch || page.epochs.some((e) => e.epoch > page.currentEpoch)) throw new KeyFreshnessError('rolled_back', teamId);
  let current: Uint8Array;
  try {
    const key = verifyCurrentTeamKey(p, k.rootPublic, unb64(page.currentCertificate), {
      orgId: k.orgId, teamId: id, epoch: page.currentEpoch, nowHour: unixHour(now), minSerial: floors.get(orgKey(k), teamId),
    });
    floors.raise(orgKey(k), teamId, key.serial);
    current = key.publicKey;
  } catch (err) {
    const code = err instanceof CryptoError ? err.code : '';
    throw new KeyFreshnessError(code === 'rolled_back' ? 'rolled_back' : code === 'expired_statement' ? 'expired' : 'invalid', teamId);
  }
  const secrets = new Map<number, Uint8Array>();
  for (const g of page.grants) {
    const e = page.epochs.find((x) => x.epoch === g.epoch);
    if (!e || e.state === 'retired') continue;
    try {
      const cert = verifyHistoricTeamKey(p, k.rootPublic, unb64(e.certificate), { orgId: k.orgId, teamId: id, epoch: g.epoch });
      secrets.set(g.epoch, openGrant(p, { responderSecret: k.x25519Secret, bytes: unb64(g.grant), expected: { orgId: k.orgId, teamId: id, epoch: g.epoch, accountId: k.accountId }, teamPublic: cert.publicKey }).epochSecret);
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
