/**
 * `npm start` and the other npm scripts that run built code: `node api/build/start.mjs <entry>
 * [args...]` runs `dist/server/<entry>.js`, building first when dist/ is missing or stale.
 *
 * Plain JavaScript on purpose: it must run after `npm ci --omit=dev`, where neither tsx nor
 * esbuild exists. Building needs them; if a build is due and they are missing, it says so
 * and exits 1 rather than running code that does not match the sources.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { staleReason } from './source-hash.mjs';

const root = path.resolve(import.meta.dirname, '../..');
const dist = path.join(root, 'dist');
const entry = process.argv[2] ?? 'main';
if (!/^[a-z-]+$/.test(entry)) {
  process.stderr.write(`haven: unknown entry "${entry}"\n`);
  process.exit(2);
}

const reason = staleReason(root, dist);
if (reason) {
  const tsx = path.join(root, 'node_modules', 'tsx');
  if (!fs.existsSync(tsx)) {
    process.stderr.write(`haven: dist/ must be rebuilt (${reason}), but the build tools (devDependencies: tsx, esbuild) are not installed.\n`);
    // The common way to get here: NODE_ENV=production (or --omit=dev) made `npm ci` leave
    // them out, and running `npm ci` again under the same environment leaves them out again.
    const omitted = process.env.NODE_ENV === 'production' || /\bdev\b/.test(process.env.npm_config_omit ?? '');
    if (omitted) process.stderr.write('haven: NODE_ENV=production (or --omit=dev) makes npm skip them, so plain `npm ci` will not bring them back.\n');
    process.stderr.write('haven: run `npm ci --include=dev && npm run build`, then start again (NODE_ENV may stay set; the build does not depend on it),\n');
    process.stderr.write('haven: or build on another machine and ship dist/ (docs/DEPLOY.md, "Building elsewhere").\n');
    process.exit(1);
  }
  process.stderr.write(`haven: building (${reason})…\n`);
  const built = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'api', 'build', 'build.ts')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (built.status !== 0) {
    process.stderr.write('haven: the build failed; see above.\n');
    process.exit(1);
  }
}

const file = path.join(dist, 'server', `${entry}.js`);
if (!fs.existsSync(file)) {
  process.stderr.write(`haven: dist/server/${entry}.js does not exist\n`);
  process.exit(2);
}
// The entry sees its own arguments where it expects them: argv[2] onwards.
process.argv.splice(2, 1);
process.argv[1] = file;
await import(pathToFileURL(file).href);
