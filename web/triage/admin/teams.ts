/**
 * Teams on the Admin screen: the list with each team's key state, membership (adding a member
 * grants them every live epoch key; removing one asks for a rotation), and a new team with its
 * first key made and confirmed here.
 */
import { base64urlEncode as b64 } from '../../../crypto/encoding.ts';
import { AdminKeyError, type AdminTeamJson, grantsFor, liveEpochSecrets, makeTeamKey, verifiedCertificate } from './keys.ts';
import { fill, type Strings } from '../i18n.ts';
import { renewKey, retireEpoch, rewrapTeam, rotateTeam } from './rotation.ts';
import { keyFloors } from '../key-floor.ts';
import { $, accountName, admin, audited, button, checkboxList, confirmDialog, confirmKey, deps, el, loadAccountsAndTeams, reload, status, step, t } from './shared.ts';

export function renderTeams(): void {
  const s = t();
  const list = $('adm-teams');
  list.replaceChildren(
    ...admin.teams.map((team) => {
      const li = el('li', { cls: 'card' });
      li.dataset.team = team.id;
      const head = el('h3', { text: `${team.name} (${team.slug})` });
      if (team.rotationRequired) head.append(' ', el('span', { cls: 'badge due required', text: s.admRotationRequired }));
      else if (team.rotationDue) head.append(' ', el('span', { cls: 'badge due', text: fill(s.admRotationDue, { d: team.currentEpochAgeDays ?? 0 }) }));
      // The key's state as THIS browser judged it (admin.keyStates), never the server's flag alone.
      const keyState = admin.keyStates.get(team.id);
      const needsRenewal = keyState?.status === 'needs_renewal' || keyState?.status === 'expired';
      if (needsRenewal) head.append(' ', el('span', { cls: 'badge due', text: s.admNeedsRenewal }));
      li.append(head);
      li.append(el('p', { cls: 'hint', text: fill(s.admEpochLine, { e: team.currentEpoch ?? '?', d: team.currentEpochAgeDays ?? '?' }) }));
      if (keyState?.status === 'rolled_back') li.append(el('p', { cls: 'error', text: fill(s.keyRolledBack, { team: team.name }) }));
      else if (keyState?.status === 'expired') li.append(el('p', { cls: 'error', text: fill(s.keyExpired, { team: team.name }) }));
      else if (keyState && keyState.expiresHour !== null) li.append(el('p', { cls: 'hint', text: fill(s.admKeyValidUntil, { date: new Date(keyState.expiresHour * 3_600_000).toISOString().slice(0, 10) }) }));
      else if (keyState && keyState.status !== 'none' && keyState.status !== 'invalid') li.append(el('p', { cls: 'hint', text: s.admKeyOldFormat }));
      if (needsRenewal) li.append(el('div', { cls: 'inline' }, button(s.admRenew, () => void step(() => renewKey(team)), { disabled: !admin.keys, cls: 'renew' })));
      const epochs = el('ul', { cls: 'epochs' });
      for (const e of [...team.epochs].sort((a, b) => a.epoch - b.epoch)) {
        const item = el('li', { text: `${s.admEpoch} ${e.epoch}: ${s[`state_${e.state}` as keyof Strings] ?? e.state}` });
        // Retiring is offered only once the re-wrap is complete (the server also refuses
        // with `rewrap_incomplete`): until then the admin sees what is left to do instead.
        if (e.state === 'retiring' && team.staleMessages > 0) item.append(' ', el('span', { cls: 'hint', text: fill(s.admRetireAfterRewrap, { n: team.staleMessages }) }));
        else if (e.state === 'retiring') item.append(' ', button(fill(s.admRetire, { e: e.epoch }), () => void step(() => retireEpoch(team, e.epoch)), { disabled: !admin.keys }));
        epochs.append(item);
      }
      li.append(epochs);

      // Members, each removable; then offer rotation.
      const members = el('ul', { cls: 'members' });
      for (const id of team.memberIds) {
        const m = el('li', { text: accountName(id) });
        if (admin.keys && id !== b64(admin.keys.accountId)) {
          m.append(' ', button(s.admRemoveMember, () => void step(() => removeMember(team, id)), { cls: 'link', label: `${s.admRemoveMember}: ${accountName(id)}` }));
        }
        members.append(m);
      }
      li.append(el('h4', { text: s.admMembers }), members);

      const candidates = admin.accounts.filter((a) => a.status === 'active' && a.certificate && !team.memberIds.includes(a.id));
      if (candidates.length) {
        const select = el('select');
        select.id = `adm-add-${team.id}`;
        select.append(...candidates.map((a) => new Option(a.username, a.id)));
        const label = el('label', { text: s.admAddMember });
        label.htmlFor = select.id;
        li.append(el('div', { cls: 'inline' }, label, select, button(s.admAdd, () => void step(() => addMember(team, select.value)), { disabled: !admin.keys })));
      }

      // Rotation, re-wrap with progress, retirement.
      const progress = admin.rewrap.get(team.id);
      const actions = el('div', { cls: 'inline' });
      actions.append(button(s.admRotate, () => void step(async () => void (await rotateTeam(team.id))), { disabled: !admin.keys, cls: 'rotate' }));
      const stale = team.staleMessages;
      if (stale > 0 || progress) {
        actions.append(button(fill(s.admRewrap, { n: stale }), () => void step(() => rewrapTeam(team.id)), { disabled: !admin.keys || stale === 0 || progress?.running, cls: 'rewrap' }));
      }
      li.append(actions);
      if (progress) {
        const pct = progress.total === 0 ? 100 : Math.floor((progress.done * 100) / progress.total);
        const bar = el('progress');
        bar.max = 100;
        bar.value = pct;
        bar.id = `adm-progress-${team.id}`;
        bar.setAttribute('aria-valuetext', `${pct}%`);
        const label = el('label', { text: s.admRewrapProgress });
        label.htmlFor = bar.id;
        li.append(el('div', { cls: 'inline' }, label, bar, el('span', { cls: 'pct', text: `${pct}%` })));
        if (progress.failed) li.append(el('p', { cls: 'error', text: fill(s.admRewrapFailed, { n: progress.failed }) }));
      }
      return li;
    }),
  );
  // The create form's member list: active accounts with a certificate; the admin is always in.
  const me = admin.keys ? b64(admin.keys.accountId) : null;
  checkboxList(
    $('adm-team-members'),
    'team-member',
    admin.accounts.filter((a) => a.status === 'active' && a.certificate).map((a) => ({ value: a.id, label: a.username, ...(a.id === me ? { checked: true, disabled: true } : {}) })),
  );
}

