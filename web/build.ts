/**
 * Bundles each site's front end with esbuild. Runs at BUILD time only, as its own program:
 * `npm run build` (api/build/build.ts) runs `node --import tsx web/build.ts <out>` and reads
 * what it wrote, so neither side imports the other; the server reads the output from `dist/`.
 *
 * Every asset name carries its content hash. The page comes out as a template with two
 * markers the server fills once at start from deployment configuration (never per request):
 * `<!--DEPLOYMENT-->` (the root public key and key-serial floor meta tags) and
 * `<!--NOT-SET-UP-->` (a notice while no root key is configured).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export type SiteName = 'requester' | 'triage';

export interface BuiltAsset {
  body: Uint8Array;
  contentType: string;
}

export interface BuiltSiteOutput {
  /** Keyed by URL path, e.g. `/assets/main-3f2a9c0b1d2e.js`. */
  assets: Map<string, BuiltAsset>;
  /** The page template with its asset tags filled in and the two deployment markers kept. */
  page: string;
  /** `sha384-...` of every script the page loads: the page's CSP script-src. */
  scriptIntegrity: string[];
}

const WEB_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Entry points per site: scripts loaded by the page, and Web Workers (no SRI possible). */
const ENTRIES: Record<SiteName, { scripts: string[]; workers: string[]; css: string[]; icon?: string; wordLists?: boolean }> = {
  requester: { scripts: ['main.ts'], workers: ['pow-worker.ts'], css: ['style.css'], icon: 'favicon.svg', wordLists: true },
  triage: { scripts: ['main.ts'], workers: ['decrypt-worker.ts'], css: ['style.css'] },
};

/**
 * The passphrase word lists, as separate hashed JSON assets: together about 40 KB gzipped, and
 * needed only when a passphrase is made, so the page loads the chosen language's list then
 * (web/requester/word-lists.ts), checked against the `sha384` compiled into the page's script
 * (fetch with `integrity`), which itself is pinned by the page and so by the signed manifest.
 */
const WORD_LISTS: Record<string, string> = { en: '../crypto/wordlists/en.ts', ru: '../crypto/wordlists/ru.ts' };

export const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
};

export const DEPLOYMENT_MARKER = '<!--DEPLOYMENT-->';
export const NOT_SET_UP_MARKER = '<!--NOT-SET-UP-->';

function integrity(body: Uint8Array): string {
  return `sha384-${createHash('sha384').update(body).digest('base64')}`;
}

function hashedName(name: string, body: Uint8Array): string {
  const ext = path.extname(name);
  const short = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return `${path.basename(name, ext)}-${short}${ext}`;
}

async function bundle(entry: string, format: 'esm' | 'iife', define: Record<string, string>): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format,
    platform: 'browser',
    target: ['es2020'],
    minify: true,
    legalComments: 'none',
    define,
    logLevel: 'silent',
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error(`esbuild produced nothing for ${entry}`);
  return out.contents;
}

