/**
 * What a signed-in responder reads and changes: their teams (with the sealed epoch grants
 * their browser opens), the requests routed to those teams, the threads, triage state, and
 * replies, notes and tags.
 *
 * Access is by team membership only. A request of another team answers exactly like one
 * that does not exist (404), so ids cannot be probed. The server checks only the structure
 * of what it stores (v2 only, parseNewThreadMessage): it cannot read any of it, and it cannot
 * check the author's signature inside; readers do. The `author_id` column records which
 * session sent a message, for access bookkeeping only: no reader trusts it for authorship.
 */
import type { Kysely } from 'kysely';
import { MessageKind, type MessageKindValue } from '../../crypto/v1/message.ts';
import { rootFingerprint } from '../../crypto/v1/certs.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import type { Database, RequestPriority, RequestStatus } from '../db/schema.ts';
import { ConflictError, NotFoundError, PositionTakenError, UnavailableError, ValidationError } from '../errors.ts';
import { coarseHour } from '../time.ts';
import { appendMessage, findCurrentEpoch, findOrganisation } from '../intake/intake.repository.ts';
import { parseNewThreadMessage, StaleEpochError } from '../intake/intake.service.ts';
import * as repo from './account.repository.ts';
import * as live from './triage.repository.ts';

export const REQUEST_STATUSES: readonly RequestStatus[] = ['new', 'triaged', 'in_progress', 'waiting', 'resolved', 'closed'];
export const REQUEST_PRIORITIES: readonly RequestPriority[] = ['low', 'normal', 'high', 'urgent'];
export const RESPONDER_KINDS = ['reply', 'note', 'tags'] as const;
export type ResponderKind = (typeof RESPONDER_KINDS)[number];

const KIND_VALUE: Record<ResponderKind, MessageKindValue> = { reply: MessageKind.reply, note: MessageKind.note, tags: MessageKind.tags };

export const MAX_PAGE = 100;

export interface TeamsView {
  organisation: { id: Uint8Array; name: string };
  rootPublicKey: Uint8Array | null;
  rootFingerprint: string | null;
  teams: repo.MemberTeam[];
}

export interface Cursor {
  activity: number;
  id: Uint8Array;
}

export const CURSOR_BYTES = 24;

/** Activity values are a bigint counter; a cursor past what a JavaScript number holds exactly names no page. */
const LAST_ACTIVITY = Number.MAX_SAFE_INTEGER;

/** Opaque page cursor: the activity value (u64, big-endian) and id of the last item served. */
export function encodeCursor(c: Cursor): Uint8Array {
  const out = new Uint8Array(CURSOR_BYTES);
  new DataView(out.buffer).setBigUint64(0, BigInt(c.activity));
  out.set(c.id, 8);
  return out;
}

/** @returns null when the bytes are not a cursor (wrong length, or an activity value out of range). */
export function decodeCursor(bytes: Uint8Array): Cursor | null {
  if (bytes.length !== CURSOR_BYTES) return null;
  const activity = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0);
  if (activity > BigInt(LAST_ACTIVITY)) return null;
  return { activity: Number(activity), id: bytes.slice(8) };
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

