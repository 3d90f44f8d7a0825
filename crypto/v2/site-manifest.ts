/**
 * The site manifest (protocol v2, type 0x70): which files a site serves and the SHA-256 of
 * each, bound to the organisation root public key and signed with the root seed.
 *
 * Why: web end-to-end encryption is only as good as the code the server sends. A manifest
 * signed by the root (whose seed only admins' browsers hold) lets a careful outsider fetch
 * every file of the live site and compare it byte for byte with what the organisation
 * approved (`npm run verify-site`), without trusting the server that serves it.
 *
 * Signed bytes (all integers big-endian; see docs/PROTOCOL.md section 26.6):
 *
 *   0x02 | 0x70 | site(1) | rootPublicKey(32) | fileCount(u16) |
 *   fileCount * ( pathLength(u16) | path (ASCII) | sha256(32) )
 *
 * Files appear sorted by path (byte order), each path once. The signature is
 * Ed25519(root, those bytes). The "manifest hash" published out of band is SHA-256 of the
 * same bytes; it is computed by the caller (node:crypto, WebCrypto) because crypto/ has no
 * SHA-256 in its primitive set.
 *
 * Pure: no I/O, no platform hash; every function takes the primitive set as `p`.
 */
import { base64urlDecode, base64urlEncode } from '../encoding.ts';
import { MalformedError, SignatureError, UnknownVersionError, UnsupportedVersionError } from '../errors.ts';
import type { Primitives } from '../primitives.ts';

/** Byte 0 of every protocol v2 object. */
const VERSION = 0x02;
export const SITE_MANIFEST_VERSION = VERSION;
export const SITE_MANIFEST_TYPE = 0x70;

/** Site codes in byte 2. */
export const SITE_CODES = { requester: 0x01, triage: 0x02 } as const;
export type SiteName = keyof typeof SITE_CODES;

export const MAX_MANIFEST_FILES = 1024;
export const MAX_MANIFEST_PATH = 512;

export interface SiteManifest {
  v: 2;
  site: SiteName;
  /** URL path -> lowercase hex SHA-256 of the bytes served there. */
  files: Record<string, string>;
  rootPublicKey: Uint8Array;
}

const HEX64 = /^[0-9a-f]{64}$/;
/** Absolute URL path of printable ASCII with nothing that could be read two ways. */
const PATH = /^\/[\x21-\x7e]*$/;

