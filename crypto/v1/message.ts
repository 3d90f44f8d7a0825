/**
 * The thread message: one format for requests, follow-ups, replies, notes and tags.
 *
 * A random 32-byte content key encrypts the padded body (XChaCha20-Poly1305); the content key
 * is sealed once per recipient (team epoch key, requester reply key) with our sealed box.
 * Associated data binds version, type, kind, org, team, thread and message id everywhere, and
 * the key epoch in the team slot, so nothing can be cut and pasted between records, teams,
 * epochs or kinds, or downgraded (docs/THREAT-MODEL.md property 8).
 *
 * Epoch decision (see docs/PROTOCOL.md): the body AD is EVERY byte before the nonce (header,
 * epoch included, and all recipient slots), so any flipped bit anywhere is rejected by every
 * reader. Re-wrapping for key rotation therefore re-encrypts the body (fresh nonce, same
 * content key, which the admin's browser holds after opening the team slot: at most 64 KiB,
 * negligible). The epoch is bound in the TEAM slot's AD but deliberately NOT in the
 * requester slot's AD, so the requester slot is copied unchanged and re-wrapping needs neither
 * the requester's public key nor anything from the requester.
 */
import { ByteReader, ByteWriter, concat } from '../encoding.ts';
import { DecryptionError, MalformedError } from '../errors.ts';
import type { Primitives } from '../primitives.ts';
import { checkId, checkU32, ObjectType, readVersionAndType, VERSION } from './constants.ts';
import { bucketSizes, pad, unpad } from './padding.ts';
import { open, seal, SEAL_OVERHEAD } from './seal.ts';

export const MessageKind = { request: 1, followup: 2, reply: 3, note: 4, tags: 5 } as const;
export type MessageKindValue = (typeof MessageKind)[keyof typeof MessageKind];

export const RecipientKind = { team: 1, requester: 2 } as const;
export type RecipientKindValue = (typeof RecipientKind)[keyof typeof RecipientKind];

/** Who each kind is addressed to, in slot order. Notes and tags are internal: team only. */
export function recipientsFor(kind: MessageKindValue): readonly RecipientKindValue[] {
  switch (kind) {
    case MessageKind.request:
    case MessageKind.followup:
    case MessageKind.reply:
      return [RecipientKind.team, RecipientKind.requester];
    case MessageKind.note:
    case MessageKind.tags:
      return [RecipientKind.team];
    default:
      throw new MalformedError('unknown message kind');
  }
}

export const MESSAGE_HEADER_BYTES = 72;
const SLOT_BYTES = 1 + SEAL_OVERHEAD + 32;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;

/** The exact total blob lengths the server should accept for `recipientCount` recipients. */
export function allowedMessageSizes(recipientCount: number): number[] {
  return bucketSizes.map((b) => MESSAGE_HEADER_BYTES + recipientCount * SLOT_BYTES + NONCE_BYTES + b + TAG_BYTES);
}

export interface MessageHeader {
  version: number;
  kind: MessageKindValue;
  orgId: Uint8Array;
  teamId: Uint8Array;
  epoch: number;
  threadId: Uint8Array;
  messageId: Uint8Array;
  recipientKinds: RecipientKindValue[];
  /** padded body size (one of bucketSizes) */
  paddedSize: number;
}

interface Ids {
  kind: MessageKindValue;
  orgId: Uint8Array;
  teamId: Uint8Array;
  threadId: Uint8Array;
  messageId: Uint8Array;
}

/** B = version | 0x40 | kind | orgId | teamId | threadId | messageId (67 bytes, no epoch). */
function binding(h: Ids): Uint8Array {
  return new ByteWriter()
    .u8(VERSION).u8(ObjectType.message).u8(h.kind)
    .bytes(h.orgId, 16).bytes(h.teamId, 16).bytes(h.threadId, 16).bytes(h.messageId, 16)
    .finish();
}

/** Slot AD = B | recipientKind | (team slots only) epoch(u32). */
function slotAd(h: Ids, rk: RecipientKindValue, epoch: number): Uint8Array {
  const w = new ByteWriter().bytes(binding(h)).u8(rk);
  if (rk === RecipientKind.team) w.u32(epoch);
  return w.finish();
}


