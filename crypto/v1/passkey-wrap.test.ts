/**
 * Passkey key wraps (`0x21`, docs/PROTOCOL.md 6.2) on both backends: known answers
 * (tests/vectors/v1-passkey-wrap.json, made with libsodium; HAVEN_WRITE_VECTORS=1 regenerates
 * it), and the refusals that carry the threat model: the passphrase alone, another passkey's
 * PRF output, another account or credential, a tampered header, and a retired bundle.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hexDecode as h, hexEncode as x } from '../encoding.ts';
import { DecryptionError, MalformedError, UnknownVersionError } from '../errors.ts';
import { noblePrimitives } from '../noble.ts';
import type { Primitives } from '../primitives.ts';
import { loadSodiumPrimitives } from '../sodium.ts';
import { parseAccountBundleHeader, unwrapAccountKeys, wrapAccountKeys } from './account.ts';
import {
  checkPasskeyWrap, PASSKEY_WRAP_BYTES, passkeyWrapKey, prfSalt, retireAccountBundle, unwrapFromPasskey, wrapForPasskey,
} from './passkey-wrap.ts';

const sodiumP = await loadSodiumPrimitives();
const backends = [sodiumP, noblePrimitives];

const fill = (n: number, b: number) => new Uint8Array(n).fill(b);
const INPUT = {
  accountId: h('000102030405060708090a0b0c0d0e0f'),
  credentialId: h('c0ffee00c0ffee00c0ffee00c0ffee00'),
  wrapKey: fill(32, 0x11),
  prfOutput: fill(32, 0x22),
  x25519Secret: fill(32, 0x33),
  ed25519Seed: fill(32, 0x44),
  nonce: fill(24, 0x55),
};

function buildVectors(p: Primitives) {
  const key = passkeyWrapKey(p, INPUT.wrapKey, INPUT.prfOutput);
  const wrap = wrapForPasskey(p, { key, ...INPUT }, INPUT.nonce);
  return {
    source: 'crypto/v1/passkey-wrap.test.ts: the fixed inputs below',
    accountId: x(INPUT.accountId), credentialId: x(INPUT.credentialId), wrapKey: x(INPUT.wrapKey), prfOutput: x(INPUT.prfOutput),
    x25519Secret: x(INPUT.x25519Secret), ed25519Seed: x(INPUT.ed25519Seed), nonce: x(INPUT.nonce),
    prfSalt: x(prfSalt(p, INPUT.accountId)),
    passkeyWrapKey: x(key),
    wrap: x(wrap),
  };
}

const vectorPath = new URL('../../tests/vectors/v1-passkey-wrap.json', import.meta.url);
if (process.env.HAVEN_WRITE_VECTORS === '1') writeFileSync(vectorPath, JSON.stringify(buildVectors(sodiumP), null, 2) + '\n');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const V: any = JSON.parse(readFileSync(vectorPath, 'utf8'));

describe.each(backends)('passkey key wrap 0x21 ($name)', (p) => {
  it('reproduces the checked-in vectors byte for byte and opens them', () => {
    expect(buildVectors(p)).toEqual(V);
    const wrap = h(V.wrap);
    expect(wrap.length).toBe(PASSKEY_WRAP_BYTES);
    expect([wrap[0], wrap[1]]).toEqual([0x01, 0x21]);
    const out = unwrapFromPasskey(p, h(V.passkeyWrapKey), wrap, INPUT.accountId, INPUT.credentialId);
    expect([x(out.x25519Secret), x(out.ed25519Seed)]).toEqual([V.x25519Secret, V.ed25519Seed]);
  });

  it('[database copy + passphrase] the passphrase wrap key alone does not open a passkey wrap', () => {
    expect(() => unwrapFromPasskey(p, INPUT.wrapKey, h(V.wrap), INPUT.accountId, INPUT.credentialId)).toThrow(DecryptionError);
  });

  it('refuses another passkey\'s PRF output, another account, another credential', () => {
    const other = passkeyWrapKey(p, INPUT.wrapKey, fill(32, 0x23));
    expect(() => unwrapFromPasskey(p, other, h(V.wrap), INPUT.accountId, INPUT.credentialId)).toThrow(DecryptionError);
    const key = h(V.passkeyWrapKey);
    expect(() => unwrapFromPasskey(p, key, h(V.wrap), fill(16, 9), INPUT.credentialId)).toThrow(DecryptionError);
    expect(() => unwrapFromPasskey(p, key, h(V.wrap), INPUT.accountId, fill(16, 9))).toThrow(DecryptionError);
  });

  it('refuses a tampered nonce, an unknown version, another type and a wrong length', () => {
    const wrap = h(V.wrap);
    const tampered = wrap.slice();
    tampered[5]! ^= 1;
    expect(() => unwrapFromPasskey(p, h(V.passkeyWrapKey), tampered, INPUT.accountId, INPUT.credentialId)).toThrow(DecryptionError);
    const v9 = wrap.slice();
    v9[0] = 9;
    expect(() => checkPasskeyWrap(v9)).toThrow(UnknownVersionError);
    const bundleType = wrap.slice();
    bundleType[1] = 0x20;
    expect(() => checkPasskeyWrap(bundleType)).toThrow(MalformedError);
    expect(() => checkPasskeyWrap(wrap.subarray(0, 105))).toThrow(MalformedError);
    expect(() => passkeyWrapKey(p, INPUT.wrapKey, fill(31, 1))).toThrow(MalformedError);
  });

  it('a retired bundle keeps salt and parameters and opens with no key', () => {
    const params = { ops: 2, memKiB: 19456 };
    const salt = fill(16, 7);
    const bundle = wrapAccountKeys(p, { wrapKey: INPUT.wrapKey, salt, params, x25519Secret: INPUT.x25519Secret, ed25519Seed: INPUT.ed25519Seed });
    const retired = retireAccountBundle(p, bundle);
    expect(retired.length).toBe(bundle.length);
    expect(parseAccountBundleHeader(retired)).toEqual({ salt, params });
    expect(() => unwrapAccountKeys(p, INPUT.wrapKey, retired)).toThrow(DecryptionError);
    expect(x(retired.subarray(50))).not.toBe(x(bundle.subarray(50)));
  });
});
