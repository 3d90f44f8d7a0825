/**
 * crypto_secretstream_xchacha20poly1305 on the noble backend (crypto/noble.ts) against
 * libsodium: the checked-in vector (tests/vectors/secretstream.json, made by libsodium; set
 * HAVEN_WRITE_VECTORS=1 to regenerate) is reproduced byte for byte from the same key and header
 * and opened by both backends; random streams cross in both directions (fast-check); and a
 * forged, reordered, truncated or foreign chunk fails on noble as on libsodium.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hexDecode as h, hexEncode as x, utf8Encode } from './encoding.ts';
import { DecryptionError } from './errors.ts';
import { noblePrimitives, nobleSecretStreamPushWithHeader } from './noble.ts';
import { SECRETSTREAM_TAG_FINAL, SECRETSTREAM_TAG_MESSAGE, type Primitives, type SecretStream } from './primitives.ts';
import { loadSodiumPrimitives } from './sodium.ts';

const sodium = await loadSodiumPrimitives();
const TAG_PUSH = 1;
const TAG_REKEY = 2;
const stream = (p: Primitives): SecretStream => p.secretstream!;

/** Chunks of the vector: every tag, an empty message, a long one, with and without ad. */
const CHUNKS = [
  { message: utf8Encode('first chunk'), ad: new Uint8Array(0), tag: SECRETSTREAM_TAG_MESSAGE },
  { message: new Uint8Array(0), ad: utf8Encode('ad'), tag: TAG_PUSH },
  { message: new Uint8Array(200).map((_, i) => i), ad: new Uint8Array(0), tag: TAG_REKEY },
  { message: utf8Encode('after the rekey'), ad: new Uint8Array(17).fill(7), tag: SECRETSTREAM_TAG_MESSAGE },
  { message: utf8Encode('last'), ad: new Uint8Array(0), tag: SECRETSTREAM_TAG_FINAL },
];

const vectorPath = new URL('../tests/vectors/secretstream.json', import.meta.url);
if (process.env.HAVEN_WRITE_VECTORS === '1') {
  const key = sodium.randomBytes(32);
  const { header, state } = stream(sodium).initPush(key);
  const vector = {
    source: 'libsodium crypto_secretstream_xchacha20poly1305 (crypto/sodium.ts), written by crypto/secretstream.test.ts',
    key: x(key),
    header: x(header),
    chunks: CHUNKS.map((c) => ({ message: x(c.message), ad: x(c.ad), tag: c.tag, ciphertext: x(state.push(c.message, c.ad, c.tag)) })),
  };
  writeFileSync(vectorPath, JSON.stringify(vector, null, 2) + '\n');
}
const V = JSON.parse(readFileSync(vectorPath, 'utf8')) as { key: string; header: string; chunks: { message: string; ad: string; tag: number; ciphertext: string }[] };

describe('secretstream: noble matches libsodium', () => {
  it('reproduces libsodium\'s ciphertexts byte for byte from the same key and header (every tag, a rekey, empty and long chunks)', () => {
    const push = nobleSecretStreamPushWithHeader(h(V.key), h(V.header));
    for (const c of V.chunks) expect(x(push.push(h(c.message), h(c.ad), c.tag))).toBe(c.ciphertext);
  });

  it.each([sodium, noblePrimitives])('opens the checked-in stream ($name)', (p) => {
    const pull = stream(p).initPull(h(V.header), h(V.key));
    for (const c of V.chunks) expect(pull.pull(h(c.ciphertext), h(c.ad))).toEqual({ message: h(c.message), tag: c.tag });
  });

  it('crosses in both directions for random streams (fast-check)', () => {
    const chunk = fc.record({ message: fc.uint8Array({ maxLength: 300 }), ad: fc.uint8Array({ maxLength: 40 }), tag: fc.constantFrom(0, 1, 2, 3) });
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(chunk, { minLength: 1, maxLength: 8 }), (key, chunks) => {
        for (const [from, to] of [[sodium, noblePrimitives], [noblePrimitives, sodium]] as const) {
          const { header, state } = stream(from).initPush(key);
          const sealed = chunks.map((c) => state.push(c.message, c.ad, c.tag));
          const pull = stream(to).initPull(header, key);
          sealed.forEach((s, i) => expect(pull.pull(s, chunks[i]!.ad)).toEqual({ message: chunks[i]!.message, tag: chunks[i]!.tag }));
        }
      }),
      { numRuns: 60 },
    );
  });

  it.each([sodium, noblePrimitives])('refuses a flipped bit, a reordered or foreign chunk, wrong ad and a short chunk ($name)', (p) => {
    const fresh = () => stream(p).initPull(h(V.header), h(V.key));
    const c0 = h(V.chunks[0]!.ciphertext);
    const c1 = h(V.chunks[1]!.ciphertext);
    for (let i = 0; i < c0.length; i += 5) {
      const bad = c0.slice();
      bad[i]! ^= 0x20;
      expect(() => fresh().pull(bad, new Uint8Array(0)), `byte ${i}`).toThrow(DecryptionError);
    }
    expect(() => fresh().pull(c1, h(V.chunks[1]!.ad))).toThrow(DecryptionError); // second chunk first
    expect(() => fresh().pull(c0, utf8Encode('other ad'))).toThrow(DecryptionError);
    expect(() => fresh().pull(c0.subarray(0, 16), new Uint8Array(0))).toThrow(DecryptionError);
    const other = stream(p).initPush(h(V.key));
    expect(() => fresh().pull(other.state.push(utf8Encode('first chunk'), new Uint8Array(0), 0), new Uint8Array(0))).toThrow(DecryptionError);
    expect(() => stream(p).initPull(h(V.header).subarray(0, 23), h(V.key))).toThrow(DecryptionError);
  });
});
