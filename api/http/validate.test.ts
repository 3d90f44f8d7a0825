/**
 * Strict base64url decoding: the fast canonical check (the unused low bits of the last
 * character must be zero) must accept and refuse exactly what decoding and re-encoding would.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64url } from './validate.ts';

/** The reference: alphabet, length, and a decode/re-encode round trip. */
function reference(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? new Uint8Array(bytes) : null;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('decodeBase64url', () => {
  it('agrees with decode-and-re-encode on every alphabet string (canonical or not)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ALPHABET), { maxLength: 40 }), (chars) => {
        const text = chars.join('');
        const got = decodeBase64url(text);
        const want = reference(text);
        expect(got === null ? null : Array.from(got)).toEqual(want === null ? null : Array.from(want));
      }),
      { numRuns: 5000 },
    );
  });

  it('decodes what Node encodes, and refuses every stray-bit spelling of it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        const text = Buffer.from(bytes).toString('base64url');
        expect(Array.from(decodeBase64url(text)!)).toEqual(Array.from(bytes));
        const last = ALPHABET.indexOf(text[text.length - 1]!);
        for (let bit = 0; bit < 6; bit++) {
          const other = text.slice(0, -1) + ALPHABET[last ^ (1 << bit)]!;
          expect(decodeBase64url(other) === null).toBe(reference(other) === null);
        }
      }),
    );
  });

  it('refuses padding, the standard alphabet, whitespace and impossible lengths', () => {
    for (const bad of ['QQ==', 'a+b/', 'QUJD REVG', 'QUJDR', ' QUJD', 'QR']) expect(decodeBase64url(bad)).toBeNull();
    expect(Array.from(decodeBase64url('QQ')!)).toEqual([0x41]);
    expect(decodeBase64url('')).toEqual(new Uint8Array(0));
  });
});