function checkPath(path: string): void {
  if (path.length > MAX_MANIFEST_PATH || !PATH.test(path) || /["\\]/.test(path)) throw new MalformedError('manifest path is not a plain absolute path');
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function compareAscii(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The canonical signed bytes of a manifest (also its identity: SHA-256 of these bytes is the
 * manifest hash). Sorting here makes the form canonical whatever the object's key order.
 * @throws MalformedError on a bad site, key, path or hash, or too many files.
 */
export function manifestSigningBytes(m: SiteManifest): Uint8Array {
  if (m.v !== 2) throw new MalformedError('manifest version must be 2');
  const site = SITE_CODES[m.site as SiteName];
  if (site === undefined || !Object.hasOwn(SITE_CODES, m.site)) throw new MalformedError('unknown site');
  if (!(m.rootPublicKey instanceof Uint8Array) || m.rootPublicKey.length !== 32) throw new MalformedError('root public key must be 32 bytes');
  const paths = Object.keys(m.files).sort(compareAscii);
  if (paths.length === 0 || paths.length > MAX_MANIFEST_FILES) throw new MalformedError('manifest must list 1 to 1024 files');
  let size = 2 + 1 + 32 + 2;
  for (const path of paths) {
    checkPath(path);
    if (!HEX64.test(m.files[path]!)) throw new MalformedError('file hash must be 64 lowercase hex digits');
    size += 2 + path.length + 32;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = VERSION;
  out[1] = SITE_MANIFEST_TYPE;
  out[2] = site;
  out.set(m.rootPublicKey, 3);
  view.setUint16(35, paths.length);
  let at = 37;
  for (const path of paths) {
    view.setUint16(at, path.length);
    at += 2;
    for (let i = 0; i < path.length; i++) out[at + i] = path.charCodeAt(i);
    at += path.length;
    out.set(hexToBytes(m.files[path]!), at);
    at += 32;
  }
  return out;
}

/**
 * Parses signed bytes back into a manifest, refusing anything not in canonical form.
 * @throws UnknownVersionError, UnsupportedVersionError (v1 had no manifest), MalformedError.
 */
export function decodeManifest(bytes: Uint8Array): SiteManifest {
  if (bytes.length < 1) throw new MalformedError('empty manifest');
  if (bytes[0] === 0x01) throw new UnsupportedVersionError('protocol v1 has no site manifest');
  if (bytes[0] !== VERSION) throw new UnknownVersionError();
  if (bytes.length < 37) throw new MalformedError('manifest too short');
  if (bytes[1] !== SITE_MANIFEST_TYPE) throw new MalformedError('not a site manifest');
  const site = (Object.keys(SITE_CODES) as SiteName[]).find((s) => SITE_CODES[s] === bytes[2]);
  if (!site) throw new MalformedError('unknown site');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint16(35);
  const files: Record<string, string> = {};
  let at = 37;
  let previous: string | null = null;
  for (let n = 0; n < count; n++) {
    if (at + 2 > bytes.length) throw new MalformedError('manifest truncated');
    const len = view.getUint16(at);
    at += 2;
    if (at + len + 32 > bytes.length) throw new MalformedError('manifest truncated');
    const path = String.fromCharCode(...bytes.subarray(at, at + len));
    at += len;
    checkPath(path);
    if (previous !== null && compareAscii(previous, path) >= 0) throw new MalformedError('manifest paths out of order or repeated');
    previous = path;
    files[path] = bytesToHex(bytes.subarray(at, at + 32));
    at += 32;
  }
  if (at !== bytes.length) throw new MalformedError('trailing bytes after manifest');
  const m: SiteManifest = { v: 2, site, files, rootPublicKey: bytes.slice(3, 35) };
  if (count === 0) throw new MalformedError('manifest must list 1 to 1024 files');
  return m;
}

/** Signs a manifest with the root seed. @returns the 64-byte signature. @throws MalformedError. */
export function signManifest(p: Primitives, rootSeed: Uint8Array, m: SiteManifest): Uint8Array {
  const bytes = manifestSigningBytes(m);
  const own = p.ed25519KeypairFromSeed(rootSeed).publicKey;
  // A manifest naming another root would verify nowhere; refuse rather than sign nonsense.
  if (!sameBytes(own, m.rootPublicKey)) throw new MalformedError('manifest names another root key');
  return p.ed25519Sign(bytes, rootSeed);
}

/**
 * Checks that `sig` is the root's signature over `m` and that `m` names that root.
 * @throws SignatureError on a wrong signature or a manifest bound to another root;
 *         MalformedError on a malformed manifest or signature length.
 */
export function verifyManifest(p: Primitives, rootPublic: Uint8Array, m: SiteManifest, sig: Uint8Array): void {
  if (rootPublic.length !== 32) throw new MalformedError('root public key must be 32 bytes');
  if (sig.length !== 64) throw new MalformedError('signature must be 64 bytes');
  const bytes = manifestSigningBytes(m);
  if (!sameBytes(m.rootPublicKey, rootPublic)) throw new SignatureError('manifest names another root key');
  if (!p.ed25519Verify(sig, bytes, rootPublic)) throw new SignatureError();
}

/** The JSON shape served at `/.well-known/haven-manifest.json` (bytes as base64url / hex). */
export interface SiteManifestJson {
  v: 2;
  site: SiteName;
  files: Record<string, string>;
  rootPublicKey: string;
}

export function manifestToJson(m: SiteManifest): SiteManifestJson {
  manifestSigningBytes(m);
  const files: Record<string, string> = {};
  for (const path of Object.keys(m.files).sort(compareAscii)) files[path] = m.files[path]!;
  return { v: 2, site: m.site, files, rootPublicKey: base64urlEncode(m.rootPublicKey) };
}

/** Reads the served JSON form. @throws MalformedError on any field of the wrong shape. */
export function manifestFromJson(value: unknown): SiteManifest {
  if (typeof value !== 'object' || value === null) throw new MalformedError('manifest must be an object');
  const o = value as Record<string, unknown>;
  if (o.v !== 2) throw new MalformedError('manifest version must be 2');
  if (typeof o.site !== 'string' || !Object.hasOwn(SITE_CODES, o.site)) throw new MalformedError('unknown site');
  if (typeof o.files !== 'object' || o.files === null || Array.isArray(o.files)) throw new MalformedError('files must be an object');
  const files: Record<string, string> = {};
  for (const [path, hash] of Object.entries(o.files as Record<string, unknown>)) {
    if (typeof hash !== 'string') throw new MalformedError('file hash must be a string');
    files[path] = hash;
  }
  if (typeof o.rootPublicKey !== 'string') throw new MalformedError('rootPublicKey must be base64url');
  const m: SiteManifest = { v: 2, site: o.site as SiteName, files, rootPublicKey: base64urlDecode(o.rootPublicKey) };
  manifestSigningBytes(m);
  return m;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
