/**
 * First-run setup from the first admin's browser (POST /api/v1/setup): the same organisation,
 * admin, teams and first audit entry as `npm run setup` (setup.service.ts), except that every
 * key was made and every signature made in the browser (crypto/v2/first-run.ts). This side
 * checks that the pieces belong together, so that a buggy or hostile client cannot leave a
 * half-usable organisation behind: the admin certificate verifies against the given root and
 * names the given keys, every team statement verifies for its team at epoch 1 serial 1, every
 * grant names its organisation, team, epoch and the admin, the audit entry is exactly the
 * `org.setup` entry and verifies with the certified key. It cannot check what is sealed (the
 * root wrap, the grants, the key bundle): only the admin's browser can open those, and it
 * does so at the first sign-in.
 *
 * One organisation, ever: the insert runs under the organisation table lock and refuses when
 * any organisation exists (AlreadySetUpError), whatever the token said.
 */
import type { Kysely } from 'kysely';
import { base64urlEncode, ByteReader } from '../../crypto/encoding.ts';
import { CryptoError } from '../../crypto/errors.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { checkArgon2Params, loginVerifierHash, parseAccountBundleHeader, RESPONDER_MIN_PARAMS } from '../../crypto/v1/account.ts';
import { AUDIT_GENESIS_HASH, auditEntryHash, verifyAuditHash } from '../../crypto/v1/audit.ts';
import { GRANT_BYTES, Role, rootFingerprint, verifyResponderCert } from '../../crypto/v1/certs.ts';
import { ObjectType, VERSION } from '../../crypto/v1/constants.ts';
import { ROOT_WRAP_BYTES } from '../../crypto/v1/admin.ts';
import { unixHour } from '../../crypto/v2/constants.ts';
import { parseTeamKeyStatementUnverified, verifyTeamKeyStatement } from '../../crypto/v2/team-key.ts';
import { normalizeUsername } from '../accounts/account.service.ts';
import { insertAccount } from '../accounts/account.repository.ts';
import type { Database } from '../db/schema.ts';
import { AlreadySetUpError, ValidationError } from '../errors.ts';
import { coarseHour } from '../time.ts';
import type { EnrolInput } from '../accounts/account.service.ts';
import { checkAuditEntry, type AuditInput } from './audit.service.ts';
import * as repo from './admin.repository.ts';

/** More than any hotline starts with; more can be created on the Admin screen. */
export const SETUP_MAX_TEAMS = 20;

export interface BrowserSetupInput {
  organisation: { id: Uint8Array; name: string };
  rootPublicKey: Uint8Array;
  /** The account as enrolment makes it (no invitation: the setup token stands in), plus its certificate and root wrap. */
  admin: Omit<EnrolInput, 'invitationCode'> & {
    id: Uint8Array;
    certificate: Uint8Array;
    rootWrap: Uint8Array;
  };
  teams: { id: Uint8Array; slug: string; name: string; certificate: Uint8Array; grant: Uint8Array }[];
  audit: AuditInput;
}

export interface BrowserSetupResult {
  organisationId: Uint8Array;
  rootPublicKey: Uint8Array;
  rootFingerprint: string;
  adminId: Uint8Array;
}

const SLUG = /^[a-z0-9-]{1,40}$/;

function same(p: Primitives, a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && p.constantTimeEqual(a, b);
}

/** @throws ValidationError unless the grant's clear header names exactly this org, team, epoch 1 and account. */
function checkGrantHeader(p: Primitives, grant: Uint8Array, orgId: Uint8Array, teamId: Uint8Array, accountId: Uint8Array): void {
  if (grant.length !== GRANT_BYTES) throw new ValidationError('A grant has the wrong length.', 'malformed');
  const r = new ByteReader(grant);
  if (r.u8() !== VERSION || r.u8() !== ObjectType.grant) throw new ValidationError('A grant has the wrong version or type.', 'malformed');
  const ok = same(p, r.bytes(16), orgId) && same(p, r.bytes(16), teamId) && r.u32() === 1 && same(p, r.bytes(16), accountId);
  if (!ok) throw new ValidationError('A grant names another organisation, team, epoch or account.');
}

/**
 * Checks everything that can be checked without the database. Cheap next to the Argon2id the
 * browser spent, and done before the token is spent, so a client bug leaves the link usable.
 * @throws ValidationError naming the first problem.
 */
