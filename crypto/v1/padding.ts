/**
 * Fixed-size padding buckets, so a stored message reveals only which of four sizes it is.
 *
 * Buckets (padded plaintext): 1 KiB (a short request or reply: most traffic), 4 KiB (a long
 * letter), 16 KiB (a detailed account), 64 KiB (the cap). Powers of four keep the set small
 * (a seized database shows one of four sizes, not a length that fingerprints a writer or
 * language) while wasting at most 4x. Padding: ISO/IEC 7816-4 (0x80 then zeros), like sodium_pad.
 */
import { MalformedError } from '../errors.ts';

export const bucketSizes: readonly number[] = Object.freeze([1024, 4096, 16384, 65536]);
export const MAX_BODY_BYTES = bucketSizes[bucketSizes.length - 1]! - 1;

/** @throws MalformedError if the body does not fit the largest bucket (one byte goes to 0x80). */
export function pad(body: Uint8Array): Uint8Array {
  const size = bucketSizes.find((b) => b >= body.length + 1);
  if (size === undefined) throw new MalformedError('body too large');
  const out = new Uint8Array(size);
  out.set(body);
  out[body.length] = 0x80;
  return out;
}

/** @throws MalformedError if the length is not a bucket or the padding is not 0x80 0x00*. */
export function unpad(padded: Uint8Array): Uint8Array {
  if (!bucketSizes.includes(padded.length)) throw new MalformedError('not a bucket size');
  let i = padded.length - 1;
  while (i >= 0 && padded[i] === 0) i--;
  if (i < 0 || padded[i] !== 0x80) throw new MalformedError('bad padding');
  // Canonical: the smallest bucket that fits. A body padded into a larger bucket than needed
  // would be a second encoding of the same message (and a covert size channel).
  if (bucketSizes.find((b) => b >= i + 1) !== padded.length) throw new MalformedError('not the smallest bucket');
  return padded.slice(0, i);
}
