/**
 * What a build is made from, and whether `dist/` still matches it. Plain JavaScript so that
 * `npm start` can run this check with Node alone (no tsx, no esbuild).
 *
 * Stale means: the build stamp is missing, any source file is newer than the stamp, or the
 * SHA-256 over every source file's path and bytes differs from the one the build recorded
 * (catches deletions, renames and edits that kept an old mtime). Hashing the few hundred
 * source files takes milliseconds.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Folders and files whose content goes into dist/ (tests excluded: they are not built). */
export const SOURCE_DIRS = ['api', 'crypto', 'web', 'seeds', 'migrations'];
export const SOURCE_FILES = ['package.json', 'package-lock.json', 'tsconfig.json'];
const SOURCE_EXT = /\.(ts|mts|mjs|js|json|css|html)$/;

/** The build stamp: written last by a build, so its presence means the build finished. */
export const STAMP = 'build-manifest.json';

/** @returns repo-relative paths of every source file, sorted; empty when no sources exist. */
export function sourceFiles(root) {
  const out = [];
  for (const dir of SOURCE_DIRS) {
    const abs = path.join(root, dir);
    if (!fs.existsSync(abs)) continue;
    for (const entry of fs.readdirSync(abs, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !SOURCE_EXT.test(entry.name) || /\.test\.ts$/.test(entry.name)) continue;
      out.push(path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
    }
  }
  for (const file of SOURCE_FILES) if (fs.existsSync(path.join(root, file))) out.push(file);
  return out.sort();
}

/** SHA-256 over (path, length, bytes) of every source file. */
export function sourceHash(root, files = sourceFiles(root)) {
  const h = createHash('sha256');
  for (const file of files) {
    const body = fs.readFileSync(path.join(root, file));
    h.update(`${file}\0${body.length}\0`);
    h.update(body);
  }
  return h.digest('hex');
}

/**
 * Why `distDir` does not match the sources in `root`, or null when it does. A runtime-only
 * install (package*.json and dist/, no sources) is never stale: there is nothing to rebuild from.
 */
export function staleReason(root, distDir) {
  const stampPath = path.join(distDir, STAMP);
  let stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(stampPath, 'utf8'));
  } catch {
    return 'no finished build in dist/';
  }
  const files = sourceFiles(root);
  if (!files.some((f) => f.startsWith('api/') && f.endsWith('.ts'))) return null;
  const stampTime = fs.statSync(stampPath).mtimeMs;
  const newer = files.find((f) => fs.statSync(path.join(root, f)).mtimeMs > stampTime);
  if (newer) return `${newer} changed after the last build`;
  if (stamp.sourceHash !== sourceHash(root, files)) return 'the sources differ from the last build';
  return null;
}
