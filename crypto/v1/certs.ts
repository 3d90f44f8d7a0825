/**
 * The organisation's signed key chain: root fingerprint, team intake key certificates,
 * responder certificates, and grants of a team epoch secret to a responder.
 *
 * Threat: the server (or someone who seized it) substitutes a key of its own so that new
 * requests are encrypted to it. Stopped by: the requester page and the admin's browser only
 * use X25519 keys inside certificates signed by the root key, whose public half comes from
 * deployment configuration (never the database) and is shown as a fingerprint.
 */
import { ByteReader, ByteWriter, hexEncode } from '../encoding.ts';
import { MalformedError, SignatureError } from '../errors.ts';
import type { Ed25519Keypair, Primitives, X25519Keypair } from '../primitives.ts';
import { checkId, checkU32, ObjectType, Personal, readVersionAndType, VERSION } from './constants.ts';
import { open, seal, SEAL_OVERHEAD } from './seal.ts';

/** Creates a fresh organisation root (Ed25519). The seed must stay with admins, wrapped. */
export function createRootKey(p: Primitives): Ed25519Keypair {
  return p.ed25519KeypairFromSeed(p.randomBytes(32));
}

/** Creates a fresh X25519 keypair (team epoch key, or a responder's encryption key). */
export function createX25519Key(p: Primitives): X25519Keypair {
  return p.x25519Keypair();
}

/**
 * Human-comparable fingerprint of the root public key: BLAKE2b-256(rootPublic,
 * personal "haven-rootfp-v1") as 16 groups of 4 lower-case hex digits, e.g. "3f2a 9c01 ...".
 * @throws MalformedError if the key is not 32 bytes.
 */
export function rootFingerprint(p: Primitives, rootPublic: Uint8Array): string {
  if (rootPublic.length !== 32) throw new MalformedError('public key must be 32 bytes');
  const hex = hexEncode(p.blake2b(32, rootPublic, { personal: Personal.rootFingerprint }));
  return hex.match(/.{4}/g)!.join(' ');
}

/**
 * Human-comparable fingerprint of an account's public keys, shown to the responder at
 * enrolment and compared by the admin before signing the responder certificate (so a server
 * cannot swap the keys in between): BLAKE2b-256(x25519Public || ed25519Public, personal
 * "haven-acctfp-v1") as 16 groups of 4 lower-case hex digits, like the root fingerprint.
 * @throws MalformedError if either key is not 32 bytes.
 */
export function accountFingerprint(p: Primitives, x25519Public: Uint8Array, ed25519Public: Uint8Array): string {
  if (x25519Public.length !== 32 || ed25519Public.length !== 32) throw new MalformedError('public key must be 32 bytes');
  const both = new ByteWriter().bytes(x25519Public, 32).bytes(ed25519Public, 32).finish();
  const hex = hexEncode(p.blake2b(32, both, { personal: Personal.accountFingerprint }));
  return hex.match(/.{4}/g)!.join(' ');
}

function sameBytes(p: Primitives, a: Uint8Array, b: Uint8Array): boolean {
  return p.constantTimeEqual(a, b);
}

// ---------------------------------------------------------------- team intake key

export interface TeamKeyFields {
  orgId: Uint8Array;
  teamId: Uint8Array;
  epoch: number;
  publicKey: Uint8Array;
}

export const TEAM_KEY_CERT_BYTES = 2 + 16 + 16 + 4 + 32 + 64;

/** version | 0x10 | orgId(16) | teamId(16) | epoch(u32) | x25519 public(32) | sig(64) over all before. */
export function signTeamKey(p: Primitives, rootSeed: Uint8Array, f: TeamKeyFields): Uint8Array {
  checkId(f.orgId);
  checkId(f.teamId);
  checkU32(f.epoch);
  const body = new ByteWriter()
    .u8(VERSION).u8(ObjectType.teamKeyCert)
    .bytes(f.orgId, 16).bytes(f.teamId, 16).u32(f.epoch).bytes(f.publicKey, 32)
    .finish();
  return new ByteWriter().bytes(body).bytes(p.ed25519Sign(body, rootSeed)).finish();
}

