/**
 * The dashboard's root: only the page-embedded key, pinned on first use; a later page with
 * another root is refused with both fingerprints; a browser that refuses storage still uses
 * the embedded key (unpinned) rather than failing.
 */
import { describe, expect, it } from 'vitest';
import { base64urlEncode } from '../../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { rootFingerprint } from '../../crypto/v1/certs.ts';
import { DeploymentConfigError } from '../shared/deployment.ts';
import { ROOT_PIN_KEY, RootChangedError, trustedRoot } from './root-pin.ts';

const p = await loadSodiumPrimitives();

function doc(root: Uint8Array | null): Document {
  return {
    querySelector: (selector: string) => (root && selector.includes('haven-root-public-key') ? { content: base64urlEncode(root) } : null),
  } as unknown as Document;
}

function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) } as unknown as Storage;
}

describe('root pin', () => {
  const a = p.ed25519KeypairFromSeed(p.randomBytes(32)).publicKey;
  const b = p.ed25519KeypairFromSeed(p.randomBytes(32)).publicKey;

  it('pins the embedded root on first use and accepts it again', () => {
    const store = memoryStorage();
    expect(trustedRoot(p, doc(a), store)).toEqual({ publicKey: a, fingerprint: rootFingerprint(p, a) });
    expect(store.getItem(ROOT_PIN_KEY)).toBe(base64urlEncode(a));
    expect(trustedRoot(p, doc(a), store).fingerprint).toBe(rootFingerprint(p, a));
  });

  it('refuses a page that embeds another root than the pinned one, naming both fingerprints, and keeps the pin', () => {
    const store = memoryStorage();
    trustedRoot(p, doc(a), store);
    let caught: unknown;
    try {
      trustedRoot(p, doc(b), store);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RootChangedError);
    expect(caught).toMatchObject({ oldFingerprint: rootFingerprint(p, a), newFingerprint: rootFingerprint(p, b) });
    expect(store.getItem(ROOT_PIN_KEY)).toBe(base64urlEncode(a));
  });

  it('refuses a page without a root, and works unpinned where storage is refused', () => {
    expect(() => trustedRoot(p, doc(null), memoryStorage())).toThrow(DeploymentConfigError);
    const refusing = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('denied'); } } as unknown as Storage;
    expect(trustedRoot(p, doc(b), refusing).publicKey).toEqual(b);
    expect(trustedRoot(p, doc(a), null).publicKey).toEqual(a);
  });
});
