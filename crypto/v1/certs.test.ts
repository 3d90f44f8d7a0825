import { describe, expect, it } from 'vitest';
import { hexEncode } from '../encoding.ts';
import { MalformedError } from '../errors.ts';
import { noblePrimitives } from '../noble.ts';
import { loadSodiumPrimitives } from '../sodium.ts';
import { accountFingerprint } from './certs.ts';

const sodium = await loadSodiumPrimitives();
const x = new Uint8Array(32).fill(1);
const ed = new Uint8Array(32).fill(2);

describe('account fingerprint', () => {
  it('is BLAKE2b-256(x25519 || ed25519, personal "haven-acctfp-v1") in 16 groups of 4 hex digits, alike in both backends', () => {
    const both = new Uint8Array(64);
    both.set(x);
    both.set(ed, 32);
    const personal = new TextEncoder().encode('haven-acctfp-v1');
    const expected = hexEncode(sodium.blake2b(32, both, { personal })).match(/.{4}/g)!.join(' ');
    expect(accountFingerprint(sodium, x, ed)).toBe(expected);
    expect(accountFingerprint(noblePrimitives, x, ed)).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){15}$/);
  });

  it('changes when either key changes, and when the two are swapped', () => {
    const fp = accountFingerprint(sodium, x, ed);
    expect(accountFingerprint(sodium, ed, x)).not.toBe(fp);
    expect(accountFingerprint(sodium, x, new Uint8Array(32).fill(3))).not.toBe(fp);
  });

  it('rejects keys of the wrong length', () => {
    expect(() => accountFingerprint(sodium, x.subarray(1), ed)).toThrow(MalformedError);
  });
});
