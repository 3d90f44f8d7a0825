/**
 * The deployment values written into a static page when the server renders it at start
 * (api/web/static-site.ts), from deployment configuration: the organisation root public
 * key and the lowest team-key serial to accept.
 *
 * Pages take their trust anchor from their own document, never from an API answer: the
 * page bytes are covered by the root-signed site manifest and can be checked from outside
 * (npm run verify-site), while an API answer is whatever the server chooses to say.
 */
import { base64urlDecode, base64urlEncode } from '../../crypto/encoding.ts';

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
 * Every team's lowest acceptable team key statement serial, from
 * `<meta name="haven-key-serial-floor" content="teamId:serial teamId:serial">` (team ids
 * base64url, pairs separated by one space, sorted; empty when there are no teams). The server
 * renders each team's current serial at start (api/web/static-site.ts), so a page refuses
 * statements older than the ones current when it was rendered.
 * @throws DeploymentConfigError when the tag is absent or malformed.
 */
export function embeddedKeySerialFloors(doc: Document = document): Map<string, number> {
  const text = meta(doc, 'haven-key-serial-floor');
  const bad = () => new DeploymentConfigError('this page carries no valid key serial floor');
  if (text === null) throw bad();
  const out = new Map<string, number>();
  if (text === '') return out;
  for (const pair of text.split(' ')) {
    const m = /^([A-Za-z0-9_-]{22}):(\d{1,10})$/.exec(pair);
    if (!m || Number(m[2]) > 0xffffffff || out.has(m[1]!)) throw bad();
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/**
 * The lowest team key statement serial to accept for one team (pass it as `minSerial`): the
 * page's floor for that team, or 0 for a team the page has no floor for (created after the
 * page was rendered, or still on a v1 certificate).
 * @param teamId the team id, as bytes or as its base64url text
 * @throws DeploymentConfigError when the tag is absent or malformed.
 */
export function embeddedKeySerialFloor(teamId: Uint8Array | string, doc: Document = document): number {
  const key = typeof teamId === 'string' ? teamId : base64urlEncode(teamId);
  return embeddedKeySerialFloors(doc).get(key) ?? 0;
}

/** The operator's title for the requester page (`<meta name="haven-page-title">`), or null. */
export function embeddedPageTitle(doc: Document = document): string | null {
  const text = meta(doc, 'haven-page-title');
  return text && text.length <= 60 ? text : null;
}
