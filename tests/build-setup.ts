/**
 * Vitest global setup: the server serves its front ends from `dist/`, so the suite builds
 * once when dist/ is missing or older than the sources (api/build/source-hash.mjs), not per file.
 */
import { ensureBuilt } from '../api/build/build.ts';

export default async function setup(): Promise<void> {
  const reason = await ensureBuilt();
  if (reason) process.stderr.write(`[haven tests] built dist/ (${reason})\n`);
}
