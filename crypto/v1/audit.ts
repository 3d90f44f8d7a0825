/**
 * Audit log chaining and signatures (used by the admin features): each entry's hash covers the
 * previous hash, so deleting or reordering entries breaks the chain; the acting account signs
 * the hash with its Ed25519 key, so the server cannot forge an entry in someone's name.
 */
import { ByteWriter, concat } from '../encoding.ts';
import { MalformedError, SignatureError } from '../errors.ts';
import type { Primitives } from '../primitives.ts';
import { ObjectType, Personal, VERSION } from './constants.ts';

/** The chain starts from 32 zero bytes. */
export const AUDIT_GENESIS_HASH = new Uint8Array(32);

/** BLAKE2b-256(prevHash(32) || entryBytes, personal "haven-audit-v1"). */
export function auditEntryHash(p: Primitives, prevHash: Uint8Array, entryBytes: Uint8Array): Uint8Array {
  if (prevHash.length !== 32) throw new MalformedError('previous hash must be 32 bytes');
  return p.blake2b(32, concat(prevHash, entryBytes), { personal: Personal.audit });
}

/** Signed message = version | 0x30 | hash(32): the prefix keeps it apart from every other signed object. */
function auditMessage(hash: Uint8Array): Uint8Array {
  return new ByteWriter().u8(VERSION).u8(ObjectType.auditSignature).bytes(hash, 32).finish();
}

export function signAuditHash(p: Primitives, ed25519Seed: Uint8Array, hash: Uint8Array): Uint8Array {
  return p.ed25519Sign(auditMessage(hash), ed25519Seed);
}

/** @throws SignatureError if the signature does not verify; MalformedError for a bad hash length. */
export function verifyAuditHash(p: Primitives, ed25519Public: Uint8Array, hash: Uint8Array, signature: Uint8Array): void {
  if (!p.ed25519Verify(signature, auditMessage(hash), ed25519Public)) throw new SignatureError();
}
