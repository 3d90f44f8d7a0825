/**
 * Limits of the attachments a request may carry (PROTOCOL.md 10.2), shared by the API, which
 * enforces them, and the pages, which refuse before sending anything. Counted in 64 KiB chunks
 * of the blob format (section 10), the only size the server can see.
 *
 * Why these numbers: a request and its files travel in one JSON body that the server holds in
 * memory while it checks it, so the whole must stay a few tens of MiB; 8 MiB fits a phone photo
 * or a scanned document of many pages; four files cover "the photos and the summons".
 */
import { MalformedError } from '../errors.ts';
import { ByteReader } from '../encoding.ts';
import { ObjectType, readVersionAndType } from '../v1/constants.ts';
import { ATTACHMENT_CHUNK_BYTES } from '../v1/attachment.ts';

/** Files per request. */
export const MAX_ATTACHMENTS = 4;
/** Chunks per file: 8 MiB of padded plaintext, so a file of at most 8 MiB - 1 byte. */
export const MAX_ATTACHMENT_CHUNKS = 128;
/** Chunks per request, all files together: 16 MiB. */
export const MAX_ATTACHMENT_TOTAL_CHUNKS = 256;
/** The largest file (plaintext bytes) a blob of MAX_ATTACHMENT_CHUNKS holds: one byte goes to padding. */
export const MAX_ATTACHMENT_FILE_BYTES = MAX_ATTACHMENT_CHUNKS * ATTACHMENT_CHUNK_BYTES - 1;
/** Bytes of one encrypted chunk (64 KiB + 17). */
export const ATTACHMENT_CHUNK_CT_BYTES = ATTACHMENT_CHUNK_BYTES + 17;
/** Version, type and the secretstream header. */
export const ATTACHMENT_HEADER_BYTES = 2 + 24;
/** Chunks of attachment a proof at the base difficulty pays for; every doubling above costs one bit. */
export const ATTACHMENT_FREE_CHUNKS = 16;

/** Chunks the blob of a file of `plainLength` bytes takes (the padding needs at least one byte). */
export function attachmentChunks(plainLength: number): number {
  return Math.floor(plainLength / ATTACHMENT_CHUNK_BYTES) + 1;
}

/**
 * Proof-of-work bits a request must carry above the difficulty required now, for `chunks` of
 * attachments in all: 0 up to 1 MiB, then one bit per doubling (4 bits for 16 MiB). So a proof
 * at the base difficulty stores at most about 1 MiB, whatever the files: a flood cannot store
 * bytes faster by attaching them than by sending many small requests.
 */
export function attachmentEffortBits(chunks: number): number {
  if (chunks <= ATTACHMENT_FREE_CHUNKS) return 0;
  return Math.ceil(Math.log2(chunks / ATTACHMENT_FREE_CHUNKS));
}

/**
 * The structure of an attachment blob as the server can check it without the key: version 1,
 * type 0x50, a 24-byte header and a whole number (at least one) of 65,553-byte chunks.
 * @returns the number of chunks.
 * @throws version errors (UnknownVersionError for byte 0 other than 1), MalformedError.
 */
export function attachmentBlobChunks(blob: Uint8Array): number {
  const r = new ByteReader(blob);
  readVersionAndType(r, ObjectType.attachment);
  r.bytes(24);
  const rest = blob.length - ATTACHMENT_HEADER_BYTES;
  if (rest <= 0 || rest % ATTACHMENT_CHUNK_CT_BYTES !== 0) throw new MalformedError('attachment is not whole chunks');
  return rest / ATTACHMENT_CHUNK_CT_BYTES;
}