/** Builds one site. @throws when esbuild fails or the template lacks a marker. */
export async function buildSite(site: SiteName): Promise<BuiltSiteOutput> {
  const dir = path.join(WEB_DIR, site);
  const assets = new Map<string, BuiltAsset>();
  const entries = ENTRIES[site];
  const scriptIntegrity: string[] = [];

  // Workers first: pages learn their hashed URLs through a compile-time constant.
  const workerUrls: Record<string, string> = {};
  for (const worker of entries.workers) {
    const body = await bundle(path.join(dir, worker), 'iife', {});
    const url = `/assets/${hashedName(worker.replace(/\.ts$/, '.js'), body)}`;
    assets.set(url, { body, contentType: CONTENT_TYPES['.js']! });
    workerUrls[path.basename(worker, '.ts')] = url;
  }

  const wordLists: Record<string, { url: string; integrity: string }> = {};
  if (entries.wordLists) {
    for (const [lang, module] of Object.entries(WORD_LISTS)) {
      const { WORDS } = (await import(path.join(WEB_DIR, module))) as { WORDS: readonly string[] };
      const body = new TextEncoder().encode(JSON.stringify(WORDS));
      const url = `/assets/${hashedName(`words-${lang}.json`, body)}`;
      assets.set(url, { body, contentType: CONTENT_TYPES['.json']! });
      wordLists[lang] = { url, integrity: integrity(body) };
    }
  }

  const tags: string[] = [];
  if (entries.icon) {
    // Served like every asset (and listed in the manifest), so the browser's icon request is no 404.
    const body = new Uint8Array(await readFile(path.join(dir, entries.icon)));
    const url = `/assets/${hashedName(entries.icon, body)}`;
    assets.set(url, { body, contentType: CONTENT_TYPES[path.extname(entries.icon)]! });
    tags.push(`<link rel="icon" href="${url}" type="${CONTENT_TYPES[path.extname(entries.icon)]!}">`);
  }
  for (const css of entries.css) {
    const body = new Uint8Array(await readFile(path.join(dir, css)));
    const url = `/assets/${hashedName(css, body)}`;
    assets.set(url, { body, contentType: CONTENT_TYPES['.css']! });
    tags.push(`<link rel="stylesheet" href="${url}" integrity="${integrity(body)}">`);
  }
  for (const script of entries.scripts) {
    const body = await bundle(path.join(dir, script), 'esm', { __WORKER_URLS__: JSON.stringify(workerUrls), __WORD_LISTS__: JSON.stringify(wordLists) });
    const url = `/assets/${hashedName(script.replace(/\.ts$/, '.js'), body)}`;
    assets.set(url, { body, contentType: CONTENT_TYPES['.js']! });
    scriptIntegrity.push(integrity(body));
    tags.push(`<script type="module" src="${url}" integrity="${integrity(body)}"></script>`);
  }

  const template = await readFile(path.join(dir, 'index.html'), 'utf8');
  for (const marker of ['<!--ASSETS-->', DEPLOYMENT_MARKER, NOT_SET_UP_MARKER]) {
    if (template.split(marker).length !== 2) throw new Error(`${site}/index.html must hold the ${marker} marker exactly once`);
  }
  return { assets, page: template.replace('<!--ASSETS-->', tags.join('\n    ')), scriptIntegrity };
}

/** What `writeSites` leaves beside the files: read by api/build/build.ts, then removed. */
export const SITES_INDEX = 'web/sites.json';

export interface SitesIndexEntry {
  /** out-relative path of the page template. */
  page: string;
  /** URL path -> out-relative file. */
  assets: Record<string, string>;
  scriptIntegrity: string[];
  /** out-relative file -> content type, for every file of the site. */
  contentTypes: Record<string, string>;
}

/** Writes both sites under `<out>/web/<site>/` and their index to `<out>/web/sites.json`. */
export async function writeSites(out: string): Promise<void> {
  const index = {} as Record<SiteName, SitesIndexEntry>;
  for (const site of ['requester', 'triage'] as const) {
    const built = await buildSite(site);
    const entry: SitesIndexEntry = { page: `web/${site}/index.html`, assets: {}, scriptIntegrity: built.scriptIntegrity, contentTypes: {} };
    for (const [url, asset] of built.assets) {
      const rel = `web/${site}${url}`;
      await mkdir(path.dirname(path.join(out, rel)), { recursive: true });
      await writeFile(path.join(out, rel), asset.body);
      entry.assets[url] = rel;
      entry.contentTypes[rel] = asset.contentType;
    }
    await mkdir(path.join(out, 'web', site), { recursive: true });
    await writeFile(path.join(out, entry.page), built.page);
    entry.contentTypes[entry.page] = CONTENT_TYPES['.html']!;
    index[site] = entry;
  }
  await writeFile(path.join(out, SITES_INDEX), JSON.stringify(index));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: node --import tsx web/build.ts <output folder>');
  await writeSites(path.resolve(out));
}
