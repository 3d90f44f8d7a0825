/**
 * The admin browser's judgement of a site manifest before it signs one with the root seed
 * (Protocol v2, 26.6), apart from the DOM: what status a served manifest has, a review that
 * checks it against the root this page embeds and against the bytes actually served, and the
 * signature.
 *
 * Threat (docs/THREAT-MODEL.md, "compromised server code"): a signature is the organisation
 * approving code that every requester's browser will run. The server lists the manifest and
 * could list anything: another root, or hashes of files it does not serve (so that after
 * signing it can serve what it likes under a manifest that "verifies"). So this browser signs
 * only a manifest that names the root its own page embeds, whose hash it computed itself, and
 * whose every listed file it fetched and hashed itself and found equal:
 * - triage files: fetched by this page from its own origin, as any visitor gets them;
 * - requester files: the dashboard's CSP (connect-src 'self') cannot reach the requester
 *   origin, so they come through the triage server's admin endpoint, which answers the bytes
 *   the same process serves there. That proves the listed hashes are the server's files, not
 *   what a proxy in front of the requester origin serves; `npm run verify-site` against the
 *   public requester address is the outside check (docs/DEPLOY.md).
 */
import { base64urlDecode as unb64, base64urlEncode as b64 } from '../../../crypto/encoding.ts';
import type { Primitives } from '../../../crypto/primitives.ts';
import { rootFingerprint } from '../../../crypto/v1/certs.ts';
import { manifestFromJson, manifestSigningBytes, signManifest, type SiteManifest, type SiteManifestJson, type SiteName, verifyManifest } from '../../../crypto/v2/site-manifest.ts';

/** One site in GET /api/v1/admin/site-manifests (docs/PROTOCOL.md 24.9). */
export interface ManifestStateJson {
  site: SiteName;
  served: SiteManifestJson & { signature: string | null };
  manifestSha256: string;
  signed: boolean;
}

export interface ManifestOverviewJson {
  sites: ManifestStateJson[];
  /** A team key changed since the pages were rendered: they change at the next restart. */
  pagesOutdated: boolean;
}

export type ManifestRefusal = 'no_sha256' | 'malformed' | 'wrong_site' | 'other_root' | 'hash_differs' | 'no_page' | 'page_root' | 'file_differs' | 'file_unavailable';

/** A manifest this browser will not sign; nothing is sent after it. */
export class ManifestRefusedError extends Error {
  constructor(
    readonly reason: ManifestRefusal,
    readonly site: SiteName,
    readonly file: string | null = null,
  ) {
    super(reason);
  }
}

/**
 * - `signed`: a signature is served and verifies with the embedded root;
 * - `needs_signing`: no signature, or one that does not verify (stale or forged);
 * - `refused`: the manifest is malformed, for another site, or names another root.
 */
export type ManifestStatus = { status: 'signed' | 'needs_signing' } | { status: 'refused'; reason: ManifestRefusal };

/**
 * Hex SHA-256 by WebCrypto (crypto/ has no SHA-256 in its primitive set, 26.6). WebCrypto
 * exists in secure contexts only: HTTPS, localhost, and .onion in Tor Browser.
 * @throws ManifestRefusedError('no_sha256') where the browser offers none.
 */
export async function sha256Hex(bytes: Uint8Array, site: SiteName = 'triage'): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new ManifestRefusedError('no_sha256', site);
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** Parses the listed manifest and checks site and root; the checks every later step relies on. */
function parse(embeddedRoot: Uint8Array, entry: ManifestStateJson): SiteManifest {
  let manifest: SiteManifest;
  try {
    manifest = manifestFromJson(entry.served);
  } catch {
    throw new ManifestRefusedError('malformed', entry.site);
  }
  if (manifest.site !== entry.site) throw new ManifestRefusedError('wrong_site', entry.site);
  if (b64(manifest.rootPublicKey) !== b64(embeddedRoot)) throw new ManifestRefusedError('other_root', entry.site);
  return manifest;
}

/** The status of a served manifest as this browser judges it (never the server's `signed` alone). */
export function manifestStatus(p: Primitives, embeddedRoot: Uint8Array, entry: ManifestStateJson): ManifestStatus {
  let manifest: SiteManifest;
  try {
    manifest = parse(embeddedRoot, entry);
  } catch (err) {
    return { status: 'refused', reason: (err as ManifestRefusedError).reason };
  }
  if (typeof entry.served.signature !== 'string') return { status: 'needs_signing' };
  try {
    verifyManifest(p, embeddedRoot, manifest, unb64(entry.served.signature));
    return { status: 'signed' };
  } catch {
    return { status: 'needs_signing' };
  }
}

export interface ManifestReview {
  site: SiteName;
  manifest: SiteManifest;
  fileCount: number;
  /** Hex SHA-256 of the signed bytes, computed here. */
  manifestSha256: string;
  /** Fingerprint of the root this page embeds (which the manifest names). */
  rootFingerprint: string;
}

/** The bytes served at a path; null when it cannot be fetched. */
export type FetchFile = (path: string) => Promise<Uint8Array | null>;

function embedsRoot(page: Uint8Array, root: Uint8Array): boolean {
  const m = /<meta name="haven-root-public-key" content="([A-Za-z0-9_-]+)">/.exec(new TextDecoder().decode(page));
  return m !== null && m[1] === b64(root);
}

/**
 * Reviews a listed manifest for signing: the root it names must be the one this page embeds,
 * its hash is computed here and must be the one listed, it must list the page `/`, and every
 * listed file is fetched and must hash to its listed value (the page must embed the root too).
 * @throws ManifestRefusedError naming the first problem.
 */
export async function reviewManifest(p: Primitives, embeddedRoot: Uint8Array, entry: ManifestStateJson, fetchFile: FetchFile): Promise<ManifestReview> {
  const manifest = parse(embeddedRoot, entry);
  const manifestSha256 = await sha256Hex(manifestSigningBytes(manifest), entry.site);
  if (manifestSha256 !== entry.manifestSha256) throw new ManifestRefusedError('hash_differs', entry.site);
  const paths = Object.keys(manifest.files).sort();
  if (!paths.includes('/')) throw new ManifestRefusedError('no_page', entry.site);
  for (const path of paths) {
    const bytes = await fetchFile(path);
    if (bytes === null) throw new ManifestRefusedError('file_unavailable', entry.site, path);
    if ((await sha256Hex(bytes, entry.site)) !== manifest.files[path]) throw new ManifestRefusedError('file_differs', entry.site, path);
    if (path === '/' && !embedsRoot(bytes, embeddedRoot)) throw new ManifestRefusedError('page_root', entry.site, path);
  }
  return { site: entry.site, manifest, fileCount: paths.length, manifestSha256, rootFingerprint: rootFingerprint(p, embeddedRoot) };
}

/**
 * Signs a reviewed manifest with the root seed and checks the signature with the embedded
 * root before it is offered for upload. @throws CryptoError (seed of another root).
 */
export function signReviewed(p: Primitives, rootSeed: Uint8Array, embeddedRoot: Uint8Array, review: ManifestReview): Uint8Array {
  const signature = signManifest(p, rootSeed, review.manifest);
  verifyManifest(p, embeddedRoot, review.manifest, signature);
  return signature;
}
