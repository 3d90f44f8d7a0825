/**
 * Where the built output lives. The server reads its front ends (and, when it runs from
 * dist/, its migrations) from here and never imports web/ at run time.
 *
 * `__HAVEN_BUNDLED__` is defined by api/build/build.ts: bundled code sits in `dist/server/`;
 * code run from sources (tsx, vitest) reads the repository's `dist/`, which
 * `npm run build` (or the test suite's global setup) makes.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

declare const __HAVEN_BUNDLED__: boolean | undefined;

export const BUNDLED = typeof __HAVEN_BUNDLED__ !== 'undefined' && __HAVEN_BUNDLED__;

const here = path.dirname(fileURLToPath(import.meta.url));

/** `dist/` (the folder holding build-manifest.json). */
export const DIST_DIR = BUNDLED ? path.resolve(here, '..') : path.resolve(here, '../dist');
