/**
 * Thread message v2 (type 0x40): v1's envelope (content key sealed per recipient, padded body,
 * AEAD over everything before the nonce) with two additions:
 *
 * 1. a POSITION in the header and in every AD, so the server cannot reorder a thread or move a
 *    message to another place in it (kind 1 is position 0; every later message is the previous
 *    maximum + 1, enforced by the server with 409 position_taken);
 * 2. a SIGNED AUTHOR inside the encryption, so the server (which can seal to the team key and to
 *    the requester's reply key, both public) can no longer write a message in anyone's name.
 *
 *   header (76) = 0x02 | 0x40 | kind(1) | orgId(16) | teamId(16) | epoch(u32) | threadId(16) |
 *                 messageId(16) | position(u32) | recipientCount(1)
 *   B (71)      = 0x02 | 0x40 | kind | orgId | teamId | threadId | messageId | position(u32)   (no epoch)
 *   slot AD     = team: B || 0x01 || epoch(u32); requester: B || 0x02
 *   slot (81)   = recipientKind(1) | seal(pk, contentKey(32), slot AD)     (v1 sealed box)
 *   blob        = header | slots | nonce(24) | AEAD(contentKey, nonce, pad(inner), AD = header|slots)
 *   inner       = authorType(1) | authorRef | body | sig(64)
 *                 authorType 1 = requester (authorRef empty), 2 = responder (authorRef = its
 *                 163-byte v1 responder certificate)
 *   sig         = Ed25519(author, 0x02 | 0x41 | B | authorType | authorRef | body)
 *
 * Recipients by kind, slot order, nonce, content key and padding buckets: as v1. Padding applies
 * to the whole inner plaintext, so the largest body is 65535 - 65 (requester) or - 228 (responder).
 * The signature covers B, not the epoch: re-wrapping to a new epoch keeps it valid.
 *
 * Decisions beyond the plan (written here because the plan is silent):
 * - The requester learns which responder wrote a reply (the certificate: account id, role and
 *   public keys; no name). That is what lets the requester's page verify the reply.
 * - Everything wrong INSIDE the authenticated plaintext (unknown author type, a certificate that
 *   does not parse or verify, wrong author type for the kind, a bad signature) is SignatureError:
 *   the envelope was intact, the author is not who it must be. Outer structure is MalformedError,
 *   AEAD failure DecryptionError.
 */
import { ByteReader, ByteWriter, concat } from '../encoding.ts';
import { CryptoError, DecryptionError, MalformedError, SignatureError } from '../errors.ts';
import type { Primitives } from '../primitives.ts';
import {
  parseResponderCertUnverified, RESPONDER_CERT_BYTES, verifyResponderCert, type RoleValue,
} from '../v1/certs.ts';
import { checkId, checkU32 } from '../v1/constants.ts';
import { MessageKind, RecipientKind, recipientsFor, type MessageKindValue, type RecipientKindValue } from '../v1/message.ts';
import { bucketSizes, pad, unpad } from '../v1/padding.ts';
import { open, seal, SEAL_OVERHEAD } from '../v1/seal.ts';
import { ObjectTypeV2, readVersionAndTypeV2, VERSION_V2 } from './constants.ts';
import { decodeRequestBodyV2 } from './request-body.ts';

export const MESSAGE_V2_HEADER_BYTES = 76;
const SLOT_BYTES = 1 + SEAL_OVERHEAD + 32;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const SIG_BYTES = 64;

export const AuthorType = { requester: 1, responder: 2 } as const;
export type AuthorTypeValue = (typeof AuthorType)[keyof typeof AuthorType];

/** Which author each kind must have: the requester writes requests and follow-ups, responders the rest. */
export function authorTypeFor(kind: MessageKindValue): AuthorTypeValue {
  return kind === MessageKind.request || kind === MessageKind.followup ? AuthorType.requester : AuthorType.responder;
}

/** The exact total blob lengths the server should accept for `recipientCount` recipients. */
export function allowedMessageSizesV2(recipientCount: number): number[] {
  return bucketSizes.map((b) => MESSAGE_V2_HEADER_BYTES + recipientCount * SLOT_BYTES + NONCE_BYTES + b + TAG_BYTES);
}

export interface MessageHeaderV2 {
  version: 2;
  kind: MessageKindValue;
  orgId: Uint8Array;
  teamId: Uint8Array;
  epoch: number;
  threadId: Uint8Array;
  messageId: Uint8Array;
  position: number;
  recipientKinds: RecipientKindValue[];
  /** padded inner-plaintext size (one of bucketSizes) */
  paddedSize: number;
}