export function checkBrowserSetup(p: Primitives, input: BrowserSetupInput, now = new Date()): { username: string; name: string } {
  const name = input.organisation.name.trim();
  if (name.length < 1 || name.length > 200) throw new ValidationError('The organisation name must be 1-200 characters.');
  const username = normalizeUsername(input.admin.username);
  if (username === null) throw new ValidationError('The user name must be 3-40 characters: a-z, 0-9, dot, dash or underscore.');
  if (input.teams.length > SETUP_MAX_TEAMS) throw new ValidationError(`At most ${SETUP_MAX_TEAMS} teams at setup; add more on the Admin screen.`);
  for (const t of input.teams) {
    if (!SLUG.test(t.slug)) throw new ValidationError('Every team slug must be 1-40 characters: a-z, 0-9 or dash.');
    if (t.name.trim().length < 1 || t.name.length > 200) throw new ValidationError('Every team name must be 1-200 characters.');
  }
  if (new Set(input.teams.map((t) => t.slug)).size !== input.teams.length) throw new ValidationError('A team slug is given twice.');
  if (new Set(input.teams.map((t) => base64urlEncode(t.id))).size !== input.teams.length) throw new ValidationError('A team id is given twice.');

  const a = input.admin;
  const header = parseAccountBundleHeader(a.keyBundle);
  try {
    checkArgon2Params(header.params, RESPONDER_MIN_PARAMS);
  } catch {
    throw new ValidationError('The key bundle uses Argon2id parameters below the minimum.');
  }
  if (!same(p, header.salt, a.salt)) throw new ValidationError('Field "salt" does not match the key bundle.');
  if (a.encPublicKey.every((b) => b === 0) || a.signPublicKey.every((b) => b === 0)) throw new ValidationError('The admin public keys are not usable.');
  if (a.rootWrap.length !== ROOT_WRAP_BYTES) throw new ValidationError('The root wrap has the wrong length.', 'malformed');

  const orgId = input.organisation.id;
  const root = input.rootPublicKey;
  let cert;
  try {
    cert = verifyResponderCert(p, root, a.certificate, { orgId, accountId: a.id });
  } catch (err) {
    if (err instanceof CryptoError) throw new ValidationError('The admin certificate does not verify against the given root for this organisation and account.');
    throw err;
  }
  if (cert.role !== Role.admin) throw new ValidationError('The admin certificate names another role.');
  if (!same(p, cert.x25519Public, a.encPublicKey) || !same(p, cert.ed25519Public, a.signPublicKey)) {
    throw new ValidationError("The admin certificate does not name the admin's keys.");
  }
  const nowHour = unixHour(now.getTime());
  for (const t of input.teams) {
    let fields;
    try {
      fields = verifyTeamKeyStatement(p, root, t.certificate, { orgId, teamId: t.id, epoch: 1, nowHour });
    } catch (err) {
      if (err instanceof CryptoError) throw new ValidationError('A team key statement does not verify against the given root for its team at epoch 1, or is not valid now.');
      throw err;
    }
    if (fields.serial !== 1) throw new ValidationError("A team's first key statement has serial 1.");
    checkGrantHeader(p, t.grant, orgId, t.id, a.id);
  }

  const teamIds = input.teams.map((t) => base64urlEncode(t.id));
  checkAuditEntry(input.audit, { action: 'org.setup', actorId: a.id, targets: { organisationId: base64urlEncode(orgId), teamIds } }, now);
  if (!same(p, input.audit.prevHash, AUDIT_GENESIS_HASH)) throw new ValidationError('The setup audit entry must be the first of the chain.');
  try {
    verifyAuditHash(p, cert.ed25519Public, auditEntryHash(p, AUDIT_GENESIS_HASH, input.audit.entry), input.audit.signature);
  } catch (err) {
    if (err instanceof CryptoError) throw new ValidationError("The audit signature does not verify with the admin's certified key.");
    throw err;
  }
  return { username, name };
}

/**
 * Stores a checked setup in one transaction.
 * @throws ValidationError (from `checkBrowserSetup`, call it first); AlreadySetUpError when any
 *   organisation (real or demo) or audit entry exists; then nothing is written.
 */
export async function storeBrowserSetup(db: Kysely<Database>, p: Primitives, input: BrowserSetupInput, checked: { username: string; name: string }): Promise<BrowserSetupResult> {
  const a = input.admin;
  const orgId = input.organisation.id;
  const hour = coarseHour();
  await db.transaction().execute(async (trx) => {
    const existing = await repo.lockOrganisations(trx);
    if (existing.real + existing.demo > 0) throw new AlreadySetUpError();
    await repo.insertOrganisation(trx, { id: orgId, name: checked.name, hour });
    await insertAccount(trx, {
      id: a.id, username: checked.username, role: 'admin', salt: a.salt, verifierHash: loginVerifierHash(p, a.loginVerifier),
      keyBundle: a.keyBundle, encPublicKey: a.encPublicKey, signPublicKey: a.signPublicKey, certificate: a.certificate, hour,
    });
    await repo.upsertRootWrap(trx, a.id, a.rootWrap, hour);
    for (const [position, t] of input.teams.entries()) {
      // The statement verified above; its key is the one requesters will encrypt to.
      const { publicKey } = parseTeamKeyStatementUnverified(t.certificate);
      await repo.insertTeam(trx, { id: t.id, organisationId: orgId, slug: t.slug, name: t.name.trim(), position, hour });
      await repo.insertEpoch(trx, { teamId: t.id, epoch: 1, publicKey, certificate: t.certificate, state: 'current', hour });
      await repo.addMember(trx, t.id, a.id);
      await repo.insertGrants(trx, [{ teamId: t.id, epoch: 1, accountId: a.id, sealed: t.grant }]);
    }
    const head = await repo.lockAuditHead(trx);
    if (head !== null) throw new AlreadySetUpError();
    await repo.insertAudit(trx, {
      seq: 1, actorId: a.id, entry: input.audit.entry, prevHash: AUDIT_GENESIS_HASH,
      hash: auditEntryHash(p, AUDIT_GENESIS_HASH, input.audit.entry), signature: input.audit.signature,
    });
  });
  return { organisationId: orgId, rootPublicKey: input.rootPublicKey, rootFingerprint: rootFingerprint(p, input.rootPublicKey), adminId: a.id };
}
