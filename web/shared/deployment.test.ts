/** The page's reader of its embedded deployment values refuses a missing or malformed key. */
import { describe, expect, it } from 'vitest';
import { base64urlEncode } from '../../crypto/encoding.ts';
import { DeploymentConfigError, embeddedKeySerialFloor, embeddedRootPublicKey, hasEmbeddedRootPublicKey } from './deployment.ts';

/** Just enough of a Document: `querySelector('meta[name="..."]')`. */
function doc(meta: Record<string, string>): Document {
  return {
    querySelector(selector: string) {
      const name = /meta\[name="([^"]+)"\]/.exec(selector)?.[1];
      return name !== undefined && name in meta ? { content: meta[name] } : null;
    },
  } as unknown as Document;
}

describe('embedded deployment values', () => {
  const key = new Uint8Array(32).fill(7);

  it('reads the root key and the serial floor the server rendered into the page', () => {
    const d = doc({ 'haven-root-public-key': base64urlEncode(key), 'haven-key-serial-floor': '12' });
    expect(hasEmbeddedRootPublicKey(d)).toBe(true);
    expect(embeddedRootPublicKey(d)).toEqual(key);
    expect(embeddedKeySerialFloor(d)).toBe(12);
  });

  it('throws a clear error when the hotline is not set up (no key in the page)', () => {
    const d = doc({ 'haven-key-serial-floor': '0' });
    expect(hasEmbeddedRootPublicKey(d)).toBe(false);
    expect(() => embeddedRootPublicKey(d)).toThrow(DeploymentConfigError);
    expect(() => embeddedRootPublicKey(d)).toThrow(/not set up/);
  });

  it('throws on a malformed key or serial floor', () => {
    for (const bad of ['', 'not base64url!', base64urlEncode(new Uint8Array(31)), base64urlEncode(new Uint8Array(33))]) {
      expect(() => embeddedRootPublicKey(doc({ 'haven-root-public-key': bad }))).toThrow(DeploymentConfigError);
    }
    for (const bad of ['', '-1', '1.5', '99999999999', 'x']) {
      expect(() => embeddedKeySerialFloor(doc({ 'haven-key-serial-floor': bad }))).toThrow(DeploymentConfigError);
    }
    expect(() => embeddedKeySerialFloor(doc({}))).toThrow(DeploymentConfigError);
  });
});
