import { describe, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { AddressBoxError, addressKey, openAddress, sealAddress } from './address-box.ts';
import { untilNextBoundary } from './notifier.service.ts';
import { normalizeAddress } from './notification.service.ts';

const p = await loadSodiumPrimitives();
const key = addressKey(p, new Uint8Array(32).fill(7));
const account = new Uint8Array(16).fill(1);

describe('sealed notification address', () => {
  it('opens with the same key and account, and never shows the address in the box', () => {
    const box = sealAddress(p, key, account, 'someone@example.org');
    expect(box[0]).toBe(1);
    expect(box.length).toBe(1 + 24 + 'someone@example.org'.length + 16);
    expect(Buffer.from(box).toString('latin1')).not.toContain('someone');
    expect(openAddress(p, key, account, box)).toBe('someone@example.org');
    // A fresh nonce each time: two boxes of one address do not match.
    expect(sealAddress(p, key, account, 'someone@example.org')).not.toEqual(box);
  });

  it('refuses a box moved to another account, opened with another secret, of another version, flipped or cut short', () => {
    const box = sealAddress(p, key, account, 'someone@example.org');
    expect(() => openAddress(p, key, new Uint8Array(16).fill(2), box)).toThrow(AddressBoxError);
    expect(() => openAddress(p, addressKey(p, new Uint8Array(32).fill(8)), account, box)).toThrow(AddressBoxError);
    const v2 = Uint8Array.from(box);
    v2[0] = 2;
    expect(() => openAddress(p, key, account, v2)).toThrow(/version/);
    const flipped = Uint8Array.from(box);
    flipped[30]! ^= 1;
    expect(() => openAddress(p, key, account, flipped)).toThrow(AddressBoxError);
    expect(() => openAddress(p, key, account, box.subarray(0, 40))).toThrow(/short/);
  });
});

describe('notification schedule and addresses', () => {
  it('runs on clock boundaries of the interval, the same on every instance', () => {
    const half = 30 * 60_000;
    expect(untilNextBoundary(Date.UTC(2026, 0, 1, 12, 0, 0), half)).toBe(half);
    expect(untilNextBoundary(Date.UTC(2026, 0, 1, 12, 10, 0), half)).toBe(20 * 60_000);
    expect(untilNextBoundary(Date.UTC(2026, 0, 1, 12, 29, 59, 999), half)).toBe(1);
  });

  it('accepts one plain address and nothing an SMTP command or header could be split on', () => {
    expect(normalizeAddress('  a.b+c@mail.example.org ')).toBe('a.b+c@mail.example.org');
    for (const bad of ['a@b', 'a b@c.de', 'a@c.de\r\nBcc: x@y.z', 'a@c.de\nx', '<a@c.de>', 'a@c.de,b@c.de', 'a@@c.de', 'a@c..de', '"a"@c.de', 1, null]) {
      expect(() => normalizeAddress(bad)).toThrow(/address/);
    }
  });
});
