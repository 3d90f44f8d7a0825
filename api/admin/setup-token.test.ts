/** The first-run token's states: wrong, claimed once, busy for a concurrent attempt, released, spent. */
import { describe, expect, it } from 'vitest';
import { SETUP_TOKEN_BYTES, SetupToken } from './setup-token.ts';

describe('SetupToken', () => {
  it('is 32 random bytes as base64url, different every time', () => {
    const a = SetupToken.create();
    const b = SetupToken.create();
    expect(a.text).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.text, 'base64url')).toHaveLength(SETUP_TOKEN_BYTES);
    expect(a.text).not.toBe(b.text);
    expect(a.token.matches(b.text)).toBe(false);
  });

  it('holds one attempt at a time, comes back after a failed attempt, and dies when spent', () => {
    const { token, text } = SetupToken.create();
    expect(token.claim(`${text}x`)).toBe('wrong');
    expect(token.claim('')).toBe('wrong');
    expect(token.claim(text)).toBe('claimed');
    expect(token.claim(text)).toBe('busy');
    token.release();
    expect(token.claim(text)).toBe('claimed');
    token.spend();
    expect(token.spent).toBe(true);
    expect(token.claim(text)).toBe('spent');
    token.release(); // a late release cannot revive a spent token
    expect(token.claim(text)).toBe('spent');
    // A wrong token is told "wrong" whatever the state: guessing learns nothing.
    expect(token.claim('guess')).toBe('wrong');
  });

  it('keeps only a hash: the text is not in the object', () => {
    const { token, text } = SetupToken.create();
    expect(JSON.stringify(token)).not.toContain(text);
    expect(JSON.stringify(Object.values(token))).not.toContain(Buffer.from(text).toString('hex'));
  });
});
