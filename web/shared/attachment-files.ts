/**
 * What both pages decide about an attachment's bytes and name (PROTOCOL.md 10.2): the type
 * comes from the magic bytes only (never the name or the browser's MIME type), and only JPEG,
 * PNG and PDF are accepted; a name shown or saved on a responder's machine is cleaned first.
 */
import { detectImageType } from './image-metadata.ts';

export type AttachmentType = 'image/jpeg' | 'image/png' | 'application/pdf';

const PDF_MAGIC = [0x25, 0x50, 0x44, 0x46, 0x2d] as const; // "%PDF-"

/** The accepted type of these bytes, or null. */
export function detectAttachmentType(bytes: Uint8Array): AttachmentType | null {
  const image = detectImageType(bytes);
  if (image) return image;
  if (bytes.length >= PDF_MAGIC.length && PDF_MAGIC.every((b, i) => bytes[i] === b)) return 'application/pdf';
  return null;
}

const EXTENSION: Record<AttachmentType, string> = { 'image/jpeg': '.jpg', 'image/png': '.png', 'application/pdf': '.pdf' };
const EXTENSIONS: Record<AttachmentType, readonly string[]> = { 'image/jpeg': ['.jpg', '.jpeg'], 'image/png': ['.png'], 'application/pdf': ['.pdf'] };

/**
 * A file name safe to show and to save: no path, no control or bidirectional-override
 * characters (which can make `gpj.exe` read as `exe.jpg`), no leading dots, at most 100
 * characters, and an extension that matches the bytes' real type (`page.html` holding a JPEG
 * is saved as `page.html.jpg`, so nothing opens it as HTML).
 */
export function safeAttachmentName(name: string, type: AttachmentType | null): string {
  const clean = cleanAttachmentName(name);
  if (type === null) return `${clean}.bin`;
  const lower = clean.toLowerCase();
  return EXTENSIONS[type].some((ext) => lower.endsWith(ext)) ? clean : `${clean}${EXTENSION[type]}`;
}

/** The name without path, control or direction-override characters, leading dots; at most 100 characters. */
export function cleanAttachmentName(name: string): string {
  const clean = name
    // eslint-disable-next-line no-control-regex -- removing control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '')
    .replace(/[/\\:*?"<>|]/g, '_')
    .replace(/^[.\s]+/, '')
    .trim()
    .slice(0, 100);
  return clean === '' ? 'attachment' : clean;
}
