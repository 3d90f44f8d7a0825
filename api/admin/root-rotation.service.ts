/**
 * Root key rotation (docs/PROTOCOL.md 14.6): an admin's browser makes a new root, signs a
 * hand-over with the old and the new root, re-signs every active account's certificate and
 * every live team epoch's key statement with the new root, and wraps the new seed for every
 * remaining admin. The server checks that all of it fits together and swaps it in one
 * transaction; then the new root becomes the configured one (`onRootReplaced`).
 *
 * Threats and the check that stops each:
 * - a server or proxy that slips in a root of its own: the hand-over must verify against the
 *   CONFIGURED root and be counter-signed by the new one; browsers follow only such chains;
 * - an admin who was removed and kept the old seed: after the swap, nothing signed by the old
 *   root is accepted (every check uses the configured root, now the new one), and no old-seed
 *   wrap survives;
 * - a certificate for a key the server chose (an account swapped in the database): every new
 *   certificate must name the account's stored keys and role, and the admin's browser confirms
 *   each fingerprint before signing;
 * - a rotation that forgets someone or some epoch (their keys stop verifying and they are
 *   locked out of reading): exactly one certificate per active account and one statement per
 *   non-retired epoch, for the same keys, or nothing changes;
 * - a rolled-back team key: each new statement's serial is above every serial of its team.
 */
