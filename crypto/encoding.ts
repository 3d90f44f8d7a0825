/**
 * Byte encodings and a bounds-checked reader/writer for the wire formats.
 *
 * Pure TypeScript (no Buffer, no Node built-ins) so it runs identically in Node, the
 * requester page and the dashboard. Decoders are strict: a blob has exactly one valid
 * encoding, so two different strings can never name the same key or id (which would let
 * a server or attacker slip past equality checks or uniqueness constraints).
 */
import { MalformedError } from './errors.ts';

const utf8Encoder = new TextEncoder();
// fatal: invalid UTF-8 is an error, not silently replaced with U+FFFD.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8Encode(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** @throws MalformedError on invalid UTF-8. */
export function utf8Decode(b: Uint8Array): string {
  try {
    return utf8Decoder.decode(b);
  } catch {
    throw new MalformedError('invalid utf-8');
  }
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_INDEX: Int16Array = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < B64URL.length; i++) t[B64URL.charCodeAt(i)] = i;
  return t;
})();

/** base64url without padding (RFC 4648 section 5). */
export function base64urlEncode(b: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]! + B64URL[n & 63]!;
  }
  const rest = b.length - i;
  if (rest === 1) {
    const n = b[i]! << 16;
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8);
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]!;
  }
  return out;
}

/**
 * Strict base64url decode: URL alphabet only, no padding, no whitespace, and the unused
 * low bits of the last character must be zero (canonical form, one string per byte string).
 * @throws MalformedError on anything else.
 */
export function base64urlDecode(s: string): Uint8Array {
  if (s.length % 4 === 1) throw new MalformedError('invalid base64url length');
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64URL_INDEX[c]! : -1;
    if (v < 0) throw new MalformedError('invalid base64url character');
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) {
    throw new MalformedError('non-canonical base64url');
  }
  return out;
}

export function hexEncode(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Lower-case hex only. @throws MalformedError otherwise. */
export function hexDecode(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) throw new MalformedError('invalid hex');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Big-endian u32. */
export function u32be(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new MalformedError('u32 out of range');
  return new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

/** Appends fields; fixed-length fields are checked so a wrong-sized key can never be written. */
export class ByteWriter {
  private parts: Uint8Array[] = [];
  u8(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new MalformedError('u8 out of range');
    this.parts.push(new Uint8Array([n]));
    return this;
  }
  u32(n: number): this {
    this.parts.push(u32be(n));
    return this;
  }
  /** @throws MalformedError if `expectedLength` is given and differs. */
  bytes(b: Uint8Array, expectedLength?: number): this {
    if (expectedLength !== undefined && b.length !== expectedLength) {
      throw new MalformedError('field has wrong length');
    }
    this.parts.push(b.slice());
    return this;
  }
  finish(): Uint8Array {
    return concat(...this.parts);
  }
}

/**
 * Reads fields front to back. Every read checks the remaining length first, so a truncated
 * blob is a MalformedError, never an out-of-bounds read or a silently short key.
 */
export class ByteReader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}
  get offset(): number {
    return this.pos;
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  /** @throws MalformedError on short input. */
  bytes(n: number): Uint8Array {
    if (n < 0 || this.remaining < n) throw new MalformedError('input too short');
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u8(): number {
    return this.bytes(1)[0]!;
  }
  u32(): number {
    const b = this.bytes(4);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  }
  /** Everything not yet read. */
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }
  /** @throws MalformedError if bytes remain: trailing data is never silently ignored. */
  end(): void {
    if (this.remaining !== 0) throw new MalformedError('trailing bytes');
  }
}
