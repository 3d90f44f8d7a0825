/**
 * Version-2 constants (the v2 plan, issue 11). Every value here is part of the wire protocol.
 * v2 reuses v1's sealed box, padding buckets, responder certificate (0x11, still version 1)
 * and audit hash; what is new is listed here.
 */
import { ByteReader, utf8Encode } from '../encoding.ts';
import { MalformedError, UnknownVersionError, UnsupportedVersionError } from '../errors.ts';
import { RETIRED_VERSIONS } from '../v1/constants.ts';

export const VERSION_V2 = 0x02;

/**
 * Object types of version 2. The type numbers repeat v1's where the object replaces a v1 object
 * (0x10, 0x40): the version byte, which is inside every signature and AD, keeps them apart.
 */
export const ObjectTypeV2 = {
  teamKeyStatement: 0x10,
  invitation: 0x13,
  /** the old root hands the organisation over to a new root (root-handover.ts) */
  rootHandover: 0x15,
  message: 0x40,
  /** prefix of the signed message inside a thread message (signed bytes only, never a blob) */
  messageSignature: 0x41,
} as const;

export const PersonalV2 = {
  invitationId: utf8Encode('haven-invite-v2'),
} as const;

/** Requester KDF: same context as v1 ("hvnreq01"; ids 1 and 2 unchanged), id 3 is new. */
export const KdfV2 = {
  requesterContext: 'hvnreq01',
  requesterSignSeedId: 3,
} as const;

/** A statement issued up to one hour "in the future" is accepted: clocks drift and hours are coarse. */
export const CLOCK_SKEW_HOURS = 1;

/** Whole hours since the Unix epoch (the unit of every v2 validity field). */
export function unixHour(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new MalformedError('time out of range');
  return Math.floor(ms / 3_600_000);
}

/**
 * @throws UnsupportedVersionError for a retired version; MalformedError for version 1 (a known
 *   version, but not the one this v2 function reads: go through the dispatcher in crypto/index.ts);
 *   UnknownVersionError for anything else but 2.
 */
export function checkVersionV2(v: number): void {
  if (RETIRED_VERSIONS.has(v)) throw new UnsupportedVersionError();
  if (v === 0x01) throw new MalformedError('a version 1 object where version 2 was expected');
  if (v !== VERSION_V2) throw new UnknownVersionError();
}

/** Reads and checks bytes 0 and 1 of a v2 object. */
export function readVersionAndTypeV2(r: ByteReader, expectedType: number): void {
  checkVersionV2(r.u8());
  if (r.u8() !== expectedType) throw new MalformedError('wrong object type');
}
