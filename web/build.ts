/**
 * Bundles each site's front end with esbuild, in memory, at start.
 *
 * Building at start (not from a checked-in `dist/`) means the served bytes, their
 * Subresource Integrity attributes and the published asset hashes always come from the
 * same source. Every asset name carries its content hash.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export type SiteName = 'requester' | 'triage';

export interface BuiltFile {
  body: Uint8Array;
  contentType: string;
  /** `sha384-...`, as used in `integrity` attributes. */
  integrity: string;
  /** Hex SHA-256, as published in the asset manifest for out-of-band checks. */
  sha256: string;
  /** Gzip of `body` for static assets, made once at build time (never for per-request pages). */
  gzip?: Uint8Array;
}

export interface BuiltSiteBundle {
  /** Keyed by URL path, e.g. `/` and `/assets/main-3f2a.js`. */
  files: Map<string, BuiltFile>;
}

const WEB_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Entry points per site: scripts loaded by the page, and Web Workers (no SRI possible). */
const ENTRIES: Record<SiteName, { scripts: string[]; workers: string[]; css: string[] }> = {
  requester: { scripts: ['main.ts'], workers: ['pow-worker.ts'], css: ['style.css'] },
  triage: { scripts: ['main.ts'], workers: [], css: ['style.css'] },
};

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

function describe(body: Uint8Array, contentType: string, compress = true): BuiltFile {
  return {
    body,
    contentType,
    ...(compress ? { gzip: new Uint8Array(gzipSync(body, { level: 9 })) } : {}),
    integrity: `sha384-${createHash('sha384').update(body).digest('base64')}`,
    sha256: createHash('sha256').update(body).digest('hex'),
  };
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

export async function buildSite(site: SiteName): Promise<BuiltSiteBundle> {
  const dir = path.join(WEB_DIR, site);
  const files = new Map<string, BuiltFile>();
  const entries = ENTRIES[site];

  // Workers first: pages learn their hashed URLs through a compile-time constant.
  const workerUrls: Record<string, string> = {};
  for (const worker of entries.workers) {
    const body = await bundle(path.join(dir, worker), 'iife', {});
    const url = `/assets/${hashedName(worker.replace(/\.ts$/, '.js'), body)}`;
    files.set(url, describe(body, CONTENT_TYPES['.js']!));
    workerUrls[path.basename(worker, '.ts')] = url;
  }

  const tags: string[] = [];
  for (const css of entries.css) {
    const body = new Uint8Array(await readFile(path.join(dir, css)));
    const url = `/assets/${hashedName(css, body)}`;
    const file = describe(body, CONTENT_TYPES['.css']!);
    files.set(url, file);
    tags.push(`<link rel="stylesheet" href="${url}" integrity="${file.integrity}">`);
  }
  for (const script of entries.scripts) {
    const body = await bundle(path.join(dir, script), 'esm', { __WORKER_URLS__: JSON.stringify(workerUrls) });
    const url = `/assets/${hashedName(script.replace(/\.ts$/, '.js'), body)}`;
    const file = describe(body, CONTENT_TYPES['.js']!);
    files.set(url, file);
    tags.push(`<script type="module" src="${url}" integrity="${file.integrity}"></script>`);
  }

  const template = await readFile(path.join(dir, 'index.html'), 'utf8');
  if (!template.includes('<!--ASSETS-->')) throw new Error(`${site}/index.html lacks the <!--ASSETS--> marker`);
  const html = new TextEncoder().encode(template.replace('<!--ASSETS-->', tags.join('\n    ')));
  // The page itself is completed per request (its <noscript> forms), so it is not precompressed.
  files.set('/', describe(html, CONTENT_TYPES['.html']!, false));
  return { files };
}
