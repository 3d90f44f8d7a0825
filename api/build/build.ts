/**
 * `npm run build`: everything Haven runs, built once into `dist/`.
 *
 * - The server and its command-line tools: esbuild bundles our TypeScript into one ESM file
 *   per entry (`dist/server/*.js`), with npm packages left as imports (`packages:
 *   'external'`), so `npm ci --omit=dev` plus `dist/` runs it: no tsx, no esbuild at run time.
 *   esbuild rather than `tsc` emit: the sources import `.ts` paths and the migrations are
 *   loaded by path, which tsc would have to rewrite; esbuild is already the front-end
 *   bundler, so one tool, about a second for everything, and `tsc --noEmit` still checks types.
 * - Migrations as separate files (`dist/migrations/*.js`): the migrator loads them by name.
 * - Both front ends, content-hashed, as page templates plus assets (`dist/web/<site>/...`);
 *   the server fills in the deployment values once at start. web/build.ts bundles them as a
 *   separate program whose output this reads, so api/ never imports web/ (not even here).
 * - `dist/build-manifest.json`, written last: every file's SHA-256, size and content type,
 *   each site's asset map and script hashes, and the hash of the sources it was built from
 *   (api/build/source-hash.mjs decides when it is stale).
 *
 * The build goes to a temporary folder that replaces `dist/` in one rename, so a reader never
 * sees half a build.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { sourceFiles, sourceHash, staleReason, STAMP } from './source-hash.mjs';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const DIST = path.join(ROOT, 'dist');

/** Server-side entry points: `dist/server/<name>.js`. */
export const SERVER_ENTRIES: Record<string, string> = {
  main: 'api/main.ts',
  migrate: 'api/db/migrate.cli.ts',
  seed: 'seeds/seed.ts',
  demo: 'seeds/demo-run.ts',
  setup: 'api/admin/setup.cli.ts',
  'audit-verify': 'api/admin/audit-verify.cli.ts',
  retention: 'api/admin/retention.cli.ts',
  'verify-site': 'api/verify-site/verify-site.cli.ts',
  // Not a command: the triage site's worker thread, which api/server.ts starts next to main.js.
};

export interface BuildManifestFile {
  sha256: string;
  size: number;
  contentType: string;
}

export interface BuildManifestSite {
  /** dist-relative path of the page template. */
  page: string;
  /** URL path -> dist-relative file. */
  assets: Record<string, string>;
  scriptIntegrity: string[];
}

export interface BuildManifest {
  v: 1;
  sourceHash: string;
  /** dist-relative path -> description; every file in dist/ but this one. */
  files: Record<string, BuildManifestFile>;
  sites: Record<'requester' | 'triage', BuildManifestSite>;
}

/** What web/build.ts writes to `web/sites.json` beside the sites (see writeSites there). */
type SitesIndex = Record<'requester' | 'triage', BuildManifestSite & { contentTypes: Record<string, string> }>;
const SITES_INDEX = 'web/sites.json';

/** Server code and the manifest; the web build names the type of each of its own files. */
function serverContentType(file: string): string {
  if (file.endsWith('.js')) return 'text/javascript; charset=utf-8';
  if (file.endsWith('.json')) return 'application/json';
  return 'application/octet-stream';
}

/** Runs web/build.ts as its own program into `out`. @throws when it fails. */
function buildWeb(root: string, out: string): SitesIndex {
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'web', 'build.ts'), out], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0) throw new Error(`web/build.ts failed (exit ${run.status ?? run.signal})`);
  const index = JSON.parse(fs.readFileSync(path.join(out, SITES_INDEX), 'utf8')) as SitesIndex;
  fs.rmSync(path.join(out, SITES_INDEX));
  return index;
}

function write(out: string, rel: string, body: Uint8Array | string): void {
  const abs = path.join(out, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, body);
}

/** Builds into `dist/`. @returns the manifest. @throws on any compile error. */
export async function buildAll(root = ROOT, dist = path.join(root, 'dist')): Promise<BuildManifest> {
  const files = sourceFiles(root);
  const hash = sourceHash(root, files);
  const out = `${dist}.tmp-${process.pid}`;
  fs.rmSync(out, { recursive: true, force: true });
  try {
    const common = {
      bundle: true,
      platform: 'node' as const,
      format: 'esm' as const,
      target: 'node20',
      packages: 'external' as const,
      // Lets api/dist-location.ts and api/db/migrate.ts know they run from dist/.
      define: { __HAVEN_BUNDLED__: 'true' },
      legalComments: 'none' as const,
      logLevel: 'warning' as const,
      absWorkingDir: root,
    };
    await build({
      ...common,
      entryPoints: Object.fromEntries(Object.entries(SERVER_ENTRIES).map(([name, src]) => [name, path.join(root, src)])),
      outdir: path.join(out, 'server'),
    });
    const migrations = fs.readdirSync(path.join(root, 'migrations')).filter((f) => /^\d{4}_[a-z0-9_]+\.ts$/.test(f));
    await build({ ...common, entryPoints: migrations.map((f) => path.join(root, 'migrations', f)), outdir: path.join(out, 'migrations') });

    const index = buildWeb(root, out);
    const webContentTypes = { ...index.requester.contentTypes, ...index.triage.contentTypes };
    const sites = {
      requester: { page: index.requester.page, assets: index.requester.assets, scriptIntegrity: index.requester.scriptIntegrity },
      triage: { page: index.triage.page, assets: index.triage.assets, scriptIntegrity: index.triage.scriptIntegrity },
    };

    const manifestFiles: Record<string, BuildManifestFile> = {};
    for (const entry of fs.readdirSync(out, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const rel = path.relative(out, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
      const body = fs.readFileSync(path.join(out, rel));
      manifestFiles[rel] = { sha256: createHash('sha256').update(body).digest('hex'), size: body.length, contentType: webContentTypes[rel] ?? serverContentType(rel) };
    }
    const sorted = Object.fromEntries(Object.entries(manifestFiles).sort(([a], [b]) => (a < b ? -1 : 1)));
    const manifest: BuildManifest = { v: 1, sourceHash: hash, files: sorted, sites };
    write(out, STAMP, `${JSON.stringify(manifest, null, 2)}\n`);
    // Swap in one step; a concurrent builder that got there first wins (its output is equal).
    fs.rmSync(dist, { recursive: true, force: true });
    try {
      fs.renameSync(out, dist);
    } catch (err) {
      if (!['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
    return manifest;
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** Builds unless `dist/` is up to date. @returns why it built, or null when it did not. */
export async function ensureBuilt(root = ROOT, dist = path.join(root, 'dist')): Promise<string | null> {
  const reason = staleReason(root, dist);
  if (reason) await buildAll(root, dist);
  return reason;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  const manifest = await buildAll();
  const total = Object.values(manifest.files).reduce((n, f) => n + f.size, 0);
  process.stdout.write(`Built ${Object.keys(manifest.files).length} files (${total} bytes) into dist/ in ${Date.now() - started} ms.\n`);
}
