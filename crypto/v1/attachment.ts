/**
 * Attachments: per-file random key, libsodium crypto_secretstream_xchacha20poly1305 in 64 KiB
 * chunks, last chunk tagged FINAL so truncation is detected. The plaintext is first padded
 * (ISO/IEC 7816-4) to a multiple of 64 KiB so stored sizes reveal only the number of chunks.
 *
 * Blob: version | 0x50 | secretstream header(24) | chunk* where every chunk is 65536 + 17 bytes.
 * Each chunk's AD is version | 0x50.
 *
 * Both backends have secretstream (the noble one rebuilt byte for byte, crypto/noble.ts); a
 * Primitives without one makes these functions throw NotSupportedError.
 */
import { ByteReader, ByteWriter, concat } from '../encoding.ts';
import { DecryptionError, MalformedError, NotSupportedError } from '../errors.ts';
import { SECRETSTREAM_TAG_FINAL, SECRETSTREAM_TAG_MESSAGE, type Primitives, type SecretStream } from '../primitives.ts';
import { ObjectType, readVersionAndType, VERSION } from './constants.ts';

export const ATTACHMENT_CHUNK_BYTES = 65536;
const CHUNK_CT_BYTES = ATTACHMENT_CHUNK_BYTES + 17;
const AD = new Uint8Array([VERSION, ObjectType.attachment]);

function stream(p: Primitives): SecretStream {
  if (!p.secretstream) throw new NotSupportedError('this crypto backend has no secretstream');
  return p.secretstream;
}

/** Size of the blob for a file of `plainLength` bytes (what the server should accept). */
export function attachmentBlobSize(plainLength: number): number {
  const chunks = Math.floor(plainLength / ATTACHMENT_CHUNK_BYTES) + 1;
  return 2 + 24 + chunks * CHUNK_CT_BYTES;
}

/** New random per-file key (goes into the encrypted request body). */
export function newAttachmentKey(p: Primitives): Uint8Array {
  return p.randomBytes(32);
}

/** @throws NotSupportedError without a secretstream; MalformedError for a bad key. */
export function encryptAttachment(p: Primitives, key: Uint8Array, file: Uint8Array): Uint8Array {
  const ss = stream(p);
  if (key.length !== 32) throw new MalformedError('key must be 32 bytes');
  // pad to a whole number of chunks: 0x80 then zeros (at least one byte of padding)
  const padded = new Uint8Array((Math.floor(file.length / ATTACHMENT_CHUNK_BYTES) + 1) * ATTACHMENT_CHUNK_BYTES);
  padded.set(file);
  padded[file.length] = 0x80;
  const { header, state } = ss.initPush(key);
  const parts: Uint8Array[] = [new ByteWriter().u8(VERSION).u8(ObjectType.attachment).bytes(header, 24).finish()];
  for (let off = 0; off < padded.length; off += ATTACHMENT_CHUNK_BYTES) {
    const last = off + ATTACHMENT_CHUNK_BYTES >= padded.length;
    parts.push(state.push(padded.subarray(off, off + ATTACHMENT_CHUNK_BYTES), AD, last ? SECRETSTREAM_TAG_FINAL : SECRETSTREAM_TAG_MESSAGE));
  }
  padded.fill(0);
  return concat(...parts);
}

/**
 * @throws NotSupportedError without a secretstream; version errors / MalformedError on a blob that
 *   is not header + whole chunks; DecryptionError on a wrong key, tampering, reordering,
 *   truncation (no FINAL chunk) or data after FINAL.
 */
export function decryptAttachment(p: Primitives, key: Uint8Array, blob: Uint8Array): Uint8Array {
  const ss = stream(p);
  const r = new ByteReader(blob);
  readVersionAndType(r, ObjectType.attachment);
  const header = r.bytes(24);
  const body = r.rest();
  if (body.length === 0 || body.length % CHUNK_CT_BYTES !== 0) throw new MalformedError('attachment is not whole chunks');
  const st = ss.initPull(header, key);
  const out = new Uint8Array((body.length / CHUNK_CT_BYTES) * ATTACHMENT_CHUNK_BYTES);
  let final = false;
  for (let i = 0, off = 0; off < body.length; i++, off += CHUNK_CT_BYTES) {
    if (final) throw new DecryptionError('data after final chunk');
    const { message, tag } = st.pull(body.subarray(off, off + CHUNK_CT_BYTES), AD);
    if (tag === SECRETSTREAM_TAG_FINAL) final = true;
    else if (tag !== SECRETSTREAM_TAG_MESSAGE) throw new DecryptionError('unexpected tag');
    out.set(message, i * ATTACHMENT_CHUNK_BYTES);
  }
  if (!final) throw new DecryptionError('attachment truncated');
  let j = out.length - 1;
  while (j >= 0 && out[j] === 0) j--;
  if (j < 0 || out[j] !== 0x80) throw new DecryptionError('bad attachment padding');
  return out.slice(0, j);
}
