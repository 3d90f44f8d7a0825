/**
 * The no-JavaScript follow-up: a returning requester adds a message without script.
 *
 * This is the weaker path and the page says so: the server sees the text, and it derives the
 * requester's keys from the passphrase typed into THIS request's form, for this request only.
 * With them it opens the thread (to learn its id, team and that it is the requester's own), seals
 * the follow-up to the team's current verified key and the requester's reply key, and SIGNS it
 * as the requester (v2), so every reader verifies it exactly like one the requester page made.
 * The keys are wiped before the answer is sent; nothing about them is stored or kept in memory.
 */
import type { Kysely } from 'kysely';
import { MessageKind, RecipientKind } from '../../crypto/v1/message.ts';
import { CURRENT_REQUESTER_PARAM_SET, REQUESTER_PARAM_SETS } from '../../crypto/v1/requester.ts';
import { encodeTextBody } from '../../crypto/v1/text-body.ts';
import { sealMessageV2 } from '../../crypto/v2/message.ts';
import { deriveRequesterKeysV2, type RequesterKeysV2 } from '../../crypto/v2/requester.ts';
import { readThread, type ReadThread } from '../../crypto/thread-reading.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import type { Database } from '../db/schema.ts';
import { PositionTakenError, UnavailableError } from '../errors.ts';
import { coarseHour } from '../time.ts';
import * as repo from '../intake/intake.repository.ts';
import { StaleEpochError, type IntakeService, type PlainIntakeService, type PlainThreadEntry } from '../intake/intake.service.ts';
import type { MinuteBudget } from './budgets.ts';
import { noteNewActivity } from '../notifications/activity.ts';

export type FollowUpOutcome =
  | { status: 'added'; entries: PlainThreadEntry[] }
  /** no thread opens with this passphrase (same answer whether or not one exists) */
  | { status: 'not_found' }
  /** a thread from before messages were signed: a signed follow-up could not be verified there */
  | { status: 'legacy_thread' }
  /** the submitting budget is used up for this minute */
  | { status: 'busy' };

/** How many times a follow-up is re-sealed when another message took its position first. */
const POSITION_ATTEMPTS = 3;

export function toPlainEntries(thread: ReadThread): PlainThreadEntry[] {
  return thread.entries.map((e): PlainThreadEntry => {
    if (e.status === 'unverified') return { from: 'unverified' };
    const text = e.request ? e.request.message : (e.text ?? '');
    return { from: e.kind === MessageKind.reply ? 'team' : 'you', legacy: e.status === 'legacy', text };
  });
}

export class NoscriptFollowUpService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly crypto: Primitives,
    private readonly intake: IntakeService,
    private readonly plain: PlainIntakeService,
    private readonly rootPublicKey: Uint8Array | null,
  ) {}

  private read(keys: RequesterKeysV2, orgId: Uint8Array, blobs: Uint8Array[]): ReadThread {
    return readThread(this.crypto, blobs, {
      recipientKind: RecipientKind.requester, secretFor: () => keys.replySecret, orgId, rootPublic: this.rootPublicKey!, ownSignPublic: keys.signPublic,
    });
  }

  /**
   * Adds `text` to the thread `passphrase` opens. The caller has already taken a slot of the
   * reading budget (this derives keys); a slot of `submitting` is taken only once the follow-up
   * is known to be valid, and given back if it is not written.
   * @throws UnavailableError (no organisation, or the team's key cannot be used), PositionTakenError
   *   after repeated races, MalformedError for text too long for the largest bucket.
   */
  async followUp(passphrase: string, text: string, submitting: MinuteBudget): Promise<FollowUpOutcome> {
    const org = await repo.findOrganisation(this.db);
    if (!org || !this.rootPublicKey) throw new UnavailableError('This hotline is not set up yet.', 60);
    const body = encodeTextBody(text);
    const keys = await deriveRequesterKeysV2(this.crypto, passphrase, org.id, REQUESTER_PARAM_SETS[CURRENT_REQUESTER_PARAM_SET]!);
    let admitted = false;
    try {
      for (let attempt = 0; attempt < POSITION_ATTEMPTS; attempt++) {
        const { messages, nextPosition } = await this.intake.lookup(keys.lookupToken);
        if (messages.length === 0) return { status: 'not_found' };
        const thread = this.read(keys, org.id, messages.map((m) => m.blob));
        if (thread.version === null || !thread.threadId || !thread.teamId) return { status: 'not_found' };
        if (thread.version !== 2) return { status: 'legacy_thread' };
        const teamId = thread.teamId;
        const team = (await repo.listTeamsWithCurrentEpoch(this.db)).find((t) => this.crypto.constantTimeEqual(t.id, teamId));
        if (!team) throw new UnavailableError("This team's key cannot be used right now; the organisation must renew it.", 3600);
        const key = this.plain.teamKey(org, team);
        if (!admitted) {
          if (!submitting.take()) return { status: 'busy' };
          admitted = true;
        }
        const messageId = this.crypto.randomBytes(16);
        const envelope = sealMessageV2(this.crypto, {
          kind: MessageKind.followup, orgId: org.id, teamId, epoch: key.epoch, threadId: thread.threadId, messageId, position: nextPosition,
          teamPublic: key.publicKey, requesterPublic: keys.replyPublic, body, author: { type: 'requester', signSeed: keys.signSeed },
        });
        const threadId = thread.threadId;
        const appended = await this.db.transaction().execute((trx) =>
          repo.appendMessage(trx, { id: messageId, requestId: threadId, position: nextPosition, kind: 'followup', epoch: key.epoch, authorId: null, blob: envelope, hour: coarseHour() }),
        );
        // A rotation committed since the key was read: nothing was written; the person sends again.
        if (appended === 'stale_epoch') throw new StaleEpochError();
        if (appended === 'appended') {
          admitted = false; // written: the slot stays taken
          noteNewActivity(this.db, teamId);
          const after = await this.intake.lookup(keys.lookupToken);
          return { status: 'added', entries: toPlainEntries(this.read(keys, org.id, after.messages.map((m) => m.blob))) };
        }
      }
      throw new PositionTakenError();
    } finally {
      if (admitted) submitting.refund();
      body.fill(0);
      keys.signSeed.fill(0);
      keys.replySecret.fill(0);
      keys.lookupToken.fill(0);
    }
  }
}
