/**
 * Reading a thread, one message at a time, the same way on every reader: the requester page,
 * the no-JavaScript path (server side, with the requester's passphrase) and the dashboard.
 *
 * Threat: the server (or whoever holds it) serves the thread. It can seal to the team key and
 * to the requester's reply key (both public), so it can make blobs that DECRYPT; what it cannot
 * do is sign as the requester or as a certified responder. So every v2 message is opened with
 * openMessageAny, which verifies its author, and any message that fails to open, verify or
 * decode becomes one "could not be verified" entry with no author and no text: it never shows
 * under the name it claims, and it never hides the rest of the thread.
 *
 * Rules (v2 protocol, thread messages):
 * - The thread's version is its request's: a v1 request makes a v1 thread, whose v1 messages
 *   are shown as "sent before messages were signed" (status `legacy`); a v1 message in a v2
 *   thread is a downgrade (a server stripping signatures) and is `unverified`.
 * - Follow-ups are checked with the request's signPublicKey. The requester's own reader passes
 *   `ownSignPublic` instead: then the request itself must carry exactly that key, so a server
 *   cannot swap in a request of its own making either.
 * - A position (v2) appears once: a second message at a taken position is `unverified`.
 * - Tags: the latest verified tags message by position wins.
 * - Order (v2): verified messages are shown in the order of their SIGNED positions, whatever
 *   order the server sent them in, so a server cannot reorder a conversation; an unverified
 *   entry stays right after the verified message the server sent before it.
 */
import {
  decodeRequestBody, decodeRequestBodyV2, decodeTagsBody, decodeTextBody, MessageKind, openMessageAny, parseMessageHeaderAny,
  RecipientKind, type MessageKindValue, type OpenMessageV2Args, type Primitives, type RecipientKindValue, type RequestBody,
} from './index.ts';

export type EntryStatus = 'verified' | 'legacy' | 'unverified';

export type ThreadEntry =
  | { status: 'unverified'; index: number }
  | {
      status: 'verified' | 'legacy';
      index: number;
      kind: MessageKindValue;
      /** v2 only (v1 blobs carry none) */
      position: number | null;
      /** the verified responder's account id (v2 replies, notes, tags); absent otherwise */
      responderAccountId?: Uint8Array;
      request?: RequestBody;
      text?: string;
      tags?: string[];
    };

export interface ReadThreadArgs {
  recipientKind: RecipientKindValue;
  /** the secret that opens this recipient's slot of a message sealed at `epoch` (null: none held) */
  secretFor: (epoch: number) => Uint8Array | null;
  orgId: Uint8Array;
  /** the PINNED root (from the page itself or deployment configuration, never an API answer) */
  rootPublic: Uint8Array;
  /** known by the dashboard (the record id); the requester learns it from its own request */
  threadId?: Uint8Array;
  teamId?: Uint8Array;
  /** the requester's own Ed25519 key (requester readers only; see module comment) */
  ownSignPublic?: Uint8Array;
}

export interface ReadThread {
  /** null when no message opened as this thread's request */
  threadId: Uint8Array | null;
  teamId: Uint8Array | null;
  version: 1 | 2 | null;
  entries: ThreadEntry[];
  /** the latest verified tags (v2: highest position; v1 thread: last legacy tags) */
  tags: string[] | null;
}

function same(p: Primitives, a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && p.constantTimeEqual(a, b);
}

function decodeBody(kind: MessageKindValue, version: 1 | 2, body: Uint8Array): Pick<Extract<ThreadEntry, { kind: MessageKindValue }>, 'request' | 'text' | 'tags'> {
  if (kind === MessageKind.request) return { request: version === 2 ? decodeRequestBodyV2(body) : decodeRequestBody(body) };
  if (kind === MessageKind.tags) return { tags: decodeTagsBody(body) };
  return { text: decodeTextBody(body) };
}

/**
 * Opens every blob of one thread, in the order given, and never throws for a bad message.
 * @param blobs in the server's order (by position); each is opened on its own.
 */
