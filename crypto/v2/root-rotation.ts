/**
 * The admin browser's half of a root rotation (docs/PROTOCOL.md 14.6), as one pure function so
 * that the dashboard, the tests and a client in another language build the same upload:
 *
 * 1. a hand-over from the old root to the new one (root-handover.ts);
 * 2. a certificate signed by the new root for every account the admin CONFIRMED (same keys,
 *    same role: the caller passes only accounts whose current certificate it verified against
 *    the pinned root and whose fingerprints the admin compared);
 * 3. a v2 key statement signed by the new root for every team epoch that is not retired, same
 *    key, serials above every serial the team has, the current epoch highest;
 * 4. the new seed sealed to every admin among them.
 *
 * Removed accounts are simply not passed: their old certificates chain to the old root only.
 */
import { MalformedError } from '../errors.ts';
import type { Primitives } from '../primitives.ts';
import { wrapRootSeed } from '../v1/admin.ts';
import { Role, signResponderCert, type RoleValue } from '../v1/certs.ts';
import { signRootHandover } from './root-handover.ts';
import { signTeamKeyStatement, TEAM_KEY_DEFAULT_LIFETIME_HOURS } from './team-key.ts';

export interface RotationAccountInput {
  accountId: Uint8Array;
  role: RoleValue;
  x25519Public: Uint8Array;
  ed25519Public: Uint8Array;
}

export interface RotationEpochInput {
  teamId: Uint8Array;
  epoch: number;
  /** only 'current' and 'retiring' epochs are re-signed (retired ones are unreadable anyway) */
  current: boolean;
  publicKey: Uint8Array;
}

export interface RootRotationArgs {
  orgId: Uint8Array;
  oldRootSeed: Uint8Array;
  newRootSeed: Uint8Array;
  /** one above the highest hand-over serial so far (1 for the first rotation) */
  handoverSerial: number;
  nowHour: number;
  accounts: RotationAccountInput[];
  epochs: RotationEpochInput[];
  /** per team (hex id): the highest serial any of its statements has */
  teamSerialFloors: Map<string, number>;
}

export interface RootRotationUpload {
  newRootPublic: Uint8Array;
  handover: Uint8Array;
  certificates: { accountId: Uint8Array; certificate: Uint8Array }[];
  teamKeys: { teamId: Uint8Array; epoch: number; statement: Uint8Array }[];
  rootWraps: { accountId: Uint8Array; sealed: Uint8Array }[];
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** @throws MalformedError on bad sizes, a seed that is not the old root's, or no admin to hold the new seed. */
export function buildRootRotation(p: Primitives, a: RootRotationArgs): RootRotationUpload {
  const oldRootPublic = p.ed25519KeypairFromSeed(a.oldRootSeed).publicKey;
  const newRootPublic = p.ed25519KeypairFromSeed(a.newRootSeed).publicKey;
  if (!a.accounts.some((x) => x.role === Role.admin)) throw new MalformedError('a rotation needs at least one admin to hold the new root seed');
  const handover = signRootHandover(p, a.oldRootSeed, a.newRootSeed, {
    orgId: a.orgId, serial: a.handoverSerial, issuedHour: a.nowHour, oldRootPublic, newRootPublic,
  });
  const certificates = a.accounts.map((x) => ({
    accountId: x.accountId,
    certificate: signResponderCert(p, a.newRootSeed, { orgId: a.orgId, accountId: x.accountId, role: x.role, x25519Public: x.x25519Public, ed25519Public: x.ed25519Public }),
  }));
  // Per team: older epochs first, the current one last, so it gets the team's highest serial.
  const next = new Map(a.teamSerialFloors);
  const ordered = [...a.epochs].sort((x, y) => (x.current === y.current ? x.epoch - y.epoch : x.current ? 1 : -1));
  const teamKeys = ordered.map((e) => {
    const serial = (next.get(hex(e.teamId)) ?? 0) + 1;
    next.set(hex(e.teamId), serial);
    return {
      teamId: e.teamId,
      epoch: e.epoch,
      statement: signTeamKeyStatement(p, a.newRootSeed, {
        orgId: a.orgId, teamId: e.teamId, epoch: e.epoch, serial, issuedHour: a.nowHour,
        expiresHour: a.nowHour + TEAM_KEY_DEFAULT_LIFETIME_HOURS, publicKey: e.publicKey,
      }),
    };
  });
  const rootWraps = a.accounts
    .filter((x) => x.role === Role.admin)
    .map((x) => ({ accountId: x.accountId, sealed: wrapRootSeed(p, { adminX25519Public: x.x25519Public, rootSeed: a.newRootSeed, orgId: a.orgId, accountId: x.accountId }) }));
  return { newRootPublic, handover, certificates, teamKeys, rootWraps };
}
