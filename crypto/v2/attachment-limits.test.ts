/** The attachment limits and the proof-of-work price of bytes (PROTOCOL.md 10.2). */
import { expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../sodium.ts';
import { noblePrimitives } from '../noble.ts';
import { attachmentBlobSize, encryptAttachment } from '../v1/attachment.ts';
import {
  attachmentBlobChunks, attachmentChunks, attachmentEffortBits, ATTACHMENT_CHUNK_CT_BYTES, MAX_ATTACHMENT_CHUNKS, MAX_ATTACHMENT_FILE_BYTES,
} from './attachment-limits.ts';

it('prices bytes: free up to 1 MiB, then one bit per doubling', () => {
  expect([1, 16, 17, 32, 33, 64, 65, 128, 129, 256].map(attachmentEffortBits)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
});

it('the largest file fills exactly the largest blob, and one byte more does not', () => {
  expect(attachmentChunks(MAX_ATTACHMENT_FILE_BYTES)).toBe(MAX_ATTACHMENT_CHUNKS);
  expect(attachmentChunks(MAX_ATTACHMENT_FILE_BYTES + 1)).toBe(MAX_ATTACHMENT_CHUNKS + 1);
  expect(attachmentBlobSize(MAX_ATTACHMENT_FILE_BYTES)).toBe(26 + MAX_ATTACHMENT_CHUNKS * ATTACHMENT_CHUNK_CT_BYTES);
});

it('counts the chunks of real blobs from both backends, and refuses what is not the format', async () => {
  const sodium = await loadSodiumPrimitives();
  for (const p of [sodium, noblePrimitives]) {
    expect(attachmentBlobChunks(encryptAttachment(p, p.randomBytes(32), new Uint8Array(70_000)))).toBe(2);
  }
  const blob = encryptAttachment(sodium, sodium.randomBytes(32), new Uint8Array(10));
  expect(() => attachmentBlobChunks(blob.subarray(0, blob.length - 1))).toThrow(expect.objectContaining({ code: 'malformed' }));
  expect(() => attachmentBlobChunks(blob.subarray(0, 26))).toThrow(expect.objectContaining({ code: 'malformed' }));
  expect(() => attachmentBlobChunks(Uint8Array.of(0x09, 0x50, ...blob.subarray(2)))).toThrow(expect.objectContaining({ code: 'unknown_version' }));
  expect(() => attachmentBlobChunks(Uint8Array.of(0x01, 0x40, ...blob.subarray(2)))).toThrow(expect.objectContaining({ code: 'malformed' }));
});