/**
 * Strict structural parse WITHOUT checking the signature (for the server to validate what it
 * stores). Never use the key from this for encryption: use verifyTeamKey.
 * @throws UnknownVersionError, UnsupportedVersionError, MalformedError.
 */
export function parseTeamKeyCertUnverified(bytes: Uint8Array): TeamKeyFields & { signature: Uint8Array } {
  const r = new ByteReader(bytes);
  readVersionAndType(r, ObjectType.teamKeyCert);
  const orgId = r.bytes(16);
  const teamId = r.bytes(16);
  const epoch = r.u32();
  const publicKey = r.bytes(32);
  const signature = r.bytes(64);
  r.end();
  return { orgId, teamId, epoch, publicKey, signature };
}

/**
 * Verifies a team key certificate against the root and the org/team the caller meant.
 * @throws MalformedError / version errors on bad structure; SignatureError on a bad signature
 *   or when orgId, teamId (or epoch, if given) differ from `expected` (a valid certificate for
 *   another team is still the wrong key: encrypting to it would route the request elsewhere).
 */
export function verifyTeamKey(
  p: Primitives,
  rootPublic: Uint8Array,
  bytes: Uint8Array,
  expected: { orgId: Uint8Array; teamId: Uint8Array; epoch?: number },
): TeamKeyFields {
  const c = parseTeamKeyCertUnverified(bytes);
  if (!p.ed25519Verify(c.signature, bytes.subarray(0, TEAM_KEY_CERT_BYTES - 64), rootPublic)) {
    throw new SignatureError();
  }
  if (!sameBytes(p, c.orgId, expected.orgId) || !sameBytes(p, c.teamId, expected.teamId)) {
    throw new SignatureError('certificate names another organisation or team');
  }
  if (expected.epoch !== undefined && c.epoch !== expected.epoch) {
    throw new SignatureError('certificate names another epoch');
  }
  return { orgId: c.orgId, teamId: c.teamId, epoch: c.epoch, publicKey: c.publicKey };
}

// ---------------------------------------------------------------- responder certificate

export const Role = { responder: 1, admin: 2 } as const;
export type RoleValue = (typeof Role)[keyof typeof Role];

export interface ResponderFields {
  orgId: Uint8Array;
  accountId: Uint8Array;
  role: RoleValue;
  x25519Public: Uint8Array;
  ed25519Public: Uint8Array;
}

export const RESPONDER_CERT_BYTES = 2 + 16 + 16 + 1 + 32 + 32 + 64;

/** version | 0x11 | orgId | accountId | role(1) | x25519 public | ed25519 public | sig(64). */
export function signResponderCert(p: Primitives, rootSeed: Uint8Array, f: ResponderFields): Uint8Array {
  checkId(f.orgId);
  checkId(f.accountId);
  if (f.role !== Role.responder && f.role !== Role.admin) throw new MalformedError('unknown role');
  const body = new ByteWriter()
    .u8(VERSION).u8(ObjectType.responderCert)
    .bytes(f.orgId, 16).bytes(f.accountId, 16).u8(f.role)
    .bytes(f.x25519Public, 32).bytes(f.ed25519Public, 32)
    .finish();
  return new ByteWriter().bytes(body).bytes(p.ed25519Sign(body, rootSeed)).finish();
}

/** Strict parse without signature check. @throws version errors, MalformedError. */
export function parseResponderCertUnverified(bytes: Uint8Array): ResponderFields & { signature: Uint8Array } {
  const r = new ByteReader(bytes);
  readVersionAndType(r, ObjectType.responderCert);
  const orgId = r.bytes(16);
  const accountId = r.bytes(16);
  const role = r.u8();
  if (role !== Role.responder && role !== Role.admin) throw new MalformedError('unknown role');
  const x25519Public = r.bytes(32);
  const ed25519Public = r.bytes(32);
  const signature = r.bytes(64);
  r.end();
  return { orgId, accountId, role: role as RoleValue, x25519Public, ed25519Public, signature };
}

/**
 * @throws version errors / MalformedError on structure; SignatureError on a bad signature or an
 *   org (or account, if given) other than expected.
 */
