/**
 * Site manifests on the Admin screen: each site's served manifest as THIS browser judges it
 * (manifest-review.ts), "needs signing" in the header from sign-in on, and signing with the
 * root seed after a review in which every listed file was hashed here and the admin confirmed
 * the file count, the manifest hash and the root fingerprint (docs/PROTOCOL.md 24.9, 26.6).
 *
 * Triage files are fetched by this page from its own origin. The requester site is another
 * origin the CSP (connect-src 'self') does not let this page reach, so its files come through
 * GET /api/v1/admin/site-manifests/requester/file: the bytes this server serves there, which
 * the panel says in words (verify-site against the public address is the outside check).
 */
import { base64urlDecode as unb64, base64urlEncode as b64 } from '../../../crypto/encoding.ts';
import type { SiteName } from '../../../crypto/v2/site-manifest.ts';
import { fill } from '../i18n.ts';
import { AdminKeyError } from './keys.ts';
import { type FetchFile, type ManifestOverviewJson, ManifestRefusedError, manifestStatus, reviewManifest, signReviewed } from './manifest-review.ts';
import { $, admin, ADMIN, button, confirmDialog, deps, el, fingerprintLine, status, step, t } from './shared.ts';

/** Fetches GET /site-manifests and judges each site; updates the header badge. */
export async function loadManifests(): Promise<void> {
  const started = admin.epoch;
  const overview = await deps.api<ManifestOverviewJson>('GET', `${ADMIN}/site-manifests`);
  const p = await deps.primitives();
  const vault = deps.vault();
  if (started !== admin.epoch || !vault) return;
  admin.manifests = overview;
  admin.manifestStates = new Map(overview.sites.map((entry) => [entry.site, manifestStatus(p, vault.rootPublic, entry)]));
  renderManifestBadge();
}

/**
 * After an admin signs in: the manifests' state, so that "needs signing" shows in the header
 * on every screen. A server that serves no front end (503) shows nothing.
 */
export async function checkManifestsAtSignIn(): Promise<void> {
  try {
    await loadManifests();
  } catch {
    // Nothing to show: the Admin screen's panel says more when opened.
  }
}

/** The header badge: a manifest needs signing now, or the pages change at the next restart. */
export function renderManifestBadge(): void {
  const badge = $('manifest-badge');
  const unsigned = [...admin.manifestStates.values()].some((s) => s.status !== 'signed');
  const outdated = admin.manifests?.pagesOutdated ?? false;
  badge.hidden = !deps.vault() || (!unsigned && !outdated);
  badge.textContent = unsigned ? t().manifestNeedsSigning : outdated ? t().manifestAfterRestart : '';
}

function siteLabel(site: SiteName): string {
  return t()[`admSite_${site}`];
}

export function renderManifests(): void {
  const s = t();
  $('adm-manifests-outdated').hidden = !admin.manifests?.pagesOutdated;
  const list = $('adm-manifests');
  list.replaceChildren(
    ...(admin.manifests?.sites ?? []).map((entry) => {
      const li = el('li', { cls: 'card' });
      li.dataset.site = entry.site;
      const state = admin.manifestStates.get(entry.site);
      const head = el('h3', { text: siteLabel(entry.site) });
      if (state?.status === 'signed') head.append(' ', el('span', { cls: 'badge', text: s.admManifestSigned }));
      else if (state?.status === 'needs_signing') head.append(' ', el('span', { cls: 'badge due', text: s.admManifestUnsigned }));
      else head.append(' ', el('span', { cls: 'badge due', text: s.admManifestRefusedBadge }));
      li.append(head);
      li.append(el('p', { cls: 'hint', text: fill(s.admManifestFiles, { n: Object.keys(entry.served.files ?? {}).length }) }));
      li.append(el('p', {}, `${s.admManifestSha} `, el('code', { cls: 'fingerprint', text: entry.manifestSha256 })));
      if (state?.status === 'refused') li.append(el('p', { cls: 'error', text: fill(s[`manifestRefused_${state.reason}`], { file: '' }) }));
      li.append(el('p', { cls: 'hint', text: entry.site === 'requester' ? s.admManifestViaServer : s.admManifestSelf }));
      if (state?.status === 'needs_signing') {
        // Until the screen has loaded (and the root seed is open), a click would be dropped
        // without a word (`step` runs one thing at a time): say so on the button instead.
        const waiting = admin.loading || (!admin.keys && admin.rootProblem === null);
        const review = button(waiting ? s.loading : s.admManifestReview, () => void step(() => signSiteManifest(entry.site)), {
          disabled: waiting || !admin.keys, label: `${s.admManifestReview}: ${siteLabel(entry.site)}`,
        });
        if (waiting) review.setAttribute('aria-busy', 'true');
        li.append(el('div', { cls: 'inline' }, review));
      }
      return li;
    }),
  );
  renderManifestBadge();
}

