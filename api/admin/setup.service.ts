/**
 * First-time setup of a real deployment: the organisation, its Ed25519 root key, the first
 * admin account (keys made exactly as at enrolment), optional first teams, and the first
 * audit entry, in one transaction. The root seed is stored only sealed to the admin's own
 * X25519 key (root_wraps); this process forgets it when it exits.
 */
import type { Kysely } from 'kysely';
import { base64urlEncode } from '../../crypto/encoding.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import {
  createAccountKeys, deriveAccountSecrets, loginVerifierHash, newAccountSalt, RESPONDER_DEFAULT_PARAMS, wrapAccountKeys, type Argon2Params,
} from '../../crypto/v1/account.ts';
import { AUDIT_GENESIS_HASH, auditEntryHash } from '../../crypto/v1/audit.ts';
import { createGrant, createRootKey, createX25519Key, Role, rootFingerprint, signResponderCert, signTeamKey } from '../../crypto/v1/certs.ts';
import { signAuditEntry, wrapRootSeed } from '../../crypto/v1/admin.ts';
import { assessPassphrase, MIN_PASSPHRASE_CHARS } from '../../crypto/passphrase-policy.ts';
import { normalizeUsername } from '../accounts/account.service.ts';
import type { Database } from '../db/schema.ts';
import { coarseHour } from '../time.ts';
import * as repo from './admin.repository.ts';
import { signManifest, type SiteManifest } from '../../crypto/v2/site-manifest.ts';
import { saveManifestSignature } from '../site/site-manifest.repository.ts';
import { manifestSha256 } from '../site/site-manifest.service.ts';
import { insertAccount } from '../accounts/account.repository.ts';

export class SetupRefusedError extends Error {
  override name = 'SetupRefusedError';
}

const ALREADY = 'an organisation already exists in this database (real or demo); setup writes nothing';

/** @throws SetupRefusedError when any organisation (real or demo) exists. */
export async function refuseIfSetUp(db: Kysely<Database>): Promise<void> {
  if ((await repo.findOrganisationId(db)) !== null) throw new SetupRefusedError(ALREADY);
}

export interface SetupInput {
  name: string;
  username: string;
  passphrase: string;
  teams?: { slug: string; name: string }[];
  /** Argon2id cost; the enrolment default unless a test lowers it. */
  params?: Argon2Params;
  /**
   * The site manifests of the build this deployment serves, for a root key: given, they are
   * signed with the new root seed before it is forgotten (api/web/static-site.ts `manifestsOfBuild`).
   */
  siteManifests?: (rootPublicKey: Uint8Array) => SiteManifest[];
}

export interface SetupResult {
  organisationId: Uint8Array;
  rootPublicKey: Uint8Array;
  rootFingerprint: string;
  adminId: Uint8Array;
  teams: { id: Uint8Array; slug: string }[];
}

/**
 * @throws SetupRefusedError over any existing organisation (real or demo) or for bad input;
 *   nothing is written then.
 */