export function readThread(p: Primitives, blobs: readonly Uint8Array[], a: ReadThreadArgs): ReadThread {
  const open = (blob: Uint8Array, expected: Omit<OpenMessageV2Args['expected'], 'orgId'>, threadSign?: Uint8Array) => {
    const epoch = parseMessageHeaderAny(blob).header.epoch;
    const secret = a.secretFor(epoch);
    if (!secret) throw new Error('no key for this epoch');
    return openMessageAny(p, blob, {
      recipientKind: a.recipientKind,
      secret,
      rootPublic: a.rootPublic,
      expected: { orgId: a.orgId, ...(a.teamId ? { teamId: a.teamId } : {}), ...expected },
      ...(threadSign ? { threadRequesterSignPublic: threadSign } : {}),
    });
  };

  // 1. The request: the first blob that opens as this thread's kind-1 message (and, for the
  //    requester, carries the requester's own signing key).
  let request: { index: number; opened: ReturnType<typeof open> } | null = null;
  for (let i = 0; i < blobs.length && !request; i++) {
    try {
      const opened = open(blobs[i]!, { kind: MessageKind.request, ...(a.threadId ? { threadId: a.threadId, messageId: a.threadId } : {}) });
      if (opened.version === 2 && a.ownSignPublic && !same(p, decodeRequestBodyV2(opened.body).signPublicKey, a.ownSignPublic)) continue;
      request = { index: i, opened };
    } catch {
      // not the request (or not verifiable): it is classified with the rest below
    }
  }
  if (!request) {
    return { threadId: a.threadId ?? null, teamId: a.teamId ?? null, version: null, entries: blobs.map((_, index) => ({ status: 'unverified', index })), tags: null };
  }
  const version = request.opened.version;
  const threadId = request.opened.header.threadId;
  const teamId = request.opened.header.teamId;
  const requestSign = a.ownSignPublic ?? (version === 2 ? decodeRequestBodyV2(request.opened.body).signPublicKey : undefined);

  const entries: ThreadEntry[] = [];
  const positions = new Set<number>();
  let tags: { position: number; tags: string[] } | null = null;
  for (let index = 0; index < blobs.length; index++) {
    try {
      const opened = index === request.index ? request.opened : open(blobs[index]!, { threadId }, requestSign);
      if (opened.header.kind === MessageKind.request && index !== request.index) throw new Error('a second request');
      if (opened.version === 1 && version === 2) throw new Error('a v1 message in a v2 thread: signatures stripped');
      const position = opened.version === 2 ? opened.header.position : null;
      if (position !== null) {
        if (positions.has(position)) throw new Error('a position taken twice');
        positions.add(position);
      }
      const body = decodeBody(opened.header.kind, opened.version, opened.body);
      const entry: ThreadEntry = {
        status: opened.version === 2 ? 'verified' : 'legacy',
        index,
        kind: opened.header.kind,
        position,
        ...(opened.version === 2 && opened.author.type === 'responder' ? { responderAccountId: opened.author.accountId } : {}),
        ...body,
      };
      entries.push(entry);
      if (body.tags) {
        const rank = position ?? index;
        if (!tags || rank > tags.position) tags = { position: rank, tags: body.tags };
      }
    } catch {
      entries.push({ status: 'unverified', index });
    }
  }
  return { threadId, teamId, version, entries: version === 2 ? inSignedOrder(entries) : entries, tags: tags?.tags ?? null };
}

/** Verified v2 entries by signed position; each unverified one after its verified predecessor. */
function inSignedOrder(entries: ThreadEntry[]): ThreadEntry[] {
  let anchor = -1;
  const keyed = entries.map((entry) => {
    if (entry.status !== 'unverified' && entry.position !== null) anchor = entry.position;
    const position = entry.status !== 'unverified' && entry.position !== null ? entry.position : anchor;
    return { entry, position, after: entry.status === 'unverified' ? 1 : 0 };
  });
  keyed.sort((a, b) => a.position - b.position || a.after - b.after || a.entry.index - b.entry.index);
  return keyed.map((k) => k.entry);
}

export { RecipientKind };
