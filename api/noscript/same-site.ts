/**
 * Is a no-JavaScript form POST from this site? (docs/PROTOCOL.md, "No-JavaScript path".)
 *
 * Our own pages send `Referrer-Policy: no-referrer`, and under that policy the Fetch standard
 * makes a browser send `Origin: null` on a form POST, even a same-origin one, and no Referer.
 * So `Origin` alone would refuse our own forms. The order of evidence:
 *
 * 1. `Sec-Fetch-Site` (set by the browser only, whatever the referrer policy; Chromium 76+,
 *    Firefox 90+ and so Tor Browser, Safari 16.4+): `same-origin` and `none` (typed or
 *    reloaded by the person) pass; `same-site` and `cross-site` are refused.
 * 2. Otherwise a real `Origin` (not "null"), else a `Referer`: its host must be the host the
 *    request was sent to (the `Host` header) or the configured onion address.
 * 3. Nothing usable (an older browser under our no-referrer policy, or a privacy extension that
 *    strips all three): allowed. Refusing would lock out exactly the careful browsers this path
 *    is for; what such a forged POST could still do is bounded by the one-time form token
 *    (fetched from this site first) and the per-minute budgets.
 */
export interface SameSiteHeaders {
  secFetchSite: string | undefined;
  origin: string | undefined;
  referer: string | undefined;
  host: string | undefined;
}

function hostOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.host.toLowerCase() : null;
  } catch {
    return null;
  }
}

export function isSameSitePost(h: SameSiteHeaders, onionUrl: string | null): boolean {
  const site = h.secFetchSite?.trim().toLowerCase();
  if (site) return site === 'same-origin' || site === 'none';
  const claimed = h.origin && h.origin.trim() !== 'null' ? h.origin : h.referer;
  if (!claimed) return true;
  const host = hostOf(claimed);
  if (host === null) return false;
  const allowed = [h.host?.trim().toLowerCase(), onionUrl ? hostOf(onionUrl) : null].filter((v): v is string => !!v);
  return allowed.includes(host);
}
