/**
 * The Admin section of the triage dashboard (shown to admins only; the server enforces the
 * role on every /api/v1/admin route anyway): invitations, approving pending accounts after a
 * fingerprint comparison, teams and membership, key rotation confirmed key by key (STYLE rule
 * 12), re-wrapping old records in this browser, retiring old epochs, removing accounts, a
 * second admin, retention, signing the site manifests (site-manifests.ts), and the audit log
 * verified here.
 *
 * Same rules as main.ts: everything from the server or another person reaches the page as
 * text only; the root seed and every epoch secret live in memory only and are zero-filled as
 * soon as the step that needed them ends, or by `wipeAdmin` (called from shell.ts's wipe).
 * Key work is in keys.ts beside this file, apart from the DOM. This module is the screen's lifecycle
 * (init, open, show, wipe, render); each part of the screen is a module beside it.
 */
import { openAdminKeys, type RootWrapJson, wipeAdminKeys } from './keys.ts';
import { copyLink, createInvitation, renderAccounts, renderInvitationTeams, renderPending } from './accounts.ts';
import { renderAudit, renderRetention, saveRetention } from './audit.ts';
import { $, admin, ADMIN, type AdminDeps, deps, loadAccountsAndTeams, loadAudit, reload, setDeps, step, t } from './shared.ts';
import { createTeam, renderTeams } from './teams.ts';
import { checkManifestsAtSignIn, renderManifests, wipeManifests } from './site-manifests.ts';
import { rotateRoot } from './root-rotation.ts';

// ---------------------------------------------------------------- lifecycle

export function initAdmin(d: AdminDeps): void {
  setDeps(d);
  $('adm-inv-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void step(createInvitation);
  });
  $('adm-inv-copy').addEventListener('click', () => void copyLink());
  $('adm-team-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void step(createTeam);
  });
  $('adm-retention-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void step(saveRetention);
  });
  $('adm-root-rotate').addEventListener('click', () => void step(rotateRoot));
  $('adm-audit-verify').addEventListener('click', () =>
    void step(async () => {
      await loadAccountsAndTeams();
      await loadAudit();
      render();
      const r = $('adm-audit-result');
      r.focus();
    }),
  );
  $('adm-reload').addEventListener('click', () => void step(async () => {
    await reload();
    deps.announce(t().admReloaded);
  }));
  const dialog = $<HTMLDialogElement>('adm-dialog');
  $('adm-dialog-check').addEventListener('change', () => {
    $<HTMLButtonElement>('adm-dialog-ok').disabled = !$<HTMLInputElement>('adm-dialog-check').checked;
  });
  $('adm-dialog-ok').addEventListener('click', () => dialog.close('ok'));
  $('adm-dialog-cancel').addEventListener('click', () => dialog.close('cancel'));
}

/**
 * After an admin signs in: fetch the root wrap and open the root seed (checked against the
 * configured root key). Without it the screen still shows invitations, retention and the
 * audit log; every step that needs the root is refused with a reason.
 */
export function openAdmin(): Promise<void> {
  opening = openAdminKeysAtSignIn();
  return opening;
}

/** The sign-in's opening of the root seed, awaited by showAdmin (see there). */
let opening: Promise<void> = Promise.resolve();

async function openAdminKeysAtSignIn(): Promise<void> {
  const vault = deps.vault();
  if (!vault) return;
  const started = admin.epoch;
  const p = await deps.primitives();
  admin.sodium = p;
  try {
    const wrap = await deps.api<RootWrapJson>('GET', `${ADMIN}/root-wrap`);
    if (started !== admin.epoch || deps.vault() !== vault) return;
    admin.keys = openAdminKeys(p, vault, wrap);
    admin.rootProblem = 'none';
  } catch (err) {
    if (started !== admin.epoch) return;
    const e = err as { status?: number; code?: string };
    if (e.status === 401 || e.code === 'stale') return;
    admin.rootProblem = e.status === 404 ? 'no_wrap' : 'bad';
  }
  // "needs signing" in the header from sign-in on, whatever screen is open.
  if (started === admin.epoch) await checkManifestsAtSignIn();
}

/** Shows the Admin screen's data (called when main.ts switches to it). */
export async function showAdmin(): Promise<void> {
  admin.sodium ??= await deps.primitives();
  render();
  // The root seed may still be opening (an admin who clicks Admin right after signing in): the
  // teams' key states are judged with it, so a reload that ran first would show none of them.
  await opening;
  await step(reload);
}

/** Zero-fills the root seed and forgets and empties everything the Admin screen held. */
export function wipeAdmin(): void {
  admin.epoch++;
  opening = Promise.resolve();
  if (admin.keys) wipeAdminKeys(admin.keys);
  admin.keys = null;
  admin.rootProblem = null;
  admin.accounts = [];
  admin.teams = [];
  admin.retentionDays = null;
  admin.auditEntries = [];
  admin.verdict = null;
  admin.compared = new Set();
  admin.mustRotate = [];
  admin.rewrap = new Map();
  admin.keyStates = new Map();
  wipeManifests();
  admin.busy = false;
  admin.loading = false;
  for (const id of ['adm-pending', 'adm-teams', 'adm-accounts', 'adm-audit', 'adm-audit-result', 'adm-inv-teams-list', 'adm-team-members', 'adm-must-rotate', 'adm-status', 'adm-root-status', 'adm-root-rotation-status']) {
    $(id).replaceChildren();
  }
  for (const id of ['adm-inv-link', 'adm-team-slug', 'adm-team-name', 'adm-retention']) $<HTMLInputElement>(id).value = '';
  $('adm-inv-result').hidden = true;
  const dialog = $<HTMLDialogElement>('adm-dialog');
  if (dialog.open) dialog.close('cancel');
  $('adm-dialog-body').replaceChildren();
}

// ---------------------------------------------------------------- render

export function render(): void {
  // A dialog closed by a wipe may still call back: nothing is drawn for a signed-out page.
  if (!deps.vault()) return;
  const s = t();
  const root = $('adm-root-status');
  root.classList.toggle('error', admin.rootProblem === 'no_wrap' || admin.rootProblem === 'bad');
  root.textContent = admin.rootProblem === 'none' ? s.admRootOpen : admin.rootProblem === 'no_wrap' ? s.admNoWrap : admin.rootProblem === 'bad' ? s.admRootBad : '';
  renderInvitationTeams();
  renderPending();
  renderTeams();
  renderAccounts();
  renderRetention();
  renderManifests();
  renderAudit();
}

/** Re-renders in the current language (main.ts calls this from applyLanguage). */
export function renderAdmin(): void {
  if (deps?.vault()) render();
}
