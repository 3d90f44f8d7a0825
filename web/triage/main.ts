/**
 * The triage dashboard: enrol from an invitation link, sign in, read the team's requests
 * decrypted in this browser, triage them, write encrypted notes, tags and replies. This file
 * starts the page and holds what spans the views (language, keyboard, the Admin toggle, the
 * idle lock); each screen is a module in views/, their shared state and API in shell.ts, and
 * the Admin screen in admin/.
 *
 * Rules every dashboard module keeps (docs/THREAT-MODEL.md properties 1 and 9):
 * - Decrypted text is hostile input: it only ever reaches the page through `textContent` /
 *   text nodes, never as HTML.
 * - Keys and decrypted data live in memory only. The one thing stored (localStorage) is, per
 *   team, the highest team key serial verified (key-floor.ts): a public number that stops a
 *   server replaying an older key. Signing out,
 *   and any 401 from the API, wipe them: secrets are zero-filled, references dropped, the
 *   DOM emptied, and the login screen shown.
 * - No third-party request; no inline script or style (the CSP allows neither).
 */
import { initAdmin, renderAdmin, showAdmin } from './admin/screen.ts';
import { PRIORITY_LABELS, STATUS_LABELS, type Strings, STRINGS } from './i18n.ts';
import { openVault, type TeamsJson } from './keys.ts';
import { keyFloors } from './key-floor.ts';
import { showKeyRefusals } from './views/key-refusals.ts';
import { $, alertError, announce, api, fillSelect, fillTeamFilter, hourText, logout, primitives, PRIORITIES, show, state, STATUSES, wipe } from './shell.ts';
import { readInvitation, submitEnrol, updateStrength } from './views/enrol.ts';
import { readSetupToken, showSetup } from './views/setup.ts';
import { loadRows, pollChanges, POLL_MS, renderRows, rowButtons, select } from './views/list.ts';
import { submitLogin } from './views/login.ts';
import { initNotifications } from './views/notifications.ts';
import { initSecondFactor } from './views/second-factor.ts';
import { initSecondFactorPolicy } from './admin/second-factor-policy.ts';
import { initSecurity } from './views/security.ts';
import { backToList, loadThread, patch, post, renderDetail } from './views/thread.ts';

// ---------------------------------------------------------------- language

function applyLanguage(): void {
  state.t = STRINGS[state.lang];
  document.documentElement.lang = state.lang;
  document.title = state.t.title;
  for (const el of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
    el.textContent = state.t[el.dataset.i18n as keyof Strings] ?? '';
  }
  fillSelect($('filter-status'), [['', state.t.any], ...STATUSES.map((s): [string, string] => [s, STATUS_LABELS[state.lang][s]!])], state.filters.status);
  fillTeamFilter();
  fillSelect($('set-status'), STATUSES.map((s): [string, string] => [s, STATUS_LABELS[state.lang][s]!]), state.current?.row.json.status ?? 'new');
  fillSelect($('set-priority'), PRIORITIES.map((s): [string, string] => [s, PRIORITY_LABELS[state.lang][s]!]), state.current?.row.json.priority ?? 'normal');
  updateStrength();
  $('help-button').setAttribute('aria-label', state.t.helpTitle);
  $('admin-nav').textContent = state.screen === 'admin' ? state.t.requestsNav : state.t.adminNav;
  renderAdmin();
  if (state.vault) {
    $('who').textContent = `${state.t.signedInAs} ${state.me?.username ?? ''}`;
    $('root-fp').textContent = `${state.t.rootFp} ${state.vault.rootFingerprint}`;
    renderRows();
    if (state.current) renderDetail();
  }
}

// ---------------------------------------------------------------- keyboard

function isField(el: Element | null): boolean {
  return el instanceof HTMLElement && (el.matches('input, textarea, select') || el.isContentEditable);
}

function onKey(e: KeyboardEvent): void {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const help = $<HTMLDialogElement>('help');
  if (document.querySelector('dialog[open]')) return; // a dialog handles its own keys and Escape
  const active = document.activeElement;
  if (e.key === 'Escape') {
    if (isField(active)) {
      (active as HTMLElement).blur();
      if (state.screen === 'list') select(state.selected >= 0 ? state.selected : 0);
      else if (state.screen === 'detail') $('detail-title').focus();
      e.preventDefault();
    } else if (state.screen === 'detail') {
      backToList();
      e.preventDefault();
    }
    return;
  }
  if (isField(active) || !state.vault) return;
  const inList = state.screen === 'list';
  const inDetail = state.screen === 'detail';
  const act = (fn: () => void) => {
    e.preventDefault();
    fn();
  };
  switch (e.key) {
    case 'j':
      if (inList) act(() => select(state.selected + 1));
      break;
    case 'k':
      if (inList) act(() => select(state.selected - 1));
      break;
    case 'o':
      if (inList && state.selected >= 0) act(() => rowButtons()[state.selected]?.click());
      break;
    case '/':
      if (inList || inDetail) act(() => {
        if (inDetail) backToList();
        $('search').focus();
      });
      break;
    case 'r':
      if (inDetail) act(() => $('reply-input').focus());
      break;
    case 'n':
      if (inDetail) act(() => $('note-input').focus());
      break;
    case 't':
      if (inDetail) act(() => $('tags-input').focus());
      break;
    case 's':
      if (inDetail) act(() => $('set-status').focus());
      break;
    case 'p':
      if (inDetail) act(() => $('set-priority').focus());
      break;
    case 'a':
      if (inDetail && state.me) act(() => void patch({ assigneeId: state.me!.id }));
      break;
    case 'u':
      if (inList) act(() => void loadRows(true));
      break;
    case 'L':
      act(() => void logout());
      break;
    case '?':
      act(() => help.showModal());
      break;
  }
}

