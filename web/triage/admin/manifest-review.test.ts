/**
 * The admin browser's site manifest rules without a page (manifest-review.ts): it signs only a
 * manifest naming the root its page embeds, whose hash it computed and whose every file it
 * hashed itself. Each test names the attack; tests/admin-manifest-browser.test.ts runs the same
 * code in Chromium behind a hostile proxy.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base64urlEncode as b64 } from '../../../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../../../crypto/sodium.ts';
import { createRootKey, rootFingerprint } from '../../../crypto/v1/certs.ts';
import { manifestSigningBytes, manifestToJson, signManifest, verifyManifest, type SiteManifest } from '../../../crypto/v2/site-manifest.ts';
import { type ManifestStateJson, ManifestRefusedError, manifestStatus, reviewManifest, signReviewed } from './manifest-review.ts';

const p = await loadSodiumPrimitives();
const root = createRootKey(p);
const other = createRootKey(p);
const utf8 = (s: string) => new TextEncoder().encode(s);
const PAGE = utf8(`<!doctype html><meta name="haven-root-public-key" content="${b64(root.publicKey)}"><p>hi</p>`);
const SCRIPT = utf8('console.log(1)');
const served = new Map<string, Uint8Array>([['/', PAGE], ['/assets/main.js', SCRIPT]]);
const fetchServed = (path: string) => Promise.resolve(served.get(path) ?? null);
const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function entry(o: { rootPublicKey?: Uint8Array; files?: Record<string, string>; signature?: string | null; sha?: string } = {}): ManifestStateJson {
  const manifest: SiteManifest = { v: 2, site: 'triage', rootPublicKey: o.rootPublicKey ?? root.publicKey, files: o.files ?? { '/': hex(PAGE), '/assets/main.js': hex(SCRIPT) } };
  return { site: 'triage', served: { ...manifestToJson(manifest), signature: o.signature ?? null }, manifestSha256: o.sha ?? hex(manifestSigningBytes(manifest)), signed: o.signature != null };
}

async function refusal(e: ManifestStateJson, fetchFile = fetchServed, embedded = root.publicKey): Promise<[string, string | null]> {
  try {
    await reviewManifest(p, embedded, e, fetchFile);
  } catch (err) {
    if (err instanceof ManifestRefusedError) return [err.reason, err.file];
    throw err;
  }
  return ['accepted', null];
}

describe('admin site manifest review', () => {
  it('reviews a manifest whose files all hash as listed, and signs it so that it verifies', async () => {
    const e = entry();
    const review = await reviewManifest(p, root.publicKey, e, fetchServed);
    expect([review.fileCount, review.manifestSha256, review.rootFingerprint]).toEqual([2, e.manifestSha256, rootFingerprint(p, root.publicKey)]);
    const sig = signReviewed(p, root.seed, root.publicKey, review);
    verifyManifest(p, root.publicKey, review.manifest, sig);
  });

  it('judges the status itself: unsigned, signed, a signature that does not verify, another root', () => {
    const e = entry();
    expect(manifestStatus(p, root.publicKey, e)).toEqual({ status: 'needs_signing' });
    const good = b64(signManifest(p, root.seed, { v: 2, site: 'triage', rootPublicKey: root.publicKey, files: e.served.files }));
    expect(manifestStatus(p, root.publicKey, entry({ signature: good }))).toEqual({ status: 'signed' });
    // A server claiming "signed" with a signature over something else: still needs signing.
    const forged = b64(new Uint8Array(64).fill(1));
    expect(manifestStatus(p, root.publicKey, { ...entry({ signature: forged }), signed: true })).toEqual({ status: 'needs_signing' });
    expect(manifestStatus(p, root.publicKey, entry({ rootPublicKey: other.publicKey }))).toEqual({ status: 'refused', reason: 'other_root' });
    expect(manifestStatus(p, root.publicKey, { ...e, served: { ...e.served, files: {} } })).toEqual({ status: 'refused', reason: 'malformed' });
    expect(manifestStatus(p, root.publicKey, { ...e, site: 'requester' })).toEqual({ status: 'refused', reason: 'wrong_site' });
  });

  it('[server names its own root] refuses a manifest naming another root than the page embeds', async () => {
    expect(await refusal(entry({ rootPublicKey: other.publicKey }))).toEqual(['other_root', null]);
  });

  it('[server lists hashes of files it does not serve] refuses a hash that differs from the bytes fetched', async () => {
    const files = { '/': hex(PAGE), '/assets/main.js': hex(utf8('evil()')) };
    expect(await refusal(entry({ files }))).toEqual(['file_differs', '/assets/main.js']);
    expect(await refusal(entry(), (path) => Promise.resolve(path === '/' ? PAGE : null))).toEqual(['file_unavailable', '/assets/main.js']);
  });

  it('refuses a listed hash it did not compute, a manifest without the page, and a page embedding another root', async () => {
    expect(await refusal(entry({ sha: 'ab'.repeat(32) }))).toEqual(['hash_differs', null]);
    expect(await refusal(entry({ files: { '/assets/main.js': hex(SCRIPT) } }))).toEqual(['no_page', null]);
    const page = utf8(`<meta name="haven-root-public-key" content="${b64(other.publicKey)}">`);
    expect(await refusal(entry({ files: { '/': hex(page) } }), () => Promise.resolve(page))).toEqual(['page_root', '/']);
  });

  it('signs nothing with a seed of another root', async () => {
    const review = await reviewManifest(p, root.publicKey, entry(), fetchServed);
    expect(() => signReviewed(p, other.seed, root.publicKey, review)).toThrow();
  });
});
