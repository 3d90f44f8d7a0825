/**
 * The requester side: what the form needs to encrypt (organisation, teams and their signed
 * intake keys, a proof-of-work challenge), accepting a request, and the return flow.
 *
 * The server checks only structure: the envelope's version, kind, organisation, team,
 * current epoch, ids, position and size bucket (parseNewThreadMessage: v2 only). It cannot read the
 * content and never holds a key that could.
 */
import type { Kysely } from 'kysely';
import { rootFingerprint, verifyTeamKey } from '../../crypto/v1/certs.ts';
import { MessageKind, RecipientKind } from '../../crypto/v1/message.ts';
import { blobVersion, parseMessageHeaderAny } from '../../crypto/index.ts';
import { sealRequestV2, type MessageHeaderV2 } from '../../crypto/v2/message.ts';
import { encodeRequestBodyV2 } from '../../crypto/v2/request-body.ts';
import { deriveRequesterKeysV2 } from '../../crypto/v2/requester.ts';
import { unixHour } from '../../crypto/v2/constants.ts';
import { verifyTeamKeyStatement } from '../../crypto/v2/team-key.ts';
import { CURRENT_REQUESTER_PARAM_SET, REQUESTER_PARAM_SETS, generatePassphrase, lookupTokenHash } from '../../crypto/v1/requester.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { CryptoError } from '../../crypto/errors.ts';
import { readThread } from '../../crypto/thread-reading.ts';
import type { Database } from '../db/schema.ts';
import { AppError, ConflictError, NotFoundError, PositionTakenError, UnavailableError, ValidationError } from '../errors.ts';
import { coarseHour } from '../time.ts';
import * as repo from './intake.repository.ts';
import { ProofError, type CheckedProof, type PowService, type Proof } from './pow.service.ts';
import { EffortQueue } from './effort-queue.ts';
import { GroupCommit, type Outcome } from './group-commit.ts';
import { noteNewActivity } from '../notifications/activity.ts';
import { DEFAULT_CLOSED_RETENTION_DAYS } from '../admin/admin.service.ts';
import { checkAttachments, type NewAttachment } from './attachments.ts';

export type { Proof };

/**
 * The strict structural parse of a NEW thread message: it must be v2 (signed author, position
 * in the header). A v1 envelope is refused with `unsupported_version`: accepting one would let
 * anyone who can seal to the public keys write in someone else's name.
 * @throws ValidationError('unsupported_version') for v1; crypto decoder errors for anything else.
 */
export function parseNewThreadMessage(envelope: Uint8Array): MessageHeaderV2 {
  const parsed = parseMessageHeaderAny(envelope);
  if (parsed.version !== 2) {
    throw new ValidationError('New thread messages must use protocol version 2 (signed); reload the page and send again.', 'unsupported_version');
  }
  return parsed.header;
}

/** A submission that passed every check that needs no database, waiting for its batch. */
interface Submission {
  header: MessageHeaderV2;
  envelope: Uint8Array;
  lookupHash: Uint8Array;
  challengeId: Uint8Array;
  expiresHour: Date;
}

function replayed(): ProofError {
  return new ProofError('proof_replayed', 'This proof of work was already used; solve a new one.');
}

export interface IntakeInfo {
  organisation: { id: Uint8Array; name: string };
  rootPublicKey: Uint8Array;
  rootFingerprint: string;
  teams: repo.IntakeTeam[];
  pow: ReturnType<PowService['offer']>;
}

