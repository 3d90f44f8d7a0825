/**
 * The signed, hash-chained audit log of admin actions.
 *
 * The acting admin's browser builds the entry (web/shared/admin-crypto.ts) and signs its
 * chain hash; the server never holds a key that could sign in anyone's name. The server
 * (1) rebuilds the entry it expects for the action it is about to perform and refuses any
 * other bytes, so a signature always describes what was done; (2) under a table lock checks
 * the entry was built on the current head (else 409: the client rebuilds and retries);
 * (3) verifies the signature with the actor's stored Ed25519 key; (4) appends in the same
 * transaction as the action, so there is no action without its entry and no entry without
 * its action.
 *
 * A database writer can still cut the newest entries off the end (nothing after them points
 * back). `verifyAuditChain` therefore takes an optional head an admin recorded earlier.
 */
import type { Kysely, Transaction } from 'kysely';
import { base64urlEncode, utf8Decode } from '../../crypto/encoding.ts';
import { CryptoError } from '../../crypto/errors.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { AUDIT_GENESIS_HASH, auditEntryHash, verifyAuditHash } from '../../crypto/v1/audit.ts';
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

/**
 * Walks the whole chain from the genesis hash: positions 1, 2, 3 ... without gaps; each
 * prev_hash equals the hash before it; each hash equals auditEntryHash(prev, entry); the
 * entry names its actor; each signature verifies with that actor's stored key. Stops at the
 * first broken link. With `expectHead` (a head recorded earlier, e.g. printed by a previous
 * run), also reports a chain cut off before it or rewritten at it.
 */
export async function verifyAuditChain(
  db: Kysely<Database>,
  p: Primitives,
  options: { expectHead?: { seq: number; hash: Uint8Array } } = {},
): Promise<ChainResult> {
  let prev: Uint8Array = AUDIT_GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  const pageSize = 1000;
  let last: { seq: number; hash: Uint8Array } | null = null;
  for (;;) {
    const rows = await repo.listAudit(db, expectedSeq - 1, pageSize);
    const keys = await repo.signKeysOf(db, rows.map((r) => r.actorId));
    for (const row of rows) {
      const broken = (reason: string): ChainResult => ({ ok: false, seq: expectedSeq, reason, count });
      if (row.seq !== expectedSeq) return broken(`entry ${expectedSeq} is missing (the next one found is ${row.seq})`);
      if (!sameBytes(row.prevHash, prev)) return broken('its previous hash is not the hash of the entry before it');
      const hash = auditEntryHash(p, prev, row.entry);
      if (!sameBytes(hash, row.hash)) return broken('its hash does not match its entry');
      let actorText: unknown;
      try {
        actorText = (JSON.parse(utf8Decode(row.entry)) as { actor?: unknown }).actor;
      } catch {
        return broken('its entry is not valid JSON');
      }
      if (actorText !== base64urlEncode(row.actorId)) return broken('its entry names another actor');
      const key = keys.get(Buffer.from(row.actorId).toString('hex'));
      if (!key) return broken('its actor is not a known account');
      try {
        verifyAuditHash(p, key, hash, row.signature);
      } catch {
        return broken("its signature does not verify with the actor's key");
      }
      prev = hash;
      last = { seq: row.seq, hash };
      expectedSeq++;
      count++;
    }
    if (rows.length < pageSize) break;
  }
  const expect = options.expectHead;
  if (expect) {
    if (!last || last.seq < expect.seq) return { ok: false, seq: (last?.seq ?? 0) + 1, reason: `the log ends before the recorded head ${expect.seq}: entries were cut off`, count };
    // Re-walking to the recorded position is cheap enough for a CLI; compare its hash.
    const rows = await repo.listAudit(db, expect.seq - 1, 1);
    if (!rows[0] || !sameBytes(rows[0].hash, expect.hash)) return { ok: false, seq: expect.seq, reason: 'its hash differs from the recorded head', count };
  }
  return { ok: true, count, head: last };
}
