/**
 * Does the configured root public key belong to the organisation in the database?
 *
 * The key comes from deployment configuration, never the database (docs/DEPLOY.md, rule 3),
 * so the two can disagree: a restore onto a machine with another deployment's key file, a
 * typo in HAVEN_ROOT_PUBLIC_KEY, a key file lost in a move. Then every requester page pins a
 * key the organisation's team keys do not verify against, and the form refuses to send.
 * The database holds what the real root signed (team key certificates, admin certificates):
 * the configured key is right when it verifies at least one of them, and wrong when it
 * verifies none.
 */
import type { Kysely } from 'kysely';
import type { Primitives } from '../../crypto/primitives.ts';
import { verifyHistoricTeamKey } from '../../crypto/team-key-any.ts';
import { verifyResponderCert } from '../../crypto/v1/certs.ts';
import { verifyRootHandover } from '../../crypto/v2/root-handover.ts';
import type { Database } from '../db/schema.ts';
import { rootSignedSample, type RootSignedSample } from './health.repository.ts';

export type RootKeyStatus =
  /** No organisation yet: nothing to check, and nothing is served wrongly. */
  | 'no_organisation'
  /** An organisation exists but no root public key is configured. */
  | 'missing'
  /** The configured key verifies none of the organisation's certificates. */
  | 'mismatch'
  /** The configured key is an old root of this organisation: a root rotation replaced it. */
  | 'superseded'
  /** The configured key verifies the organisation's certificates. */
  | 'ok'
  /** An organisation and a key, but nothing signed in the database to check the key against. */
  | 'unchecked';

/** True for the states in which the service must not report itself ready. */
export function rootKeyIsWrong(status: RootKeyStatus): boolean {
  return status === 'missing' || status === 'mismatch' || status === 'superseded';
}

/** What an operator reads: names the problem and the setting, never a key. */
export function describeRootKeyStatus(status: RootKeyStatus): string {
  switch (status) {
    case 'missing':
      return 'An organisation exists but no root public key is configured (HAVEN_ROOT_PUBLIC_KEY or HAVEN_ROOT_PUBLIC_KEY_FILE).';
    case 'mismatch':
      return "The configured root public key does not match this organisation: it verifies none of the organisation's certificates.";
    case 'superseded':
      return 'The configured root public key was replaced by a root rotation: configure the newest root on every instance (docs/DEPLOY.md, root rotation).';
    case 'no_organisation':
      return 'No organisation is set up yet.';
    case 'unchecked':
      return 'The organisation has nothing signed yet to check the root public key against.';
    case 'ok':
      return 'The root public key matches the organisation.';
  }
}

function verifiesAny(p: Primitives, rootPublicKey: Uint8Array, sample: RootSignedSample): boolean {
  const orgId = sample.organisationId;
  const attempts = [
    // Either version; signature and names only: an expired v2 statement is still the root's signature.
    ...sample.teamCertificates.map((t) => () => verifyHistoricTeamKey(p, rootPublicKey, t.certificate, { orgId, teamId: t.teamId })),
    ...sample.adminCertificates.map((a) => () => verifyResponderCert(p, rootPublicKey, a.certificate, { orgId, accountId: a.accountId })),
  ];
  return attempts.some((attempt) => {
    try {
      attempt();
      return true;
    } catch {
      // A bad signature, or a certificate in a format this code does not parse: either way
      // it is no evidence for this key.
      return false;
    }
  });
}

/** @throws the driver's error when the database is unreachable. */
export async function checkRootKey(db: Kysely<Database>, p: Primitives, rootPublicKey: Uint8Array | null): Promise<RootKeyStatus> {
  const sample = await rootSignedSample(db);
  if (!sample) return 'no_organisation';
  if (!rootPublicKey) return 'missing';
  if (sample.teamCertificates.length === 0 && sample.adminCertificates.length === 0) return 'unchecked';
  if (verifiesAny(p, rootPublicKey, sample)) return 'ok';
  return replacedByRotation(p, rootPublicKey, sample) ? 'superseded' : 'mismatch';
}

/** Whether a verified hand-over names `rootPublicKey` as the root it replaced. */
function replacedByRotation(p: Primitives, rootPublicKey: Uint8Array, sample: RootSignedSample): boolean {
  return sample.handovers.some((bytes) => {
    try {
      return p.constantTimeEqual(verifyRootHandover(p, bytes, sample.organisationId).oldRootPublic, rootPublicKey);
    } catch {
      return false;
    }
  });
}
