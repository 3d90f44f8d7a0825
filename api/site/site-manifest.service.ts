/**
 * The signed site manifest of each site: what is served at `/.well-known/haven-manifest.json`
 * and how a root signature for it is accepted.
 *
 * The server cannot make the signature (the root seed lives only in admins' browsers and,
 * at creation, in the setup and seed tools); it checks that a signature offered for a site
 * covers exactly the manifest it serves now and verifies against the configured root, then
 * stores it. A wrong or stale signature is refused, never stored.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Primitives } from '../../crypto/primitives.ts';
import { SignatureError } from '../../crypto/errors.ts';
import { manifestSigningBytes, manifestToJson, signManifest, verifyManifest, type SiteManifest, type SiteManifestJson } from '../../crypto/v2/site-manifest.ts';
import type { Database } from '../db/schema.ts';
import { currentKeySerialFloors } from '../admin/admin.service.ts';
import { ConflictError, NotFoundError, UnavailableError, ValidationError } from '../errors.ts';
import type { Site } from '../http/security-headers.ts';
import { encodeBase64url } from '../http/validate.ts';
import { formatKeySerialFloors, type SiteFile, type Sites } from '../web/static-site.ts';
import { findManifestSignature, saveManifestSignature } from './site-manifest.repository.ts';

export interface ServedManifest extends SiteManifestJson {
  /** base64url Ed25519 signature by the root, or null while nobody has signed this build. */
  signature: string | null;
}

/** One site's manifest for the admin's review (GET /api/v1/admin/site-manifests). */
export interface ManifestState {
  site: Site;
  /** Exactly what `/.well-known/haven-manifest.json` of that site answers now. */
  served: ServedManifest;
  /** Hex SHA-256 of the manifest's signed bytes (the browser computes it again). */
  manifestSha256: string;
  signed: boolean;
}

export interface ManifestOverview {
  sites: ManifestState[];
  /**
   * True when a team key changed since the pages were rendered (at the last start): the pages
   * carry per-team serial floors, so they, and both manifests, change at the next restart,
   * and the manifests must be signed again then.
   */
  pagesOutdated: boolean;
}

const NOT_SET_UP = 'This hotline is not set up yet.';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class SiteManifestService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly p: Primitives,
    private readonly sites: Sites,
  ) {}

  private current(site: Site) {
    const rendered = this.sites.get(site);
    if (!rendered.manifest || !rendered.manifestSha256) throw new UnavailableError(NOT_SET_UP, 60);
    return { manifest: rendered.manifest, sha256: rendered.manifestSha256 };
  }

  /** @throws UnavailableError while no root key is configured. */
  async served(site: Site): Promise<ServedManifest> {
    const { manifest, sha256 } = this.current(site);
    const signature = await findManifestSignature(this.db, site, sha256);
    return { ...manifestToJson(manifest), signature: signature ? encodeBase64url(signature) : null };
  }

  /** Both sites' manifests as served now, for an admin to review and sign. @throws UnavailableError. */
  async overview(): Promise<ManifestOverview> {
    const sites: ManifestState[] = [];
    for (const site of ['requester', 'triage'] as const) {
      const served = await this.served(site);
      sites.push({ site, served, manifestSha256: Buffer.from(this.current(site).sha256).toString('hex'), signed: served.signature !== null });
    }
    const rendered = formatKeySerialFloors(this.sites.renderedWith().keySerialFloors);
    const now = formatKeySerialFloors(await currentKeySerialFloors(this.db));
    return { sites, pagesOutdated: rendered !== now };
  }

  /**
   * The bytes `site` serves at `path` now (identity encoding): the same in-memory files its
   * static handler answers from. Lets an admin's browser hash the other site's files, which
   * its CSP (connect-src 'self') does not let it fetch directly.
   * @throws UnavailableError while not set up; NotFoundError for a path the site does not serve.
   */
  file(site: Site, path: string): SiteFile {
    this.current(site);
    const file = this.sites.get(site).files.get(path);
    if (!file) throw new NotFoundError('This site serves no file at that path.');
    return file;
  }

  /**
   * Accepts a root signature over the manifest `site` serves now.
   * @throws ConflictError when `manifestSha256` is not the served manifest (another build or
   *         another root); ValidationError when the signature does not verify.
   */
  async accept(site: Site, manifestSha256: Uint8Array, signature: Uint8Array): Promise<void> {
    const { manifest, sha256 } = this.current(site);
    if (!sameBytes(manifestSha256, sha256)) throw new ConflictError('That is not the manifest this site serves now; fetch it again and sign that.');
    try {
      verifyManifest(this.p, manifest.rootPublicKey, manifest, signature);
    } catch (err) {
      if (err instanceof SignatureError) throw new ValidationError('The signature does not verify with the organisation root key.');
      throw err;
    }
    await saveManifestSignature(this.db, site, sha256, signature);
  }

  /** Signs and stores the manifests this server serves now, with the root seed (tests, tools). */
  async signAll(rootSeed: Uint8Array): Promise<void> {
    const manifests = (['requester', 'triage'] as const).map((site) => this.current(site).manifest);
    await storeSignedManifests(this.db, this.p, rootSeed, manifests);
  }
}

/**
 * Signs manifests with the root seed and stores the signatures, inside the caller's
 * transaction: for the tools that hold the seed at creation (setup, demo seed), so a new
 * deployment's manifest verifies at once.
 */
export async function storeSignedManifests(db: Kysely<Database>, p: Primitives, rootSeed: Uint8Array, manifests: SiteManifest[]): Promise<void> {
  for (const manifest of manifests) await saveManifestSignature(db, manifest.site, manifestSha256(manifest), signManifest(p, rootSeed, manifest));
}

/** SHA-256 of the manifest's signed bytes: its identity, and the hash published out of band. */
export function manifestSha256(manifest: SiteManifest): Uint8Array {
  return new Uint8Array(createHash('sha256').update(manifestSigningBytes(manifest)).digest());
}
