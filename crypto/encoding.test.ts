/** Strict encodings: one valid encoding per byte string; short and trailing input rejected. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64urlDecode, base64urlEncode, ByteReader, ByteWriter, hexDecode, hexEncode, utf8Decode, utf8Encode } from './encoding.ts';
import { MalformedError } from './errors.ts';

describe('encoding', () => {
  it('base64url round-trips and matches the platform encoder', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
      const s = base64urlEncode(b);
      expect(base64urlDecode(s)).toEqual(b);
      expect(s).toBe(btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
    }));
  });
  it('base64url rejects padding, the standard alphabet, whitespace, bad lengths and non-canonical trailing bits', () => {
    for (const s of ['AA==', 'A+', 'A/', 'AA A', 'A', 'AB', 'AAB']) expect(() => base64urlDecode(s)).toThrow(MalformedError);
    expect(base64urlDecode('AA')).toEqual(new Uint8Array([0]));
    expect(base64urlDecode('AAA')).toEqual(new Uint8Array([0, 0]));
  });
  it('hex round-trips and is strict', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 50 }), (b) => {
      expect(hexDecode(hexEncode(b))).toEqual(b);
    }));
    for (const s of ['0', 'AB', 'zz']) expect(() => hexDecode(s)).toThrow(MalformedError);
  });
  it('utf8 rejects invalid sequences instead of replacing them', () => {
    expect(utf8Decode(utf8Encode('ёж'))).toBe('ёж');
    expect(() => utf8Decode(new Uint8Array([0xc3]))).toThrow(MalformedError);
  });
  it('ByteReader: short input and trailing bytes are MalformedError', () => {
    const b = new ByteWriter().u8(1).u32(0xdeadbeef).bytes(new Uint8Array(3), 3).finish();
    const r = new ByteReader(b);
    expect(r.u8()).toBe(1);
    expect(r.u32()).toBe(0xdeadbeef);
    expect(() => r.bytes(4)).toThrow(MalformedError);
    expect(() => r.end()).toThrow(MalformedError);
    r.bytes(3);
    expect(() => r.end()).not.toThrow();
    expect(() => new ByteWriter().bytes(new Uint8Array(2), 3)).toThrow(MalformedError);
    expect(() => new ByteWriter().u32(2 ** 32)).toThrow(MalformedError);
  });
});
