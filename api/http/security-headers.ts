/**
 * Headers on every response of both sites.
 *
 * - `Cache-Control: no-store`: a later seizure of the requester's phone must not find
 *   pages or API answers in the browser cache.
 * - A strict CSP with no inline script and nothing from another origin: a network observer
 *   sees no third-party request, and hostile request text cannot run as script. Scripts are
 *   allowed by hash only (the SRI hashes of the built page's scripts; CSP3 matches a hash
 *   source against an external script's `integrity`: Chromium 59+, Firefox 116+, Safari
 *   15.6+, Tor Browser 14+ on Firefox ESR 128), so even a same-origin file the build did not make cannot run
 *   as a page script. Stylesheets stay `'self'`: no browser matches hash sources against
 *   external stylesheets; their bytes are pinned by SRI on the static page instead.
 * - `Referrer-Policy: no-referrer`: leaving the site tells nobody where the person was.
 */
import type { MiddlewareHandler } from 'hono';

export type Site = 'requester' | 'triage';

/** @param scriptIntegrity `sha384-...` of the site's scripts; none (API-only apps) allows no script. */
export function contentSecurityPolicy(site: Site, scriptIntegrity: readonly string[] = []): string {
  const hashes = scriptIntegrity.map((h) => `'${h}'`);
  // The triage dashboard runs libsodium's WebAssembly; the requester page runs pure JS only.
  if (site === 'triage') hashes.push("'wasm-unsafe-eval'");
  const script = hashes.length > 0 ? hashes.join(' ') : "'none'";
  return [
    "default-src 'none'",
    `script-src ${script}`,
    // Workers cannot carry SRI; the worker URL is content-hashed and fixed in the hashed script.
    `worker-src 'self'`,
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "font-src 'none'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    'upgrade-insecure-requests',
  ].join('; ');
}

export function securityHeaders(site: Site, behindTls: boolean, onionUrl: string | null = null, scriptIntegrity: readonly string[] = []): MiddlewareHandler {
  const csp = contentSecurityPolicy(site, scriptIntegrity).replace(behindTls ? '' : '; upgrade-insecure-requests', '');
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    h.set('Content-Security-Policy', csp);
    h.set('Cache-Control', 'no-store');
    h.set('Pragma', 'no-cache');
    h.set('Referrer-Policy', 'no-referrer');
    h.set('X-Content-Type-Options', 'nosniff');
    h.set('X-Frame-Options', 'DENY');
    h.set('Cross-Origin-Opener-Policy', 'same-origin');
    h.set('Cross-Origin-Resource-Policy', 'same-origin');
    h.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), interest-cohort=()');
    if (behindTls) h.set('Strict-Transport-Security', 'max-age=63072000');
    // Tor Browser offers to switch to the onion service; only pages, only the requester site.
    if (onionUrl && site === 'requester' && h.get('content-type')?.startsWith('text/html')) {
      h.set('Onion-Location', `${onionUrl}${new URL(c.req.url).pathname}`);
    }
  };
}