async function removeMember(team: AdminTeamJson, accountId: string): Promise<void> {
  const name = accountName(accountId);
  const ok = await confirmDialog({ title: fill(t().admRemoveMemberTitle, { name, team: team.name }), body: [el('p', { text: t().admRemoveMemberIntro })], ok: t().admRemoveMember });
  if (!ok) return;
  await audited('PUT', `/teams/${team.id}/members/${accountId}`, 'team.member.remove', { teamId: team.id, accountId }, (audit) => ({ member: false, audit }));
  if (!admin.mustRotate.includes(team.id)) admin.mustRotate.push(team.id);
  await reload();
  status(fill(t().admMemberRemoved, { name, team: team.name }));
  await rotateTeam(team.id);
}

/**
 * Asks what a new member may read (issue 13: adding a member must not silently grant every
 * old request). @returns 'all', 'new', or null when the admin cancelled.
 */
async function askGrantScope(team: AdminTeamJson, name: string): Promise<'all' | 'new' | null> {
  const s = t();
  const choice = (value: 'all' | 'new', text: string, checked: boolean) => {
    const input = el('input');
    input.type = 'radio';
    input.name = 'grant-scope';
    input.value = value;
    input.checked = checked;
    return el('label', { cls: 'check' }, input, ` ${text}`);
  };
  const body = [el('p', { text: fill(s.admGrantScopeIntro, { name, team: team.name }) }), el('p', {}, choice('new', fill(s.admGrantScopeNew, { name }), true)), el('p', {}, choice('all', s.admGrantScopeAll, false))];
  const form = el('div', {}, ...body);
  let picked: 'all' | 'new' = 'new';
  form.addEventListener('change', () => (picked = form.querySelector<HTMLInputElement>('input[name="grant-scope"]:checked')?.value === 'all' ? 'all' : 'new'));
  const ok = await confirmDialog({ title: fill(s.admGrantScopeTitle, { name, team: team.name }), body: [form], ok: s.admAdd });
  return ok ? picked : null;
}