import type { Kysely } from 'kysely';
import { base64urlEncode } from '../../crypto/encoding.ts';
import { CryptoError } from '../../crypto/errors.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { ROOT_WRAP_BYTES } from '../../crypto/v1/admin.ts';
import { Role, verifyResponderCert } from '../../crypto/v1/certs.ts';
import { unixHour } from '../../crypto/v2/constants.ts';
import { verifyRootHandover, type RootHandoverFields } from '../../crypto/v2/root-handover.ts';
import { verifyTeamKeyStatement } from '../../crypto/v2/team-key.ts';
import type { Account } from '../accounts/account.repository.ts';
import type { Database } from '../db/schema.ts';
import { ConflictError, ValidationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { coarseHour } from '../time.ts';
import { highestSerial, type AdminService } from './admin.service.ts';
import type { AuditInput } from './audit.service.ts';
import { setEpochCertificate } from './admin.repository.ts';
import * as repo from './root-rotation.repository.ts';

export interface RootRotationInput {
  handover: Uint8Array;
  certificates: { accountId: Uint8Array; certificate: Uint8Array }[];
  teamKeys: { teamId: Uint8Array; epoch: number; statement: Uint8Array }[];
  rootWraps: { accountId: Uint8Array; sealed: Uint8Array }[];
  audit: AuditInput;
}

/** What happens once the swap is committed: the new root becomes the configured one (file, pages, services). */
export type RootReplaced = (newRoot: Uint8Array) => Promise<{ rootKeyFile: string | null }>;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export class RootRotationService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly p: Primitives,
    private readonly admin: AdminService,
    private readonly onRootReplaced: RootReplaced | null,
    private readonly logger: Logger,
  ) {}

  /** Every hand-over ever made, oldest first (public: browsers verify them themselves). */
  async handovers(): Promise<{ organisationId: Uint8Array; handovers: Uint8Array[] }> {
    const { orgId } = await this.admin.organisation();
    return { organisationId: orgId, handovers: await repo.listHandovers(this.db) };
  }

  /**
   * @throws ValidationError when any piece does not verify or does not fit (nothing changes);
   *   ConflictError when the hand-over's serial is not the next one, or another rotation won.
   */
  async rotate(account: Account, input: RootRotationInput, now = new Date()): Promise<{ serial: number; rootKeyFile: string | null }> {
    if (!this.onRootReplaced) throw new ConflictError('This server cannot change its configured root while running; see docs/DEPLOY.md.');
    const ctx = await this.admin.organisation();
    let h: RootHandoverFields;
    try {
      h = verifyRootHandover(this.p, input.handover, ctx.orgId);
    } catch (err) {
      if (err instanceof CryptoError) throw new ValidationError('The hand-over statement does not verify.', err.code === 'malformed' ? 'malformed' : 'validation_failed');
      throw err;
    }
    if (!this.p.constantTimeEqual(h.oldRootPublic, ctx.root)) throw new ValidationError('The hand-over is not signed by the configured root.');
    const newRoot = h.newRootPublic;
    for (const w of input.rootWraps) {
      if (w.sealed.length !== ROOT_WRAP_BYTES) throw new ValidationError(`Every root wrap must be ${ROOT_WRAP_BYTES} bytes.`);
    }
    const targets = { serial: h.serial, newRoot: base64urlEncode(newRoot) };
    await this.admin.runAudited(account, 'root.rotate', targets, input.audit, async (trx) => {
      await repo.lockForRotation(trx);
      const expectedSerial = (await repo.highestHandoverSerial(trx)) + 1;
      if (h.serial !== expectedSerial) throw new ConflictError(`The hand-over's serial must be ${expectedSerial}; load the admin screen again.`);

      const accounts = await repo.activeAccounts(trx);
      this.checkOnePerKey(accounts.map((a) => a.id), input.certificates.map((c) => c.accountId), 'certificate', 'active account');
      const certificateOf = new Map(input.certificates.map((c) => [hex(c.accountId), c.certificate]));
      for (const a of accounts) {
        const certificate = certificateOf.get(hex(a.id))!;
        let f;
        try {
          f = verifyResponderCert(this.p, newRoot, certificate, { orgId: ctx.orgId, accountId: a.id });
        } catch (err) {
          if (err instanceof CryptoError) throw new ValidationError('A certificate does not verify against the new root for its account.');
          throw err;
        }
        if (f.role !== (a.role === 'admin' ? Role.admin : Role.responder)) throw new ValidationError('A certificate names another role than the account has.');
        if (!this.p.constantTimeEqual(f.x25519Public, a.encPublicKey) || !this.p.constantTimeEqual(f.ed25519Public, a.signPublicKey)) {
          throw new ValidationError("A certificate does not name its account's keys.");
        }
      }
      const admins = accounts.filter((a) => a.role === 'admin').map((a) => a.id);
      this.checkOnePerKey(admins, input.rootWraps.map((w) => w.accountId), 'root wrap', 'active admin');

      const epochs = await repo.allEpochs(trx);
      const live = epochs.filter((e) => e.state !== 'retired');
      const epochKey = (teamId: Uint8Array, epoch: number) => `${hex(teamId)}:${epoch}`;
      this.checkOnePerKey(live.map((e) => epochKey(e.teamId, e.epoch)), input.teamKeys.map((k) => epochKey(k.teamId, k.epoch)), 'team key statement', 'team epoch that is not retired');
      const statementOf = new Map(input.teamKeys.map((k) => [epochKey(k.teamId, k.epoch), k.statement]));
      const floors = new Map<string, number>();
      for (const e of epochs) floors.set(hex(e.teamId), Math.max(floors.get(hex(e.teamId)) ?? 0, highestSerial([e])));
      const serialOf = new Map<string, number>();
      for (const e of live) {
        let s;
        try {
          s = verifyTeamKeyStatement(this.p, newRoot, statementOf.get(epochKey(e.teamId, e.epoch))!, { orgId: ctx.orgId, teamId: e.teamId, epoch: e.epoch, nowHour: unixHour(now.getTime()) });
        } catch (err) {
          if (err instanceof CryptoError) throw new ValidationError('A team key statement does not verify against the new root for its team and epoch, or is not valid now.');
          throw err;
        }
        if (!this.p.constantTimeEqual(s.publicKey, e.publicKey)) throw new ValidationError('A team key statement names another key than its epoch has.');
        if (s.serial <= (floors.get(hex(e.teamId)) ?? 0)) throw new ValidationError("A team key statement's serial must be above every serial its team has.");
        serialOf.set(epochKey(e.teamId, e.epoch), s.serial);
      }
      // Serials stay unique per team, and the current epoch keeps its team's highest: a client
      // takes the highest serial it verified as the team's current key.
      for (const team of new Set(live.map((e) => hex(e.teamId)))) {
        const mine = live.filter((e) => hex(e.teamId) === team).map((e) => ({ e, serial: serialOf.get(epochKey(e.teamId, e.epoch))! }));
        if (new Set(mine.map((m) => m.serial)).size !== mine.length) throw new ValidationError('Two statements of one team carry the same serial.');
        const top = mine.reduce((a, b) => (b.serial > a.serial ? b : a));
        if (top.e.state !== 'current') throw new ValidationError("A team's current epoch must carry its highest serial.");
      }

      for (const a of accounts) await repo.setAccountCertificate(trx, a.id, certificateOf.get(hex(a.id))!);
      for (const e of live) await setEpochCertificate(trx, e.teamId, e.epoch, statementOf.get(epochKey(e.teamId, e.epoch))!);
      await repo.replaceRootWraps(trx, input.rootWraps, coarseHour(now));
      await repo.insertHandover(trx, h.serial, input.handover);
    });
    this.logger.info('[key-rotation] root rotated', { serial: h.serial, accounts: input.certificates.length, epochs: input.teamKeys.length });
    const { rootKeyFile } = await this.onRootReplaced(newRoot);
    return { serial: h.serial, rootKeyFile };
  }

  /** Exactly one item per expected key: none missing, none extra, none twice. */
  private checkOnePerKey(expected: (Uint8Array | string)[], given: (Uint8Array | string)[], what: string, per: string): void {
    const key = (k: Uint8Array | string) => (typeof k === 'string' ? k : hex(k));
    const want = new Set(expected.map(key));
    const got = given.map(key);
    if (new Set(got).size !== got.length) throw new ValidationError(`Send one ${what} per ${per}, each once.`);
    if (got.length !== want.size || got.some((k) => !want.has(k))) throw new ValidationError(`Send exactly one ${what} for every ${per}: no more, no fewer.`);
  }
}
