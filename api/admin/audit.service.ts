/**
 * The signed, hash-chained audit log of admin actions.
 *
 * The acting admin's browser builds the entry (crypto/v1/admin.ts) and signs its
 * chain hash; the server never holds a key that could sign in anyone's name. The server
 * (1) rebuilds the entry it expects for the action it is about to perform and refuses any
 * other bytes, so a signature always describes what was done; (2) under a table lock checks
 * the entry was built on the current head (else 409: the client rebuilds and retries);
 * (3) verifies the signature with the Ed25519 key in the actor's root-verified certificate
 * (admin.service.ts `actor`; never accounts.sign_public_key); (4) appends in the same
 * transaction as the action, so there is no action without its entry and no entry without
 * its action.
 *
 * A database writer can still cut the newest entries off the end (nothing after them points
 * back). `verifyAuditChain` therefore takes an optional head an admin recorded earlier.
 * Verification takes every actor key from a certificate checked against the root from
 * deployment configuration (crypto/v2/audit.ts), so rewriting keys in the database and
 * re-signing the chain is caught.
 */
import type { Kysely, Transaction } from 'kysely';
import { utf8Decode } from '../../crypto/encoding.ts';
import { CryptoError } from '../../crypto/errors.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { AUDIT_GENESIS_HASH, auditEntryHash, verifyAuditHash } from '../../crypto/v1/audit.ts';
import { verifyAuditChain as verifyAuditChainV2 } from '../../crypto/v2/audit.ts';
import { buildAuditEntry, type AuditAction, type AuditTargets } from '../../crypto/v1/admin.ts';
import type { Database } from '../db/schema.ts';
import { ConflictError, ValidationError } from '../errors.ts';
import * as repo from './admin.repository.ts';

export interface AuditInput {
  entry: Uint8Array;
  prevHash: Uint8Array;
  signature: Uint8Array;
}

export interface Actor {
  id: Uint8Array;
  signPublicKey: Uint8Array;
}

const HOUR_MS = 3_600_000;
const HOUR_TEXT = /^\d{4}-\d{2}-\d{2}T\d{2}:00:00Z$/;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}

/**
 * Checks that `input.entry` is exactly the entry for this action, by this actor, at an hour
 * within one hour of now (a client may build it just before the hour turns, or run a little
 * fast). Cheap and without the database: call it before doing any work.
 * @throws ValidationError when the entry says anything else.
 */
export function checkAuditEntry(input: AuditInput, expected: { action: AuditAction; actorId: Uint8Array; targets: AuditTargets }, now = new Date()): void {
  let hourText: unknown;
  try {
    hourText = (JSON.parse(utf8Decode(input.entry)) as { hour?: unknown }).hour;
  } catch {
    throw new ValidationError('The audit entry is not valid JSON.');
  }
  if (typeof hourText !== 'string' || !HOUR_TEXT.test(hourText)) throw new ValidationError('The audit entry has no valid hour.');
  const hour = new Date(hourText);
  if (Math.abs(hour.getTime() - now.getTime()) > 2 * HOUR_MS) throw new ValidationError('The audit entry names the wrong hour.');
  if (!sameBytes(buildAuditEntry({ ...expected, hour }), input.entry)) {
    throw new ValidationError('The audit entry does not describe this action.');
  }
}

/**
 * Appends a checked entry on top of the head, inside the caller's transaction. Call it last in
 * the transaction (every admin action takes its locks first and this one last, so no two
 * transactions can wait on each other).
 * @throws ConflictError (409) when another entry was appended since the client read the head;
 *   ValidationError when the signature does not verify with the actor's key.
 */
export async function appendAudit(trx: Transaction<Database>, p: Primitives, actor: Actor, input: AuditInput): Promise<number> {
  const head = await repo.lockAuditHead(trx);
  const prev = head?.hash ?? AUDIT_GENESIS_HASH;
  if (!sameBytes(prev, input.prevHash)) throw new ConflictError('The audit log has moved on; rebuild the entry on the new head and send again.');
  const hash = auditEntryHash(p, prev, input.entry);
  try {
    verifyAuditHash(p, actor.signPublicKey, hash, input.signature);
  } catch (err) {
    if (err instanceof CryptoError) throw new ValidationError('The audit signature does not verify with your key.');
    throw err;
  }
  const seq = (head?.seq ?? 0) + 1;
  await repo.insertAudit(trx, { seq, actorId: actor.id, entry: input.entry, prevHash: prev, hash, signature: input.signature });
  return seq;
}

export type ChainResult =
  | { ok: true; count: number; head: { seq: number; hash: Uint8Array } | null }
  | { ok: false; seq: number; reason: string; count: number };

const PAGE = 1000;

/**
 * What `npm run audit:verify` runs: walks the whole chain with crypto/v2 verifyAuditChain
 * against `rootPublic`, which the caller takes from deployment configuration (never the
 * database). Positions 1, 2, 3 ... without gaps; each prev_hash is the hash before it; each
 * hash is recomputed from the entry; the entry names its actor; each signature verifies with
 * the Ed25519 key in the actor's certificate, and that certificate must verify against the
 * root for this organisation and account. accounts.sign_public_key is never read: a database
 * writer who swaps it and re-signs the chain has no root-signed certificate for the new key,
 * so the first re-signed entry is reported broken. With `expectHead` (a head recorded
 * earlier), a chain cut off before it or rewritten at it is reported too.
 */
export async function verifyAuditChain(
  db: Kysely<Database>,
  p: Primitives,
  rootPublic: Uint8Array,
  options: { expectHead?: { seq: number; hash: Uint8Array } } = {},
): Promise<ChainResult> {
  const rows: repo.AuditRow[] = [];
  for (;;) {
    const page = await repo.listAudit(db, rows.length === 0 ? 0 : rows[rows.length - 1]!.seq, PAGE);
    rows.push(...page);
    if (page.length < PAGE) break;
  }
  // The organisation id names which root-signed certificates count; a writer who changes it
  // only makes every certificate fail (reported broken at entry 1), never a forgery pass.
  const orgId = (await repo.findOrganisationId(db)) ?? new Uint8Array(16);
  const certificates = await repo.certificatesOf(db, rows.map((r) => r.actorId));
  const r = verifyAuditChainV2(p, rootPublic, orgId, rows, certificates, options.expectHead ? { expectHead: options.expectHead } : {});
  return r.ok ? r : { ok: false, seq: r.brokenAt, reason: r.reason, count: r.count };
}
