/**
 * The two front ends as the server holds them: loaded once from the build in `dist/`,
 * rendered once with the deployment's values, served from memory.
 *
 * Every request of a deployment gets identical page bytes: the page carries no nonce and
 * nothing per request, so its CSP can name the scripts by hash and its SHA-256 can go into
 * the root-signed site manifest (`/.well-known/haven-manifest.json`). The root public key is
 * written into the page from deployment configuration (HAVEN_ROOT_PUBLIC_KEY or its file),
 * never from the database or an API answer, so the page's trust anchor is part of what the
 * manifest signature and an outside check (npm run verify-site) cover.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { encodeBase64url } from '../http/validate.ts';
import { manifestSigningBytes, type SiteManifest } from '../../crypto/v2/site-manifest.ts';
import type { Site } from '../http/security-headers.ts';

/** Same markers as web/build.ts (which the server must not import). */
const DEPLOYMENT_MARKER = '<!--DEPLOYMENT-->';
const NOT_SET_UP_MARKER = '<!--NOT-SET-UP-->';

export interface SiteFile {
  body: Uint8Array;
  contentType: string;
  /** Hex SHA-256, as listed in the site manifest. */
  sha256: string;
  /** `sha384-...`, as in `integrity` attributes. */
  integrity: string;
  /** Gzip of `body`, made on first use and kept: the files are static and reflect no input. */
  readonly gzip: Uint8Array;
}

/** Team id (base64url) -> the lowest team key statement serial a page accepts for that team. */
export type KeySerialFloors = Readonly<Record<string, number>>;

export interface DeploymentValues {
  /** From deployment configuration; null until the hotline is set up. */
  rootPublicKey: Uint8Array | null;
  /**
   * Per team, the serial of its current key statement when the pages were rendered
   * (api/admin/admin.service.ts `currentKeySerialFloors`); teams without one are absent.
   *
   * Why a per-team map and not one number: serials are per team, so one number would have to
   * be the MINIMUM over the teams (a floor must never exceed a team's legitimate current
   * serial, or that team's genuine key is refused), and the team rotated most would get the
   * floor of the team rotated least, i.e. almost no protection. The maximum would be wrong
   * outright (it refuses the genuine keys of every other team). A map gives every team the
   * strongest floor that is still safe, for a few dozen bytes per team.
   */
  keySerialFloors: KeySerialFloors;
}

export interface RenderedSite {
  site: Site;
  /** URL path -> file; `/` is the page. */
  files: Map<string, SiteFile>;
  /** `sha384-...` of every script the page loads (its CSP script-src). */
  scriptIntegrity: string[];
  /** Null while no root key is configured: there is nothing to sign the manifest with. */
  manifest: SiteManifest | null;
  /** SHA-256 of the manifest's signed bytes (crypto/v2/site-manifest.ts); null with `manifest`. */
  manifestSha256: Uint8Array | null;
}

interface BuildManifestJson {
  v: 1;
  files: Record<string, { sha256: string; size: number; contentType: string }>;
  sites: Record<Site, { page: string; assets: Record<string, string>; scriptIntegrity: string[] }>;
}

interface LoadedSite {
  page: string;
  assets: Map<string, SiteFile>;
  scriptIntegrity: string[];
}

export class BuildMissingError extends Error {
  override name = 'BuildMissingError';
}

const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function describe(body: Uint8Array, contentType: string): SiteFile {
  const integrity = `sha384-${createHash('sha384').update(body).digest('base64')}`;
  let gzip: Uint8Array | null = null;
  return {
    body,
    contentType,
    sha256: sha256Hex(body),
    integrity,
    get gzip() {
      gzip ??= new Uint8Array(gzipSync(body, { level: 9 }));
      return gzip;
    },
  };
}

function escapeAttribute(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const TEAM_ID_B64 = /^[A-Za-z0-9_-]{22}$/;

/**
 * The operator's title for the requester page (HAVEN_REQUESTER_TITLE): in `<title>`, so the tab
 * and the history entry show it before any script runs, and in `<meta name="haven-page-title">`,
 * which the page's script keeps (web/requester/main.ts) instead of its neutral per-language one.
 * Why configurable: what looks ordinary on a seized phone differs by country and language.
 */
function withPageTitle(html: string, title: string): string {
  const escaped = escapeAttribute(title);
  const replaced = html.replace(/<title>[^<]*<\/title>/, `<title>${escaped}</title>\n    <meta name="haven-page-title" content="${escaped}">`);
  if (replaced === html) throw new Error('the requester page has no <title> to replace');
  return replaced;
}

/**
 * The floor map as the page carries it (web/shared/deployment.ts reads it):
 * `teamId:serial` pairs separated by one space, sorted by team id so the page bytes (and so
 * the signed site manifest) depend only on the values; empty when there are no teams.
 * @throws RangeError on a team id that is not 16 bytes of base64url or a serial outside u32.
 */
export function formatKeySerialFloors(floors: KeySerialFloors): string {
  const pairs = Object.entries(floors).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [id, serial] of pairs) {
    if (!TEAM_ID_B64.test(id)) throw new RangeError('keySerialFloors: a team id is not 16 bytes of base64url');
    if (!Number.isInteger(serial) || serial < 0 || serial > 0xffffffff) throw new RangeError('keySerialFloors: a serial is not a whole number 0-4294967295');
  }
  return pairs.map(([id, serial]) => `${id}:${serial}`).join(' ');
}

/** The meta tags the pages read their trust anchor from (web/shared/deployment.ts). */
export function deploymentMeta(values: DeploymentValues): string {
  const tags = [`<meta name="haven-key-serial-floor" content="${formatKeySerialFloors(values.keySerialFloors)}">`];
  if (values.rootPublicKey) tags.unshift(`<meta name="haven-root-public-key" content="${escapeAttribute(encodeBase64url(values.rootPublicKey))}">`);
  return tags.join('\n    ');
}

