/** Property 5, requester secret: >= 100 bits, uniform words, forgiving normalisation, server stores only a hash. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WeakInputError } from '../errors.ts';
import { noblePrimitives } from '../noble.ts';
import type { Primitives } from '../primitives.ts';
import { loadSodiumPrimitives } from '../sodium.ts';
import { deterministicPrimitives } from '../testing.ts';
import { WORDS as EN } from '../wordlists/en.ts';
import { WORDS as RU } from '../wordlists/ru.ts';
import * as v1 from './index.ts';

const S = await loadSodiumPrimitives();
const N = noblePrimitives;
const TINY = { ops: 1, memKiB: 8 };

describe('normalizePassphrase', () => {
  it('forgives case, spacing and punctuation', () => {
    expect(v1.normalizePassphrase('Apple  banana, Cherry')).toBe('apple banana cherry');
    expect(v1.normalizePassphrase('  apple-banana.cherry!\n')).toBe('apple banana cherry');
    expect(v1.normalizePassphrase('ЁЛКА Ёж')).toBe('елка еж');
    expect(v1.normalizePassphrase('ｆｕｌｌｗｉｄｔｈ')).toBe('fullwidth');
  });
  it('is idempotent on any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      const once = v1.normalizePassphrase(s);
      expect(v1.normalizePassphrase(once)).toBe(once);
    }), { numRuns: 500 });
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
      const once = v1.normalizePassphrase(s);
      expect(v1.normalizePassphrase(once)).toBe(once);
    }), { numRuns: 500 });
  });
  it('is unchanged by re-casing, extra spaces and punctuation between words of a generated passphrase', () => {
    fc.assert(fc.property(fc.constantFrom(EN, RU), fc.array(fc.constantFrom(' ', '  ', ', ', '. ', ' - ', '\t')), (list, seps) => {
      const pass = v1.generatePassphrase(N, list);
      const words = pass.split(' ');
      const messy = words.map((w, i) => (i % 2 ? w.toUpperCase() : w) + (seps[i] ?? ' ')).join('');
      expect(v1.normalizePassphrase(messy)).toBe(pass);
    }), { numRuns: 50 });
  });
});

describe('generatePassphrase', () => {
  it('gives >= 100 bits with the real lists (8 English, 9 Russian words)', () => {
    expect(v1.passphraseWordCount(EN.length)).toBe(8);
    expect(v1.passphraseWordCount(RU.length)).toBe(9);
    for (const list of [EN, RU]) {
      const words = v1.generatePassphrase(S, list).split(' ');
      expect(words.length * Math.log2(list.length)).toBeGreaterThanOrEqual(100);
      for (const w of words) expect(list).toContain(w);
    }
  });
  it('picks words uniformly (rejection sampling, no modulo bias)', () => {
    // a 3-word list: with modulo on a byte, index 0 would get 86/256 instead of 1/3
    const p = deterministicPrimitives(S, new Uint8Array(32));
    const counts = [0, 0, 0];
    for (let i = 0; i < 30000; i++) counts[v1.uniformInt(p, 3)]!++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400);
  });
  it('refuses lists that are too short, duplicated or not normalised', () => {
    expect(() => v1.generatePassphrase(S, ['one'])).toThrow(WeakInputError);
    expect(() => v1.generatePassphrase(S, ['a', 'a'])).toThrow(WeakInputError);
    expect(() => v1.generatePassphrase(S, ['Apple', 'pear'])).toThrow(WeakInputError);
    expect(() => v1.generatePassphrase(S, ['ёж', 'уж'])).toThrow(WeakInputError);
  });
});

describe.each([['sodium', S], ['noble', N]] as [string, Primitives][])('deriveRequesterKeys (%s)', (_n, p) => {
  const orgId = new Uint8Array(16).fill(3);
  it('same keys for forgiving variants and on both backends; different per org and passphrase', async () => {
    const a = await v1.deriveRequesterKeys(p, 'Apple  banana, Cherry', orgId, TINY, TINY);
    const b = await v1.deriveRequesterKeys(p === S ? N : S, 'apple banana cherry', orgId, TINY, TINY);
    expect(a).toEqual(b);
    const c = await v1.deriveRequesterKeys(p, 'apple banana cherries', orgId, TINY, TINY);
    expect(c.lookupToken).not.toEqual(a.lookupToken);
    const d = await v1.deriveRequesterKeys(p, 'apple banana cherry', new Uint8Array(16).fill(4), TINY, TINY);
    expect(d.lookupToken).not.toEqual(a.lookupToken);
    expect(v1.lookupTokenHash(p, a.lookupToken)).not.toEqual(a.lookupToken);
    expect(a.replyPublic).toEqual(p.x25519PublicFromSecret(a.replySecret));
  });
  it('uses the real requester param set (current set) and refuses weaker ones', async () => {
    const params = v1.REQUESTER_PARAM_SETS[v1.CURRENT_REQUESTER_PARAM_SET]!;
    const real = await v1.deriveRequesterKeys(p, 'apple banana cherry', orgId);
    const ref = await v1.deriveRequesterKeys(S, 'apple banana cherry', orgId, params);
    expect(real).toEqual(ref);
    await expect(v1.deriveRequesterKeys(p, 'apple banana cherry', orgId, TINY)).rejects.toThrow(WeakInputError);
    await expect(v1.deriveRequesterKeys(p, ' ,. ', orgId, TINY, TINY)).rejects.toThrow(WeakInputError);
  });
});