interface Ids {
  kind: MessageKindValue;
  orgId: Uint8Array;
  teamId: Uint8Array;
  threadId: Uint8Array;
  messageId: Uint8Array;
  position: number;
}

function binding(h: Ids): Uint8Array {
  return new ByteWriter()
    .u8(VERSION_V2).u8(ObjectTypeV2.message).u8(h.kind)
    .bytes(h.orgId, 16).bytes(h.teamId, 16).bytes(h.threadId, 16).bytes(h.messageId, 16)
    .u32(h.position)
    .finish();
}

function slotAd(h: Ids, rk: RecipientKindValue, epoch: number): Uint8Array {
  const w = new ByteWriter().bytes(binding(h)).u8(rk);
  if (rk === RecipientKind.team) w.u32(epoch);
  return w.finish();
}

function encodeHeader(h: Ids & { epoch: number }, count: number): Uint8Array {
  return new ByteWriter()
    .u8(VERSION_V2).u8(ObjectTypeV2.message).u8(h.kind)
    .bytes(h.orgId, 16).bytes(h.teamId, 16).u32(h.epoch).bytes(h.threadId, 16).bytes(h.messageId, 16)
    .u32(h.position).u8(count)
    .finish();
}

/** The bytes the author signs: 0x02 | 0x41 | B | authorType | authorRef | body. */
function signedMessage(h: Ids, authorType: AuthorTypeValue, authorRef: Uint8Array, body: Uint8Array): Uint8Array {
  return concat(new Uint8Array([VERSION_V2, ObjectTypeV2.messageSignature]), binding(h), new Uint8Array([authorType]), authorRef, body);
}

/** kind 1 sits at position 0 and nothing else does: a request cannot be demoted, nor a reply promoted. */
function checkPosition(kind: MessageKindValue, position: number): void {
  checkU32(position);
  if ((kind === MessageKind.request) !== (position === 0)) throw new MalformedError('a request is at position 0 and only a request');
}

export type MessageAuthor =
  | { type: 'requester'; signSeed: Uint8Array }
  | { type: 'responder'; signSeed: Uint8Array; /** the author's own 163-byte v1 responder certificate */ cert: Uint8Array };

export interface SealMessageV2Args {
  kind: MessageKindValue;
  orgId: Uint8Array;
  teamId: Uint8Array;
  epoch: number;
  /** the request's record id; for kind=request it must equal messageId */
  threadId: Uint8Array;
  messageId: Uint8Array;
  /** 0 for the request; previous maximum + 1 for every later message */
  position: number;
  /** the team epoch X25519 public key, FROM A VERIFIED statement (verifyTeamKeyStatement) */
  teamPublic: Uint8Array;
  /** required for request, followup, reply; forbidden for note, tags */
  requesterPublic?: Uint8Array;
  body: Uint8Array;
  author: MessageAuthor;
}

export interface SealRequestV2Args {
  orgId: Uint8Array;
  teamId: Uint8Array;
  epoch: number;
  /** the team epoch X25519 public key, FROM A VERIFIED statement */
  teamPublic: Uint8Array;
  /** the new request's record id: it is also its thread id */
  id: Uint8Array;
  /** the requester's keys derived from the passphrase (deriveRequesterKeysV2) */
  requester: { replyPublic: Uint8Array; signSeed: Uint8Array };
  /** the encoded v2 request body (encodeRequestBodyV2) */
  body: Uint8Array;
}

/**
 * A new request: kind 1, its own thread (threadId = messageId = id), position 0, sealed to the
 * team and the requester, signed by the requester. The one way every sender (the page, the
 * no-JavaScript path) builds it, so the rules for a thread's first message live in one place.
 * @throws as sealMessageV2.
 */
export function sealRequestV2(p: Primitives, a: SealRequestV2Args): Uint8Array {
  return sealMessageV2(p, {
    kind: MessageKind.request, orgId: a.orgId, teamId: a.teamId, epoch: a.epoch, threadId: a.id, messageId: a.id, position: 0,
    teamPublic: a.teamPublic, requesterPublic: a.requester.replyPublic, body: a.body, author: { type: 'requester', signSeed: a.requester.signSeed },
  });
}

/**
 * Encrypts and signs a v2 thread message.
 * @throws MalformedError on bad ids/sizes, a position that does not fit the kind, an author type
 *   the kind does not allow, a responder seed that is not the certificate's key, a missing or
 *   superfluous requester key, kind=request with threadId != messageId, or a body too large for
 *   the biggest bucket; WeakInputError on a small-order recipient key.
 */
