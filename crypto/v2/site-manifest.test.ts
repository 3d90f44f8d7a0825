/**
 * The v2 site manifest: canonical bytes, signature, and refusals.
 *
 * Vector source: made with this module from the fixed seed 0x01..0x20 and checked with a
 * third Ed25519 implementation (node:crypto, OpenSSL) besides both of Haven's backends, so
 * the vector is not just this code agreeing with itself.
 */
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MalformedError, SignatureError, UnknownVersionError, UnsupportedVersionError } from '../errors.ts';
import { noblePrimitives } from '../noble.ts';
import { loadSodiumPrimitives } from '../sodium.ts';
import { decodeManifest, manifestFromJson, manifestSigningBytes, manifestToJson, signManifest, verifyManifest, type SiteManifest } from './site-manifest.ts';

const sodium = await loadSodiumPrimitives();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

const SEED = new Uint8Array(32).map((_, i) => i + 1);
const VECTOR = {
  rootPublicKey: '79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664',
  files: { '/assets/main-0123456789ab.js': 'a'.repeat(64), '/': 'fe26c59e91ac8de694b2531dc3bdc1b7faf471d3d7e4e00870af60f5f22897cb' },
  signingBytes:
    '02700179b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664000200012ffe26c59e91ac8de694b2531dc3bdc1b7faf471d3d7e4e00870af60f5f22897cb001c2f6173736574732f6d61696e2d3031323334353637383961622e6a73aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  signature: 'ddff1973717c4f52e5d546a27626d2e74f78475b478789a373e171be20db9c5589855f7cb2a4980b3b0ca2a09f0ff15fce8510e846d46202a8fac02053933706',
  manifestSha256: '463649d4c3f3b3c9f7d2982ac1e61f00c786e1280201bbc8723fcaee4026deae',
};

const manifest = (): SiteManifest => ({ v: 2, site: 'requester', files: { ...VECTOR.files }, rootPublicKey: unhex(VECTOR.rootPublicKey) });

describe.each([
  ['sodium', sodium],
  ['noble', noblePrimitives],
] as const)('site manifest (%s backend)', (_name, p) => {
  it('encodes the known-answer bytes, sorted by path, and signs them deterministically', () => {
    expect(hex(p.ed25519KeypairFromSeed(SEED).publicKey)).toBe(VECTOR.rootPublicKey);
    const bytes = manifestSigningBytes(manifest());
    expect(hex(bytes)).toBe(VECTOR.signingBytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(VECTOR.manifestSha256);
    expect(hex(signManifest(p, SEED, manifest()))).toBe(VECTOR.signature);
    verifyManifest(p, unhex(VECTOR.rootPublicKey), manifest(), unhex(VECTOR.signature));
  });

  it('rejects a manifest in which one file hash changed', () => {
    const m = manifest();
    m.files['/'] = '0'.repeat(64);
    expect(() => verifyManifest(p, m.rootPublicKey, m, unhex(VECTOR.signature))).toThrow(SignatureError);
  });

  it('rejects a manifest for the other site signed for this one', () => {
    const m = { ...manifest(), site: 'triage' as const };
    expect(() => verifyManifest(p, m.rootPublicKey, m, unhex(VECTOR.signature))).toThrow(SignatureError);
  });

  it('rejects a manifest that names another root than the one pinned', () => {
    const other = p.ed25519KeypairFromSeed(new Uint8Array(32).fill(9));
    const m = { ...manifest(), rootPublicKey: other.publicKey };
    const sig = signManifest(p, new Uint8Array(32).fill(9), m);
    expect(() => verifyManifest(p, unhex(VECTOR.rootPublicKey), m, sig)).toThrow(SignatureError);
  });

  it('refuses to sign a manifest naming a root other than the signing seed', () => {
    expect(() => signManifest(p, new Uint8Array(32).fill(9), manifest())).toThrow(MalformedError);
  });
});

it('agrees with an independent Ed25519 (node:crypto)', () => {
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(VECTOR.rootPublicKey, 'hex')]);
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  expect(nodeVerify(null, unhex(VECTOR.signingBytes), key, unhex(VECTOR.signature))).toBe(true);
});

describe('canonical form', () => {
  it('decodes its own bytes and round-trips through the served JSON form', () => {
    const bytes = unhex(VECTOR.signingBytes);
    const decoded = decodeManifest(bytes);
    expect(hex(manifestSigningBytes(decoded))).toBe(VECTOR.signingBytes);
    const json = JSON.parse(JSON.stringify(manifestToJson(manifest()))) as unknown;
    expect(Object.keys((json as { files: object }).files)).toEqual(['/', '/assets/main-0123456789ab.js']);
    expect(hex(manifestSigningBytes(manifestFromJson(json)))).toBe(VECTOR.signingBytes);
  });

  it('refuses unknown and old versions with separate errors, and the wrong type byte', () => {
    const bytes = unhex(VECTOR.signingBytes);
    expect(() => decodeManifest(Uint8Array.of(0x07, ...bytes.subarray(1)))).toThrow(UnknownVersionError);
    expect(() => decodeManifest(Uint8Array.of(0x01, ...bytes.subarray(1)))).toThrow(UnsupportedVersionError);
    expect(() => decodeManifest(Uint8Array.of(0x02, 0x10, ...bytes.subarray(2)))).toThrow(MalformedError);
  });

  it('refuses truncated, trailing, unsorted or repeated entries', () => {
    const bytes = unhex(VECTOR.signingBytes);
    expect(() => decodeManifest(bytes.subarray(0, bytes.length - 1))).toThrow(MalformedError);
    expect(() => decodeManifest(Uint8Array.of(...bytes, 0))).toThrow(MalformedError);
    // Swap the two entries: same content, not canonical.
    const first = bytes.subarray(37, 37 + 2 + 1 + 32);
    const second = bytes.subarray(37 + 35);
    expect(() => decodeManifest(Uint8Array.of(...bytes.subarray(0, 37), ...second, ...first))).toThrow(MalformedError);
    expect(() => decodeManifest(Uint8Array.of(...bytes.subarray(0, 35), 0, 2, ...first, ...first))).toThrow(MalformedError);
  });

  it('refuses paths that are not plain absolute ASCII and hashes that are not lowercase hex', () => {
    for (const path of ['relative', '/with space', '/q"uote', '/back\\slash', '/ünï', '']) {
      expect(() => manifestSigningBytes({ ...manifest(), files: { [path]: 'a'.repeat(64) } })).toThrow(MalformedError);
    }
    expect(() => manifestSigningBytes({ ...manifest(), files: { '/': 'A'.repeat(64) } })).toThrow(MalformedError);
    expect(() => manifestSigningBytes({ ...manifest(), files: {} })).toThrow(MalformedError);
    expect(() => manifestFromJson({ v: 2, site: 'admin', files: {}, rootPublicKey: '' })).toThrow(MalformedError);
    expect(() => manifestFromJson({ v: 2, site: 'requester', files: { '/': 5 }, rootPublicKey: '' })).toThrow(MalformedError);
  });
});
