/**
 * Pure pieces of the requester page: plural forms through Intl.PluralRules (no "1 days"), every
 * string present in both languages, and the two-word check's positions (two distinct words,
 * every pair possible, so a person cannot pass by knowing which words are always asked).
 */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { STRINGS, plural } from '../crypto/requester-i18n.ts';
import { twoPositions } from '../web/requester/sent-screen.ts';

it('says days in the right plural form in English and Russian', () => {
  expect([1, 2, 90].map((n) => plural('en', n, STRINGS.en))).toEqual(['1 day', '2 days', '90 days']);
  expect([1, 2, 5, 11, 21, 22, 25, 90].map((n) => plural('ru', n, STRINGS.ru))).toEqual([
    '1 день', '2 дня', '5 дней', '11 дней', '21 день', '22 дня', '25 дней', '90 дней',
  ]);
});

it('has every string in both languages, and the neutral title differs from the heading', () => {
  for (const lang of ['en', 'ru'] as const) {
    for (const [key, value] of Object.entries(STRINGS[lang])) expect({ key, empty: value.trim() === '' }).toEqual({ key, empty: false });
    expect(STRINGS[lang].pageTitle).not.toBe(STRINGS[lang].title);
  }
});

it('asks for two distinct words, and every pair of an eight-word passphrase can come up', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    const [a, b] = twoPositions(8, (n) => new Uint8Array(randomBytes(n)));
    expect(a).toBeGreaterThanOrEqual(0);
    expect(b).toBeGreaterThan(a);
    expect(b).toBeLessThan(8);
    seen.add(`${a},${b}`);
  }
  expect(seen.size).toBe(28);
});
