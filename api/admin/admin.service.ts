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
import { CryptoError, ExpiredStatementError, NotYetValidError, UnknownVersionError, UnsupportedVersionError } from '../../crypto/errors.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { GRANT_BYTES, Role, verifyResponderCert } from '../../crypto/v1/certs.ts';
import { parseInvitationUnverified, verifyInvitation, type InvitationFields } from '../../crypto/v2/invitation.ts';
import { ObjectType, VERSION } from '../../crypto/v1/constants.ts';
import { MESSAGE_HEADER_BYTES, MessageKind } from '../../crypto/v1/message.ts';
import { MESSAGE_V2_HEADER_BYTES } from '../../crypto/v2/message.ts';
import { parseMessageHeaderAny } from '../../crypto/index.ts';
import { SEAL_OVERHEAD } from '../../crypto/v1/seal.ts';
import { teamKeyVersion } from '../../crypto/team-key-any.ts';
import { unixHour } from '../../crypto/v2/constants.ts';
import { parseTeamKeyStatementUnverified, verifyTeamKeyStatement, type TeamKeyStatementFields } from '../../crypto/v2/team-key.ts';
import { accountFingerprint, ROOT_WRAP_BYTES, type AuditAction, type AuditTargets } from '../../crypto/v1/admin.ts';
import type { Config } from '../config.ts';
import type { AccountRole, Database, EpochState, MessageKindName, SecondFactorPolicy } from '../db/schema.ts';
import { ConflictError, ForbiddenError, NotFoundError, RewrapIncompleteError, UnavailableError, ValidationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { coarseHour } from '../time.ts';
import type { Account } from '../accounts/account.repository.ts';
import { invitationCodeHash } from '../accounts/account.service.ts';
import { appendAudit, checkAuditEntry, type AuditInput } from './audit.service.ts';
import * as repo from './admin.repository.ts';

export const DEFAULT_CLOSED_RETENTION_DAYS = 90;
export const REWRAP_PAGE = 200;
export const REWRAP_MAX_PAGE = 500;
const SLUG = /^[a-z0-9-]{1,40}$/;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** The longest an invitation may stay open (the dashboard makes 7-day ones). */
export const INVITATION_MAX_DAYS = 31;
/**
 * The dashboard asks for a renewal this long before a statement expires: long enough for an
 * admin who signs in every week or two to see it twice, short enough that keys do not get
 * renewed (and their expiry stretched) for no reason.
 */
export const RENEWAL_WINDOW_HOURS = 14 * 24;
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

/** What the server can tell about a stored team key without the root (it verified it on the way in). */
export interface StoredKeyInfo {
  version: 1 | 2;
  /** 0 for a v1 certificate */
  serial: number;
  /** null for a v1 certificate */
  expiresHour: number | null;
}

export interface TeamView extends repo.AdminTeam {
  currentEpoch: number | null;
  /** The current epoch's key: version, serial, expiry; null without a current epoch. */
  currentKey: (StoredKeyInfo & { needsRenewal: boolean }) | null;
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
 * The serial and expiry of a stored team key. v1 certificates (stored before v2) count as
 * serial 0, below every v2 statement, so the first v2 statement of a team always passes the
 * serial order and nothing can go back to v1.
 */
export function storedKeyInfo(certificate: Uint8Array): StoredKeyInfo {
  if (teamKeyVersion(certificate) === 1) return { version: 1, serial: 0, expiresHour: null };
  const s = parseTeamKeyStatementUnverified(certificate);
  return { version: 2, serial: s.serial, expiresHour: s.expiresHour };
}

/**
 * The serial floors the server renders into the pages (api/web/static-site.ts): per team, the
 * serial of its CURRENT statement now. Never higher than a team's legitimate current serial
 * (it is that serial), so no genuine key is refused; a later renewal or rotation only raises
 * the real serial above it. Teams whose current key is a v1 certificate get no entry (0 would
 * say nothing). Read at start, so the pages stay identical between restarts (the root-signed
 * site manifest covers them).
 */
export async function currentKeySerialFloors(db: Kysely<Database>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const k of await repo.currentTeamKeys(db)) {
    const info = storedKeyInfo(k.certificate);
    if (info.version === 2) out[b64(k.teamId)] = info.serial;
  }
  return out;
}

/** The highest serial of every stored key of a team (its epochs' rows, locked by the caller). */
export function highestSerial(epochs: { certificate: Uint8Array }[]): number {
  return Math.max(0, ...epochs.map((e) => storedKeyInfo(e.certificate).serial));
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

  /**
   * The acting admin's audit key, taken from its certificate verified against the configured
   * root (never accounts.sign_public_key: a database writer could swap that and then sign in
   * the admin's name; the audit chain verifiers read the key the same way).
   * @throws ForbiddenError unless the account is an active admin with a root-signed admin certificate.
   */
  private async actor(account: Account): Promise<ActorKeys> {
    if (account.role !== 'admin' || account.status !== 'active' || !account.certificate) throw new ForbiddenError('Only an admin can do this.');
    const ctx = await this.context();
    let fields;
    try {
      fields = verifyResponderCert(this.p, ctx.root, account.certificate, { orgId: ctx.orgId, accountId: account.id });
    } catch (err) {
      if (err instanceof CryptoError) throw new ForbiddenError('Only an admin can do this.');
      throw err;
    }
    if (fields.role !== Role.admin) throw new ForbiddenError('Only an admin can do this.');
    return { id: account.id, signPublicKey: fields.ed25519Public };
  }

  /** The organisation and the configured root. For sibling admin services (root rotation). @throws UnavailableError before setup. */
  organisation(): Promise<{ orgId: Uint8Array; root: Uint8Array }> {
    return this.context();
  }

  /** The audited-transaction rule below, for sibling admin services (root rotation): same checks, same log. */
  runAudited<T>(account: Account, action: AuditAction, targets: AuditTargets, audit: AuditInput, run: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.audited(account, action, targets, audit, run);
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

  /**
   * A NEW team key must be a v2 statement (serial and expiry: the "no freshness" fix) that
   * verifies against the configured root for (org, team, epoch), is valid now, and has serial
   * >= 1 (0 is what v1 certificates count as). The serial order against stored statements is
   * checked later, under the team lock (`checkSerialAbove`).
   * @throws ValidationError: `unsupported_version` for a v1 certificate (readable history, no
   *   longer accepted for new keys), `unknown_version`, `malformed`, or `validation_failed`
   *   (signature, names, expired, not yet valid).
   */
  private verifyNewStatement(ctx: { orgId: Uint8Array; root: Uint8Array }, statement: Uint8Array, teamId: Uint8Array, epoch: number, now: Date): TeamKeyStatementFields {
    let version: 1 | 2;
    try {
      version = teamKeyVersion(statement);
    } catch (err) {
      if (err instanceof UnsupportedVersionError) throw new ValidationError('The team key has a retired protocol version.', 'unsupported_version');
      if (err instanceof UnknownVersionError) throw new ValidationError('The team key has an unknown protocol version.', 'unknown_version');
      throw new ValidationError('The team key is malformed.', 'malformed');
    }
    if (version === 1) {
      throw new ValidationError('Version 1 team key certificates are no longer accepted for new keys: sign a version 2 team key statement.', 'unsupported_version');
    }
    let fields: TeamKeyStatementFields;
    try {
      fields = verifyTeamKeyStatement(this.p, ctx.root, statement, { orgId: ctx.orgId, teamId, epoch, nowHour: unixHour(now.getTime()) });
    } catch (err) {
      if (err instanceof ExpiredStatementError) throw new ValidationError('The team key statement has already expired.');
      if (err instanceof NotYetValidError) throw new ValidationError('The team key statement is issued in the future; check the clock of the signing computer.');
      if (err instanceof CryptoError && err.code === 'malformed') throw new ValidationError('The team key statement is malformed.', 'malformed');
      if (err instanceof CryptoError) throw new ValidationError('The team key statement does not verify against the organisation root for this team and epoch.');
      throw err;
    }
    if (fields.serial < 1) throw new ValidationError('A team key statement serial starts at 1.');
    return fields;
  }

  /**
   * Threat: a replayed statement. Statements are accepted in strictly increasing serial order
   * per team, so an old statement (genuine, root-signed, maybe of a key whose secret leaked)
   * can never be stored again as the team's current key.
   * @throws ConflictError (409) when `serial` is not above every stored serial of the team.
   */
  private checkSerialAbove(team: { epochs: repo.EpochRecord[] }, serial: number): void {
    const highest = highestSerial(team.epochs);
    if (serial <= highest) throw new ConflictError(`The statement's serial must be above ${highest}, the highest this team has; sign a new one.`);
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

  /**
   * The signed invitation an account enrolled with (parsed; its signature was verified when it
   * was stored, and the approving browser verifies it again against the root).
   * @throws ConflictError when the account has none (invited before v2): invite it again.
   */
  private async storedInvitation(trx: Transaction<Database>, accountId: Uint8Array): Promise<InvitationFields> {
    const statement = await repo.invitationStatementOf(trx, accountId);
    if (!statement) throw new ConflictError('This account has no signed invitation; invite it again.');
    try {
      return parseInvitationUnverified(statement);
    } catch (err) {
      if (err instanceof CryptoError) throw new ConflictError('This account has no signed invitation; invite it again.');
      throw err;
    }
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
      const info = current ? storedKeyInfo(current.certificate) : null;
      const nowHour = unixHour(now.getTime());
      out.push({
        ...t,
        currentEpoch: current?.epoch ?? null,
        currentKey: info && { ...info, needsRenewal: info.expiresHour === null || info.expiresHour - nowHour <= RENEWAL_WINDOW_HOURS },
        currentEpochAgeDays: age,
        // Due by age, or required because a member left since the last rotation (stored, so
        // it stays until the rotation is done, across sign-outs and browsers).
        rotationDue: t.rotationRequired || (age !== null && age >= this.config.rotationReminderDays),
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
   * Stores an invitation made in the inviting admin's browser: the 32-byte code stays with the
   * browser (it goes into the link's fragment); the server gets the invitation id and the
   * statement signed with the admin's certified key. Checked here so nothing unverifiable is
   * stored: the statement verifies with the CALLER's root-signed admin certificate for this
   * organisation and id, has not expired and expires within INVITATION_MAX_DAYS, and names
   * known teams. Audited as `invitation.create` (targets: the id, role, teams and expiry; the
   * id is a one-way hash of the code and lets nobody enrol).
   * @throws ValidationError (bad statement, unknown team, expiry), ConflictError (id reused).
   */
  async createInvitation(account: Account, input: { invitationId: Uint8Array; statement: Uint8Array; audit: AuditInput }, now = new Date()): Promise<{ expiresHour: Date }> {
    const ctx = await this.context();
    if (!account.certificate) throw new ForbiddenError('Only an admin can do this.');
    const nowHour = Math.floor(now.getTime() / HOUR_MS);
    let s: InvitationFields;
    try {
      s = verifyInvitation(this.p, ctx.root, input.statement, { orgId: ctx.orgId, adminCert: account.certificate, nowHour, invitationId: input.invitationId });
    } catch (err) {
      if (err instanceof CryptoError) throw new ValidationError('The invitation statement does not verify with your admin certificate for this invitation, or has expired.');
      throw err;
    }
    if (s.expiresHour > nowHour + INVITATION_MAX_DAYS * 24) throw new ValidationError(`An invitation may be valid for at most ${INVITATION_MAX_DAYS} days.`);
    const role: AccountRole = s.role === Role.admin ? 'admin' : 'responder';
    const expiresHour = new Date(s.expiresHour * HOUR_MS);
    const targets = { invitationId: b64(s.invitationId), role, teamIds: s.teamIds.map(b64), expiresHour: s.expiresHour };
    const taken = new ConflictError('An invitation with this id exists; make a new one.');
    try {
      await this.audited(account, 'invitation.create', targets, input.audit, async (trx) => {
        if ((await repo.countTeams(trx, s.teamIds)) !== s.teamIds.length) throw new ValidationError('The invitation names an unknown team.');
        const codeHash = invitationCodeHash(this.p, s.invitationId);
        if (await repo.invitationExists(trx, codeHash)) throw taken;
        await repo.insertInvitation(trx, { codeHash, role, teamIds: s.teamIds, expiresHour, hour: coarseHour(now), statement: input.statement, inviterId: account.id });
      });
    } catch (err) {
      // Two requests racing with the same id: the second insert meets the first's key.
      if ((err as { code?: unknown }).code === '23505') throw taken;
      throw err;
    }
    return { expiresHour };
  }

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
      // Defence in depth behind the approving browser's own check: the certificate's role and
      // the granted teams must be exactly what the inviting admin signed.
      const invitation = await this.storedInvitation(trx, accountId);
      const role: AccountRole = invitation.role === Role.admin ? 'admin' : 'responder';
      this.checkAccountCertificate(ctx, target, input.certificate, role);
      const invited = new Set(invitation.teamIds.map(hex));
      if (invited.size !== teams.length || teams.some((t) => !invited.has(hex(t.teamId)))) {
        throw new ValidationError('The granted teams are not exactly the teams of the signed invitation.');
      }
      const rows: { teamId: Uint8Array; epoch: number; accountId: Uint8Array; sealed: Uint8Array }[] = [];
      for (const t of teams) {
        this.checkEpochGrants(ctx.orgId, locked.get(hex(t.teamId))!, t.teamId, accountId, t.grants);
        rows.push(...t.grants.map((g) => ({ teamId: t.teamId, epoch: g.epoch, accountId, sealed: g.grant })));
      }
      await repo.activateAccount(trx, accountId, input.certificate, role);
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
      const affected = await repo.removeAccountAccess(trx, accountId);
      await repo.setRotationRequired(trx, affected, true);
      return affected;
    });
    this.logger.info('[key-rotation] account_removed', { teamsToRotate: teams.length });
    return teams;
  }

  /**
   * Gives an approved admin the root seed: the root seed sealed to it by the acting admin's
   * browser, with a root-signed admin certificate naming its keys. Only for an account that was
   * invited as an admin by a signed statement and approved with an admin certificate (the
   * browser checks both before sealing; this is the server's copy of that rule).
   * @throws NotFoundError, ConflictError (removed, or not yet approved), ValidationError
   *   (certificate, wrap size, or the account was not invited as an admin).
   */
  async addAdmin(account: Account, input: { accountId: Uint8Array; certificate: Uint8Array; rootWrap: Uint8Array; audit: AuditInput }): Promise<void> {
    const ctx = await this.context();
    if (input.rootWrap.length !== ROOT_WRAP_BYTES) throw new ValidationError(`Field "rootWrap" must be ${ROOT_WRAP_BYTES} bytes.`);
    await this.audited(account, 'admin.add', { accountId: b64(input.accountId) }, input.audit, async (trx) => {
      const target = await repo.lockAccount(trx, input.accountId);
      if (!target) throw new NotFoundError('No such account.');
      if (target.status === 'removed') throw new ConflictError('This account is removed.');
      if (target.status !== 'active' || !target.certificate || target.role !== 'admin') throw new ConflictError('Approve the account as an admin first.');
      if ((await this.storedInvitation(trx, input.accountId)).role !== Role.admin) throw new ValidationError('This account was not invited as an admin.');
      this.checkAccountCertificate(ctx, target, target.certificate, 'admin');
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
    const cert = this.verifyNewStatement(ctx, input.certificate, input.id, 1, new Date());
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

  /**
   * Adds a member. `scope` is the admin's choice (issue 13: adding a member must not silently
   * grant every old request): 'all' grants every live epoch (existing requests included);
   * 'new' grants exactly the current epoch and nothing older, which the dashboard makes
   * meaningful by rotating first, so the existing requests stay on epochs the new member never
   * receives. The choice is in the audit entry (`scope: "new"`; absent for 'all').
   */
  async addMember(
    account: Account,
    teamId: Uint8Array,
    accountId: Uint8Array,
    grants: { epoch: number; grant: Uint8Array }[],
    audit: AuditInput,
    scope: 'all' | 'new' = 'all',
  ): Promise<void> {
    const ctx = await this.context();
    const targets = { teamId: b64(teamId), accountId: b64(accountId), ...(scope === 'new' ? { scope } : {}) };
    await this.audited(account, 'team.member.add', targets, audit, async (trx) => {
      const team = await repo.lockTeam(trx, teamId);
      if (!team) throw new NotFoundError('No such team.');
      const member = await repo.lockAccount(trx, accountId);
      if (!member || member.status !== 'active') throw new ValidationError('Only an active account can join a team.');
      if (scope === 'new') {
        const current = team.epochs.find((e) => e.state === 'current');
        if (!current || grants.length !== 1 || grants[0]!.epoch !== current.epoch) throw new ValidationError('For new requests only, send exactly one grant, for the current epoch.');
        this.checkGrant(ctx.orgId, grants[0]!.grant, teamId, current.epoch, accountId);
        // An earlier grant of an older epoch (a re-add) would still open the old requests.
        await repo.deleteGrantsOfAccountBefore(trx, teamId, accountId, current.epoch);
      } else {
        this.checkEpochGrants(ctx.orgId, team, teamId, accountId, grants);
      }
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
      await repo.setRotationRequired(trx, [teamId], true);
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
    const cert = this.verifyNewStatement(ctx, input.certificate, teamId, input.epoch, new Date());
    await this.audited(account, 'team.rotate', { teamId: b64(teamId), epoch: input.epoch }, input.audit, async (trx) => {
      const team = await repo.lockTeam(trx, teamId);
      if (!team) throw new NotFoundError('No such team.');
      const current = team.epochs.find((e) => e.state === 'current');
      const highest = Math.max(0, ...team.epochs.map((e) => e.epoch));
      if (!current || input.epoch !== highest + 1) throw new ConflictError(`The new epoch must be ${highest + 1}.`);
      if (team.epochs.some((e) => this.same(e.publicKey, cert.publicKey))) throw new ValidationError('The new key was used by an earlier epoch.');
      this.checkSerialAbove(team, cert.serial);
      const members = (await repo.activeMemberIds(trx, teamId)).map(hex).sort();
      const granted = input.grants.map((g) => hex(g.accountId)).sort();
      if (members.length !== granted.length || members.some((m, i) => m !== granted[i])) {
        throw new ValidationError('Send one grant for exactly each current member of the team.');
      }
      for (const g of input.grants) this.checkGrant(ctx.orgId, g.grant, teamId, input.epoch, g.accountId);
      await repo.setEpochState(trx, teamId, current.epoch, 'retiring');
      await repo.setRotationRequired(trx, [teamId], false);
      await repo.insertEpoch(trx, { teamId, epoch: input.epoch, publicKey: cert.publicKey, certificate: input.certificate, state: 'current', hour: coarseHour() });
      await repo.insertGrants(trx, input.grants.map((g) => ({ teamId, epoch: input.epoch, accountId: g.accountId, sealed: g.grant })));
    });
    this.logger.info('[key-rotation] rotated', { epoch: input.epoch, grants: input.grants.length });
  }

  /**
   * Renews the current epoch: a new v2 statement for the SAME key with a higher serial and a new
   * expiry. This is how a team key's validity is extended without a rotation, and how an
   * existing deployment moves its current epochs from v1 certificates to v2 statements.
   * Threat it keeps out: a "renewal" that swaps the key (that is a rotation, with grants for
   * exactly the current members and a re-wrap), or one that re-stores an older statement.
   * @throws ValidationError (statement: version, signature, names, expiry; another key),
   *   NotFoundError (team, epoch), ConflictError (not the current epoch; serial not above every
   *   stored serial), audit errors. Nothing is written on any failure.
   */
  async renew(account: Account, teamId: Uint8Array, epoch: number, input: { statement: Uint8Array; audit: AuditInput }): Promise<{ serial: number; expiresHour: number }> {
    const ctx = await this.context();
    const s = this.verifyNewStatement(ctx, input.statement, teamId, epoch, new Date());
    await this.audited(account, 'team.epoch.renew', { teamId: b64(teamId), epoch, serial: s.serial }, input.audit, async (trx) => {
      const team = await repo.lockTeam(trx, teamId);
      if (!team) throw new NotFoundError('No such team.');
      const e = team.epochs.find((x) => x.epoch === epoch);
      if (!e) throw new NotFoundError('No such epoch.');
      if (e.state !== 'current') throw new ConflictError('Only the current epoch can be renewed; old epochs are history.');
      if (!this.same(e.publicKey, s.publicKey)) throw new ValidationError('A renewal keeps the key of the epoch; to change the key, rotate.');
      this.checkSerialAbove(team, s.serial);
      await repo.setEpochCertificate(trx, teamId, epoch, input.statement);
    });
    this.logger.info('[key-rotation] renewed', { epoch, serial: s.serial });
    return { serial: s.serial, expiresHour: s.expiresHour };
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
   * message id and name the current epoch. Each batch is audited (`team.rewrap`: team, the
   * epoch the records move to, how many), in the same transaction.
   * @returns how many were updated and how many remain.
   * @throws ValidationError, NotFoundError, ConflictError (not the current epoch), audit errors.
   */
  async rewrapUpload(
    account: Account,
    teamId: Uint8Array,
    input: { epoch: number; messages: { id: Uint8Array; blob: Uint8Array }[]; audit: AuditInput },
  ): Promise<{ updated: number; remaining: number }> {
    const ctx = await this.context();
    const items = input.messages;
    const ids = items.map((m) => hex(m.id));
    if (new Set(ids).size !== ids.length) throw new ValidationError('Field "messages" names a message twice.');
    const targets = { teamId: b64(teamId), epoch: input.epoch, count: items.length };
    const current = await this.audited(account, 'team.rewrap', targets, input.audit, async (trx) => {
      const team = await repo.lockTeam(trx, teamId);
      if (!team) throw new NotFoundError('No such team.');
      const cur = team.epochs.find((e) => e.state === 'current');
      if (!cur) throw new ConflictError('The team has no current epoch.');
      if (cur.epoch !== input.epoch) throw new ConflictError('The team has rotated again; re-read the re-wrap page.');
      const stored = new Map((await repo.lockMessages(trx, teamId, items.map((m) => m.id))).map((m) => [hex(m.id), m]));
      for (const item of items) {
        const s = stored.get(hex(item.id));
        if (!s) throw new NotFoundError('A message is not one of this team.');
        if (s.epoch === cur.epoch) throw new ConflictError('A message is already at the current epoch.');
        // Either version; a re-wrap never changes it (a v2 message re-wrapped as v1 would shed
        // its signature: a downgrade, not a re-wrap).
        const after = parseMessageHeaderAny(item.blob);
        const stored0 = parseMessageHeaderAny(s.blob);
        if (after.version !== stored0.version) throw new ValidationError('A re-wrapped message must keep its protocol version.');
        const h = after.header;
        const before = stored0.header;
        // rewrapMessage copies the requester slot byte for byte and keeps the padded size: a
        // blob that changes either is not a re-wrap (at most a replacement the server refuses).
        const slotStart = (after.version === 2 ? MESSAGE_V2_HEADER_BYTES : MESSAGE_HEADER_BYTES) + SLOT_BYTES;
        if (
          h.paddedSize !== before.paddedSize ||
          (before.recipientKinds.length === 2 && !this.same(item.blob.subarray(slotStart, slotStart + SLOT_BYTES), s.blob.subarray(slotStart, slotStart + SLOT_BYTES)))
        ) {
          throw new ValidationError('A re-wrapped message must keep its size and its requester slot unchanged.');
        }
        const samePosition = after.version === 1 || stored0.version === 1 || after.header.position === stored0.header.position;
        if (
          h.kind !== KIND_VALUE[s.kind] || !this.same(h.orgId, ctx.orgId) || !this.same(h.teamId, teamId) ||
          !this.same(h.threadId, s.requestId) || !this.same(h.messageId, s.id) || h.epoch !== cur.epoch || !samePosition
        ) {
          throw new ValidationError('A re-wrapped message must keep its kind, ids and position and name the current epoch.');
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
   * The count runs under the team's epoch lock, and writes to a non-current epoch are refused
   * under a share lock of the same row (intake.repository `findIntakeTargets`, `appendMessage`),
   * so no record can appear at this epoch after the count.
   * @throws NotFoundError, ConflictError (current or already retired), RewrapIncompleteError
   *   (records still wrapped to it).
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
      if (refs > 0) throw new RewrapIncompleteError(refs);
      await repo.deleteGrantsOfEpoch(trx, teamId, epoch);
      await repo.setEpochState(trx, teamId, epoch, 'retired');
    });
    this.logger.info('[key-rotation] epoch_retired', { epoch });
  }

  // ---------------------------------------------------------------- undecryptable requests

  /**
   * Removes requests that no member's browser could decrypt (issue 13: a flood can send junk
   * with a valid proof of work; the server cannot tell junk from a request, only browsers
   * can). One audited action naming every id. Threat it bounds (a wrong or hostile admin
   * browser): only untouched requests go (status `new`, no follow-up, reply, note or tags),
   * all or nothing, and the log says which.
   * @throws ValidationError (no ids, an id twice), ConflictError (an id that is not an untouched request), audit errors.
   */
  async removeUndecryptable(account: Account, ids: Uint8Array[], audit: AuditInput): Promise<number> {
    await this.context();
    if (ids.length === 0) throw new ValidationError('Field "requestIds" names no request.');
    if (new Set(ids.map(hex)).size !== ids.length) throw new ValidationError('Field "requestIds" names a request twice.');
    await this.audited(account, 'requests.remove_undecryptable', { requestIds: ids.map(b64) }, audit, async (trx) => {
      if (!(await repo.deleteUntouchedRequests(trx, ids))) {
        throw new ConflictError('Only untouched new requests (no follow-up, reply, note or tags) can be removed as undecryptable.');
      }
    });
    this.logger.info('undecryptable_removed', { count: ids.length });
    return ids.length;
  }

  // ---------------------------------------------------------------- second-factor policy

  /** The organisation's second-factor policy (PROTOCOL 22.12), audited as `second_factor.policy`. */
  async setSecondFactorPolicy(account: Account, policy: SecondFactorPolicy, audit: AuditInput): Promise<void> {
    await this.audited(account, 'second_factor.policy', { policy }, audit, (trx) => repo.setSecondFactorPolicy(trx, policy));
  }

  // ---------------------------------------------------------------- retention

  async setRetention(account: Account, days: number, audit: AuditInput): Promise<void> {
    if (!Number.isInteger(days) || days < 1 || days > 3650) throw new ValidationError('Field "closedRetentionDays" must be a whole number from 1 to 3650.');
    await this.audited(account, 'retention.set', { closedRetentionDays: days }, audit, (trx) => repo.setRetentionDays(trx, days));
  }
}