export class TriageService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly crypto: Primitives,
    private readonly rootPublicKey: Uint8Array | null,
  ) {}

  private same(a: Uint8Array, b: Uint8Array): boolean {
    return a.length === b.length && this.crypto.constantTimeEqual(a, b);
  }

  /** @throws UnavailableError before the organisation exists. */
  async teams(account: repo.Account): Promise<TeamsView> {
    const organisation = await findOrganisation(this.db);
    if (!organisation) throw new UnavailableError('This hotline is not set up yet.', 60);
    return {
      organisation,
      rootPublicKey: this.rootPublicKey,
      rootFingerprint: this.rootPublicKey ? rootFingerprint(this.crypto, this.rootPublicKey) : null,
      teams: await repo.listMemberTeams(this.db, account.id),
    };
  }

  /**
   * One page of the account's teams' requests, latest activity first, each with its unread
   * mark for this account.
   */
  async list(
    account: repo.Account,
    q: { status?: RequestStatus; teamId?: Uint8Array; cursor?: Cursor; limit: number },
  ): Promise<{ requests: live.ActivityListItem[]; next: Cursor | null }> {
    let teamIds = await repo.memberTeamIds(this.db, account.id);
    // A team the account is not in filters down to nothing, like an unknown team.
    if (q.teamId) teamIds = teamIds.filter((t) => this.same(t, q.teamId!));
    const rows = await live.listByActivity(this.db, {
      accountId: account.id,
      teamIds,
      limit: q.limit + 1,
      ...(q.status ? { status: q.status } : {}),
      ...(q.cursor ? { after: q.cursor } : {}),
    });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return { requests: page, next: rows.length > q.limit && last ? { activity: last.activity, id: last.id } : null };
  }

  /**
   * The change marker a page polls to refresh without reloading: opaque, content-free, equal
   * as long as nothing the account can list changed. It is also how an open page of a removed
   * or signed-out responder learns its session is gone (401) and wipes itself.
   */
  async changes(account: repo.Account): Promise<string> {
    const m = await live.changeMarker(this.db, await repo.memberTeamIds(this.db, account.id));
    return `${m.activity}.${m.count}`;
  }

  /** @throws NotFoundError for an unknown request or one of a team the account is not in. */
  private async visibleRequest(account: repo.Account, id: Uint8Array): Promise<repo.RequestSummary> {
    const request = await repo.findRequest(this.db, id);
    const teams = await repo.memberTeamIds(this.db, account.id);
    if (!request || !teams.some((t) => this.same(t, request.teamId))) throw new NotFoundError('No such request.');
    return request;
  }

  /** @throws NotFoundError as `visibleRequest`. */
  async thread(account: repo.Account, id: Uint8Array): Promise<{ request: repo.RequestSummary; messages: repo.ThreadMessage[] }> {
    const request = await this.visibleRequest(account, id);
    // Reading the thread marks it seen up to the activity read BEFORE its messages, so a
    // message landing in between stays unread rather than being marked seen unshown.
    const activity = await live.activityOf(this.db, id);
    const messages = await repo.listThread(this.db, id);
    if (activity !== null) await live.markSeen(this.db, account.id, id, activity);
    return { request, messages };
  }

  /**
   * One encrypted attachment blob of a request the account can see. Downloading marks nothing:
   * the file is opened only in the responder's browser, with the key from the request body.
   * @throws NotFoundError for a request the account cannot see, an unknown attachment id, or one
   * that belongs to another request (the same answer for all three).
   */
  async attachment(account: repo.Account, requestId: Uint8Array, attachmentId: Uint8Array): Promise<Uint8Array> {
    await this.visibleRequest(account, requestId);
    const blob = await repo.findAttachment(this.db, requestId, attachmentId);
    if (!blob) throw new NotFoundError('No such attachment.');
    return blob;
  }

  /**
   * Changes triage state. @throws NotFoundError; ValidationError for an assignee who is not
   * an active member of the request's team.
   */
  async update(
    account: repo.Account,
    id: Uint8Array,
    changes: { status?: RequestStatus; priority?: RequestPriority; assigneeId?: Uint8Array | null },
  ): Promise<repo.RequestSummary> {
    const request = await this.visibleRequest(account, id);
    if (changes.assigneeId && !(await repo.isActiveMember(this.db, request.teamId, changes.assigneeId))) {
      throw new ValidationError('Field "assigneeId" must be an active member of this team.');
    }
    await repo.updateRequest(this.db, id, changes, coarseHour());
    // Colleagues' lists move the request up; the one who changed it has seen the change.
    await live.bumpActivity(this.db, id);
    const activity = await live.activityOf(this.db, id);
    if (activity !== null) await live.markSeen(this.db, account.id, id, activity);
    return (await repo.findRequest(this.db, id))!;
  }

  /**
   * Appends a reply, note or tags message written by `account`. The envelope must be of that
   * kind, v2, for this organisation, this request's team and thread, at the team's current
   * epoch, at exactly the thread's next position (checked under the thread's row lock).
   * Tags are appended like everything else (positions are never reused): the latest tags
   * message by position is the current one, on every reader.
   * @throws NotFoundError, crypto decoder errors, ValidationError (unsupported_version for v1),
   *   StaleEpochError, PositionTakenError, ConflictError.
   */
  async post(account: repo.Account, id: Uint8Array, kind: ResponderKind, envelope: Uint8Array): Promise<Uint8Array> {
    const request = await this.visibleRequest(account, id);
    const organisation = await findOrganisation(this.db);
    if (!organisation) throw new UnavailableError('This hotline is not set up yet.', 60);
    const header = parseNewThreadMessage(envelope);
    if (header.kind !== KIND_VALUE[kind]) throw new ValidationError('The envelope is of the wrong kind.', 'malformed');
    if (!this.same(header.orgId, organisation.id)) throw new ValidationError('The envelope is addressed to another organisation.');
    if (!this.same(header.teamId, request.teamId) || !this.same(header.threadId, request.id)) {
      throw new ValidationError('The envelope is addressed to another thread.');
    }
    if (header.epoch !== (await findCurrentEpoch(this.db, request.teamId))) throw new StaleEpochError();
    try {
      await this.db.transaction().execute(async (trx) => {
        const appended = await appendMessage(trx, {
          id: header.messageId, requestId: id, position: header.position, kind, epoch: header.epoch, authorId: account.id, blob: envelope, hour: coarseHour(),
        });
        if (appended === 'stale_epoch') throw new StaleEpochError();
        if (appended === 'position_taken') throw new PositionTakenError();
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError('A message with this id already exists.');
      throw err;
    }
    return header.messageId;
  }
}