function encodeHeader(h: Ids & { epoch: number }, count: number): Uint8Array {
  return new ByteWriter()
    .u8(VERSION).u8(ObjectType.message).u8(h.kind)
    .bytes(h.orgId, 16).bytes(h.teamId, 16).u32(h.epoch).bytes(h.threadId, 16).bytes(h.messageId, 16)
    .u8(count)
    .finish();
}

export interface SealMessageArgs {
  kind: MessageKindValue;
  orgId: Uint8Array;
  teamId: Uint8Array;
  epoch: number;
  /** the request's record id; for kind=request it must equal messageId */
  threadId: Uint8Array;
  messageId: Uint8Array;
  /** the team epoch X25519 public key, FROM A VERIFIED certificate (verifyTeamKey) */
  teamPublic: Uint8Array;
  /** required for request, followup, reply; forbidden for note, tags */
  requesterPublic?: Uint8Array;
  body: Uint8Array;
}

/**
 * Encrypts a thread message. Layout: header(72) | slots(81 each) | nonce(24) | ct(bucket + 16).
 * @throws MalformedError on bad ids/sizes, a missing or superfluous requester key, a body over
 *   64 KiB - 1, or kind=request with threadId != messageId; WeakInputError on a small-order key.
 */
export function sealMessage(p: Primitives, a: SealMessageArgs): Uint8Array {
  const kinds = recipientsFor(a.kind);
  checkId(a.orgId);
  checkId(a.teamId);
  checkId(a.threadId);
  checkId(a.messageId);
  checkU32(a.epoch);
  if (a.kind === MessageKind.request && !p.constantTimeEqual(a.threadId, a.messageId)) {
    throw new MalformedError('a request starts its own thread: threadId must equal messageId');
  }
  const wantsRequester = kinds.includes(RecipientKind.requester);
  if (wantsRequester !== (a.requesterPublic !== undefined)) {
    throw new MalformedError('requester key required for request/followup/reply and forbidden otherwise');
  }
  const ids: Ids = a;
  const contentKey = p.randomBytes(32);
  const w = new ByteWriter().bytes(encodeHeader(a, kinds.length));
  for (const rk of kinds) {
    const pub = rk === RecipientKind.team ? a.teamPublic : a.requesterPublic!;
    w.u8(rk).bytes(seal(p, pub, contentKey, slotAd(ids, rk, a.epoch)), SEAL_OVERHEAD + 32);
  }
  // Body AD = everything before the nonce: header and every slot.
  const headerAndSlots = w.finish();
  const nonce = p.randomBytes(NONCE_BYTES);
  const padded = pad(a.body);
  const ct = p.aeadEncrypt(contentKey, nonce, padded, headerAndSlots);
  padded.fill(0);
  contentKey.fill(0);
  return concat(headerAndSlots, nonce, ct);
}

interface Parsed {
  header: MessageHeader;
  /** header and slots: the body's associated data */
  ad: Uint8Array;
  slots: { kind: RecipientKindValue; sealed: Uint8Array }[];
  nonce: Uint8Array;
  ct: Uint8Array;
}

function parse(bytes: Uint8Array): Parsed {
  const r = new ByteReader(bytes);
  readVersionAndType(r, ObjectType.message);
  const kind = r.u8() as MessageKindValue;
  const expectedKinds = recipientsFor(kind); // throws on unknown kind
  const orgId = r.bytes(16);
  const teamId = r.bytes(16);
  const epoch = r.u32();
  const threadId = r.bytes(16);
  const messageId = r.bytes(16);
  const count = r.u8();
  if (count !== expectedKinds.length) throw new MalformedError('wrong recipient count for kind');
  const slots: Parsed['slots'] = [];
  for (let i = 0; i < count; i++) {
    const rk = r.u8();
    if (rk !== expectedKinds[i]) throw new MalformedError('wrong recipient kind for message kind');
    slots.push({ kind: rk as RecipientKindValue, sealed: r.bytes(SEAL_OVERHEAD + 32) });
  }
  const ad = bytes.slice(0, r.offset);
  const nonce = r.bytes(NONCE_BYTES);
  const ct = r.rest();
  const paddedSize = ct.length - TAG_BYTES;
  if (!bucketSizes.includes(paddedSize)) throw new MalformedError('ciphertext is not a bucket size');
  if (kind === MessageKind.request && !equalIds(threadId, messageId)) {
    throw new MalformedError('request threadId must equal messageId');
  }
  return {
    header: { version: VERSION, kind, orgId, teamId, epoch, threadId, messageId, recipientKinds: slots.map((s) => s.kind), paddedSize },
    ad,
    slots,
    nonce,
    ct,
  };
}

