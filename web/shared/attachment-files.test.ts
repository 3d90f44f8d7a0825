/** Attachment types from bytes only, and names that are safe to show and to save (PROTOCOL.md 10.2). */
import { expect, it } from 'vitest';
import { cleanAttachmentName, detectAttachmentType, safeAttachmentName } from './attachment-files.ts';
import { JPEG_WITH_METADATA, PNG_WITH_METADATA } from './image-metadata.fixtures.ts';

const ascii = (s: string) => new TextEncoder().encode(s);

it('[attachments] takes the type from the magic bytes, never the name: JPEG, PNG, PDF, nothing else', () => {
  expect(detectAttachmentType(JPEG_WITH_METADATA)).toBe('image/jpeg');
  expect(detectAttachmentType(PNG_WITH_METADATA)).toBe('image/png');
  expect(detectAttachmentType(ascii('%PDF-1.7\n'))).toBe('application/pdf');
  for (const other of ['<html><script>', 'GIF89a', '%PDF', 'PK\u0003\u0004', '']) expect(detectAttachmentType(ascii(other))).toBeNull();
});

it('[attachments] cleans names: no path, control or direction-override characters, no leading dots, bounded', () => {
  expect(cleanAttachmentName('../../etc/passwd')).toBe('_.._etc_passwd');
  expect(cleanAttachmentName('photo\u202egpj.exe')).toBe('photogpj.exe');
  expect(cleanAttachmentName('a\u0000b\nc')).toBe('abc');
  expect(cleanAttachmentName('...hidden')).toBe('hidden');
  expect(cleanAttachmentName('   ')).toBe('attachment');
  expect(cleanAttachmentName('x'.repeat(300))).toHaveLength(100);
});

it('[attachments] saves under an extension that matches the bytes, so a name cannot make a file HTML', () => {
  expect(safeAttachmentName('photo.JPG', 'image/jpeg')).toBe('photo.JPG');
  expect(safeAttachmentName('photo.jpeg', 'image/jpeg')).toBe('photo.jpeg');
  expect(safeAttachmentName('page.html', 'image/jpeg')).toBe('page.html.jpg');
  expect(safeAttachmentName('scan.png', 'application/pdf')).toBe('scan.png.pdf');
  expect(safeAttachmentName('unknown', null)).toBe('unknown.bin');
});