export function verifyResponderCert(
  p: Primitives,
  rootPublic: Uint8Array,
  bytes: Uint8Array,
  expected: { orgId: Uint8Array; accountId?: Uint8Array },
): ResponderFields {
  const c = parseResponderCertUnverified(bytes);
  if (!p.ed25519Verify(c.signature, bytes.subarray(0, RESPONDER_CERT_BYTES - 64), rootPublic)) {
    throw new SignatureError();
  }
  if (!sameBytes(p, c.orgId, expected.orgId)) throw new SignatureError('certificate names another organisation');
  if (expected.accountId && !sameBytes(p, c.accountId, expected.accountId)) {
    throw new SignatureError('certificate names another account');
  }
  const { signature: _sig, ...fields } = c;
  return fields;
}

// ---------------------------------------------------------------- grant

export const GRANT_BYTES = 2 + 16 + 16 + 4 + 16 + SEAL_OVERHEAD + 32;

function grantHeader(orgId: Uint8Array, teamId: Uint8Array, epoch: number, accountId: Uint8Array): Uint8Array {
  checkId(orgId);
  checkId(teamId);
  checkId(accountId);
  checkU32(epoch);
  return new ByteWriter()
    .u8(VERSION).u8(ObjectType.grant)
    .bytes(orgId, 16).bytes(teamId, 16).u32(epoch).bytes(accountId, 16)
    .finish();
}

/**
 * Grants a team epoch secret to a responder: version | 0x12 | orgId | teamId | epoch | accountId |
 * seal(responder x25519 public, epochSecret, AD = those 54 header bytes).
 * Takes the responder's CERTIFICATE, not a bare key, and verifies it against the root first:
 * the admin's browser must never seal a team secret to a key the server slipped in.
 * @throws SignatureError if the certificate does not verify for this org; MalformedError on bad sizes.
 */
export function createGrant(
  p: Primitives,
  a: {
    rootPublic: Uint8Array;
    responderCert: Uint8Array;
    orgId: Uint8Array;
    teamId: Uint8Array;
    epoch: number;
    epochSecret: Uint8Array;
  },
): Uint8Array {
  if (a.epochSecret.length !== 32) throw new MalformedError('epoch secret must be 32 bytes');
  const cert = verifyResponderCert(p, a.rootPublic, a.responderCert, { orgId: a.orgId });
  const header = grantHeader(a.orgId, a.teamId, a.epoch, cert.accountId);
  return new ByteWriter().bytes(header).bytes(seal(p, cert.x25519Public, a.epochSecret, header)).finish();
}

/**
 * Opens a grant with the responder's X25519 secret and checks the secret matches the team key
 * certificate the caller verified (`teamPublic`): anyone can seal to a responder's public key,
 * so without this check a server could hand out a secret of its own choosing.
 * @throws version errors / MalformedError; SignatureError if org/team/epoch/account differ from
 *   expected or the secret does not match teamPublic; DecryptionError on tampering or wrong key.
 */
export function openGrant(
  p: Primitives,
  a: {
    responderSecret: Uint8Array;
    bytes: Uint8Array;
    expected: { orgId: Uint8Array; teamId: Uint8Array; epoch: number; accountId: Uint8Array };
    teamPublic: Uint8Array;
  },
): { orgId: Uint8Array; teamId: Uint8Array; epoch: number; accountId: Uint8Array; epochSecret: Uint8Array } {
  const r = new ByteReader(a.bytes);
  readVersionAndType(r, ObjectType.grant);
  const orgId = r.bytes(16);
  const teamId = r.bytes(16);
  const epoch = r.u32();
  const accountId = r.bytes(16);
  const sealed = r.bytes(SEAL_OVERHEAD + 32);
  r.end();
  const e = a.expected;
  if (
    !sameBytes(p, orgId, e.orgId) || !sameBytes(p, teamId, e.teamId) ||
    epoch !== e.epoch || !sameBytes(p, accountId, e.accountId)
  ) {
    throw new SignatureError('grant names another organisation, team, epoch or account');
  }
  const epochSecret = open(p, a.responderSecret, sealed, a.bytes.subarray(0, GRANT_BYTES - sealed.length));
  if (!sameBytes(p, p.x25519PublicFromSecret(epochSecret), a.teamPublic)) {
    epochSecret.fill(0);
    throw new SignatureError('granted secret does not match the certified team key');
  }
  return { orgId, teamId, epoch, accountId, epochSecret };
}
