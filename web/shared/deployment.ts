/**
 * The deployment values written into a static page when the server renders it at start
 * (api/web/static-site.ts), from deployment configuration: the organisation root public
 * key and the lowest team-key serial to accept.
 *
 * Pages take their trust anchor from their own document, never from an API answer: the
 * page bytes are covered by the root-signed site manifest and can be checked from outside
 * (npm run verify-site), while an API answer is whatever the server chooses to say.
 */
import { base64urlDecode } from '../../crypto/encoding.ts';

export class DeploymentConfigError extends Error {
  override name = 'DeploymentConfigError';
}

function meta(doc: Document, name: string): string | null {
  return doc.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? null;
}

/** Whether this page was rendered with a root key (false: the hotline is not set up yet). */
export function hasEmbeddedRootPublicKey(doc: Document = document): boolean {
  return meta(doc, 'haven-root-public-key') !== null;
}

/**
 * The organisation root public key from `<meta name="haven-root-public-key">`.
 * @throws DeploymentConfigError when the tag is absent (not set up) or not 32 base64url bytes.
 */
export function embeddedRootPublicKey(doc: Document = document): Uint8Array {
  const text = meta(doc, 'haven-root-public-key');
  if (text === null) throw new DeploymentConfigError('this page carries no organisation root key: the hotline is not set up yet');
  let key: Uint8Array;
  try {
    key = base64urlDecode(text);
  } catch {
    throw new DeploymentConfigError('the organisation root key in this page is not valid base64url');
  }
  if (key.length !== 32) throw new DeploymentConfigError('the organisation root key in this page is not 32 bytes');
  return key;
}

/**
 * The lowest team-key statement serial to accept, from `<meta name="haven-key-serial-floor">`.
 * @throws DeploymentConfigError when absent or not a whole number.
 */
export function embeddedKeySerialFloor(doc: Document = document): number {
  const text = meta(doc, 'haven-key-serial-floor');
  if (text === null || !/^\d{1,10}$/.test(text) || Number(text) > 0xffffffff) throw new DeploymentConfigError('this page carries no valid key serial floor');
  return Number(text);
}
