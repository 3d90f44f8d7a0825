/**
 * The requester page's attachments (PROTOCOL.md 10.2): read each chosen file, accept only
 * JPEG, PNG and PDF by their bytes, strip metadata from images (a file whose stripping fails is
 * refused, never sent as it was), check the limits, and encrypt each in 64 KiB chunks with its
 * own key. Every refusal happens before anything is sent, with an error naming the file.
 */
import type { Primitives } from '../../crypto/primitives.ts';
import { encryptAttachment } from '../../crypto/v1/attachment.ts';
import type { AttachmentRef } from '../../crypto/v1/request-body.ts';
import { attachmentChunks, attachmentEffortBits, MAX_ATTACHMENT_FILE_BYTES, MAX_ATTACHMENT_TOTAL_CHUNKS, MAX_ATTACHMENTS } from '../../crypto/v2/attachment-limits.ts';
import { detectAttachmentType } from '../shared/attachment-files.ts';
import { ImageMetadataError, stripImageMetadata } from '../shared/image-metadata.ts';

export type AttachmentErrorCode = 'too_many' | 'too_large' | 'total_too_large' | 'unsupported_type' | 'bad_image' | 'unreadable';

/** A file the page refuses; `fileName` is the name as chosen, for the message only. */
export class AttachmentError extends Error {
  constructor(
    readonly code: AttachmentErrorCode,
    readonly fileName = '',
  ) {
    super(code);
  }
}

export interface PreparedAttachments {
  /** Goes into the encrypted request body. */
  refs: AttachmentRef[];
  /** Goes beside the envelope: `{id, blob}` per file. */
  blobs: { id: Uint8Array; blob: Uint8Array }[];
  /** Proof-of-work bits the server requires above its difficulty for these bytes. */
  extraBits: number;
}

/** The largest file read at all: a stripped image is never larger than its file, so bigger is refused unread. */
const READ_LIMIT = MAX_ATTACHMENT_FILE_BYTES;

/**
 * @throws AttachmentError for too many files, a file too large (before or after stripping), all
 * files too large, a type other than JPEG, PNG or PDF, an image the stripper refuses, or a file
 * the browser could not read.
 */
export async function prepareAttachments(p: Primitives, files: readonly File[]): Promise<PreparedAttachments> {
  if (files.length > MAX_ATTACHMENTS) throw new AttachmentError('too_many');
  const plain: { name: string; type: ReturnType<typeof detectAttachmentType> & string; bytes: Uint8Array }[] = [];
  let chunks = 0;
  for (const file of files) {
    if (file.size > READ_LIMIT) throw new AttachmentError('too_large', file.name);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await file.arrayBuffer());
    } catch {
      throw new AttachmentError('unreadable', file.name);
    }
    const type = detectAttachmentType(bytes);
    if (type === null) throw new AttachmentError('unsupported_type', file.name);
    if (type !== 'application/pdf') {
      try {
        bytes = stripImageMetadata(bytes, type);
      } catch (err) {
        if (err instanceof ImageMetadataError) throw new AttachmentError('bad_image', file.name);
        throw err;
      }
    }
    if (bytes.length > MAX_ATTACHMENT_FILE_BYTES) throw new AttachmentError('too_large', file.name);
    chunks += attachmentChunks(bytes.length);
    if (chunks > MAX_ATTACHMENT_TOTAL_CHUNKS) throw new AttachmentError('total_too_large');
    plain.push({ name: file.name.slice(0, 255) || 'file', type, bytes });
  }
  const refs: AttachmentRef[] = [];
  const blobs: { id: Uint8Array; blob: Uint8Array }[] = [];
  for (const f of plain) {
    const key = p.randomBytes(32);
    const id = p.randomBytes(16);
    blobs.push({ id, blob: encryptAttachment(p, key, f.bytes) });
    refs.push({ name: f.name, type: f.type, size: f.bytes.length, key, streamId: id });
    f.bytes.fill(0);
  }
  return { refs, blobs, extraBits: attachmentEffortBits(chunks) };
}
