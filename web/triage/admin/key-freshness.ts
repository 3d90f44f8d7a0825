/**
 * The admin browser's judgement of each team's CURRENT key (Protocol v2, "no freshness"):
 * whether it is the newest this browser has seen, whether it needs renewing, and a renewal
 * signed here. Kept apart from keys.ts (which makes keys and re-wraps) and from the DOM.
 */
import { base64urlDecode as unb64, base64urlEncode as b64 } from '../../../crypto/encoding.ts';
import { CryptoError } from '../../../crypto/errors.ts';
import type { Primitives } from '../../../crypto/primitives.ts';
import { verifyCurrentTeamKey, verifyHistoricTeamKey } from '../../../crypto/team-key-any.ts';
import { unixHour } from '../../../crypto/v2/constants.ts';
import { signTeamKeyStatement, TEAM_KEY_DEFAULT_LIFETIME_HOURS } from '../../../crypto/v2/team-key.ts';
import type { KeyFloorStore } from '../key-floor.ts';
import type { AdminKeys, AdminTeamJson } from './keys.ts';

/**
 * A team key this browser refuses to sign on, renew or re-wrap to: older than one it has seen
 * (`rolled_back`), expired, or not verifying at all. Nothing is sent after it.
 */
export class KeyFreshnessError extends Error {
  constructor(
    readonly reason: 'rolled_back' | 'expired' | 'invalid',
    readonly teamId: string,
  ) {
    super(reason);
  }
}

/**
 * The dashboard asks for a renewal this long before a key expires (as the server's
 * RENEWAL_WINDOW_HOURS): twice seen by an admin who signs in every week.
 */
export const RENEWAL_WINDOW_HOURS = 14 * 24;

export type TeamKeyStatus = 'ok' | 'needs_renewal' | 'rolled_back' | 'expired' | 'invalid' | 'none';

export interface TeamKeyState {
  status: TeamKeyStatus;
  /** the current statement's serial (0 for v1 or none) and expiry (null for v1 or none) */
  serial: number;
  expiresHour: number | null;
  /** the serial the next statement of this team must carry: above everything listed or remembered */
  nextSerial: number;
}

/** The organisation as the floor store names it (base64url, as GET /api/v1/teams does). */
export const orgKey = (k: AdminKeys) => b64(k.orgId);

/**
 * The team's current key as this browser judges it, remembering its serial when it is good.
 * Threat: a server listing an older genuine statement as current (after a rotation): refused
 * as `rolled_back` below the remembered serial, and never renewed or re-wrapped to.
 */
export function teamKeyState(p: Primitives, k: AdminKeys, team: AdminTeamJson, floors: KeyFloorStore, now = Date.now()): TeamKeyState {
  const teamId = unb64(team.id);
  const nowHour = unixHour(now);
  const floor = floors.get(orgKey(k), team.id);
  let highest = floor;
  for (const e of team.epochs) {
    try {
      highest = Math.max(highest, verifyHistoricTeamKey(p, k.rootPublic, unb64(e.certificate), { orgId: k.orgId, teamId, epoch: e.epoch }).serial);
    } catch {
      // A listed key that does not verify counts for nothing.
    }
  }
  const base = { serial: 0, expiresHour: null, nextSerial: highest + 1 };
  const current = team.epochs.find((e) => e.state === 'current');
  if (!current || team.currentEpoch === null) return { ...base, status: 'none' };
  // The current epoch must be the newest listed: a server cannot hide a rotation behind an older "current".
  if (current.epoch !== Math.max(...team.epochs.map((e) => e.epoch)) || current.epoch !== team.currentEpoch) return { ...base, status: 'rolled_back' };
  try {
    const key = verifyCurrentTeamKey(p, k.rootPublic, unb64(current.certificate), { orgId: k.orgId, teamId, epoch: current.epoch, nowHour, minSerial: floor });
    floors.raise(orgKey(k), team.id, key.serial);
    const renew = key.expiresHour === null || key.expiresHour - nowHour <= RENEWAL_WINDOW_HOURS;
    return { ...base, serial: key.serial, expiresHour: key.expiresHour, status: renew ? 'needs_renewal' : 'ok' };
  } catch (err) {
    const code = err instanceof CryptoError ? err.code : '';
    return { ...base, status: code === 'rolled_back' ? 'rolled_back' : code === 'expired_statement' ? 'expired' : 'invalid' };
  }
}

/**
 * A new statement for the team's CURRENT key (same key, the next serial, the default
 * lifetime from now), signed here and verified again before it is offered for upload.
 * An expired current key can be renewed (it is still the team's key); an older-than-seen one,
 * or one whose epoch is not the newest listed, cannot: renewing it would bring back a key a
 * removed member may hold.
 * @throws KeyFreshnessError.
 */
export function renewTeamKey(p: Primitives, k: AdminKeys, team: AdminTeamJson, floors: KeyFloorStore, now = Date.now()): { epoch: number; serial: number; expiresHour: number; statement: Uint8Array } {
  const state = teamKeyState(p, k, team, floors, now);
  if (state.status === 'rolled_back' || state.status === 'invalid' || state.status === 'none') throw new KeyFreshnessError(state.status === 'rolled_back' ? 'rolled_back' : 'invalid', team.id);
  const teamId = unb64(team.id);
  const current = team.epochs.find((e) => e.state === 'current')!;
  let publicKey: Uint8Array;
  try {
    const key = verifyHistoricTeamKey(p, k.rootPublic, unb64(current.certificate), { orgId: k.orgId, teamId, epoch: current.epoch });
    // An expired key still has to be at least as new as what this browser has seen.
    if (key.serial < floors.get(orgKey(k), team.id)) throw new KeyFreshnessError('rolled_back', team.id);
    publicKey = key.publicKey;
  } catch (err) {
    if (err instanceof KeyFreshnessError) throw err;
    throw new KeyFreshnessError('invalid', team.id);
  }
  const issuedHour = unixHour(now);
  const expiresHour = issuedHour + TEAM_KEY_DEFAULT_LIFETIME_HOURS;
  const statement = signTeamKeyStatement(p, k.rootSeed, { orgId: k.orgId, teamId, epoch: current.epoch, serial: state.nextSerial, issuedHour, expiresHour, publicKey });
  verifyCurrentTeamKey(p, k.rootPublic, statement, { orgId: k.orgId, teamId, epoch: current.epoch, nowHour: issuedHour, minSerial: state.nextSerial });
  return { epoch: current.epoch, serial: state.nextSerial, expiresHour, statement };
}
