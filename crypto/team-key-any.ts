/**
 * Team keys of either version, for clients that read a team's whole history: v1 certificates
 * (0x01 | 0x10, no serial, no expiry) stay readable for epochs made before v2, v2 statements
 * (0x02 | 0x10, crypto/v2/team-key.ts) carry a per-team serial and an expiry.
 *
 * Two questions, two functions, because they need different rules:
 * - "may I encrypt to this key NOW?" (`verifyCurrentTeamKey`): a v2 statement must be valid
 *   now and not older than the serial this client remembers; a v1 certificate is accepted only
 *   while the client has never seen a v2 statement of the team (minSerial 0), because once it
 *   has, a v1 certificate offered as current is a downgrade to a key without a serial: exactly
 *   what a server replaying a retired key would send.
 * - "is this the genuine key of that OLD epoch?" (`verifyHistoricTeamKey`): signature, org,
 *   team and epoch only. An old epoch's statement may have expired long ago and has a lower
 *   serial than the current one by design; it is used only to check that a granted secret is
 *   the certified one (so old records can be read and re-wrapped), never to encrypt to.
 */
import { MalformedError, RolledBackError } from './errors.ts';
import type { Primitives } from './primitives.ts';
import { verifyTeamKey } from './v1/certs.ts';
import { checkVersionByte } from './v1/constants.ts';
import { VERSION_V2 } from './v2/constants.ts';
import { parseTeamKeyStatementUnverified, verifyTeamKeyStatement } from './v2/team-key.ts';

export interface VerifiedTeamKey {
  version: 1 | 2;
  epoch: number;
  /** 0 for a v1 certificate (it has none; every v2 serial is >= 1) */
  serial: number;
  /** null for a v1 certificate */
  issuedHour: number | null;
  expiresHour: number | null;
  publicKey: Uint8Array;
}

export interface TeamKeyCheck {
  orgId: Uint8Array;
  teamId: Uint8Array;
  epoch?: number;
}

/** 1 or 2 by byte 0. @throws MalformedError (empty), UnsupportedVersionError, UnknownVersionError. */
export function teamKeyVersion(bytes: Uint8Array): 1 | 2 {
  if (bytes.length === 0) throw new MalformedError('empty team key');
  if (bytes[0] === VERSION_V2) return 2;
  checkVersionByte(bytes[0]!);
  return 1;
}

/**
 * The key a client may encrypt to (or re-wrap to) now.
 * @throws as verifyTeamKeyStatement / verifyTeamKey; RolledBackError for a v1 certificate when
 *   `minSerial` > 0 (the client has seen a v2 statement of this team); ExpiredStatementError and
 *   NotYetValidError for a v2 statement outside its validity.
 */
export function verifyCurrentTeamKey(
  p: Primitives,
  rootPublic: Uint8Array,
  bytes: Uint8Array,
  expected: TeamKeyCheck & { nowHour: number; minSerial?: number },
): VerifiedTeamKey {
  if (teamKeyVersion(bytes) === 2) {
    const s = verifyTeamKeyStatement(p, rootPublic, bytes, expected);
    return { version: 2, epoch: s.epoch, serial: s.serial, issuedHour: s.issuedHour, expiresHour: s.expiresHour, publicKey: s.publicKey };
  }
  const c = verifyTeamKey(p, rootPublic, bytes, expected);
  if ((expected.minSerial ?? 0) > 0) throw new RolledBackError('a version 1 team key offered after a version 2 statement was seen');
  return { version: 1, epoch: c.epoch, serial: 0, issuedHour: null, expiresHour: null, publicKey: c.publicKey };
}

/**
 * A genuine key of an epoch, for checking granted secrets of old epochs: validity window and
 * serial are ignored on purpose (see the module comment). Never encrypt to this key.
 * @throws version errors, MalformedError, SignatureError (bad signature; other org, team, epoch).
 */
export function verifyHistoricTeamKey(p: Primitives, rootPublic: Uint8Array, bytes: Uint8Array, expected: TeamKeyCheck): VerifiedTeamKey {
  if (teamKeyVersion(bytes) === 2) {
    // verifyTeamKeyStatement checks the window against `nowHour`; at the statement's own issue
    // hour the window always holds (expiresHour > issuedHour is a structural rule), so only the
    // signature and the names decide.
    const parsed = parseTeamKeyStatementUnverified(bytes);
    const s = verifyTeamKeyStatement(p, rootPublic, bytes, { ...expected, nowHour: parsed.issuedHour });
    return { version: 2, epoch: s.epoch, serial: s.serial, issuedHour: s.issuedHour, expiresHour: s.expiresHour, publicKey: s.publicKey };
  }
  const c = verifyTeamKey(p, rootPublic, bytes, expected);
  return { version: 1, epoch: c.epoch, serial: 0, issuedHour: null, expiresHour: null, publicKey: c.publicKey };
}
