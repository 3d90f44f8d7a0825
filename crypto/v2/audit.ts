/**
 * Audit chain verification v2 (pure): the chain format is v1's (crypto/v1/audit.ts, entries as
 * built by web/shared/admin-crypto.ts and stored by api/admin/audit.service.ts), but each actor's
 * Ed25519 key is taken ONLY from the actor's responder certificate verified against the pinned
 * root, never from accounts.sign_public_key. Threat: a database writer who replaces an account's
 * stored signing key and re-signs history in that account's name; without the root seed it
 * cannot make a certificate for the replacement key.
 *
 * Decisions beyond the plan:
 * - certificatesByAccountId is keyed by base64url(accountId), the form the entry's "actor" uses.
 * - The certificate's role is NOT required to be admin: an account's stored certificate may be
 *   re-issued after the entry was written (e.g. demoted), and the signature already proves the
 *   certified key holder wrote the entry; whether they were allowed to was the server's check.
 * - `reason` strings are fixed English sentences without ids, hashes or entry text.
 */
import { base64urlEncode, utf8Decode } from '../encoding.ts';
import { CryptoError } from '../errors.ts';
import type { Primitives } from '../primitives.ts';
import { verifyResponderCert } from '../v1/certs.ts';
import { AUDIT_GENESIS_HASH, auditEntryHash, verifyAuditHash } from '../v1/audit.ts';

export interface AuditChainEntry {
  /** position in the chain, 1, 2, 3, ... without gaps */
  seq: number;
  actorId: Uint8Array;
  /** the canonical JSON entry bytes */
  entry: Uint8Array;
  prevHash: Uint8Array;
  hash: Uint8Array;
  signature: Uint8Array;
}

export type AuditChainResult =
  | { ok: true; count: number; head: { seq: number; hash: Uint8Array } | null }
  | { ok: false; brokenAt: number; reason: string; count: number };

function same(p: Primitives, a: Uint8Array, b: Uint8Array): boolean {
  return p.constantTimeEqual(a, b);
}

/**
 * Walks `entries` (in order, from the start of the chain) from the genesis hash and stops at
 * the first broken link. Each entry: seq is the next number; prevHash is the previous hash; hash
 * = auditEntryHash(prevHash, entry); the entry's "actor" is actorId; the actor has a certificate
 * that verifies against rootPublic for orgId and names actorId; the signature verifies with that
 * certificate's Ed25519 key. With `expectHead` (a head recorded earlier where the server cannot
 * write), also reports a chain cut off before it or rewritten at it.
 * Never throws for bad data: every failure is a `{ ok: false, brokenAt, reason }`.
 */
export function verifyAuditChain(
  p: Primitives,
  rootPublic: Uint8Array,
  orgId: Uint8Array,
  entries: readonly AuditChainEntry[],
  certificatesByAccountId: ReadonlyMap<string, Uint8Array>,
  options: { expectHead?: { seq: number; hash: Uint8Array } } = {},
): AuditChainResult {
  let prev: Uint8Array = AUDIT_GENESIS_HASH;
  let count = 0;
  let head: { seq: number; hash: Uint8Array } | null = null;
  let hashAtExpected: Uint8Array | undefined;
  const keys = new Map<string, Uint8Array | null>(); // verified once per actor
  for (const e of entries) {
    const expectedSeq = count + 1;
    const broken = (reason: string): AuditChainResult => ({ ok: false, brokenAt: expectedSeq, reason, count });
    if (e.seq !== expectedSeq) return broken('an entry is missing or out of order');
    if (e.prevHash.length !== 32 || !same(p, e.prevHash, prev)) return broken('its previous hash is not the hash of the entry before it');
    const hash = auditEntryHash(p, prev, e.entry);
    if (e.hash.length !== 32 || !same(p, hash, e.hash)) return broken('its hash does not match its entry');
    let actorText: unknown;
    try {
      actorText = (JSON.parse(utf8Decode(e.entry)) as { actor?: unknown }).actor;
    } catch {
      return broken('its entry is not valid JSON');
    }
    const actor = base64urlEncode(e.actorId);
    if (actorText !== actor) return broken('its entry names another actor');
    if (!keys.has(actor)) {
      const cert = certificatesByAccountId.get(actor);
      let key: Uint8Array | null = null;
      if (cert) {
        try {
          key = verifyResponderCert(p, rootPublic, cert, { orgId, accountId: e.actorId }).ed25519Public;
        } catch (err) {
          if (!(err instanceof CryptoError)) throw err;
        }
      }
      keys.set(actor, key);
    }
    const key = keys.get(actor);
    if (!key) return broken("its actor has no certificate from this organisation's root");
    try {
      verifyAuditHash(p, key, hash, e.signature);
    } catch (err) {
      if (!(err instanceof CryptoError)) throw err;
      return broken("its signature does not verify with the actor's certified key");
    }
    prev = hash;
    head = { seq: e.seq, hash };
    if (options.expectHead && e.seq === options.expectHead.seq) hashAtExpected = hash;
    count++;
  }
  const exp = options.expectHead;
  if (exp) {
    if (!head || head.seq < exp.seq) return { ok: false, brokenAt: (head?.seq ?? 0) + 1, reason: 'the log ends before the recorded head: entries were cut off', count };
    if (!hashAtExpected || !same(p, hashAtExpected, exp.hash)) return { ok: false, brokenAt: exp.seq, reason: 'its hash differs from the recorded head', count };
  }
  return { ok: true, count, head };
}
