/**
 * The admin's side of the triage API: approving and removing accounts, second admins, teams
 * and membership, key rotation with re-wrap and retirement of old epochs, retention, and the
 * audit log.
 *
 * The server holds no key that signs or opens anything. Every key-bearing object arrives
 * made by the admin's browser; the server checks what it can without secrets: certificates
 * verify against the root public key from deployment configuration and name exactly the
 * stored account keys, role, team and epoch; grants name the right organisation, team, epoch
 * and account (their sealed part is opaque); re-wrapped messages keep every id and move to
 * the current epoch. Each change is one transaction together with its signed audit entry.
 * Log lines of key changes are tagged `[key-rotation]` and carry counts only.
 */
import type { Kysely, Transaction } from 'kysely';
import { base64urlEncode, ByteReader } from '../../crypto/encoding.ts';
import { CryptoError } from '../../crypto/errors.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { GRANT_BYTES, Role, verifyResponderCert, verifyTeamKey } from '../../crypto/v1/certs.ts';
import { ObjectType, VERSION } from '../../crypto/v1/constants.ts';
import { MESSAGE_HEADER_BYTES, MessageKind, parseMessageHeader } from '../../crypto/v1/message.ts';
import { SEAL_OVERHEAD } from '../../crypto/v1/seal.ts';
import { accountFingerprint, ROOT_WRAP_BYTES, type AuditAction, type AuditTargets } from '../../crypto/v1/admin.ts';
import type { Config } from '../config.ts';
import type { AccountRole, Database, EpochState, MessageKindName } from '../db/schema.ts';
import { ConflictError, ForbiddenError, NotFoundError, UnavailableError, ValidationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { coarseHour } from '../time.ts';
import type { Account } from '../accounts/account.repository.ts';
import { appendAudit, checkAuditEntry, type AuditInput } from './audit.service.ts';
import * as repo from './admin.repository.ts';

export const DEFAULT_CLOSED_RETENTION_DAYS = 90;
export const REWRAP_PAGE = 200;
export const REWRAP_MAX_PAGE = 500;
const SLUG = /^[a-z0-9-]{1,40}$/;
const DAY_MS = 86_400_000;
/** One recipient slot of a v1 message: kind(1) | sealed content key (docs/PROTOCOL.md section 8). */
const SLOT_BYTES = 1 + SEAL_OVERHEAD + 32;

const KIND_VALUE: Record<MessageKindName, number> = {
  request: MessageKind.request, followup: MessageKind.followup, reply: MessageKind.reply, note: MessageKind.note, tags: MessageKind.tags,
};

const b64 = base64urlEncode;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export interface TeamGrantInput {
  teamId: Uint8Array;
  epoch: number;
  grant: Uint8Array;
}

export interface AccountGrantInput {
  accountId: Uint8Array;
  grant: Uint8Array;
}

export interface AccountView extends repo.AdminAccount {
  fingerprint: string;
}

export interface TeamView extends repo.AdminTeam {
  currentEpoch: number | null;
  currentEpochAgeDays: number | null;
  rotationDue: boolean;
  staleMessages: number;
  /** The caller's own grants for this team (to open the epoch secrets it re-grants or re-wraps with). */
  grants: { epoch: number; sealed: Uint8Array }[];
}

/** The admin's signing identity for audit entries: its id and stored Ed25519 public key. */
interface ActorKeys {
  id: Uint8Array;
  signPublicKey: Uint8Array;
}

/**
 * Strict structural parse of a grant (crypto/v1 has only `openGrant`, which needs the secret):
 * version | 0x12 | orgId | teamId | epoch | accountId | sealed(80), exactly GRANT_BYTES.
 */
function parseGrantHeader(bytes: Uint8Array): { orgId: Uint8Array; teamId: Uint8Array; epoch: number; accountId: Uint8Array } {
  if (bytes.length !== GRANT_BYTES) throw new ValidationError('A grant has the wrong length.', 'malformed');
  const r = new ByteReader(bytes);
  if (r.u8() !== VERSION || r.u8() !== ObjectType.grant) throw new ValidationError('A grant has the wrong version or type.', 'malformed');
  return { orgId: r.bytes(16), teamId: r.bytes(16), epoch: r.u32(), accountId: r.bytes(16) };
}

export class AdminService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly p: Primitives,
    private readonly rootPublicKey: Uint8Array | null,
    private readonly config: Pick<Config, 'rotationReminderDays'>,
    private readonly logger: Logger,
  ) {}

  private same(a: Uint8Array, b: Uint8Array): boolean {
    return a.length === b.length && this.p.constantTimeEqual(a, b);
  }

  /** @throws UnavailableError before setup (no organisation or no configured root key). */
  private async context(): Promise<{ orgId: Uint8Array; root: Uint8Array }> {
    const orgId = await repo.findOrganisationId(this.db);
    if (!orgId || !this.rootPublicKey) throw new UnavailableError('This hotline is not set up yet.', 60);
    return { orgId, root: this.rootPublicKey };
  }

  private async actor(account: Account): Promise<ActorKeys> {
    if (account.role !== 'admin' || account.status !== 'active') throw new ForbiddenError('Only an admin can do this.');
    const found = (await repo.signKeysOf(this.db, [account.id])).get(hex(account.id));
    if (!found) throw new ForbiddenError('Only an admin can do this.');
    return { id: account.id, signPublicKey: found };
  }

  /** Checks the entry first (no work for a wrong one), then runs `action` and appends the entry in one transaction. */
  private async audited<T>(
    account: Account,
    action: AuditAction,
    targets: AuditTargets,
    audit: AuditInput,
    run: (trx: Transaction<Database>) => Promise<T>,
  ): Promise<T> {
    const actor = await this.actor(account);
    checkAuditEntry(audit, { action, actorId: actor.id, targets });
    return this.db.transaction().execute(async (trx) => {
      const result = await run(trx);
      await appendAudit(trx, this.p, actor, audit);
      return result;
    });
  }

  /**
   * A responder certificate must verify against the root and name this account's stored keys
   * and the role it is given: otherwise an admin's browser (or a server) could bind the
   * account id to keys of its own.
   */
  private checkAccountCertificate(ctx: { orgId: Uint8Array; root: Uint8Array }, account: repo.LockedAccount, certificate: Uint8Array, role: AccountRole): void {
    let fields;
    try {
      fields = verifyResponderCert(this.p, ctx.root, certificate, { orgId: ctx.orgId, accountId: account.id });
    } catch (err) {
      if (err instanceof CryptoError) throw new ValidationError('The certificate does not verify against the organisation root for this account.');
      throw err;
    }
    if (fields.role !== (role === 'admin' ? Role.admin : Role.responder)) throw new ValidationError('The certificate names another role.');
    if (!this.same(fields.x25519Public, account.encPublicKey) || !this.same(fields.ed25519Public, account.signPublicKey)) {
      throw new ValidationError("The certificate does not name this account's keys.");
    }
  }

  private checkGrant(orgId: Uint8Array, bytes: Uint8Array, teamId: Uint8Array, epoch: number, accountId: Uint8Array): void {
    const g = parseGrantHeader(bytes);
    if (!this.same(g.orgId, orgId) || !this.same(g.teamId, teamId) || g.epoch !== epoch || !this.same(g.accountId, accountId)) {
      throw new ValidationError('A grant names another organisation, team, epoch or account.');
    }
  }

  private verifyTeamCertificate(ctx: { orgId: Uint8Array; root: Uint8Array }, certificate: Uint8Array, teamId: Uint8Array, epoch: number) {
    try {
      return verifyTeamKey(this.p, ctx.root, certificate, { orgId: ctx.orgId, teamId, epoch });
    } catch (err) {
      if (err instanceof CryptoError) throw new ValidationError('The team key certificate does not verify against the organisation root for this team and epoch.');
      throw err;
    }
  }

  /** Grants for exactly every non-retired epoch of a (locked) team, one each. */
  private checkEpochGrants(orgId: Uint8Array, team: { epochs: repo.EpochRecord[] }, teamId: Uint8Array, accountId: Uint8Array, grants: { epoch: number; grant: Uint8Array }[]): void {
    const live = team.epochs.filter((e) => e.state !== 'retired').map((e) => e.epoch).sort((a, b) => a - b);
    const given = grants.map((g) => g.epoch).sort((a, b) => a - b);
    if (live.length !== given.length || live.some((e, i) => e !== given[i])) {
      throw new ValidationError('Send one grant for every epoch of the team that is not retired.');
    }
    for (const g of grants) this.checkGrant(orgId, g.grant, teamId, g.epoch, accountId);
  }

  // ---------------------------------------------------------------- reading

  async rootWrap(account: Account): Promise<{ organisationId: Uint8Array; rootPublicKey: Uint8Array; sealed: Uint8Array }> {
    await this.actor(account);
    const ctx = await this.context();
    const sealed = await repo.findRootWrap(this.db, account.id);
    if (!sealed) throw new NotFoundError('You hold no wrap of the root key.');
    return { organisationId: ctx.orgId, rootPublicKey: ctx.root, sealed };
  }

  async accounts(account: Account): Promise<AccountView[]> {
    await this.actor(account);
    const rows = await repo.listAccounts(this.db);
    return rows.map((a) => ({ ...a, fingerprint: accountFingerprint(this.p, a.encPublicKey, a.signPublicKey) }));
  }

  async teams(account: Account, now = new Date()): Promise<TeamView[]> {
    await this.actor(account);
    const teams = await repo.listTeams(this.db);
    const grants = await repo.grantsOf(this.db, account.id);
    const out: TeamView[] = [];
    for (const t of teams) {
      const current = t.epochs.find((e) => e.state === 'current') ?? null;
      const age = current ? Math.floor((now.getTime() - current.createdHour.getTime()) / DAY_MS) : null;
      out.push({
        ...t,
        currentEpoch: current?.epoch ?? null,
        currentEpochAgeDays: age,
        rotationDue: age !== null && age >= this.config.rotationReminderDays,
        staleMessages: current ? await repo.countStaleMessages(this.db, t.id, current.epoch) : 0,
        grants: grants.filter((g) => this.same(g.teamId, t.id)).map((g) => ({ epoch: g.epoch, sealed: g.sealed })),
      });
    }
    return out;
  }

  async auditHead(account: Account): Promise<{ seq: number; hash: Uint8Array }> {
    await this.actor(account);
    return (await repo.auditHead(this.db)) ?? { seq: 0, hash: new Uint8Array(32) };
  }

  async audit(account: Account, afterSeq: number, limit: number): Promise<repo.AuditRow[]> {
    await this.actor(account);
    return repo.listAudit(this.db, afterSeq, limit);
  }

  async retention(account: Account): Promise<number> {
    await this.actor(account);
    return (await repo.retentionDays(this.db)) ?? DEFAULT_CLOSED_RETENTION_DAYS;
  }

  // ---------------------------------------------------------------- accounts

  /**
   * Approves a pending account: its root-signed certificate, its team memberships and a grant
   * for every live epoch of each team, all at once.
   * @throws NotFoundError, ConflictError (not pending), ValidationError (certificate or grants
   *   wrong; nothing is written), ConflictError 409 on an audit race.
   */
  async approve(account: Account, accountId: Uint8Array, input: { certificate: Uint8Array; teamGrants: TeamGrantInput[]; audit: AuditInput }): Promise<void> {
    const ctx = await this.context();
    const byTeam = new Map<string, { teamId: Uint8Array; grants: { epoch: number; grant: Uint8Array }[] }>();
    for (const g of input.teamGrants) {
      const entry = byTeam.get(hex(g.teamId)) ?? { teamId: g.teamId, grants: [] };
      entry.grants.push({ epoch: g.epoch, grant: g.grant });
      byTeam.set(hex(g.teamId), entry);
    }
    const teams = [...byTeam.values()];
    const targets = { accountId: b64(accountId), teamIds: teams.map((t) => b64(t.teamId)) };
    await this.audited(account, 'account.approve', targets, input.audit, async (trx) => {
      // Teams first, in a fixed order, then the account: the same order as every other admin
      // action, so two of them never wait on each other; and a rotation of one of these teams
      // either finishes first (then the grants below miss its new epoch and are refused) or
      // waits for this approval (then it must include the new member).
      const locked = new Map<string, { epochs: repo.EpochRecord[] }>();
      for (const t of [...teams].sort((a, b) => hex(a.teamId).localeCompare(hex(b.teamId)))) {
        const team = await repo.lockTeam(trx, t.teamId);
        if (!team) throw new ValidationError('A grant names an unknown team.');
        locked.set(hex(t.teamId), team);
      }
      const target = await repo.lockAccount(trx, accountId);
      if (!target) throw new NotFoundError('No such account.');
      if (target.status !== 'pending') throw new ConflictError('Only a pending account can be approved.');
      this.checkAccountCertificate(ctx, target, input.certificate, target.role);
      const rows: { teamId: Uint8Array; epoch: number; accountId: Uint8Array; sealed: Uint8Array }[] = [];
      for (const t of teams) {
        this.checkEpochGrants(ctx.orgId, locked.get(hex(t.teamId))!, t.teamId, accountId, t.grants);
        rows.push(...t.grants.map((g) => ({ teamId: t.teamId, epoch: g.epoch, accountId, sealed: g.grant })));
      }
      await repo.activateAccount(trx, accountId, input.certificate, target.role);
      for (const t of teams) await repo.addMember(trx, t.teamId, accountId);
      await repo.insertGrants(trx, rows);
    });
  }

  /**
   * Removes an account: status removed; its grants, sessions, memberships and root wrap
   * deleted. @returns the teams that must now rotate (the account may hold their secrets).
   * @throws NotFoundError, ConflictError (already removed, or yourself: so the last admin can never be removed).
   */
  async remove(account: Account, accountId: Uint8Array, audit: AuditInput): Promise<Uint8Array[]> {
    await this.context();
    if (this.same(account.id, accountId)) throw new ConflictError('You cannot remove yourself; ask another admin.');
    const teams = await this.audited(account, 'account.remove', { accountId: b64(accountId) }, audit, async (trx) => {
      // Lock the account's teams before the account (the order every admin action uses), so a
      // rotation of one of them cannot read the member list before this removal commits and
      // then grant the new epoch to the removed account.
      for (const teamId of (await repo.teamsOfAccount(trx, accountId)).sort((a, b) => hex(a).localeCompare(hex(b)))) {
        await repo.lockTeam(trx, teamId);
      }
      const target = await repo.lockAccount(trx, accountId);
      if (!target) throw new NotFoundError('No such account.');
      if (target.status === 'removed') throw new ConflictError('This account is already removed.');
      return repo.removeAccountAccess(trx, accountId);
    });
    this.logger.info('[key-rotation] account_removed', { teamsToRotate: teams.length });
    return teams;
  }

  /**
   * Makes an account an admin: a root-signed certificate with role admin naming its keys, and
   * the root seed sealed to it by the acting admin's browser.
   */
  async addAdmin(account: Account, input: { accountId: Uint8Array; certificate: Uint8Array; rootWrap: Uint8Array; audit: AuditInput }): Promise<void> {
    const ctx = await this.context();
    if (input.rootWrap.length !== ROOT_WRAP_BYTES) throw new ValidationError(`Field "rootWrap" must be ${ROOT_WRAP_BYTES} bytes.`);
    await this.audited(account, 'admin.add', { accountId: b64(input.accountId) }, input.audit, async (trx) => {
      const target = await repo.lockAccount(trx, input.accountId);
      if (!target) throw new NotFoundError('No such account.');
      if (target.status === 'removed') throw new ConflictError('This account is removed.');
      this.checkAccountCertificate(ctx, target, input.certificate, 'admin');
      await repo.activateAccount(trx, input.accountId, input.certificate, 'admin');
      await repo.upsertRootWrap(trx, input.accountId, input.rootWrap, coarseHour());
    });
  }

  // ---------------------------------------------------------------- teams

  /**
   * Creates a team with its epoch-1 key (root-signed certificate) granted to its first
   * members, who must include the acting admin (someone must hold the secret to grant it on).
   */
  async createTeam(
    account: Account,
    input: { id: Uint8Array; slug: string; name: string; certificate: Uint8Array; grants: AccountGrantInput[]; audit: AuditInput },
  ): Promise<void> {
    const ctx = await this.context();
    if (!SLUG.test(input.slug)) throw new ValidationError('Field "slug" must be 1-40 characters: a-z, 0-9 or dash.');
    const name = input.name.trim();
    if (name.length < 1 || name.length > 200) throw new ValidationError('Field "name" must be 1-200 characters.');
    const cert = this.verifyTeamCertificate(ctx, input.certificate, input.id, 1);
    const ids = input.grants.map((g) => hex(g.accountId));
    if (new Set(ids).size !== ids.length) throw new ValidationError('Field "grants" names an account twice.');
    if (!ids.includes(hex(account.id))) throw new ValidationError('Grant the new team key to yourself too.');
    const targets = { teamId: b64(input.id), slug: input.slug, memberIds: input.grants.map((g) => b64(g.accountId)) };
    await this.audited(account, 'team.create', targets, input.audit, async (trx) => {
      if (await repo.slugTaken(trx, input.slug)) throw new ConflictError('A team with this slug exists.');
      for (const g of input.grants) {
        const member = await repo.lockAccount(trx, g.accountId);
        if (!member || member.status !== 'active') throw new ValidationError('A grant names an account that is not active.');
        this.checkGrant(ctx.orgId, g.grant, input.id, 1, g.accountId);
      }
      const hour = coarseHour();
      await repo.insertTeam(trx, { id: input.id, organisationId: ctx.orgId, slug: input.slug, name, position: await repo.nextTeamPosition(trx), hour });
      await repo.insertEpoch(trx, { teamId: input.id, epoch: 1, publicKey: cert.publicKey, certificate: input.certificate, state: 'current', hour });
      for (const g of input.grants) await repo.addMember(trx, input.id, g.accountId);
      await repo.insertGrants(trx, input.grants.map((g) => ({ teamId: input.id, epoch: 1, accountId: g.accountId, sealed: g.grant })));
    });
  }

  /** Adds a member with a grant for every live epoch. */
  async addMember(account: Account, teamId: Uint8Array, accountId: Uint8Array, grants: { epoch: number; grant: Uint8Array }[], audit: AuditInput): Promise<void> {
    const ctx = await this.context();
    await this.audited(account, 'team.member.add', { teamId: b64(teamId), accountId: b64(accountId) }, audit, async (trx) => {
      const team = await repo.lockTeam(trx, teamId);
      if (!team) throw new NotFoundError('No such team.');
      const member = await repo.lockAccount(trx, accountId);
      if (!member || member.status !== 'active') throw new ValidationError('Only an active account can join a team.');
      this.checkEpochGrants(ctx.orgId, team, teamId, accountId, grants);
      await repo.addMember(trx, teamId, accountId);
      await repo.insertGrants(trx, grants.map((g) => ({ teamId, epoch: g.epoch, accountId, sealed: g.grant })));
    });
  }

  /** Removes a member and its grants. @returns the team, which must now rotate. */
  async removeMember(account: Account, teamId: Uint8Array, accountId: Uint8Array, audit: AuditInput): Promise<Uint8Array[]> {
    await this.context();
    await this.audited(account, 'team.member.remove', { teamId: b64(teamId), accountId: b64(accountId) }, audit, async (trx) => {
      const team = await repo.lockTeam(trx, teamId);
      if (!team) throw new NotFoundError('No such team.');
      if (!(await repo.isMember(trx, teamId, accountId))) throw new NotFoundError('This account is not a member of the team.');
      await repo.removeMember(trx, teamId, accountId);
    });
    this.logger.info('[key-rotation] member_removed', { teamsToRotate: 1 });
    return [teamId];
  }

  /**
   * Rotates a team's intake key: the new epoch is current + 1, its certificate verifies against
   * the root, and there is one grant for exactly each current active member. The old current
   * epoch becomes 'retiring' (read-only until its messages are re-wrapped).
   * @throws NotFoundError, ValidationError, ConflictError.
   */
  async rotate(account: Account, teamId: Uint8Array, input: { epoch: number; certificate: Uint8Array; grants: AccountGrantInput[]; audit: AuditInput }): Promise<void> {
    const ctx = await this.context();
    const cert = this.verifyTeamCertificate(ctx, input.certificate, teamId, input.epoch);
    await this.audited(account, 'team.rotate', { teamId: b64(teamId), epoch: input.epoch }, input.audit, async (trx) => {
      const team = await repo.lockTeam(trx, teamId);
      if (!team) throw new NotFoundError('No such team.');
      const current = team.epochs.find((e) => e.state === 'current');
      const highest = Math.max(0, ...team.epochs.map((e) => e.epoch));
      if (!current || input.epoch !== highest + 1) throw new ConflictError(`The new epoch must be ${highest + 1}.`);
      if (team.epochs.some((e) => this.same(e.publicKey, cert.publicKey))) throw new ValidationError('The new key was used by an earlier epoch.');
      const members = (await repo.activeMemberIds(trx, teamId)).map(hex).sort();
      const granted = input.grants.map((g) => hex(g.accountId)).sort();
      if (members.length !== granted.length || members.some((m, i) => m !== granted[i])) {
        throw new ValidationError('Send one grant for exactly each current member of the team.');
      }
      for (const g of input.grants) this.checkGrant(ctx.orgId, g.grant, teamId, input.epoch, g.accountId);
      await repo.setEpochState(trx, teamId, current.epoch, 'retiring');
      await repo.insertEpoch(trx, { teamId, epoch: input.epoch, publicKey: cert.publicKey, certificate: input.certificate, state: 'current', hour: coarseHour() });
      await repo.insertGrants(trx, input.grants.map((g) => ({ teamId, epoch: input.epoch, accountId: g.accountId, sealed: g.grant })));
    });
    this.logger.info('[key-rotation] rotated', { epoch: input.epoch, grants: input.grants.length });
  }

  /** One page of the team's messages that are not at the current epoch, with the caller's grants for old epochs. */
  async rewrapPage(account: Account, teamId: Uint8Array, after: Uint8Array | null, limit: number) {
    await this.actor(account);
    const teams = await repo.listTeams(this.db);
    const team = teams.find((t) => this.same(t.id, teamId));
    if (!team) throw new NotFoundError('No such team.');
    const current = team.epochs.find((e) => e.state === 'current');
    if (!current) throw new ConflictError('The team has no current epoch.');
    const messages = await repo.listStaleMessages(this.db, teamId, current.epoch, after, limit);
    const grants = (await repo.grantsOf(this.db, account.id)).filter((g) => this.same(g.teamId, teamId) && g.epoch !== current.epoch);
    return {
      currentEpoch: current.epoch,
      currentCertificate: current.certificate,
      epochs: team.epochs,
      messages,
      grants,
      remaining: await repo.countStaleMessages(this.db, teamId, current.epoch),
    };
  }

  /**
   * Stores re-wrapped messages (one transaction): each must be a stored message of this team
   * still at an old epoch, and its new blob must keep kind, organisation, team, thread and
   * message id and name the current epoch. @returns how many were updated and how many remain.
   */
  async rewrapUpload(account: Account, teamId: Uint8Array, items: { id: Uint8Array; blob: Uint8Array }[]): Promise<{ updated: number; remaining: number }> {
    await this.actor(account);
    const ctx = await this.context();
    const ids = items.map((m) => hex(m.id));
    if (new Set(ids).size !== ids.length) throw new ValidationError('Field "messages" names a message twice.');
    const current = await this.db.transaction().execute(async (trx) => {
      const team = await repo.lockTeam(trx, teamId);
      if (!team) throw new NotFoundError('No such team.');
      const cur = team.epochs.find((e) => e.state === 'current');
      if (!cur) throw new ConflictError('The team has no current epoch.');
      const stored = new Map((await repo.lockMessages(trx, teamId, items.map((m) => m.id))).map((m) => [hex(m.id), m]));
      for (const item of items) {
        const s = stored.get(hex(item.id));
        if (!s) throw new NotFoundError('A message is not one of this team.');
        if (s.epoch === cur.epoch) throw new ConflictError('A message is already at the current epoch.');
        const h = parseMessageHeader(item.blob);
        const before = parseMessageHeader(s.blob);
        // rewrapMessage copies the requester slot byte for byte and keeps the padded size: a
        // blob that changes either is not a re-wrap (at most a replacement the server refuses).
        const slotStart = MESSAGE_HEADER_BYTES + SLOT_BYTES;
        if (
          h.paddedSize !== before.paddedSize ||
          (before.recipientKinds.length === 2 && !this.same(item.blob.subarray(slotStart, slotStart + SLOT_BYTES), s.blob.subarray(slotStart, slotStart + SLOT_BYTES)))
        ) {
          throw new ValidationError('A re-wrapped message must keep its size and its requester slot unchanged.');
        }
        if (
          h.kind !== KIND_VALUE[s.kind] || !this.same(h.orgId, ctx.orgId) || !this.same(h.teamId, teamId) ||
          !this.same(h.threadId, s.requestId) || !this.same(h.messageId, s.id) || h.epoch !== cur.epoch
        ) {
          throw new ValidationError('A re-wrapped message must keep its kind and ids and name the current epoch.');
        }
      }
      await repo.rewriteMessages(trx, cur.epoch, items.map((item) => ({ ...stored.get(hex(item.id))!, blob: item.blob })));
      return cur.epoch;
    });
    const remaining = await repo.countStaleMessages(this.db, teamId, current);
    this.logger.info('[key-rotation] rewrapped', { count: items.length, remaining });
    return { updated: items.length, remaining };
  }

  /**
   * Retires an old epoch once nothing references it: every grant of it is deleted, so the
   * epoch secret then exists nowhere (forward secrecy at rest).
   * @throws NotFoundError, ConflictError (current, already retired, or still referenced).
   */
  async retire(account: Account, teamId: Uint8Array, epoch: number, audit: AuditInput): Promise<void> {
    await this.context();
    await this.audited(account, 'team.epoch.retire', { teamId: b64(teamId), epoch }, audit, async (trx) => {
      const team = await repo.lockTeam(trx, teamId);
      if (!team) throw new NotFoundError('No such team.');
      const e = team.epochs.find((x) => x.epoch === epoch);
      if (!e) throw new NotFoundError('No such epoch.');
      const state: EpochState = e.state;
      if (state !== 'retiring') throw new ConflictError(state === 'current' ? 'The current epoch cannot be retired; rotate first.' : 'This epoch is already retired.');
      const refs = await repo.countEpochReferences(trx, teamId, epoch);
      if (refs > 0) throw new ConflictError(`${refs} records still use this epoch; re-wrap them first.`);
      await repo.deleteGrantsOfEpoch(trx, teamId, epoch);
      await repo.setEpochState(trx, teamId, epoch, 'retired');
    });
    this.logger.info('[key-rotation] epoch_retired', { epoch });
  }

  // ---------------------------------------------------------------- retention

  async setRetention(account: Account, days: number, audit: AuditInput): Promise<void> {
    if (!Number.isInteger(days) || days < 1 || days > 3650) throw new ValidationError('Field "closedRetentionDays" must be a whole number from 1 to 3650.');
    await this.audited(account, 'retention.set', { closedRetentionDays: days }, audit, (trx) => repo.setRetentionDays(trx, days));
  }
}