const NOT_SET_UP_NOTICE =
  '<p id="not-set-up" class="error" role="alert">This hotline is not set up yet: nothing can be sent or read here. ' +
  '<span lang="ru">Эта горячая линия ещё не настроена: здесь пока нельзя ничего отправить или прочитать.</span></p>';

/**
 * The sites of one deployment: the build, loaded and checked once, and its current rendering.
 * `render` re-renders both pages (first-run setup calls it once the root key exists).
 */
export class Sites {
  private current: Partial<Record<Site, RenderedSite>> = {};
  private values: DeploymentValues | null = null;

  private constructor(
    private readonly loaded: Record<Site, LoadedSite>,
    /** HAVEN_REQUESTER_TITLE: the requester page's tab title and history entry; null keeps the neutral default. */
    private readonly requesterTitle: string | null = null,
  ) {}

  /**
   * Reads `dist/` and checks every web file against the build manifest.
   * @throws BuildMissingError when there is no finished build or a file differs from it.
   */
  static load(distDir: string, values: DeploymentValues, options: { requesterTitle?: string | null } = {}): Sites {
    let manifest: BuildManifestJson;
    try {
      manifest = JSON.parse(fs.readFileSync(path.join(distDir, 'build-manifest.json'), 'utf8')) as BuildManifestJson;
    } catch {
      throw new BuildMissingError(`no finished build in ${distDir}: run \`npm run build\``);
    }
    const read = (rel: string): Uint8Array => {
      const expected = manifest.files[rel];
      let body: Uint8Array;
      try {
        body = new Uint8Array(fs.readFileSync(path.join(distDir, rel)));
      } catch {
        throw new BuildMissingError(`${rel} is missing from ${distDir}: run \`npm run build\``);
      }
      if (!expected || sha256Hex(body) !== expected.sha256) throw new BuildMissingError(`${rel} in ${distDir} differs from its build manifest: run \`npm run build\``);
      return body;
    };
    const loaded = {} as Record<Site, LoadedSite>;
    for (const site of ['requester', 'triage'] as const) {
      const entry = manifest.sites?.[site];
      if (!entry) throw new BuildMissingError(`the build in ${distDir} has no ${site} site: run \`npm run build\``);
      const assets = new Map<string, SiteFile>();
      for (const [url, rel] of Object.entries(entry.assets)) assets.set(url, describe(read(rel), manifest.files[rel]!.contentType));
      loaded[site] = { page: new TextDecoder().decode(read(entry.page)), assets, scriptIntegrity: entry.scriptIntegrity };
    }
    const sites = new Sites(loaded, options.requesterTitle ?? null);
    sites.render(values);
    return sites;
  }

  /** Renders both pages with these values; every later request sees the new bytes. */
  render(values: DeploymentValues): void {
    formatKeySerialFloors(values.keySerialFloors); // throws before anything is replaced
    for (const site of ['requester', 'triage'] as const) {
      const { page, assets, scriptIntegrity } = this.loaded[site];
      let html = page.replace(DEPLOYMENT_MARKER, deploymentMeta(values)).replace(NOT_SET_UP_MARKER, values.rootPublicKey ? '' : NOT_SET_UP_NOTICE);
      if (site === 'requester' && this.requesterTitle !== null) html = withPageTitle(html, this.requesterTitle);
      const files = new Map(assets);
      files.set('/', describe(new TextEncoder().encode(html), 'text/html; charset=utf-8'));
      let manifest: SiteManifest | null = null;
      let manifestSha256: Uint8Array | null = null;
      if (values.rootPublicKey) {
        manifest = { v: 2, site, rootPublicKey: values.rootPublicKey, files: Object.fromEntries([...files].map(([url, f]) => [url, f.sha256])) };
        manifestSha256 = new Uint8Array(createHash('sha256').update(manifestSigningBytes(manifest)).digest());
      }
      this.current[site] = { site, files, scriptIntegrity, manifest, manifestSha256 };
    }
    this.values = { rootPublicKey: values.rootPublicKey, keySerialFloors: { ...values.keySerialFloors } };
  }

  /** The values the pages now served were rendered with. */
  renderedWith(): DeploymentValues {
    return this.values!;
  }

  get(site: Site): RenderedSite {
    return this.current[site]!;
  }
}

/**
 * The manifests both sites of the build in `distDir` would serve under a given root key and
 * serial floors: what setup and the demo seed sign while they hold the new root seed. They
 * pass the floors the server will render at its next start (their teams' first statements),
 * since the floors are part of the page bytes the manifest covers.
 * @throws BuildMissingError when there is no finished build.
 */
export function manifestsOfBuild(distDir: string): (rootPublicKey: Uint8Array, keySerialFloors?: KeySerialFloors) => SiteManifest[] {
  return (rootPublicKey, keySerialFloors = {}) => {
    const sites = Sites.load(distDir, { rootPublicKey, keySerialFloors });
    return [sites.get('requester').manifest!, sites.get('triage').manifest!];
  };
}

/** Serves a site's files from memory (GET and HEAD), gzip when the client accepts it. */
export function staticSite(sites: Sites, site: Site) {
  const app = new Hono();
  app.get('*', (c, next) => {
    const file = sites.get(site).files.get(c.req.path);
    if (!file) return next();
    if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
      return c.body(file.gzip as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': file.contentType, 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
    }
    return c.body(file.body as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': file.contentType, Vary: 'Accept-Encoding' });
  });
  return app;
}
