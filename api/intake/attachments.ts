/**
 * Attachments that arrive with a request (PROTOCOL.md 10.2): the `attachments` field's parse
 * and the limits, checked before the proof of work (a refusal costs the server little and
 * tells the page exactly what to fix) and before anything is written.
 *
 * The server cannot read a blob; it checks what it can see: the format's version, type and
 * whole chunks, and the sizes. Which file a request names, its name, type, size and key are
 * inside the encrypted request body.
 */
import {
  attachmentBlobChunks, attachmentEffortBits, ATTACHMENT_CHUNK_CT_BYTES, ATTACHMENT_HEADER_BYTES, MAX_ATTACHMENT_CHUNKS, MAX_ATTACHMENT_TOTAL_CHUNKS, MAX_ATTACHMENTS,
} from '../../crypto/v2/attachment-limits.ts';
import { AppError, ValidationError } from '../errors.ts';
import { bytesField, type JsonObject } from '../http/validate.ts';
import type { NewAttachment } from './intake.repository.ts';
import { MAX_ENVELOPE_BYTES } from './limits.ts';

export type { NewAttachment };

/** The largest blob one file may take. */
export const MAX_ATTACHMENT_BLOB_BYTES = ATTACHMENT_HEADER_BYTES + MAX_ATTACHMENT_CHUNKS * ATTACHMENT_CHUNK_CT_BYTES;

/**
 * The body limit of `POST /api/v1/requests` (instead of HAVEN_MAX_BODY_BYTES): the envelope,
 * every blob at the request's total, as base64url, and 64 KiB for the JSON around them.
 */
export const MAX_REQUEST_BODY_WITH_ATTACHMENTS = Math.ceil(((MAX_ATTACHMENT_TOTAL_CHUNKS * ATTACHMENT_CHUNK_CT_BYTES + MAX_ATTACHMENTS * ATTACHMENT_HEADER_BYTES + MAX_ENVELOPE_BYTES) * 4) / 3) + 65_536;

export class AttachmentLimitError extends AppError {
  constructor(code: 'too_many_attachments' | 'attachment_too_large' | 'attachments_too_large', message: string) {
    super(code, message, 400);
  }
}

/**
 * The optional `attachments` field: `[{ "id": bytes(16), "blob": bytes }]`.
 * @throws ValidationError for a wrong shape; AttachmentLimitError for too many or too large
 * (checked on the text's length, before decoding megabytes of base64url).
 */
export function attachmentsField(body: JsonObject): NewAttachment[] {
  const value = body.attachments;
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ValidationError('Field "attachments" must be an array.');
  if (value.length > MAX_ATTACHMENTS) throw new AttachmentLimitError('too_many_attachments', `A request carries at most ${MAX_ATTACHMENTS} attachments.`);
  return value.map((item: unknown) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new ValidationError('Each attachment must be an object.');
    const a = item as JsonObject;
    for (const key of Object.keys(a)) if (key !== 'id' && key !== 'blob') throw new ValidationError('An attachment has an unknown field.');
    if (typeof a.blob === 'string' && a.blob.length > Math.ceil((MAX_ATTACHMENT_BLOB_BYTES * 4) / 3)) {
      throw new AttachmentLimitError('attachment_too_large', 'An attachment is larger than one file may be.');
    }
    return { id: bytesField(a, 'id', { length: 16 }), blob: bytesField(a, 'blob') };
  });
}

/**
 * Checks the limits and each blob's structure.
 * @returns the proof-of-work bits the attachments cost above the difficulty (PROTOCOL.md 10.2).
 * @throws AttachmentLimitError; ValidationError for two attachments with one id; crypto
 * version/MalformedError for a blob that is not the format.
 */
export function checkAttachments(attachments: readonly NewAttachment[]): number {
  if (attachments.length === 0) return 0;
  if (attachments.length > MAX_ATTACHMENTS) throw new AttachmentLimitError('too_many_attachments', `A request carries at most ${MAX_ATTACHMENTS} attachments.`);
  const ids = new Set<string>();
  let total = 0;
  for (const a of attachments) {
    const key = Buffer.from(a.id).toString('hex');
    if (ids.has(key)) throw new ValidationError('Two attachments have the same id.');
    ids.add(key);
    if (a.blob.length > MAX_ATTACHMENT_BLOB_BYTES) throw new AttachmentLimitError('attachment_too_large', 'An attachment is larger than one file may be.');
    total += attachmentBlobChunks(a.blob);
  }
  if (total > MAX_ATTACHMENT_TOTAL_CHUNKS) throw new AttachmentLimitError('attachments_too_large', 'The attachments together are larger than a request may carry.');
  return attachmentEffortBits(total);
}
