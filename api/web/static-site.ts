/**
 * Serves a site's bundled front end from memory, and publishes the SHA-256 of every asset
 * at `/.well-known/haven-assets.json` so responders and auditors can compare what they were
 * served with a reproducible build (the only defence web E2EE has against served code
 * being swapped).
 */
import { Hono } from 'hono';
import type { BuiltSiteBundle } from '../../web/build.ts';

export type BuiltSite = BuiltSiteBundle;

export function staticSite(site: BuiltSite) {
  const manifest = JSON.stringify(
    {
      version: 1,
      assets: Object.fromEntries([...site.files].map(([url, f]) => [url, { sha256: f.sha256, integrity: f.integrity }])),
    },
    null,
    2,
  );
  const app = new Hono();
  app.get('/.well-known/haven-assets.json', (c) => c.body(manifest, 200, { 'Content-Type': 'application/json' }));
  app.get('*', (c, next) => {
    const file = site.files.get(c.req.path);
    if (!file) return next();
    // Static bundles hold no secret and reflect no input, so compressing them leaks nothing.
    if (file.gzip && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
      return c.body(file.gzip as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': file.contentType, 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
    }
    return c.body(file.body as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': file.contentType, Vary: 'Accept-Encoding' });
  });
  return app;
}
