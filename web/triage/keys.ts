/**
 * The dashboard's key handling, kept apart from the DOM so the benchmark can run exactly the
 * code the page runs: unwrap the account keys, verify the responder's own certificate and
 * every team key certificate against the root, open the epoch grants, decrypt requests and
 * thread messages, and seal notes, tags and replies.
 *
 * Protocol v2 thread messages: what this dashboard writes is signed with the account's own
 * certified Ed25519 key at the thread's next position; what it reads is opened and verified
 * one message at a time (crypto/thread-reading.ts), and an author is shown only from a
 * VERIFIED certificate, never from the server's `authorId` column.
 *
 * Everything here lives in memory only. `wipeVault` zero-fills every secret it holds; the
 * caller then drops its references (JavaScript strings cannot be zeroed, only released).
 */
import { base64urlDecode, base64urlEncode } from '../../crypto/encoding.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { CryptoError } from '../../crypto/errors.ts';
import { verifyCurrentTeamKey, verifyHistoricTeamKey } from '../../crypto/team-key-any.ts';
import { openGrant, verifyResponderCert } from '../../crypto/v1/certs.ts';
import { NO_KEY_FLOORS, type KeyFloorStore, type KeyRefusal } from './key-floor.ts';
import { MessageKind, RecipientKind, type MessageKindValue } from '../../crypto/v1/message.ts';
import { decodeRequestBody, type RequestBody } from '../../crypto/v1/request-body.ts';
import { encodeTagsBody, encodeTextBody } from '../../crypto/v1/text-body.ts';
import { openMessageAny } from '../../crypto/index.ts';
import { unixHour } from '../../crypto/v2/constants.ts';
import { sealMessageV2 } from '../../crypto/v2/message.ts';
import { decodeRequestBodyV2 } from '../../crypto/v2/request-body.ts';
import { readThread, type ThreadEntry } from '../../crypto/thread-reading.ts';

export interface TeamKeys {
  id: Uint8Array;
  /** base64url id, as the API names it */
  key: string;
  slug: string;
  name: string;
  /** The current epoch and its X25519 public key, from a root-verified certificate; null if none verifies. */
  currentEpoch: number | null;
  currentPublic: Uint8Array | null;
  /** epoch -> granted epoch secret (verified against that epoch's certificate) */
  secrets: Map<number, Uint8Array>;
  /** active members (base64url id, user name), offered as assignees */
  members: { id: string; username: string }[];
  /** Why the offered current key was refused (older than one seen, expired, ...); null when it was not. */
  refused: KeyRefusal | null;
  /** The current key's expiry hour (v2); null for a v1 certificate or none. */
  currentExpiresHour: number | null;
}

export interface Vault {
  orgId: Uint8Array;
  accountId: Uint8Array;
  x25519Secret: Uint8Array;
  ed25519Seed: Uint8Array;
  /** The root from the page itself (root-pin.ts), never from an API answer; and its fingerprint. */
  rootPublic: Uint8Array;
  /** this account's own certificate (verified to name its keys): it travels inside every message it signs */
  certificate: Uint8Array;
  rootFingerprint: string;
  teams: Map<string, TeamKeys>;
  /** grants or certificates that failed verification (shown as a warning) */
  rejected: number;
  /** teams whose offered current key this browser refused, and why (shown by name) */
  refusedTeams: { name: string; reason: KeyRefusal }[];
}

export interface TeamsJson {
  organisation: { id: string; name: string };
  // GET /teams also answers rootPublicKey and rootFingerprint; the dashboard ignores both
  // (a server could name a root of its own there): the root comes from the page (root-pin.ts).
  teams: {
    id: string;
    slug: string;
    name: string;
    currentEpoch: number | null;
    certificate: string | null;
    epochs: { epoch: number; state: string; certificate: string }[];
    grants: { epoch: number; grant: string }[];
    members?: { id: string; username: string }[];
  }[];
}

export class KeyError extends Error {
  constructor(readonly reason: 'no_root' | 'certificate') {
    super(reason);
  }
}

/**
 * Builds the vault from the unwrapped account keys and GET /teams.
 * Threat: a server that slips in keys of its own. The responder's certificate must verify
 * against the root and name this account and exactly these public keys; each grant must open
 * to the secret of a root-signed team key of the same team and epoch. The root is `trusted`,
 * from the page itself (root-pin.ts trustedRoot): any root key in the API answer is ignored.
 * Threat: a server that replays an OLDER genuine key as current (after a rotation, so replies
 * go to a key a removed member holds). The current key must be valid now and have a serial at
 * least the highest this browser remembers (`floors`); it is then remembered. A refused
 * current key leaves the team without a key to write with (`refused` says why); old epochs'
 * grants still open for reading, each against that epoch's own genuine key.
 * @throws KeyError when the own certificate does not verify.
 */