// ---------------------------------------------------------------- admin

async function toggleAdmin(): Promise<void> {
  if (!state.vault || state.me?.role !== 'admin') return;
  if (state.screen === 'admin') {
    show('list');
    await loadRows(true);
    return;
  }
  if (state.current) backToList();
  show('admin');
  await showAdmin();
}

/**
 * After an admin changed keys (new team, rotation, retirement, approval), re-reads GET /teams
 * and re-opens the vault with the same account keys, so this page reads and writes with the
 * new epochs without signing in again. The old vault's team secrets are zero-filled.
 */
async function refreshTeams(): Promise<void> {
  if (!state.vault || !state.myCertificate) return;
  const p = await primitives();
  try {
    const teams = await api<TeamsJson>('GET', '/api/v1/teams');
    const old = state.vault;
    if (!old) return;
    const sign = p.ed25519KeypairFromSeed(old.ed25519Seed);
    // The same page-embedded root the vault was opened with (any root in the answer is ignored).
    const root = { publicKey: old.rootPublic, fingerprint: old.rootFingerprint };
    const fresh = openVault(p, { x25519Secret: old.x25519Secret, ed25519Seed: old.ed25519Seed, x25519Public: p.x25519PublicFromSecret(old.x25519Secret), ed25519Public: sign.publicKey }, old.accountId, state.myCertificate, teams, root, keyFloors());
    sign.seed.fill(0);
    for (const team of old.teams.values()) for (const secret of team.secrets.values()) secret.fill(0);
    state.vault = fresh;
    fillTeamFilter();
    $('keys-warning').hidden = state.vault.rejected === 0;
    showKeyRefusals(state.vault);
  } catch {
    // The old keys stay in use; sending to a rotated team then asks for a new sign-in.
  }
}

// ---------------------------------------------------------------- idle lock

/**
 * Wipes the page after this long without keyboard or pointer use, like the server's idle
 * session limit (30 minutes by default), so an unattended screen does not keep showing
 * decrypted requests until the next API call notices the session has ended.
 */
const IDLE_MS = 30 * 60_000;
let lastActivity = Date.now();

function checkIdle(): void {
  if (state.vault && Date.now() - lastActivity > IDLE_MS) {
    wipe();
    show('login');
    alertError(state.t.expired);
    void fetch('/api/v1/logout', { method: 'POST', credentials: 'same-origin' }).catch(() => undefined);
  }
}

// ---------------------------------------------------------------- start

async function start(): Promise<void> {
  const langButton = $('lang');
  langButton.hidden = false;
  langButton.addEventListener('click', () => {
    state.lang = state.lang === 'en' ? 'ru' : 'en';
    applyLanguage();
  });
  applyLanguage();
  $('enrol-form').addEventListener('submit', (e) => void submitEnrol(e));
  for (const id of ['enrol-passphrase', 'enrol-confirm', 'enrol-username']) $(id).addEventListener('input', updateStrength);
  $('to-login').addEventListener('click', () => show('login'));
  $('login-form').addEventListener('submit', (e) => void submitLogin(e));
  initSecondFactor();
  initSecondFactorPolicy();
  initSecurity();
  $('logout').addEventListener('click', () => void logout());
  $('admin-nav').addEventListener('click', () => void toggleAdmin());
  initAdmin({
    api,
    primitives,
    strings: () => state.t,
    lang: () => state.lang,
    announce,
    alertError,
    hourText,
    vault: () => state.vault,
    keysChanged: refreshTeams,
  });
  $('help-button').addEventListener('click', () => $<HTMLDialogElement>('help').showModal());
  initNotifications();
  $('filter-status').addEventListener('change', (e) => {
    state.filters.status = (e.target as HTMLSelectElement).value;
    void loadRows(true);
  });
  $('filter-team').addEventListener('change', (e) => {
    state.filters.team = (e.target as HTMLSelectElement).value;
    void loadRows(true);
  });
  $('search').addEventListener('input', () => {
    state.selected = -1;
    renderRows();
  });
  $('load-more').addEventListener('click', () => void loadRows(false));
  $('back').addEventListener('click', backToList);
  $('set-status').addEventListener('change', (e) => void patch({ status: (e.target as HTMLSelectElement).value }));
  $('set-priority').addEventListener('change', (e) => void patch({ priority: (e.target as HTMLSelectElement).value }));
  $('set-assignee').addEventListener('change', (e) => {
    const v = (e.target as HTMLSelectElement).value;
    void patch({ assigneeId: v === '' ? null : v });
  });
  $('tags-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void post('tags');
  });
  $('note-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void post('note');
  });
  $('reply-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void post('reply');
  });
  document.addEventListener('keydown', onKey);
  for (const type of ['keydown', 'pointerdown', 'input'] as const) document.addEventListener(type, () => (lastActivity = Date.now()), { capture: true, passive: true });
  setInterval(checkIdle, 15_000);
  // Live refresh: a content-free change marker, polled; a 401 on it wipes the page.
  setInterval(() => void pollChanges(loadThread), POLL_MS);
  document.addEventListener('visibilitychange', checkIdle);

  const setupToken = readSetupToken();
  const code = setupToken === null ? readInvitation() : null;
  if (setupToken !== null) {
    showSetup(setupToken);
  } else if (code !== null) {
    state.inviteCode = code || null;
    show('enrol');
    if (!state.inviteCode) {
      const status = $('enrol-status');
      status.textContent = state.t.noInvite;
      status.classList.add('error');
    }
  } else {
    show('login');
  }
  // Load libsodium while the person types.
  void primitives().catch(() => alertError(state.t.unavailable));
}

void start();
