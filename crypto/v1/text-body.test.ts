import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../encoding.ts';
import { MalformedError } from '../errors.ts';
import { decodeTagsBody, decodeTextBody, encodeTagsBody, encodeTextBody } from './text-body.ts';

describe('text and tag bodies', () => {
  it('round-trip any non-blank message and any valid tag list', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 500 }).filter((s) => s.trim() !== ''), (m) => decodeTextBody(encodeTextBody(m)) === m));
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== ''), { maxLength: 20 }), (tags) => {
        expect(decodeTagsBody(encodeTagsBody(tags))).toEqual(tags);
      }),
    );
  });

  it('rejects extra fields, wrong types, blank messages and oversized tag lists', () => {
    for (const bad of ['{"message":"x","html":"<b>"}', '{"message":1}', '[]', 'nope', '{"message":""}']) {
      expect(() => decodeTextBody(utf8Encode(bad))).toThrow(MalformedError);
    }
    expect(() => encodeTextBody('   ')).toThrow(MalformedError);
    expect(() => encodeTagsBody(Array.from({ length: 21 }, (_, i) => `t${i}`))).toThrow(MalformedError);
    expect(() => decodeTagsBody(utf8Encode('{"tags":["x".repeat(41)]}'.replace('"x".repeat(41)', `"${'x'.repeat(41)}"`)))).toThrow(MalformedError);
  });
});
