/**
 * The organisation root the dashboard trusts: ONLY the key the server rendered into this
 * static page from deployment configuration (web/shared/deployment.ts), never a key from an
 * API answer, and pinned in this browser on first use. Every fingerprint the dashboard shows
 * is computed here from that key.
 *
 * Threat: a server (or whoever seized it) that answers with a root of its own so that the
 * dashboard accepts certificates, team keys and grants it made. The page bytes are covered by
 * the root-signed site manifest and checkable from outside (npm run verify-site); an API answer
 * is whatever the server chooses to say. The pin adds continuity: a later page that embeds a
 * different root is refused until an admin confirms the change out of band (root rotation with
 * hand-over statements is a later protocol step; there is deliberately no override here).
 */
import { base64urlDecode, base64urlEncode } from '../../crypto/encoding.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { rootFingerprint } from '../../crypto/v1/certs.ts';
import { embeddedRootPublicKey } from '../shared/deployment.ts';

/** localStorage key of the pinned root (base64url of its 32 public-key bytes; nothing secret). */
export const ROOT_PIN_KEY = 'haven.triage.root-pin.v1';

export interface TrustedRoot {
  publicKey: Uint8Array;
  fingerprint: string;
}

/** The embedded root differs from the one pinned on an earlier visit: refuse to unlock keys. */
export class RootChangedError extends Error {
  constructor(
    readonly oldFingerprint: string,
    readonly newFingerprint: string,
  ) {
    super('root changed');
    this.name = 'RootChangedError';
  }
}

/** localStorage, or null where the browser refuses it (then nothing can be pinned: the embedded key still rules). */
function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/**
 * The root to verify everything against: the page's embedded key, pinned on first use.
 * @throws DeploymentConfigError when the page carries no valid root (not set up);
 *   RootChangedError when an earlier visit pinned another root.
 */
export function trustedRoot(p: Primitives, doc: Document = document, store: Storage | null = storage()): TrustedRoot {
  const publicKey = embeddedRootPublicKey(doc);
  const fingerprint = rootFingerprint(p, publicKey);
  const text = base64urlEncode(publicKey);
  let pinned: string | null;
  try {
    pinned = store?.getItem(ROOT_PIN_KEY) ?? null;
  } catch {
    pinned = null;
  }
  if (pinned === null) {
    try {
      store?.setItem(ROOT_PIN_KEY, text);
    } catch {
      // Storage full or refused: this visit still uses the embedded key, just unpinned.
    }
  } else if (pinned !== text) {
    let old: string;
    try {
      old = rootFingerprint(p, base64urlDecode(pinned));
    } catch {
      old = '?';
    }
    throw new RootChangedError(old, fingerprint);
  }
  return { publicKey, fingerprint };
}
