/**
 * Which team keys the requester page may encrypt to (protocol v2): only keys from team key
 * statements verified against the root embedded in the page itself.
 */
import { noblePrimitives as p } from '../../crypto/noble.ts';
import { ExpiredStatementError } from '../../crypto/errors.ts';
import { verifyTeamKey } from '../../crypto/v1/certs.ts';
import { VERSION_V2, unixHour } from '../../crypto/v2/constants.ts';
import { verifyTeamKeyStatement } from '../../crypto/v2/team-key.ts';
import { embeddedKeySerialFloor } from '../shared/deployment.ts';
import type { Lang } from '../../crypto/requester-i18n.ts';

export interface Team {
  id: Uint8Array;
  slug: string;
  name: string;
  /** display names per page language, when the server gives them; else `name` */
  names: Partial<Record<Lang, string>>;
  /** null when the team's key is genuine but not usable: a v1 certificate or an expired statement */
  key: { epoch: number; publicKey: Uint8Array } | null;
}

/**
 * A team's intake key, from its v2 statement verified against the root embedded in this page,
 * for this org and team, unexpired, and at or above the page's serial floor (so a server cannot
 * replay a retired key). A v1 certificate (no expiry, no serial) or an expired statement is
 * genuine but not usable: null, and the page says the keys need renewing.
 * @throws on a forged or misdirected key (then nothing may be sent at all).
 */
export function verifiedTeamKey(root: Uint8Array, orgId: Uint8Array, teamId: Uint8Array, bytes: Uint8Array): Team['key'] {
  if (bytes[0] !== VERSION_V2) {
    // Still checked: a forged v1 certificate is a forgery (nothing may be sent), a genuine one
    // is merely old (no expiry, no serial: a retired key could be replayed as it).
    verifyTeamKey(p, root, bytes, { orgId, teamId });
    return null;
  }
  try {
    const s = verifyTeamKeyStatement(p, root, bytes, { orgId, teamId, nowHour: unixHour(Date.now()), minSerial: embeddedKeySerialFloor(teamId) });
    return { epoch: s.epoch, publicKey: s.publicKey };
  } catch (err) {
    if (err instanceof ExpiredStatementError) return null;
    throw err;
  }
}
