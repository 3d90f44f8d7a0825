/**
 * The fingerprint the dashboard shows a responder at enrolment (crypto/v1/certs.ts) must be
 * the one the admin's screen shows before approval (crypto/v1/admin.ts), or the
 * out-of-band comparison that stops a server swapping keys would always fail.
 */
import { describe, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { accountFingerprint } from '../../crypto/v1/certs.ts';
import { accountFingerprint as adminAccountFingerprint } from '../../crypto/v1/admin.ts';

const p = await loadSodiumPrimitives();

describe('account fingerprint', () => {
  it('is the same on the enrolment screen and on the admin approval screen', () => {
    for (let i = 0; i < 20; i++) {
      const x = p.randomBytes(32);
      const ed = p.randomBytes(32);
      expect(accountFingerprint(p, x, ed)).toBe(adminAccountFingerprint(p, x, ed));
    }
  });
});
