/**
 * Key rotation on the Admin screen (STYLE rule 12): a new team key made here and confirmed key
 * by key, re-wrapping old records in this browser, and retiring an old epoch.
 */
import { base64urlEncode as b64 } from '../../../crypto/encoding.ts';
import { type AdminAccountJson, AdminKeyError, type AdminTeamJson, makeTeamKey, rewrapPage, type RewrapPageJson } from './keys.ts';
import { KeyFreshnessError, renewTeamKey, teamKeyState } from './key-freshness.ts';
import { keyFloors } from '../key-floor.ts';
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
  // The next serial is above every serial listed AND remembered here, so a server hiding a
  // newer statement cannot make this browser sign one that is refused later or replays one.
  const serial = teamKeyState(p, admin.keys, team, keyFloors()).nextSerial;
  const key = makeTeamKey(p, admin.keys, team.id, next, members as AdminAccountJson[], serial);
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
  // Accepted: from now on this browser refuses every older key of the team, here and on re-wrap.
  keyFloors().raise(b64(admin.keys.orgId), team.id, key.serial);
  admin.mustRotate = admin.mustRotate.filter((id) => id !== teamId);
  await reload();
  await deps.keysChanged();
  // The pages carry each team's serial floor, rendered at start: they (and their signed
  // manifests) change at the next restart.
  status(`${fill(t().admRotated, { team: team.name, e: next })} ${t().admManifestAfterKeyChange}`);
  return true;
}

export async function rewrapTeam(teamId: string): Promise<void> {
  if (!admin.keys) throw new AdminKeyError('root');
  const p = await deps.primitives();
  const team = admin.teams.find((x) => x.id === teamId);
  const progress: RewrapProgress = { done: 0, total: team?.staleMessages ?? 0, running: true, failed: 0 };
  admin.rewrap.set(teamId, progress);
  const started = admin.epoch;
  // The newest epoch the admin's team list showed: a re-wrap page naming an older one is refused.
  const knownEpoch = Math.max(0, ...(team?.epochs.map((e) => e.epoch) ?? []));
  let refused: KeyFreshnessError | null = null;
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
      let result;
      try {
        // Refuses a page whose current key is older than the newest this browser verified:
        // nothing is re-wrapped and nothing is uploaded.
        result = rewrapPage(p, admin.keys, teamId, page, keyFloors(), knownEpoch);
      } catch (err) {
        if (!(err instanceof KeyFreshnessError)) throw err;
        refused = err;
        break;
      }
      const { messages, failed } = result;
      // Every batch is signed into the audit log (action team.rewrap), like rotation and retirement.
      if (messages.length) {
        const epoch = page.currentEpoch;
        await audited('POST', `/teams/${teamId}/rewrap`, 'team.rewrap', { teamId, epoch, count: messages.length }, (audit) => ({ epoch, messages, audit }));
      }
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
  if (refused) {
    admin.rewrap.delete(teamId);
    render();
    status(refused.reason === 'rolled_back' ? fill(t().admRewrapRefused, { team: teamLabel(teamId) }) : fill(t().keyExpired, { team: teamLabel(teamId) }), true);
    return;
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

/**
 * Renews the team's current key in this browser: the same key, the next serial, a new expiry
 * (renewTeamKey refuses a key older than one seen). One audited request; the server accepts
 * it only above every stored serial.
 */
export async function renewKey(team: AdminTeamJson): Promise<void> {
  if (!admin.keys) throw new AdminKeyError('root');
  const p = await deps.primitives();
  await loadAccountsAndTeams();
  const fresh = admin.teams.find((x) => x.id === team.id);
  if (!fresh) throw new AdminKeyError('member');
  const r = renewTeamKey(p, admin.keys, fresh, keyFloors());
  await audited('POST', `/teams/${team.id}/epochs/${r.epoch}/renew`, 'team.epoch.renew', { teamId: team.id, epoch: r.epoch, serial: r.serial }, (audit) => ({
    statement: b64(r.statement), audit,
  }));
  keyFloors().raise(b64(admin.keys.orgId), team.id, r.serial);
  await reload();
  await deps.keysChanged();
  status(`${fill(t().admRenewed, { team: team.name, date: new Date(r.expiresHour * 3_600_000).toISOString().slice(0, 10) })} ${t().admManifestAfterKeyChange}`);
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