export async function setupOrganisation(db: Kysely<Database>, p: Primitives, input: SetupInput): Promise<SetupResult> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 200) throw new SetupRefusedError('the organisation name must be 1-200 characters');
  const username = normalizeUsername(input.username);
  if (username === null) throw new SetupRefusedError('the user name must be 3-40 characters: a-z, 0-9, dot, dash or underscore');
  const teamsIn = input.teams ?? [];
  for (const t of teamsIn) {
    if (!/^[a-z0-9-]{1,40}$/.test(t.slug)) throw new SetupRefusedError('every team slug must be 1-40 characters: a-z, 0-9 or dash');
  }
  if (new Set(teamsIn.map((t) => t.slug)).size !== teamsIn.length) throw new SetupRefusedError('a team slug is given twice');
  // The first admin's passphrase guards the root key: the same rules as every responder's.
  const verdict = assessPassphrase(input.passphrase, username);
  if (!verdict.ok) {
    throw new SetupRefusedError(`the passphrase is too weak (${verdict.problems.join(', ')}): use at least ${MIN_PASSPHRASE_CHARS} characters, ideally several random words`);
  }
  // Cheap early refusal before the Argon2id work; checked again under the lock below.
  await refuseIfSetUp(db);

  // The admin's account, exactly as enrolment makes it in the browser.
  const params = input.params ?? RESPONDER_DEFAULT_PARAMS;
  const salt = newAccountSalt(p);
  const secrets = await deriveAccountSecrets(p, input.passphrase, salt, params);
  const keys = createAccountKeys(p);
  const keyBundle = wrapAccountKeys(p, { wrapKey: secrets.wrapKey, salt, params, ...keys });
  const encPublicKey = p.x25519PublicFromSecret(keys.x25519Secret);
  const signPublicKey = p.ed25519KeypairFromSeed(keys.ed25519Seed).publicKey;
  const verifierHash = loginVerifierHash(p, secrets.loginVerifier);
  secrets.wrapKey.fill(0);
  secrets.loginVerifier.fill(0);

  const organisationId = p.randomBytes(16);
  const adminId = p.randomBytes(16);
  const root = createRootKey(p);
  const certificate = signResponderCert(p, root.seed, { orgId: organisationId, accountId: adminId, role: Role.admin, x25519Public: encPublicKey, ed25519Public: signPublicKey });
  const rootWrap = wrapRootSeed(p, { adminX25519Public: encPublicKey, rootSeed: root.seed, orgId: organisationId, accountId: adminId });
  const teams = teamsIn.map((t) => {
    const id = p.randomBytes(16);
    const key = createX25519Key(p);
    const cert = signTeamKey(p, root.seed, { orgId: organisationId, teamId: id, epoch: 1, publicKey: key.publicKey });
    const grant = createGrant(p, { rootPublic: root.publicKey, responderCert: certificate, orgId: organisationId, teamId: id, epoch: 1, epochSecret: key.secretKey });
    key.secretKey.fill(0);
    return { ...t, id, publicKey: key.publicKey, cert, grant };
  });
  const hour = coarseHour();
  const audit = signAuditEntry(p, {
    action: 'org.setup',
    actorId: adminId,
    targets: { organisationId: base64urlEncode(organisationId), teamIds: teams.map((t) => base64urlEncode(t.id)) },
    hour,
    prevHash: AUDIT_GENESIS_HASH,
    ed25519Seed: keys.ed25519Seed,
  });
  const manifests = input.siteManifests?.(root.publicKey) ?? [];
  const manifestSignatures = manifests.map((m) => ({ m, sig: signManifest(p, root.seed, m) }));
  root.seed.fill(0);
  keys.x25519Secret.fill(0);
  keys.ed25519Seed.fill(0);

  await db.transaction().execute(async (trx) => {
    const existing = await repo.lockOrganisations(trx);
    if (existing.real + existing.demo > 0) throw new SetupRefusedError(ALREADY);
    await repo.insertOrganisation(trx, { id: organisationId, name, hour });
    await insertAccount(trx, { id: adminId, username, role: 'admin', salt, verifierHash, keyBundle, encPublicKey, signPublicKey, certificate, hour });
    await repo.upsertRootWrap(trx, adminId, rootWrap, hour);
    for (const [position, t] of teams.entries()) {
      await repo.insertTeam(trx, { id: t.id, organisationId, slug: t.slug, name: t.name, position, hour });
      await repo.insertEpoch(trx, { teamId: t.id, epoch: 1, publicKey: t.publicKey, certificate: t.cert, state: 'current', hour });
      await repo.addMember(trx, t.id, adminId);
      await repo.insertGrants(trx, [{ teamId: t.id, epoch: 1, accountId: adminId, sealed: t.grant }]);
    }
    const head = await repo.lockAuditHead(trx);
    if (head !== null) throw new SetupRefusedError('the audit log is not empty; setup writes nothing');
    for (const { m, sig } of manifestSignatures) await saveManifestSignature(trx, m.site, manifestSha256(m), sig);
    await repo.insertAudit(trx, { seq: 1, actorId: adminId, entry: audit.entry, prevHash: AUDIT_GENESIS_HASH, hash: auditEntryHash(p, AUDIT_GENESIS_HASH, audit.entry), signature: audit.signature });
  });
  return { organisationId, rootPublicKey: root.publicKey, rootFingerprint: rootFingerprint(p, root.publicKey), adminId, teams: teams.map((t) => ({ id: t.id, slug: t.slug })) };
}