export function openVault(
  p: Primitives,
  keys: { x25519Secret: Uint8Array; ed25519Seed: Uint8Array; x25519Public: Uint8Array; ed25519Public: Uint8Array },
  accountId: Uint8Array,
  certificate: Uint8Array | null,
  teams: TeamsJson,
  trusted: { publicKey: Uint8Array; fingerprint: string },
  floors: KeyFloorStore = NO_KEY_FLOORS,
  now: number = Date.now(),
): Vault {
  const root = trusted.publicKey;
  const orgId = base64urlDecode(teams.organisation.id);
  if (!certificate) throw new KeyError('certificate');
  try {
    const cert = verifyResponderCert(p, root, certificate, { orgId, accountId });
    if (!p.constantTimeEqual(cert.x25519Public, keys.x25519Public) || !p.constantTimeEqual(cert.ed25519Public, keys.ed25519Public)) {
      throw new KeyError('certificate');
    }
  } catch {
    throw new KeyError('certificate');
  }
  const vault: Vault = {
    orgId, accountId, x25519Secret: keys.x25519Secret, ed25519Seed: keys.ed25519Seed, certificate: certificate.slice(),
    rootPublic: root, rootFingerprint: trusted.fingerprint, teams: new Map(), rejected: 0, refusedTeams: [],
  };
  const nowHour = unixHour(now);
  for (const t of teams.teams) {
    const id = base64urlDecode(t.id);
    const team: TeamKeys = {
      id, key: t.id, slug: t.slug, name: t.name, currentEpoch: null, currentPublic: null, secrets: new Map(), members: t.members ?? [],
      refused: null, currentExpiresHour: null,
    };
    if (t.currentEpoch !== null && t.certificate) {
      try {
        const k = verifyCurrentTeamKey(p, root, base64urlDecode(t.certificate), {
          orgId, teamId: id, epoch: t.currentEpoch, nowHour, minSerial: floors.get(teams.organisation.id, t.id),
        });
        team.currentPublic = k.publicKey;
        team.currentEpoch = t.currentEpoch;
        team.currentExpiresHour = k.expiresHour;
        floors.raise(teams.organisation.id, t.id, k.serial);
      } catch (err) {
        const code = err instanceof CryptoError ? err.code : '';
        if (code === 'rolled_back' || code === 'expired_statement' || code === 'not_yet_valid') {
          team.refused = code;
          vault.refusedTeams.push({ name: t.name, reason: code });
        } else {
          vault.rejected++;
        }
      }
    }
    for (const g of t.grants) {
      const epochCert = t.epochs.find((e) => e.epoch === g.epoch);
      try {
        if (!epochCert) throw new KeyError('certificate');
        // The epoch's own genuine key (old epochs' statements may have expired: history).
        const teamPublic = verifyHistoricTeamKey(p, root, base64urlDecode(epochCert.certificate), { orgId, teamId: id, epoch: g.epoch }).publicKey;
        const opened = openGrant(p, {
          responderSecret: keys.x25519Secret,
          bytes: base64urlDecode(g.grant),
          expected: { orgId, teamId: id, epoch: g.epoch, accountId },
          teamPublic,
        });
        team.secrets.set(g.epoch, opened.epochSecret);
      } catch {
        vault.rejected++;
      }
    }
    vault.teams.set(t.id, team);
  }
  return vault;
}

/** Zero-fills every secret in the vault and empties it. */
export function wipeVault(v: Vault): void {
  v.x25519Secret.fill(0);
  v.ed25519Seed.fill(0);
  for (const team of v.teams.values()) {
    for (const s of team.secrets.values()) s.fill(0);
    team.secrets.clear();
  }
  v.teams.clear();
}

/** What decryption needs: the organisation and a lookup of epoch secrets. */
export interface DecryptContext {
  orgId: Uint8Array;
  rootPublic: Uint8Array;
  secret(teamKey: string, epoch: number): Uint8Array | undefined;
  /** The public key of that secret, when already known: saves deriving it for every row (decrypt-worker.ts). */
  publicKey?(teamKey: string, epoch: number): Uint8Array | undefined;
}

export function vaultContext(v: Vault): DecryptContext {
  return { orgId: v.orgId, rootPublic: v.rootPublic, secret: (teamKey, epoch) => v.teams.get(teamKey)?.secrets.get(epoch) };
}

export interface RequestRowJson {
  id: string;
  teamId: string;
  epoch: number;
  status: string;
  priority: string;
  assigneeId: string | null;
  createdHour: string;
  updatedHour: string;
  /** the organisation-wide activity counter at the request's latest change (list order) */
  activity?: number;
  /** changed since this account last opened it (the list answer only) */
  unread?: boolean;
  blob: string;
}

export type Opened<T> = { ok: true; value: T } | { ok: false; reason: 'no_key' | 'unreadable' };

/**
 * Decrypts a request (kind 1) with the team secret for the row's epoch, binding org, team,
 * thread, message id, kind and epoch, so a row moved between records does not open.
 */
