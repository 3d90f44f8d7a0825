import { describe, expect, it } from 'vitest';
import { assessPassphrase } from './passphrase-policy.ts';

describe('responder passphrase check', () => {
  it('accepts a few unrelated words of 12 or more characters', () => {
    expect(assessPassphrase('orbit lantern velvet quarry 42', 'anna.k')).toMatchObject({ ok: true, problems: [] });
    expect(assessPassphrase('кот синий мост пятница', 'anna.k').ok).toBe(true);
  });

  it.each([
    ['short', 'tooShort'],
    ['password1234', 'common'],
    ['ПарольПароль12', 'common'],
    ['anna.k-is-my-name', 'hasName'],
    ['abababababab', 'repeated'],
    ['abcdefghij12', 'sequence'],
    ['839204718263', 'digitsOnly'],
  ])('refuses %j, saying why (%s)', (pw, problem) => {
    const verdict = assessPassphrase(pw, 'anna.k');
    expect(verdict.ok).toBe(false);
    expect(verdict.problems).toContain(problem);
    expect(verdict.score).toBeLessThanOrEqual(1);
  });

  it('refuses two passphrases that differ', () => {
    expect(assessPassphrase('orbit lantern velvet quarry 42', 'anna.k', 'orbit lantern').problems).toEqual(['mismatch']);
  });
});