async function addMember(team: AdminTeamJson, accountId: string): Promise<void> {
  if (!admin.keys) return;
  const p = await deps.primitives();
  const chosen = admin.accounts.find((a) => a.id === accountId);
  if (!chosen) throw new AdminKeyError('member');
  const scope = await askGrantScope(team, chosen.username);
  if (!scope) return;
  // New requests only: rotate first (a new key for the current members, confirmed as any
  // rotation), then grant the new member that epoch alone. Existing requests stay on the old
  // epochs, which the member never receives.
  if (scope === 'new' && !(await rotateTeam(team.id))) return;
  await loadAccountsAndTeams();
  const fresh = admin.teams.find((x) => x.id === team.id);
  const member = admin.accounts.find((a) => a.id === accountId);
  if (!fresh || !member || !admin.keys) throw new AdminKeyError('member');
  const cert = verifiedCertificate(p, admin.keys, member).certificate;
  const secrets = liveEpochSecrets(p, admin.keys, fresh, fresh.grants);
  let grants;
  try {
    const granted = scope === 'new' ? new Map([...secrets].filter(([epoch]) => epoch === fresh.currentEpoch)) : secrets;
    grants = grantsFor(p, admin.keys, cert, team.id, granted);
  } finally {
    for (const x of secrets.values()) x.fill(0);
  }
  const targets = { teamId: team.id, accountId, ...(scope === 'new' ? { scope } : {}) };
  await audited('PUT', `/teams/${team.id}/members/${accountId}`, 'team.member.add', targets, (audit) => ({ member: true, grants, scope, audit }));
  await reload();
  status(fill(scope === 'new' ? t().admMemberAddedNew : t().admMemberAdded, { name: member.username, team: team.name }));
}

const SLUG = /^[a-z0-9-]{1,40}$/;

export async function createTeam(): Promise<void> {
  if (!admin.keys) throw new AdminKeyError('root');
  const slug = $<HTMLInputElement>('adm-team-slug').value.trim().toLowerCase();
  const name = $<HTMLInputElement>('adm-team-name').value.trim();
  if (!SLUG.test(slug) || name.length < 1 || name.length > 200) {
    status(t().admTeamInvalid, true);
    $('adm-team-slug').focus();
    return;
  }
  const p = await deps.primitives();
  await loadAccountsAndTeams();
  const me = b64(admin.keys.accountId);
  const chosen = new Set([me, ...[...$('adm-team-members').querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value)]);
  const members = admin.accounts.filter((a) => chosen.has(a.id) && a.status === 'active');
  const id = b64(p.randomBytes(16));
  // A new team's first statement: serial 1 (the server refuses 0 and stores nothing older).
  const key = makeTeamKey(p, admin.keys, id, 1, members, 1);
  try {
    const ok = await confirmKey(fill(t().admCreateTitle, { team: name }), key, t().admCreateTeam);
    if (!ok) return;
    const grants = key.grants.map((g) => ({ accountId: g.accountId, grant: g.grant }));
    await audited('POST', '/teams', 'team.create', { teamId: id, slug, memberIds: grants.map((g) => g.accountId) }, (audit) => ({
      id, slug, name, certificate: b64(key.certificate), grants, audit,
    }));
  } finally {
    key.secretKey.fill(0);
  }
  keyFloors().raise(b64(admin.keys.orgId), id, key.serial);
  $<HTMLInputElement>('adm-team-slug').value = '';
  $<HTMLInputElement>('adm-team-name').value = '';
  await reload();
  await deps.keysChanged();
  status(`${fill(t().admTeamCreated, { team: name })} ${t().admManifestAfterKeyChange}`);
}
