import { describe, expect, it } from 'vitest';
import { base64urlDecode, base64urlEncode } from '../../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { FORM_TOKEN_LIFETIME_MINUTES, FormPurpose, FormTokens } from './form-token.ts';

const p = await loadSodiumPrimitives();
const secret = new Uint8Array(32).fill(7);

describe('FormTokens', () => {
  it('accepts its own token for its purpose until it expires, with a stable spent id', () => {
    let now = 1_700_000_000_000;
    const tokens = new FormTokens(p, secret, () => now);
    const token = tokens.issue(FormPurpose.request);
    const a = tokens.check(token, FormPurpose.request);
    const b = tokens.check(token, FormPurpose.request);
    expect(a.ok && b.ok && p.constantTimeEqual(a.spentId, b.spentId)).toBe(true);
    expect(tokens.check(token, FormPurpose.followup)).toEqual({ ok: false, reason: 'invalid' });
    now += FORM_TOKEN_LIFETIME_MINUTES * 60_000;
    expect(tokens.check(token, FormPurpose.request).ok).toBe(true);
    now += 60_000;
    expect(tokens.check(token, FormPurpose.request)).toEqual({ ok: false, reason: 'expired' });
  });

  it('gives two forms two spent ids', () => {
    const tokens = new FormTokens(p, secret);
    const a = tokens.check(tokens.issue(FormPurpose.request), FormPurpose.request);
    const b = tokens.check(tokens.issue(FormPurpose.request), FormPurpose.request);
    expect(a.ok && b.ok && p.constantTimeEqual(a.spentId, b.spentId)).toBe(false);
  });

  it('refuses every flipped bit, another secret, a cut token and non-strings, without throwing', () => {
    const tokens = new FormTokens(p, secret);
    const bytes = base64urlDecode(tokens.issue(FormPurpose.followup));
    for (let i = 0; i < bytes.length * 8; i++) {
      const flipped = bytes.slice();
      flipped[i >> 3]! ^= 1 << (i & 7);
      expect(tokens.check(base64urlEncode(flipped), FormPurpose.followup).ok).toBe(false);
    }
    expect(new FormTokens(p, new Uint8Array(32).fill(8)).check(base64urlEncode(bytes), FormPurpose.followup).ok).toBe(false);
    expect(tokens.check(base64urlEncode(bytes.subarray(1)), FormPurpose.followup).ok).toBe(false);
    for (const junk of [undefined, null, 42, {}, '', '!!!', 'x'.repeat(10_000)]) expect(tokens.check(junk, FormPurpose.followup).ok).toBe(false);
  });
});