export function sealMessageV2(p: Primitives, a: SealMessageV2Args): Uint8Array {
  const kinds = recipientsFor(a.kind);
  checkId(a.orgId);
  checkId(a.teamId);
  checkId(a.threadId);
  checkId(a.messageId);
  checkU32(a.epoch);
  checkPosition(a.kind, a.position);
  if (a.kind === MessageKind.request && !p.constantTimeEqual(a.threadId, a.messageId)) {
    throw new MalformedError('a request starts its own thread: threadId must equal messageId');
  }
  if (kinds.includes(RecipientKind.requester) !== (a.requesterPublic !== undefined)) {
    throw new MalformedError('requester key required for request/followup/reply and forbidden otherwise');
  }
  const authorType = a.author.type === 'requester' ? AuthorType.requester : AuthorType.responder;
  if (authorType !== authorTypeFor(a.kind)) throw new MalformedError('this kind of message has another type of author');
  let authorRef = new Uint8Array(0);
  if (a.author.type === 'responder') {
    const cert = parseResponderCertUnverified(a.author.cert);
    // Signing with a seed that is not the certificate's would produce a message every reader
    // rejects; fail here, where the mistake is made.
    if (!p.constantTimeEqual(p.ed25519KeypairFromSeed(a.author.signSeed).publicKey, cert.ed25519Public)) {
      throw new MalformedError('signing key is not the certificate key');
    }
    authorRef = a.author.cert.slice();
  }
  const ids: Ids = a;
  const sig = p.ed25519Sign(signedMessage(ids, authorType, authorRef, a.body), a.author.signSeed);
  const padded = pad(concat(new Uint8Array([authorType]), authorRef, a.body, sig));
  const contentKey = p.randomBytes(32);
  try {
    const w = new ByteWriter().bytes(encodeHeader(a, kinds.length));
    for (const rk of kinds) {
      const pub = rk === RecipientKind.team ? a.teamPublic : a.requesterPublic!;
      w.u8(rk).bytes(seal(p, pub, contentKey, slotAd(ids, rk, a.epoch)), SEAL_OVERHEAD + 32);
    }
    const headerAndSlots = w.finish();
    const nonce = p.randomBytes(NONCE_BYTES);
    return concat(headerAndSlots, nonce, p.aeadEncrypt(contentKey, nonce, padded, headerAndSlots));
  } finally {
    padded.fill(0);
    contentKey.fill(0);
  }
}

interface Parsed {
  header: MessageHeaderV2;
  ad: Uint8Array;
  slots: { kind: RecipientKindValue; sealed: Uint8Array }[];
  nonce: Uint8Array;
  ct: Uint8Array;
}

/** Reads and checks the header and slots; leaves `r` at the nonce. Copies nothing past the slots. */
function parseHeaderAndSlots(r: ByteReader): { header: MessageHeaderV2; slots: Parsed['slots'] } {
  readVersionAndTypeV2(r, ObjectTypeV2.message);
  const kind = r.u8() as MessageKindValue;
  const expectedKinds = recipientsFor(kind); // throws on unknown kind
  const orgId = r.bytes(16);
  const teamId = r.bytes(16);
  const epoch = r.u32();
  const threadId = r.bytes(16);
  const messageId = r.bytes(16);
  const position = r.u32();
  checkPosition(kind, position);
  const count = r.u8();
  if (count !== expectedKinds.length) throw new MalformedError('wrong recipient count for kind');
  const slots: Parsed['slots'] = [];
  for (let i = 0; i < count; i++) {
    const rk = r.u8();
    if (rk !== expectedKinds[i]) throw new MalformedError('wrong recipient kind for message kind');
    slots.push({ kind: rk as RecipientKindValue, sealed: r.bytes(SEAL_OVERHEAD + 32) });
  }
  if (r.remaining < NONCE_BYTES) throw new MalformedError('input too short');
  const paddedSize = r.remaining - NONCE_BYTES - TAG_BYTES;
  if (!bucketSizes.includes(paddedSize)) throw new MalformedError('ciphertext is not a bucket size');
  if (kind === MessageKind.request && !(threadId.length === messageId.length && threadId.every((b, i) => b === messageId[i]))) {
    throw new MalformedError('request threadId must equal messageId');
  }
  return {
    header: { version: 2, kind, orgId, teamId, epoch, threadId, messageId, position, recipientKinds: slots.map((s) => s.kind), paddedSize },
    slots,
  };
}