export function openRequestRow(p: Primitives, ctx: DecryptContext, row: RequestRowJson): Opened<RequestBody> {
  const secret = ctx.secret(row.teamId, row.epoch);
  if (!secret) return { ok: false, reason: 'no_key' };
  try {
    const id = base64urlDecode(row.id);
    // v2 (signed by the key inside its own body) or a stored v1 request.
    const opened = openMessageAny(p, base64urlDecode(row.blob), {
      recipientKind: RecipientKind.team,
      secret,
      recipientPublic: ctx.publicKey?.(row.teamId, row.epoch),
      rootPublic: ctx.rootPublic,
      expected: { orgId: ctx.orgId, teamId: base64urlDecode(row.teamId), threadId: id, messageId: id, kind: MessageKind.request, epoch: row.epoch },
    });
    return { ok: true, value: opened.version === 2 ? decodeRequestBodyV2(opened.body) : decodeRequestBody(opened.body) };
  } catch {
    return { ok: false, reason: 'unreadable' };
  }
}

export const KIND_NAMES = ['request', 'followup', 'reply', 'note', 'tags'] as const;
export type KindName = (typeof KIND_NAMES)[number];

export interface ThreadMessageJson {
  id: string;
  kind: string;
  epoch: number;
  position: number;
  authorId: string | null;
  blob: string;
}

/** One thread entry as the dashboard shows it. */
export type ThreadItem =
  | { status: 'unverified' }
  | {
      status: 'verified' | 'legacy';
      kind: KindName;
      /** the VERIFIED responder's account id (base64url); absent for the requester and for v1 */
      authorAccountId: string | null;
      request?: RequestBody;
      text?: string;
      tags?: string[];
    };

export interface OpenedThread {
  items: ThreadItem[];
  /** the latest verified tags (highest position) */
  tags: string[];
  /** what a message written now must carry: the thread's max position + 1 */
  nextPosition: number;
  /** the request body, when the thread's request opened and verified */
  request: RequestBody | null;
}

/**
 * Opens the thread of request `threadId` in team `teamKey`, one message at a time. A message
 * that does not open or verify (a follow-up not signed by the request's key, a note or reply
 * whose certificate is not the root's, a v1 message in a v2 thread) is `unverified`.
 */
export function openThread(p: Primitives, ctx: DecryptContext, teamKey: string, threadId: string, messages: ThreadMessageJson[]): OpenedThread {
  const blobs = messages.map((m) => {
    try {
      return base64urlDecode(m.blob);
    } catch {
      return new Uint8Array(0);
    }
  });
  const read = readThread(p, blobs, {
    recipientKind: RecipientKind.team,
    secretFor: (epoch) => ctx.secret(teamKey, epoch) ?? null,
    orgId: ctx.orgId,
    rootPublic: ctx.rootPublic,
    threadId: base64urlDecode(threadId),
    teamId: base64urlDecode(teamKey),
  });
  const items = read.entries.map((e: ThreadEntry): ThreadItem => {
    if (e.status === 'unverified') return { status: 'unverified' };
    return {
      status: e.status,
      kind: KIND_NAMES[e.kind - 1]!,
      authorAccountId: e.responderAccountId ? base64urlEncode(e.responderAccountId) : null,
      ...(e.request ? { request: e.request } : {}),
      ...(e.text !== undefined ? { text: e.text } : {}),
      ...(e.tags ? { tags: e.tags } : {}),
    };
  });
  const request = read.entries.find((e) => e.status !== 'unverified' && e.request);
  return {
    items,
    tags: read.tags ?? [],
    nextPosition: messages.reduce((max, m) => Math.max(max, m.position + 1), 0),
    request: request && request.status !== 'unverified' ? request.request ?? null : null,
  };
}

/**
 * Seals a note, tags or reply to the team's CURRENT epoch key (from its root-verified
 * statement) and, for a reply, to the requester's reply key from the decrypted request;
 * signed with this account's certified key, at `position` (the thread's next).
 * @throws Error('no_current_key') when no current team key verified; crypto errors.
 */
export function sealResponderMessage(
  p: Primitives,
  v: Vault,
  a: { kind: 'note' | 'tags' | 'reply'; teamKey: string; threadId: string; position: number; text?: string; tags?: string[]; requesterPublic?: Uint8Array },
): Uint8Array {
  const team = v.teams.get(a.teamKey);
  if (!team || team.currentEpoch === null || !team.currentPublic) throw new Error('no_current_key');
  const kind: MessageKindValue = MessageKind[a.kind];
  const body = a.kind === 'tags' ? encodeTagsBody(a.tags ?? []) : encodeTextBody(a.text ?? '');
  return sealMessageV2(p, {
    kind,
    orgId: v.orgId,
    teamId: team.id,
    epoch: team.currentEpoch,
    threadId: base64urlDecode(a.threadId),
    messageId: p.randomBytes(16),
    position: a.position,
    teamPublic: team.currentPublic,
    ...(a.kind === 'reply' ? { requesterPublic: a.requesterPublic! } : {}),
    body,
    author: { type: 'responder', signSeed: v.ed25519Seed, cert: v.certificate },
  });
}
