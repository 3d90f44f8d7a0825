/**
 * Team key statement v2 (type 0x10, 146 bytes), the root's signed word that an X25519 key is a
 * team's intake key for an epoch, for a bounded time:
 *
 *   0x02 | 0x10 | orgId(16) | teamId(16) | epoch(u32) | serial(u32) | issuedHour(u32) |
 *   expiresHour(u32) | teamX25519Public(32) | sig(64)       sig = Ed25519(root, the 82 bytes before)
 *
 * Threats it adds to v1's certificate: (1) a server that replays an OLD, genuine certificate
 * (a retired epoch whose secret leaked, or a team key from before a member left) so new requests
 * are encrypted to it: stopped by `serial` and the client's remembered floor (`minSerial`) and by
 * expiry; (2) a key that is never rotated: it expires (default 90 days, at most 400).
 */
import { ByteReader, ByteWriter } from '../encoding.ts';
import { ExpiredStatementError, MalformedError, NotYetValidError, RolledBackError, SignatureError } from '../errors.ts';
import type { Primitives } from '../primitives.ts';
import { checkId, checkU32 } from '../v1/constants.ts';
import { CLOCK_SKEW_HOURS, ObjectTypeV2, readVersionAndTypeV2, VERSION_V2 } from './constants.ts';

export const TEAM_KEY_STATEMENT_BYTES = 146;
const SIGNED_BYTES = TEAM_KEY_STATEMENT_BYTES - 64;
export const TEAM_KEY_DEFAULT_LIFETIME_HOURS = 90 * 24;
export const TEAM_KEY_MAX_LIFETIME_HOURS = 400 * 24;

export interface TeamKeyStatementFields {
  orgId: Uint8Array;
  teamId: Uint8Array;
  epoch: number;
  /** per team, strictly increasing over every statement the root ever signs for it */
  serial: number;
  issuedHour: number;
  expiresHour: number;
  publicKey: Uint8Array;
}

/**
 * Decision beyond the plan: the lifetime rule (issuedHour < expiresHour <= issuedHour + 400 days)
 * is checked when signing AND when verifying, so a statement signed by a buggy or older tool
 * with a far-future expiry is refused rather than trusted for decades.
 */
function checkFields(f: TeamKeyStatementFields): void {
  checkId(f.orgId);
  checkId(f.teamId);
  checkU32(f.epoch);
  checkU32(f.serial);
  checkU32(f.issuedHour);
  checkU32(f.expiresHour);
  if (f.expiresHour <= f.issuedHour) throw new MalformedError('statement expires before it is issued');
  if (f.expiresHour - f.issuedHour > TEAM_KEY_MAX_LIFETIME_HOURS) throw new MalformedError('statement lifetime above 400 days');
  if (!(f.publicKey instanceof Uint8Array) || f.publicKey.length !== 32) throw new MalformedError('public key must be 32 bytes');
}

function signedPart(f: TeamKeyStatementFields): Uint8Array {
  return new ByteWriter()
    .u8(VERSION_V2).u8(ObjectTypeV2.teamKeyStatement)
    .bytes(f.orgId, 16).bytes(f.teamId, 16)
    .u32(f.epoch).u32(f.serial).u32(f.issuedHour).u32(f.expiresHour)
    .bytes(f.publicKey, 32)
    .finish();
}

/**
 * Signs a team key statement with the organisation root seed (admin's browser only).
 * @throws MalformedError on bad ids, sizes, or a lifetime that is empty or above 400 days.
 */
export function signTeamKeyStatement(p: Primitives, rootSeed: Uint8Array, f: TeamKeyStatementFields): Uint8Array {
  checkFields(f);
  const body = signedPart(f);
  return new ByteWriter().bytes(body).bytes(p.ed25519Sign(body, rootSeed), 64).finish();
}

/**
 * Strict structure WITHOUT the signature (for the server to validate what it stores and to
 * enforce serial order). Never encrypt to the key from this: use verifyTeamKeyStatement.
 * @throws UnknownVersionError, UnsupportedVersionError, MalformedError.
 */
export function parseTeamKeyStatementUnverified(bytes: Uint8Array): TeamKeyStatementFields & { signature: Uint8Array } {
  const r = new ByteReader(bytes);
  readVersionAndTypeV2(r, ObjectTypeV2.teamKeyStatement);
  const f: TeamKeyStatementFields = {
    orgId: r.bytes(16),
    teamId: r.bytes(16),
    epoch: r.u32(),
    serial: r.u32(),
    issuedHour: r.u32(),
    expiresHour: r.u32(),
    publicKey: r.bytes(32),
  };
  const signature = r.bytes(64);
  r.end();
  checkFields(f);
  return { ...f, signature };
}

export interface TeamKeyExpectation {
  orgId: Uint8Array;
  teamId: Uint8Array;
  epoch?: number;
  /** the current hour (unixHour(Date.now())) */
  nowHour: number;
  /** the highest serial this client has already accepted for this team (kept where the server cannot write it) */
  minSerial?: number;
}

/**
 * Verifies a statement against the pinned root and what the caller meant. Checks, in order:
 * structure; root signature; org and team (and epoch, if given); expiry; not-yet-valid; serial.
 * The signature is checked first so an attacker cannot learn anything about the policy checks
 * from unsigned bytes, and the policy errors below mean "genuine but not usable now".
 * @throws version errors / MalformedError on structure; SignatureError on a bad signature or
 *   another org/team/epoch; ExpiredStatementError when expiresHour <= nowHour; NotYetValidError
 *   when issuedHour > nowHour + 1; RolledBackError when serial < minSerial.
 */
export function verifyTeamKeyStatement(
  p: Primitives,
  rootPublic: Uint8Array,
  bytes: Uint8Array,
  expected: TeamKeyExpectation,
): TeamKeyStatementFields {
  const s = parseTeamKeyStatementUnverified(bytes);
  if (!p.ed25519Verify(s.signature, bytes.subarray(0, SIGNED_BYTES), rootPublic)) throw new SignatureError();
  if (!p.constantTimeEqual(s.orgId, expected.orgId) || !p.constantTimeEqual(s.teamId, expected.teamId)) {
    throw new SignatureError('statement names another organisation or team');
  }
  if (expected.epoch !== undefined && s.epoch !== expected.epoch) throw new SignatureError('statement names another epoch');
  checkU32(expected.nowHour);
  if (s.expiresHour <= expected.nowHour) throw new ExpiredStatementError();
  if (s.issuedHour > expected.nowHour + CLOCK_SKEW_HOURS) throw new NotYetValidError();
  if (expected.minSerial !== undefined && s.serial < expected.minSerial) throw new RolledBackError();
  const { signature: _sig, ...fields } = s;
  return fields;
}