function parse(bytes: Uint8Array): Parsed {
  const r = new ByteReader(bytes);
  const { header, slots } = parseHeaderAndSlots(r);
  const ad = bytes.slice(0, r.offset);
  const nonce = r.bytes(NONCE_BYTES);
  return { header, ad, slots, nonce, ct: r.rest() };
}

/**
 * Strict structural parse for the server (version, type, kind, position 0 exactly for kind 1,
 * slots, bucket size). Decrypts and authenticates nothing, and copies none of the ciphertext
 * (the intake parses every envelope it stores).
 * @throws UnknownVersionError, UnsupportedVersionError, MalformedError.
 */
export function parseMessageHeaderV2(bytes: Uint8Array): MessageHeaderV2 {
  return parseHeaderAndSlots(new ByteReader(bytes)).header;
}

export interface OpenMessageV2Args {
  recipientKind: RecipientKindValue;
  /** team epoch secret (recipientKind team) or requester reply secret (requester) */
  secret: Uint8Array;
  /** the public key of `secret`, when the caller holds it (v1/seal.ts `open`: saves deriving it per message) */
  recipientPublic?: Uint8Array;
  /** what the caller believes this record is; checked against the authenticated header */
  expected: {
    orgId: Uint8Array;
    teamId?: Uint8Array;
    threadId?: Uint8Array;
    messageId?: Uint8Array;
    kind?: MessageKindValue;
    epoch?: number;
    position?: number;
  };
  /** the PINNED organisation root (deployment configuration, never the server): responder authors */
  rootPublic: Uint8Array;
  /**
   * For follow-ups (kind 2): the signPublicKey from this thread's request body, taken from the
   * caller's own opening of the request (openMessageV2 of the kind-1 message). Unused otherwise.
   */
  threadRequesterSignPublic?: Uint8Array;
}

export type VerifiedAuthor =
  | { type: 'requester'; signPublic: Uint8Array }
  | {
      type: 'responder';
      accountId: Uint8Array;
      role: RoleValue;
      ed25519Public: Uint8Array;
      x25519Public: Uint8Array;
      /** the certificate bytes, verified against rootPublic for this org */
      cert: Uint8Array;
    };

export interface OpenedMessageV2 {
  header: MessageHeaderV2;
  author: VerifiedAuthor;
  body: Uint8Array;
}

function checkExpected(p: Primitives, h: MessageHeaderV2, e: OpenMessageV2Args['expected']): void {
  const bad =
    !p.constantTimeEqual(h.orgId, e.orgId) ||
    (e.teamId && !p.constantTimeEqual(h.teamId, e.teamId)) ||
    (e.threadId && !p.constantTimeEqual(h.threadId, e.threadId)) ||
    (e.messageId && !p.constantTimeEqual(h.messageId, e.messageId)) ||
    (e.kind !== undefined && h.kind !== e.kind) ||
    (e.epoch !== undefined && h.epoch !== e.epoch) ||
    (e.position !== undefined && h.position !== e.position);
  if (bad) throw new DecryptionError('message belongs to another record');
}

function decryptInner(p: Primitives, m: Parsed, rk: RecipientKindValue, secret: Uint8Array, recipientPublic?: Uint8Array): { padded: Uint8Array; contentKey: Uint8Array } {
  const slot = m.slots.find((s) => s.kind === rk);
  if (!slot) throw new DecryptionError('no slot for this recipient');
  const contentKey = open(p, secret, slot.sealed, slotAd(m.header, rk, m.header.epoch), recipientPublic);
  try {
    return { padded: p.aeadDecrypt(contentKey, m.nonce, m.ct, m.ad), contentKey };
  } catch (e) {
    contentKey.fill(0);
    throw e;
  }
}

function verifyInner(p: Primitives, h: MessageHeaderV2, inner: Uint8Array, a: OpenMessageV2Args): OpenedMessageV2 {
  const r = new ByteReader(inner);
  const authorType = r.u8();
  if (authorType !== AuthorType.requester && authorType !== AuthorType.responder) throw new SignatureError('unknown author type');
  if (authorType !== authorTypeFor(h.kind)) throw new SignatureError('this kind of message has another type of author');
  const authorRef = authorType === AuthorType.responder ? r.bytes(RESPONDER_CERT_BYTES) : new Uint8Array(0);
  if (r.remaining < SIG_BYTES) throw new SignatureError('no signature');
  const body = r.bytes(r.remaining - SIG_BYTES);
  const sig = r.rest();
  const signed = signedMessage(h, authorType, authorRef, body);
  if (authorType === AuthorType.responder) {
    // The certificate must be the pinned root's, for THIS org; its key, and only its key, speaks for the author.
    const cert = verifyResponderCert(p, a.rootPublic, authorRef, { orgId: h.orgId });
    if (!p.ed25519Verify(sig, signed, cert.ed25519Public)) throw new SignatureError();
    return {
      header: h,
      body,
      author: { type: 'responder', accountId: cert.accountId, role: cert.role, ed25519Public: cert.ed25519Public, x25519Public: cert.x25519Public, cert: authorRef },
    };
  }
  // Requester: kind 1 carries its own key (the request body); every follow-up must be signed by
  // that same key, which the caller brings from the request it opened.
  let signPublic: Uint8Array;
  if (h.kind === MessageKind.request) {
    signPublic = decodeRequestBodyV2(body).signPublicKey;
  } else {
    signPublic = a.threadRequesterSignPublic!; // presence checked by openMessageV2 before decrypting
  }
  if (!p.ed25519Verify(sig, signed, signPublic)) throw new SignatureError();
  return { header: h, body, author: { type: 'requester', signPublic } };
}

