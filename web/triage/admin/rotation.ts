/**
 * Key rotation on the Admin screen (STYLE rule 12): a new team key made here and confirmed key
 * by key, re-wrapping old records in this browser, and retiring an old epoch.
 */
import { base64urlEncode as b64 } from '../../../crypto/encoding.ts';
import { type AdminAccountJson, AdminKeyError, type AdminTeamJson, makeTeamKey, rewrapPage, type RewrapPageJson } from './keys.ts';
import { fill } from '../i18n.ts';
import { render } from './screen.ts';
import { admin, ADMIN, audited, confirmDialog, confirmKey, deps, el, loadAccountsAndTeams, reload, REWRAP_BATCH, type RewrapProgress, status, t, teamLabel } from './shared.ts';
import { renderTeams } from './teams.ts';

/**
 * Rotates a team: a new key made here, signed by the root, granted to each current member
 * after verifying that member's certificate; the admin confirms the key and every member's
 * fingerprint before anything is sent; all of it goes in one request (STYLE rule 12).
 * @returns false if the admin cancelled.
 */
export async function rotateTeam(teamId: string): Promise<boolean> {
  if (!admin.keys) throw new AdminKeyError('root');
  const p = await deps.primitives();
  await loadAccountsAndTeams();
  const team = admin.teams.find((x) => x.id === teamId);
  if (!team) throw new AdminKeyError('member');
  const next = Math.max(0, ...team.epochs.map((e) => e.epoch)) + 1;
  const members = team.memberIds.map((id) => admin.accounts.find((a) => a.id === id));
  if (members.some((m) => !m || m.status !== 'active')) throw new AdminKeyError('member');
  const key = makeTeamKey(p, admin.keys, team.id, next, members as AdminAccountJson[]);
  try {
    const ok = await confirmKey(fill(t().admRotateTitle, { team: team.name, e: next }), key, t().admRotate);
    if (!ok) {
      render();
      return false;
    }
    await audited('POST', `/teams/${team.id}/rotate`, 'team.rotate', { teamId: team.id, epoch: next }, (audit) => ({
      epoch: next, certificate: b64(key.certificate), grants: key.grants.map((g) => ({ accountId: g.accountId, grant: g.grant })), audit,
    }));
  } finally {
    key.secretKey.fill(0);
  }
  admin.mustRotate = admin.mustRotate.filter((id) => id !== teamId);
  await reload();
  await deps.keysChanged();
  status(fill(t().admRotated, { team: team.name, e: next }));
  return true;
}

export async function rewrapTeam(teamId: string): Promise<void> {
  if (!admin.keys) throw new AdminKeyError('root');
  const p = await deps.primitives();
  const team = admin.teams.find((x) => x.id === teamId);
  const progress: RewrapProgress = { done: 0, total: team?.staleMessages ?? 0, running: true, failed: 0 };
  admin.rewrap.set(teamId, progress);
  const started = admin.epoch;
  renderTeams();
  let cursor: string | null = null;
  try {
    for (;;) {
      const q = new URLSearchParams({ limit: String(REWRAP_BATCH) });
      if (cursor) q.set('cursor', cursor);
      const page: RewrapPageJson = await deps.api<RewrapPageJson>('GET', `${ADMIN}/teams/${teamId}/rewrap?${q}`);
      if (started !== admin.epoch || !admin.keys) return;
      if (cursor === null) progress.total = Math.max(progress.total, page.remaining);
      if (page.messages.length === 0) break;
      const { messages, failed } = rewrapPage(p, admin.keys, teamId, page);
      if (messages.length) await deps.api('POST', `${ADMIN}/teams/${teamId}/rewrap`, { messages });
      progress.done += messages.length + failed;
      progress.failed += failed;
      updateProgress(teamId, progress);
      // Records that did not open stay behind; the cursor moves past them.
      cursor = page.nextCursor ?? null;
      if (!cursor) break;
    }
  } finally {
    progress.running = false;
  }
  if (progress.failed === 0) progress.done = progress.total;
  await loadAccountsAndTeams();
  render();
  const bar = document.getElementById(`adm-progress-${teamId}`);
  bar?.focus();
  status(progress.failed ? fill(t().admRewrapFailed, { n: progress.failed }) : fill(t().admRewrapDone, { team: teamLabel(teamId) }), progress.failed > 0);
}

function updateProgress(teamId: string, progress: RewrapProgress): void {
  const bar = document.getElementById(`adm-progress-${teamId}`) as HTMLProgressElement | null;
  if (!bar) return;
  const pct = progress.total === 0 ? 100 : Math.min(100, Math.floor((progress.done * 100) / progress.total));
  bar.value = pct;
  bar.setAttribute('aria-valuetext', `${pct}%`);
  const text = bar.parentElement?.querySelector('.pct');
  if (text) text.textContent = `${pct}%`;
}

export async function retireEpoch(team: AdminTeamJson, e: number): Promise<void> {
  const ok = await confirmDialog({ title: fill(t().admRetireTitle, { e, team: team.name }), body: [el('p', { text: t().admRetireIntro })], ok: fill(t().admRetire, { e }) });
  if (!ok) return;
  await audited('POST', `/teams/${team.id}/epochs/${e}/retire`, 'team.epoch.retire', { teamId: team.id, epoch: e }, (audit) => ({ audit }));
  admin.rewrap.delete(team.id);
  await reload();
  await deps.keysChanged();
  status(fill(t().admRetired, { e, team: team.name }));
}