export class StaleEpochError extends AppError {
  constructor() {
    super('conflict', "This team's key has changed; reload the form and send again.", 409);
  }
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

function sameBytes(crypto: Primitives, a: Uint8Array, b: Uint8Array): boolean {
  return crypto.constantTimeEqual(a, b);
}

/** What a requester is told of their request's progress: four coarse steps, not the triage detail. */
export type RequesterStatus = 'received' | 'in_progress' | 'answered' | 'closed';

/**
 * Triage statuses (migrations/0002) folded into the requester's four: `new` and `triaged`
 * are "received"; `in_progress` and `waiting` "being handled"; `resolved` "answered".
 */
export function requesterStatus(status: string): RequesterStatus {
  if (status === 'closed') return 'closed';
  if (status === 'resolved') return 'answered';
  if (status === 'in_progress' || status === 'waiting') return 'in_progress';
  return 'received';
}

/**
 * The first UTC day the retention job may delete a closed request: the closing hour plus the
 * retention days (its spread of 0-48 h only ever adds time, api/admin/retention.service.ts), as
 * a date only (YYYY-MM-DD): the page says "after this day, within two days".
 */
export function deletionDate(updatedHour: Date, retentionDays: number): string {
  return new Date(updatedHour.getTime() + retentionDays * 86_400_000).toISOString().slice(0, 10);
}

export interface LookupAnswer {
  messages: repo.StoredMessage[];
  nextPosition: number;
  status: RequesterStatus;
  /** YYYY-MM-DD once closed, else null */
  deleteAfter: string | null;
  /** how many days a closed request is kept */
  retentionDays: number;
}

export class IntakeService {
  /**
   * Submissions that arrive together are committed together (see `#writeBatch`). Larger batches
   * cost PostgreSQL less per request (docs/BENCHMARKS.md, intake load), so a second batch starts
   * beside a running one only once 16 submissions wait or the running one has taken 5 ms: the
   * database works on one batch while the other's commit is flushed, and a slow commit holds
   * up nobody for long.
   */
  readonly #submissions = new GroupCommit<Submission, Uint8Array>((batch) => this.#writeBatch(batch), {
    maxInFlight: 2,
    overlapAtItems: 16,
    overlapAfterMs: 5,
  });

  constructor(
    private readonly db: Kysely<Database>,
    private readonly crypto: Primitives,
    private readonly pow: PowService,
    private readonly rootPublicKey: Uint8Array | null,
    /** Orders waiting submissions by proof-of-work effort when the intake is saturated. */
    private readonly queue: EffortQueue = new EffortQueue({ concurrency: 64, maxWaiting: 256, maxWaitMs: 10_000 }),
  ) {}

  /**
   * Runs `store` for a checked proof: claims its challenge in this instance (one valid proof
   * sent many times at once takes one place), waits in the effort queue, and gives the claim
   * back when the submission failed for a reason that leaves the proof unspent.
   * @throws ProofError('proof_replayed'), OutrankedError, whatever `store` throws.
   */
  async #withProof<T>(checked: CheckedProof, store: () => Promise<T>): Promise<T> {
    if (!this.pow.claim(checked)) throw replayed();
    let keepClaim = false;
    try {
      const release = await this.queue.admit(checked.effort);
      try {
        const value = await store();
        keepClaim = true;
        return value;
      } finally {
        release();
      }
    } catch (err) {
      // Spent elsewhere (another instance): the claim may stay, the database has the last word anyway.
      if (err instanceof ProofError && err.code === 'proof_replayed') keepClaim = true;
      throw err;
    } finally {
      if (!keepClaim) this.pow.release(checked);
    }
  }

  private async organisation(): Promise<repo.OrganisationRecord> {
    const org = await repo.findOrganisation(this.db);
    if (!org || !this.rootPublicKey) throw new UnavailableError('This hotline is not set up yet.', 60);
    return org;
  }

  /** @throws UnavailableError when no organisation or root key is configured. */
  async info(): Promise<IntakeInfo> {
    const organisation = await this.organisation();
    const rootPublicKey = this.rootPublicKey!;
    return {
      organisation,
      rootPublicKey,
      rootFingerprint: rootFingerprint(this.crypto, rootPublicKey),
      teams: await repo.listTeamsWithCurrentEpoch(this.db),
      pow: this.pow.offer(),
    };
  }

  /** A fresh challenge with the difficulty required now and the effort to solve for. */
  challenge() {
    return this.pow.offer();
  }

  /** Parses and checks an envelope addressed to a team's current epoch. */
  private async checkEnvelope(envelope: Uint8Array, kind: number): Promise<MessageHeaderV2> {
    const organisation = await this.organisation();
    const header = parseNewThreadMessage(envelope);
    if (header.kind !== kind) throw new ValidationError('The envelope is of the wrong kind.', 'malformed');
    if (!sameBytes(this.crypto, header.orgId, organisation.id)) {
      throw new ValidationError('The envelope is addressed to another organisation.');
    }
    const current = await repo.findCurrentEpoch(this.db, header.teamId);
    if (current === null) throw new ValidationError('The envelope is addressed to an unknown team.');
    if (header.epoch !== current) throw new StaleEpochError();
    return header;
  }

  /**
   * Stores a new request; returns its id once committed. Concurrent submissions share one
   * transaction and one commit (group commit, see `#writeBatch`); each caller still gets
   * its own answer, and only after that commit.
   *
   * With attachments (PROTOCOL.md 10.2) their limits and structure are checked first, the proof
   * must carry the extra bits their size costs, and the request and every blob are written in
   * one transaction of their own (not the group commit: a batch statement of megabytes would
   * hold up everyone else's), so nothing is half-written.
   * @throws ProofError, ValidationError, AttachmentLimitError, StaleEpochError, ConflictError,
   * UnavailableError, crypto decoder errors.
   */
  async submit(envelope: Uint8Array, lookupHash: Uint8Array, proof: Proof, attachments: readonly NewAttachment[] = []): Promise<Uint8Array> {
    const extraBits = checkAttachments(attachments);
    const checked = this.pow.check(proof, extraBits);
    if (!this.rootPublicKey) throw new UnavailableError('This hotline is not set up yet.', 60);
    // v2 only; its parse also pins a request to position 0 (and nothing else there).
    const header = parseNewThreadMessage(envelope);
    if (header.kind !== MessageKind.request) throw new ValidationError('The envelope is of the wrong kind.', 'malformed');
    if (!sameBytes(this.crypto, header.threadId, header.messageId)) {
      throw new ValidationError("A request's thread id must equal its message id.", 'malformed');
    }
    const id = await this.#withProof(checked, () =>
      attachments.length === 0
        ? this.#submissions.submit({ header, envelope, lookupHash, challengeId: checked.challengeId, expiresHour: expiryHour(checked.expiresAt) })
        : this.#writeWithAttachments({ header, envelope, lookupHash, challengeId: checked.challengeId, expiresHour: expiryHour(checked.expiresAt) }, attachments),
    );
    noteNewActivity(this.db, header.teamId);
    return id;
  }

  /**
   * A request and its attachments in one transaction: the organisation and epoch checks under
   * the epoch's share lock (as findIntakeTargets explains), the proof spent, the rows written.
   * Any failure rolls all of it back, the proof included.
   */
  async #writeWithAttachments(s: Submission, attachments: readonly NewAttachment[]): Promise<Uint8Array> {
    try {
      await this.db.transaction().execute(async (trx) => {
        const targets = await repo.findIntakeTargets(trx, [s.header.teamId]);
        if (targets.organisationId === null) throw new UnavailableError('This hotline is not set up yet.', 60);
        if (!sameBytes(this.crypto, targets.organisationId, s.header.orgId)) throw new ValidationError('The envelope is addressed to another organisation.');
        const current = targets.currentEpochs.get(repo.bytesKey(s.header.teamId));
        if (current === undefined) {
          if (targets.rotatingTeams.has(repo.bytesKey(s.header.teamId))) throw new StaleEpochError();
          throw new ValidationError('The envelope is addressed to an unknown team.');
        }
        if (current !== s.header.epoch) throw new StaleEpochError();
        if (!(await repo.spendChallenge(trx, s.challengeId, s.expiresHour))) throw replayed();
        const hour = coarseHour();
        await repo.insertRequest(trx, { id: s.header.threadId, teamId: s.header.teamId, epoch: s.header.epoch, lookupHash: s.lookupHash, blob: s.envelope, hour, position: s.header.position });
        await repo.insertAttachments(trx, s.header.threadId, attachments);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError('A request, attachment or passphrase with this id already exists; generate new ones.');
      throw err;
    }
    return s.header.threadId;
  }

  /**
   * Writes a batch of submissions in one statement, so one round trip and one commit whatever
   * its size (repo.writeRequestBatch: organisation and epoch checks, spending the proofs, the
   * rows). A replayed proof or a failed check fails only its own item, and spends nothing for
   * a failed check. If the statement fails (a taken id or lookup hash: a bug or an attack,
   * never normal traffic), nothing of the batch is kept and each item is retried on its own,
   * so the others still go in.
   */
  async #writeBatch(batch: readonly Submission[]): Promise<Outcome<Uint8Array>[]> {
    // Two items of one batch with one challenge: the first spends it, the rest replay it.
    const claimed = new Set<string>();
    const writing: number[] = [];
    batch.forEach((s, i) => {
      const key = repo.bytesKey(s.challengeId);
      if (!claimed.has(key)) writing.push(i);
      claimed.add(key);
    });
    let written: repo.BatchedOutcome[];
    try {
      written = await repo.writeRequestBatch(
        this.db,
        writing.map((i) => {
          const s = batch[i]!;
          return {
            orgId: s.header.orgId, teamId: s.header.teamId, epoch: s.header.epoch, id: s.header.threadId, position: s.header.position,
            lookupHash: s.lookupHash, blob: s.envelope, challengeId: s.challengeId, expiresHour: s.expiresHour,
          };
        }),
        coarseHour(),
      );
    } catch (err) {
      if (batch.length > 1) return Promise.all(batch.map(async (s) => (await this.#writeBatch([s]))[0]!));
      return [{ ok: false, error: isUniqueViolation(err) ? new ConflictError('A request with this id or passphrase already exists; generate new ones.') : err }];
    }
    // Errors are made only for the items that failed: an Error's stack costs a few microseconds each.
    const outcomes: (Outcome<Uint8Array> | null)[] = batch.map(() => null);
    writing.forEach((i, k) => {
      const s = batch[i]!;
      const w = written[k]!;
      if (w.orgOk === null) outcomes[i] = { ok: false, error: new UnavailableError('This hotline is not set up yet.', 60) };
      else if (!w.orgOk) outcomes[i] = { ok: false, error: new ValidationError('The envelope is addressed to another organisation.') };
      // A team that exists but whose current epoch was just replaced (a rotation committed while
      // this statement waited for its lock) is a stale epoch: the page reloads and seals again.
      else if (w.currentEpoch === null && w.teamExists) outcomes[i] = { ok: false, error: new StaleEpochError() };
      else if (w.currentEpoch === null) outcomes[i] = { ok: false, error: new ValidationError('The envelope is addressed to an unknown team.') };
      else if (s.header.epoch !== w.currentEpoch) outcomes[i] = { ok: false, error: new StaleEpochError() };
      else if (w.stored) outcomes[i] = { ok: true, value: s.header.threadId };
    });
    // Not stored, yet every check passed, or a repeat within the batch: the proof was spent already.
    return outcomes.map((o) => o ?? { ok: false, error: replayed() });
  }

  /**
   * The requester's view of their thread, and the position their next follow-up must carry
   * (max + 1 over the whole thread: notes and tags take positions the requester cannot read,
   * so the requester cannot compute it alone), with the request's coarse status and, once it
   * is closed, the first day it may be deleted. An unknown token gets the same shape (no
   * messages, position 0, status `received`, no date) after the same queries, so existence
   * shows neither in the answer nor its time; the route pads both to one size.
   */
  async lookup(token: Uint8Array): Promise<LookupAnswer> {
    const found = await repo.findRequestStateByLookupHash(this.db, lookupTokenHash(this.crypto, token));
    const id = found?.id ?? this.crypto.randomBytes(16);
    const messages = await repo.listRequesterMessages(this.db, id);
    const nextPosition = await repo.nextPosition(this.db, id);
    const retentionDays = (await repo.closedRetentionDays(this.db)) ?? DEFAULT_CLOSED_RETENTION_DAYS;
    if (!found) return { messages: [], nextPosition: 0, status: 'received', deleteAfter: null, retentionDays };
    const status = requesterStatus(found.status);
    return { messages, nextPosition, status, deleteAfter: status === 'closed' ? deletionDate(found.updatedHour, retentionDays) : null, retentionDays };
  }

  /**
   * Appends a requester follow-up to the thread the token opens, at the position signed into it.
   * A refused position rolls everything back, the proof included: the client re-fetches,
   * re-signs at the new position and may send the same proof again.
   * @throws NotFoundError for an unknown token, PositionTakenError, plus everything `submit` throws.
   */
  async followUp(token: Uint8Array, envelope: Uint8Array, proof: Proof): Promise<Uint8Array> {
    const checked = this.pow.check(proof);
    const header = await this.checkEnvelope(envelope, MessageKind.followup);
    const thread = await repo.findRequestByLookupHash(this.db, lookupTokenHash(this.crypto, token));
    if (!thread) throw new NotFoundError('No request matches this passphrase.');
    if (!sameBytes(this.crypto, header.threadId, thread.id) || !sameBytes(this.crypto, header.teamId, thread.teamId)) {
      throw new ValidationError('The message is addressed to another thread.');
    }
    await this.#withProof(checked, async () => {
      try {
        await this.db.transaction().execute(async (trx) => {
          if (!(await repo.spendChallenge(trx, checked.challengeId, expiryHour(checked.expiresAt)))) throw replayed();
          const appended = await repo.appendMessage(trx, {
            id: header.messageId, requestId: thread.id, position: header.position, kind: 'followup', epoch: header.epoch, authorId: null, blob: envelope, hour: coarseHour(),
          });
          if (appended === 'stale_epoch') throw new StaleEpochError();
          if (appended === 'position_taken') throw new PositionTakenError();
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new ConflictError('A message with this id already exists.');
        throw err;
      }
    });
    noteNewActivity(this.db, header.teamId);
    return header.messageId;
  }
}

export interface PlainRequest {
  teamSlug: string;
  message: string;
  contact: string;
  words: readonly string[];
}

export type PlainThreadEntry =
  | { from: 'you' | 'team'; legacy: boolean; text: string }
  /** a message that did not open, verify or decode: shown as such, never under its claimed author */
  | { from: 'unverified' };

/**
 * The no-JavaScript path (Tor Browser's Safest level), clearly labelled as less protected:
 * the server sees the text in memory while it seals it, exactly as the browser would, to a
 * team key whose signed statement it first verifies against the configured root key. It
 * derives the requester's keys from the passphrase it generates, signs the request as the
 * requester (v2), and keeps none of it. Plaintext is never written anywhere; there is no
 * proof of work (no script to compute it): the caller (api/noscript) holds the per-minute
 * budgets that stand in for it, one for reading and one for submitting.
 */
export class PlainIntakeService {
  constructor(
    private readonly intake: IntakeService,
    private readonly db: Kysely<Database>,
    private readonly crypto: Primitives,
    private readonly rootPublicKey: Uint8Array | null,
  ) {}

  /**
   * The team's intake key from its root-signed word. Here the server itself seals (it is
   * trusted with the text on this path anyway), so a v1 certificate is still accepted; the
   * browser page, which must not trust the server, refuses v1 certificates.
   */
  teamKey(org: repo.OrganisationRecord, team: repo.IntakeTeam): { epoch: number; publicKey: Uint8Array } {
    const root = this.rootPublicKey!;
    try {
      if (blobVersion(team.certificate) === 2) {
        return verifyTeamKeyStatement(this.crypto, root, team.certificate, { orgId: org.id, teamId: team.id, nowHour: unixHour(Date.now()) });
      }
      return verifyTeamKey(this.crypto, root, team.certificate, { orgId: org.id, teamId: team.id });
    } catch (err) {
      // A stored key that is expired or does not verify is not the sender's fault: a typed 503, never a 500.
      if (err instanceof CryptoError) throw new UnavailableError("This team's key cannot be used right now; the organisation must renew it.", 3600);
      throw err;
    }
  }

  /** Seals and stores a request; returns the generated passphrase (shown once, never stored). */
  async submit(r: PlainRequest): Promise<string> {
    const org = await repo.findOrganisation(this.db);
    if (!org || !this.rootPublicKey) throw new UnavailableError('This hotline is not set up yet.', 60);
    const team = (await repo.listTeamsWithCurrentEpoch(this.db)).find((t) => t.slug === r.teamSlug);
    if (!team) throw new ValidationError('Choose a team.');
    const key = this.teamKey(org, team);
    const params = REQUESTER_PARAM_SETS[CURRENT_REQUESTER_PARAM_SET]!;
    const passphrase = generatePassphrase(this.crypto, r.words);
    const keys = await deriveRequesterKeysV2(this.crypto, passphrase, org.id, params);
    try {
      const body = encodeRequestBodyV2({
        topic: team.name, message: r.message, ...(r.contact ? { contact: r.contact } : {}), replyPublicKey: keys.replyPublic, argon: params, signPublicKey: keys.signPublic,
      });
      const id = this.crypto.randomBytes(16);
      const envelope = sealRequestV2(this.crypto, { orgId: org.id, teamId: team.id, epoch: key.epoch, teamPublic: key.publicKey, id, requester: keys, body });
      const header = parseNewThreadMessage(envelope);
      await this.db.transaction().execute(async (trx) => {
        // Under the epoch's share lock (see findIntakeTargets): a rotation that committed since
        // the key was read makes this a stale write, never a record left at a retiring epoch.
        const targets = await repo.findIntakeTargets(trx, [team.id]);
        if (targets.currentEpochs.get(repo.bytesKey(team.id)) !== key.epoch) throw new StaleEpochError();
        await repo.insertRequest(trx, {
          id, teamId: team.id, epoch: key.epoch, lookupHash: lookupTokenHash(this.crypto, keys.lookupToken), blob: envelope, hour: coarseHour(), position: header.position,
        });
      });
      noteNewActivity(this.db, team.id);
      return passphrase;
    } finally {
      // Nothing of the requester's keys outlives this call.
      keys.signSeed.fill(0);
      keys.replySecret.fill(0);
      keys.lookupToken.fill(0);
    }
  }

  /**
   * Opens a thread with a passphrase on the server; empty when nothing matches. Each message
   * is opened and verified on its own (crypto/thread-reading.ts): one that does not verify is
   * an `unverified` entry and the rest stay readable.
   */
  async read(passphrase: string): Promise<PlainThreadEntry[]> {
    const org = await repo.findOrganisation(this.db);
    if (!org || !this.rootPublicKey) throw new UnavailableError('This hotline is not set up yet.', 60);
    const keys = await deriveRequesterKeysV2(this.crypto, passphrase, org.id, REQUESTER_PARAM_SETS[CURRENT_REQUESTER_PARAM_SET]!);
    try {
      const { messages } = await this.intake.lookup(keys.lookupToken);
      if (messages.length === 0) return [];
      const thread = readThread(this.crypto, messages.map((m) => m.blob), {
        recipientKind: RecipientKind.requester,
        secretFor: () => keys.replySecret,
        orgId: org.id,
        rootPublic: this.rootPublicKey,
        ownSignPublic: keys.signPublic,
      });
      return thread.entries.map((e): PlainThreadEntry => {
        if (e.status === 'unverified') return { from: 'unverified' };
        const text = e.request ? e.request.message : (e.text ?? '');
        return { from: e.kind === MessageKind.reply ? 'team' : 'you', legacy: e.status === 'legacy', text };
      });
    } finally {
      keys.signSeed.fill(0);
      keys.replySecret.fill(0);
      keys.lookupToken.fill(0);
    }
  }
}

/** Spent challenges are kept until the hour after they expire, then swept. */
function expiryHour(expiresAtSecond: number): Date {
  return coarseHour(new Date((expiresAtSecond + 3600) * 1000));
}