/**
 * Decrypts a v2 message for one recipient and verifies its author.
 * @returns the authenticated header, the VERIFIED author and the body.
 * @throws version errors / MalformedError on outer structure (and for a follow-up opened without
 *   `threadRequesterSignPublic`); DecryptionError on a wrong key, any tampering, or a header that
 *   differs from `expected` (a moved record); SignatureError when the author cannot be verified:
 *   bad signature, an author type the kind does not allow, a certificate that is not the pinned
 *   root's for this org, or a malformed signed plaintext. Callers catch per message and show
 *   "this message could not be verified" for that one.
 */
export function openMessageV2(p: Primitives, bytes: Uint8Array, a: OpenMessageV2Args): OpenedMessageV2 {
  const m = parse(bytes);
  checkExpected(p, m.header, a.expected);
  if (m.header.kind === MessageKind.followup && !a.threadRequesterSignPublic) {
    throw new MalformedError("a follow-up is checked with the thread request's signPublicKey");
  }
  const { padded, contentKey } = decryptInner(p, m, a.recipientKind, a.secret, a.recipientPublic);
  contentKey.fill(0);
  try {
    let inner: Uint8Array;
    try {
      inner = unpad(padded);
    } catch {
      // authenticated bytes with bad padding: the writer, not the envelope, is at fault
      throw new SignatureError('malformed signed plaintext');
    }
    try {
      return verifyInner(p, m.header, inner, a);
    } catch (e) {
      if (e instanceof SignatureError || !(e instanceof CryptoError)) throw e;
      // a certificate or request body that does not parse: its author cannot be verified
      throw new SignatureError('author cannot be verified');
    }
  } finally {
    padded.fill(0);
  }
}

/**
 * Key rotation (admin's browser): re-seals the team slot to the new epoch key, writes the new
 * epoch, and re-encrypts the SAME padded inner plaintext under the same content key with a fresh
 * nonce (the body AD covers the header, which changed). The requester slot is copied unchanged.
 * The inner signature covers B, which has no epoch, so it stays valid. The signature is not
 * checked here (that needs the thread's requester key): the bytes are carried over untouched, so
 * re-wrapping can neither make a forged message valid nor a valid one invalid.
 * @param newTeamPublic FROM A VERIFIED statement for the same org/team and `newEpoch`.
 * @throws as openMessageV2's envelope checks; MalformedError if newEpoch equals the current epoch.
 */
export function rewrapMessageV2(
  p: Primitives,
  bytes: Uint8Array,
  oldEpochSecret: Uint8Array,
  newTeamPublic: Uint8Array,
  newEpoch: number,
): Uint8Array {
  checkU32(newEpoch);
  const m = parse(bytes);
  if (newEpoch === m.header.epoch) throw new MalformedError('new epoch equals current epoch');
  const { padded, contentKey } = decryptInner(p, m, RecipientKind.team, oldEpochSecret);
  try {
    const h = { ...m.header, epoch: newEpoch };
    const w = new ByteWriter().bytes(encodeHeader(h, m.slots.length));
    for (const s of m.slots) {
      const sealed = s.kind === RecipientKind.team ? seal(p, newTeamPublic, contentKey, slotAd(h, s.kind, newEpoch)) : s.sealed;
      w.u8(s.kind).bytes(sealed, SEAL_OVERHEAD + 32);
    }
    const headerAndSlots = w.finish();
    const nonce = p.randomBytes(NONCE_BYTES);
    return concat(headerAndSlots, nonce, p.aeadEncrypt(contentKey, nonce, padded, headerAndSlots));
  } finally {
    padded.fill(0);
    contentKey.fill(0);
  }
}
