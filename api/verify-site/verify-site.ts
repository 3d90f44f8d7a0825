/**
 * Checks a live Haven site against its root-signed manifest, from outside: the tool a
 * careful ally runs (docs/DEPLOY.md, "Checking a live site").
 *
 * 1. Fetch `/.well-known/haven-manifest.json`; it must be signed, name the root key given
 *    on the command line (obtained out of band), and its signature must verify with it.
 * 2. The page at `/` must carry that same root key in its `haven-root-public-key` meta tag.
 * 3. Fetch every listed file and compare its SHA-256 with the manifest; the first file that
 *    differs (or cannot be fetched) is named and the check fails.
 *
 * Requests carry no cookie and ask for no compression, so the bytes compared are the bytes
 * served. With `--proxy socks5://host:port` every request, DNS included, goes through the
 * proxy (e.g. Tor), so the site learns nothing about the checker but a Tor exit.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { SocksProxyAgent } from 'socks-proxy-agent';
import { base64urlDecode, base64urlEncode } from '../../crypto/encoding.ts';
import { noblePrimitives as p } from '../../crypto/noble.ts';
import { rootFingerprint } from '../../crypto/v1/certs.ts';
import { manifestFromJson, manifestSigningBytes, verifyManifest } from '../../crypto/v2/site-manifest.ts';

export interface VerifyOptions {
  /** `socks5://host:port` (names are always resolved by the proxy). */
  proxy?: string;
  timeoutMs?: number;
}

export type VerifyResult =
  | { ok: true; site: string; files: number; manifestSha256: string; rootFingerprint: string }
  | { ok: false; problem: string; file?: string };

const MAX_BYTES = 32 * 1024 * 1024;

/** Fetches `url` (GET, no cookies, no compression). @returns status and raw body. */
function getBytes(url: URL, agent: http.Agent | undefined, timeoutMs: number): Promise<{ status: number; body: Buffer }> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { agent, headers: { 'accept-encoding': 'identity', accept: '*/*' }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BYTES) req.destroy(new Error('response too large'));
        else chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

function proxyAgent(proxy: string | undefined): http.Agent | undefined {
  if (!proxy) return undefined;
  const u = new URL(proxy);
  // socks5h: the proxy resolves names (no DNS leak; required for .onion addresses).
  if (u.protocol !== 'socks5:' && u.protocol !== 'socks5h:') throw new Error('--proxy must be socks5://host:port');
  return new SocksProxyAgent(`socks5h://${u.host}`);
}

function embeddedRoot(html: string): string | null {
  const m = /<meta name="haven-root-public-key" content="([A-Za-z0-9_-]+)">/.exec(html);
  return m ? m[1]! : null;
}

/** Runs the whole check. Never throws for a site problem: it returns `{ok:false, problem}`. */
export async function verifySite(siteUrl: string, root: Uint8Array, options: VerifyOptions = {}): Promise<VerifyResult> {
  const base = new URL(siteUrl);
  const agent = proxyAgent(options.proxy);
  const timeout = options.timeoutMs ?? 30_000;
  const get = (path: string) => getBytes(new URL(path, base), agent, timeout);

  let served: { status: number; body: Buffer };
  try {
    served = await get('/.well-known/haven-manifest.json');
  } catch (err) {
    return { ok: false, problem: `could not fetch the manifest: ${(err as Error).message}` };
  }
  if (served.status !== 200) return { ok: false, problem: `the manifest answered HTTP ${served.status}` };
  let json: Record<string, unknown>;
  let manifest;
  try {
    json = JSON.parse(served.body.toString('utf8')) as Record<string, unknown>;
    manifest = manifestFromJson(json);
  } catch {
    return { ok: false, problem: 'the manifest is not a valid Haven site manifest' };
  }
  if (typeof json.signature !== 'string') return { ok: false, problem: 'the manifest is not signed (no admin has signed this build)' };
  if (base64urlEncode(manifest.rootPublicKey) !== base64urlEncode(root)) return { ok: false, problem: 'the manifest names a different root key than the one given' };
  try {
    verifyManifest(p, root, manifest, base64urlDecode(json.signature));
  } catch {
    return { ok: false, problem: 'the manifest signature does not verify with the given root key' };
  }

  const paths = Object.keys(manifest.files).sort();
  for (const path of paths) {
    let res: { status: number; body: Buffer };
    try {
      res = await get(path);
    } catch (err) {
      return { ok: false, problem: `could not fetch ${path}: ${(err as Error).message}`, file: path };
    }
    if (res.status !== 200) return { ok: false, problem: `${path} answered HTTP ${res.status}`, file: path };
    if (createHash('sha256').update(res.body).digest('hex') !== manifest.files[path]) return { ok: false, problem: `${path} differs from the signed manifest`, file: path };
    if (path === '/') {
      const embedded = embeddedRoot(res.body.toString('utf8'));
      if (embedded !== base64urlEncode(root)) return { ok: false, problem: 'the page does not embed the given root key', file: path };
    }
  }
  if (!paths.includes('/')) return { ok: false, problem: 'the manifest does not list the page itself (/)' };
  return {
    ok: true,
    site: manifest.site,
    files: paths.length,
    manifestSha256: createHash('sha256').update(manifestSigningBytes(manifest)).digest('hex'),
    rootFingerprint: rootFingerprint(p, root),
  };
}