/** The bytes this page fetches from its own origin, as any visitor gets them. */
const fetchOwnFile: FetchFile = async (path) => {
  try {
    const res = await fetch(path, { credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' });
    return res.ok ? new Uint8Array(await res.arrayBuffer()) : null;
  } catch {
    return null;
  }
};

/** The bytes the requester site serves, through the triage server (the CSP blocks the other origin). */
const fetchRequesterFile: FetchFile = async (path) => {
  try {
    const r = await deps.api<{ body: string }>('GET', `${ADMIN}/site-manifests/requester/file?path=${encodeURIComponent(path)}`);
    return unb64(r.body);
  } catch (err) {
    if ((err as { status?: number }).status === 404) return null;
    throw err;
  }
};

/**
 * Reviews the site's manifest as served now (every listed file hashed here, the root the one
 * this page embeds), shows the admin what they sign, signs with the root seed and stores it.
 * Nothing is sent when the review refuses or the admin cancels.
 * @throws ManifestRefusedError, AdminKeyError.
 */
export async function signSiteManifest(site: SiteName): Promise<void> {
  if (!admin.keys) throw new AdminKeyError('root');
  const p = await deps.primitives();
  const vault = deps.vault();
  if (!vault) return;
  await loadManifests();
  const entry = admin.manifests?.sites.find((x) => x.site === site);
  if (!entry) throw new ManifestRefusedError('malformed', site);
  // Every listed file is fetched and hashed before the dialog opens: seconds on a busy machine.
  status(fill(t().admManifestChecking, { site: siteLabel(site) }));
  const review = await reviewManifest(p, vault.rootPublic, entry, site === 'triage' ? fetchOwnFile : fetchRequesterFile);
  const s = t();
  const ok = await confirmDialog({
    title: fill(s.admManifestSignTitle, { site: siteLabel(site) }),
    body: [
      el('p', { text: s.admManifestSignIntro }),
      el('p', { text: fill(s.admManifestFiles, { n: review.fileCount }) }),
      el('p', {}, `${s.admManifestSha} `, el('code', { cls: 'fingerprint', text: review.manifestSha256 })),
      fingerprintLine(s.admManifestRootFp, review.rootFingerprint),
      el('p', { cls: 'hint', text: site === 'requester' ? s.admManifestViaServer : s.admManifestSelf }),
    ],
    check: s.admManifestCheck,
    ok: s.admManifestSign,
  });
  status('');
  if (!ok || !admin.keys) return;
  const signature = signReviewed(p, admin.keys.rootSeed, vault.rootPublic, review);
  await deps.api('PUT', `${ADMIN}/site-manifest`, { site, manifestSha256: review.manifestSha256, signature: b64(signature) });
  await loadManifests();
  renderManifests();
  status(fill(s.admManifestStored, { site: siteLabel(site) }));
}

/** Forgets the manifests and hides the badge (wipeAdmin). */
export function wipeManifests(): void {
  admin.manifests = null;
  admin.manifestStates = new Map();
  const badge = $('manifest-badge');
  badge.hidden = true;
  badge.textContent = '';
  $('adm-manifests').replaceChildren();
  $('adm-manifests-outdated').hidden = true;
}
