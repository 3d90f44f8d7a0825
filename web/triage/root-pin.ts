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
 * different root is refused, unless the organisation's hand-over statements (root rotation,
 * crypto/v2/root-handover.ts) lead from the pinned root to the page's root; they may come from
 * any API answer because each link is signed by the root before it. There is deliberately no
 * override.
 */
import { base64urlDecode, base64urlEncode } from '../../crypto/encoding.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { rootFingerprint } from '../../crypto/v1/certs.ts';
import { followRootChain } from '../../crypto/v2/root-handover.ts';
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

/** The hand-over statements as `GET /api/v1/root-handovers` lists them (decoded). */
export interface RootHandovers {
  organisationId: Uint8Array;
  handovers: Uint8Array[];
}

/**
 * `trustedRoot`, and when the page embeds another root than the pinned one: the organisation's
 * hand-over statements are fetched and a verified chain from the pinned root to the page's root
 * is looked for (followRootChain). When there is one, the new root is pinned and returned with
 * the old fingerprint in `replacedFingerprint` (to show once). Otherwise the original refusal
 * stands; a failing fetch changes nothing either.
 * @throws as trustedRoot.
 */
export async function trustedRootFollowingHandovers(
  p: Primitives,
  fetchHandovers: () => Promise<RootHandovers>,
  doc: Document = document,
  store: Storage | null = storage(),
): Promise<TrustedRoot & { replacedFingerprint?: string }> {
  try {
    return trustedRoot(p, doc, store);
  } catch (err) {
    if (!(err instanceof RootChangedError) || !store) throw err;
    let pinned: Uint8Array;
    let listed: RootHandovers;
    try {
      pinned = base64urlDecode(store.getItem(ROOT_PIN_KEY) ?? '');
      listed = await fetchHandovers();
      followRootChain(p, { orgId: listed.organisationId, pinnedRoot: pinned, targetRoot: embeddedRootPublicKey(doc), handovers: listed.handovers });
    } catch {
      throw err;
    }
    const publicKey = embeddedRootPublicKey(doc);
    try {
      store.setItem(ROOT_PIN_KEY, base64urlEncode(publicKey));
    } catch {
      // Refused now: the chain is checked again at the next visit.
    }
    return { publicKey, fingerprint: rootFingerprint(p, publicKey), replacedFingerprint: err.oldFingerprint };
  }
}