function equalIds(a: Uint8Array, b: Uint8Array): boolean {
  // ids are not secret; plain comparison is fine here
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Strict structural parse for the server: version, type, kind, recipient slots matching the
 * kind, and a ciphertext of exactly one bucket size (so every stored blob has an allowed size).
 * Does not decrypt or authenticate anything.
 * @throws UnknownVersionError, UnsupportedVersionError, MalformedError.
 */
export function parseMessageHeader(bytes: Uint8Array): MessageHeader {
  return parse(bytes).header;
}

export interface OpenMessageArgs {
  recipientKind: RecipientKindValue;
  /** team epoch secret (recipientKind team) or requester reply secret (requester) */
  secret: Uint8Array;
  /** the public key of `secret`, when the caller holds it (seal.ts `open`: saves deriving it per message) */
  recipientPublic?: Uint8Array;
  /** what the caller believes this record is; checked against the authenticated header */
  expected: { orgId: Uint8Array; teamId?: Uint8Array; threadId?: Uint8Array; messageId?: Uint8Array; kind?: MessageKindValue; epoch?: number };
}

function openContentKey(p: Primitives, m: Parsed, rk: RecipientKindValue, secret: Uint8Array, recipientPublic?: Uint8Array): Uint8Array {
  const slot = m.slots.find((s) => s.kind === rk);
  if (!slot) throw new DecryptionError('no slot for this recipient');
  return open(p, secret, slot.sealed, slotAd(m.header, rk, m.header.epoch), recipientPublic);
}

function checkExpected(p: Primitives, h: MessageHeader, e: OpenMessageArgs['expected']): void {
  const bad =
    !p.constantTimeEqual(h.orgId, e.orgId) ||
    (e.teamId && !p.constantTimeEqual(h.teamId, e.teamId)) ||
    (e.threadId && !p.constantTimeEqual(h.threadId, e.threadId)) ||
    (e.messageId && !p.constantTimeEqual(h.messageId, e.messageId)) ||
    (e.kind !== undefined && h.kind !== e.kind) ||
    (e.epoch !== undefined && h.epoch !== e.epoch);
  // The header is authenticated by the AD, so a mismatch means the record was moved.
  if (bad) throw new DecryptionError('message belongs to another record');
}

/**
 * Decrypts a message for one recipient.
 * @returns the authenticated header and the unpadded body.
 * @throws version errors / MalformedError on structure; DecryptionError on wrong key, any
 *   tampering, or a header that differs from `expected`.
 */
export function openMessage(p: Primitives, bytes: Uint8Array, a: OpenMessageArgs): { header: MessageHeader; body: Uint8Array } {
  const m = parse(bytes);
  checkExpected(p, m.header, a.expected);
  const contentKey = openContentKey(p, m, a.recipientKind, a.secret, a.recipientPublic);
  try {
    const padded = p.aeadDecrypt(contentKey, m.nonce, m.ct, m.ad);
    return { header: m.header, body: unpad(padded) };
  } finally {
    contentKey.fill(0);
  }
}

/**
 * Key rotation: re-seals the team slot to a new epoch key, writes the new epoch, and
 * re-encrypts the body under the same content key with a fresh nonce (the body AD covers the
 * header and slots, which changed). The requester slot is copied unchanged.
 * The body is decrypted first, so a corrupt message is never re-wrapped as if it were fine.
 * @param newTeamPublic FROM A VERIFIED certificate for the same org/team and `newEpoch`.
 * @throws as openMessage; MalformedError if newEpoch equals the current epoch.
 */
export function rewrapMessage(
  p: Primitives,
  bytes: Uint8Array,
  oldEpochSecret: Uint8Array,
  newTeamPublic: Uint8Array,
  newEpoch: number,
): Uint8Array {
  checkU32(newEpoch);
  const m = parse(bytes);
  if (newEpoch === m.header.epoch) throw new MalformedError('new epoch equals current epoch');
  const contentKey = openContentKey(p, m, RecipientKind.team, oldEpochSecret);
  let padded: Uint8Array | undefined;
  try {
    padded = p.aeadDecrypt(contentKey, m.nonce, m.ct, m.ad);
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
    padded?.fill(0);
    contentKey.fill(0);
  }
}
