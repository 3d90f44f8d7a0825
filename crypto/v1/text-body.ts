/**
 * Plaintext bodies of follow-ups, replies and notes (`{"message": "..."}`) and of tag sets
 * (`{"tags": ["..."]}`), UTF-8 JSON inside a thread message. Decoding is strict, as for
 * request bodies: the decoded value is hostile input and is rendered as text only.
 */
import { utf8Decode, utf8Encode } from '../encoding.ts';
import { MalformedError } from '../errors.ts';
import { MAX_BODY_BYTES } from './padding.ts';

export const TAG_LIMITS = Object.freeze({ tags: 20, tagLength: 40 });

function parseObject(bytes: Uint8Array, key: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(utf8Decode(bytes));
  } catch {
    throw new MalformedError('body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedError('body is not an object');
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== key) throw new MalformedError('body has unexpected fields');
  return (value as Record<string, unknown>)[key];
}

/** @throws MalformedError for an empty message or one too long for the largest bucket. */
export function encodeTextBody(message: string): Uint8Array {
  if (message.trim().length === 0) throw new MalformedError('empty message');
  const bytes = utf8Encode(JSON.stringify({ message }));
  if (bytes.length > MAX_BODY_BYTES) throw new MalformedError('message too long');
  return bytes;
}

/** @throws MalformedError on anything but `{"message": non-empty string}`. */
export function decodeTextBody(bytes: Uint8Array): string {
  const message = parseObject(bytes, 'message');
  if (typeof message !== 'string' || message.length === 0) throw new MalformedError('message must be a non-empty string');
  return message;
}

function checkTags(tags: unknown): string[] {
  if (!Array.isArray(tags) || tags.length > TAG_LIMITS.tags) throw new MalformedError('tags must be a short list');
  for (const t of tags) {
    if (typeof t !== 'string' || t.trim().length === 0 || t.length > TAG_LIMITS.tagLength) throw new MalformedError('bad tag');
  }
  return tags as string[];
}

/** @throws MalformedError on too many or too long tags. */
export function encodeTagsBody(tags: readonly string[]): Uint8Array {
  return utf8Encode(JSON.stringify({ tags: checkTags([...tags]) }));
}

/** @throws MalformedError on anything but `{"tags": [short strings]}`. */
export function decodeTagsBody(bytes: Uint8Array): string[] {
  return checkTags(parseObject(bytes, 'tags'));
}
