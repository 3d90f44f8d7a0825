/** The page's reader of its embedded deployment values refuses a missing or malformed key. */
import { describe, expect, it } from 'vitest';
import { base64urlEncode } from '../../crypto/encoding.ts';
import { DeploymentConfigError, embeddedKeySerialFloor, embeddedKeySerialFloors, embeddedRootPublicKey, hasEmbeddedRootPublicKey } from './deployment.ts';

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
  const teamA = new Uint8Array(16).fill(1);
  const teamB = new Uint8Array(16).fill(2);
  const [a, b] = [base64urlEncode(teamA), base64urlEncode(teamB)];

  it('reads the root key and each team\'s serial floor the server rendered into the page', () => {
    const d = doc({ 'haven-root-public-key': base64urlEncode(key), 'haven-key-serial-floor': `${a}:12 ${b}:3` });
    expect(hasEmbeddedRootPublicKey(d)).toBe(true);
    expect(embeddedRootPublicKey(d)).toEqual(key);
    expect(embeddedKeySerialFloor(teamA, d)).toBe(12);
    expect(embeddedKeySerialFloor(b, d)).toBe(3);
    expect(embeddedKeySerialFloors(d)).toEqual(new Map([[a, 12], [b, 3]]));
  });

  it('gives floor 0 to a team the page does not name (created after the page was rendered, or still on v1)', () => {
    expect(embeddedKeySerialFloor(teamB, doc({ 'haven-key-serial-floor': `${a}:12` }))).toBe(0);
    expect(embeddedKeySerialFloor(teamA, doc({ 'haven-key-serial-floor': '' }))).toBe(0);
  });

  it('throws a clear error when the hotline is not set up (no key in the page)', () => {
    const d = doc({ 'haven-key-serial-floor': '' });
    expect(hasEmbeddedRootPublicKey(d)).toBe(false);
    expect(() => embeddedRootPublicKey(d)).toThrow(DeploymentConfigError);
    expect(() => embeddedRootPublicKey(d)).toThrow(/not set up/);
  });

  it('throws on a malformed key or serial floor', () => {
    for (const bad of ['', 'not base64url!', base64urlEncode(new Uint8Array(31)), base64urlEncode(new Uint8Array(33))]) {
      expect(() => embeddedRootPublicKey(doc({ 'haven-root-public-key': bad }))).toThrow(DeploymentConfigError);
    }
    for (const bad of ['12', `${a}:-1`, `${a}:1.5`, `${a}:99999999999`, `${a}:4294967296`, 'x', `${a}:1  ${b}:2`, `${a}:1 ${a}:2`, `${a.slice(1)}:1`, ` ${a}:1`]) {
      expect(() => embeddedKeySerialFloor(teamA, doc({ 'haven-key-serial-floor': bad }))).toThrow(DeploymentConfigError);
    }
    expect(() => embeddedKeySerialFloor(teamA, doc({}))).toThrow(DeploymentConfigError);
  });
});
