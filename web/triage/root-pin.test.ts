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
import { signRootHandover } from '../../crypto/v2/root-handover.ts';
import { ROOT_PIN_KEY, RootChangedError, trustedRoot, trustedRootFollowingHandovers } from './root-pin.ts';

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

  describe('after a root rotation (hand-over statements)', () => {
    const orgId = p.randomBytes(16);
    const seeds = [p.randomBytes(32), p.randomBytes(32), p.randomBytes(32)];
    const roots = seeds.map((s) => p.ed25519KeypairFromSeed(s).publicKey);
    const link = (i: number) => signRootHandover(p, seeds[i]!, seeds[i + 1]!, { orgId, serial: i + 1, issuedHour: 1, oldRootPublic: roots[i]!, newRootPublic: roots[i + 1]! });
    const pinnedTo = (root: Uint8Array) => {
      const store = memoryStorage();
      trustedRoot(p, doc(root), store);
      return store;
    };

    it('[root rotation] follows a verified chain from the pinned root to the page root, re-pins, and names the old fingerprint', async () => {
      const store = pinnedTo(roots[0]!);
      const got = await trustedRootFollowingHandovers(p, async () => ({ organisationId: orgId, handovers: [link(1), link(0)] }), doc(roots[2]!), store);
      expect(got).toEqual({ publicKey: roots[2], fingerprint: rootFingerprint(p, roots[2]!), replacedFingerprint: rootFingerprint(p, roots[0]!) });
      expect(store.getItem(ROOT_PIN_KEY)).toBe(base64urlEncode(roots[2]!));
      // Next visit: plain pin, no notice.
      expect((await trustedRootFollowingHandovers(p, async () => { throw new Error('not asked'); }, doc(roots[2]!), store)).replacedFingerprint).toBeUndefined();
    });

    it('[root swap] keeps refusing a page root that no chain from the pinned root reaches (withheld, forged, or failing fetch)', async () => {
      const store = pinnedTo(roots[0]!);
      const attacker = p.ed25519KeypairFromSeed(p.randomBytes(32)).publicKey;
      await expect(trustedRootFollowingHandovers(p, async () => ({ organisationId: orgId, handovers: [link(0), link(1)] }), doc(attacker), store)).rejects.toBeInstanceOf(RootChangedError);
      await expect(trustedRootFollowingHandovers(p, async () => ({ organisationId: orgId, handovers: [] }), doc(roots[1]!), store)).rejects.toBeInstanceOf(RootChangedError);
      await expect(trustedRootFollowingHandovers(p, async () => ({ organisationId: orgId, handovers: [link(1)] }), doc(roots[2]!), store)).rejects.toBeInstanceOf(RootChangedError);
      await expect(trustedRootFollowingHandovers(p, async () => { throw new Error('offline'); }, doc(roots[1]!), store)).rejects.toBeInstanceOf(RootChangedError);
      expect(store.getItem(ROOT_PIN_KEY)).toBe(base64urlEncode(roots[0]!));
    });
  });
});
