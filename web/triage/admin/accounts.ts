/**
 * Accounts on the Admin screen: invitations, pending accounts approved only after the admin
 * compares the fingerprint out of band, a second admin (the root seed sealed to them), and
 * removal.
 */
import { base64urlEncode as b64 } from '../../../crypto/encoding.ts';
import { type AdminAccountJson, AdminKeyError, certifiedFingerprint, fingerprintOf, grantsFor, liveEpochSecrets, rootWrapFor, signAccountCertificate } from './keys.ts';
import { fill, type Strings } from '../i18n.ts';
import { rotateTeam } from './rotation.ts';
import { render } from './screen.ts';
import { $, admin, audited, button, checkboxList, confirmDialog, deps, el, fingerprintLine, loadAccountsAndTeams, reload, status, step, t, teamLabel } from './shared.ts';

export function renderInvitationTeams(): void {
  checkboxList($('adm-inv-teams-list'), 'inv-team', admin.teams.map((x) => ({ value: x.id, label: x.name })));
  const role = $<HTMLSelectElement>('adm-inv-role');
  const value = role.value || 'responder';
  role.replaceChildren(new Option(t().roleResponder, 'responder'), new Option(t().roleAdmin, 'admin'));
  role.value = value;
}

export function renderPending(): void {
  const s = t();
  const list = $('adm-pending');
  const pending = admin.accounts.filter((a) => a.status === 'pending');
  if (pending.length === 0) {
    list.replaceChildren(el('li', { text: s.admNoPending }));
    return;
  }
  const p = admin.sodium;
  if (!p) return;
  {
    list.replaceChildren(
      ...pending.map((a) => {
        const li = el('li', { cls: 'card' });
        li.dataset.account = a.id;
        const invited = a.invitedTeamIds.map(teamLabel).join(', ') || s.admNoTeams;
        const checkId = `adm-cmp-${a.id}`;
        const box = el('input');
        box.type = 'checkbox';
        box.id = checkId;
        box.checked = admin.compared.has(a.id);
        const approve = button(s.admApprove, () => void step(() => approveAccount(a)), { disabled: !box.checked || !admin.keys, label: `${s.admApprove} ${a.username}` });
        approve.className = 'approve';
        box.addEventListener('change', () => {
          if (box.checked) admin.compared.add(a.id);
          else admin.compared.delete(a.id);
          approve.disabled = !box.checked || !admin.keys;
        });
        const label = el('label', { cls: 'check' }, box, ` ${s.admCompared}`);
        label.htmlFor = checkId;
        li.append(
          el('h3', { text: `${a.username} (${a.role === 'admin' ? s.roleAdmin : s.roleResponder})` }),
          el('p', { cls: 'hint', text: `${s.admInvitedTo} ${invited}` }),
          fingerprintLine(s.admTheirFp, fingerprintOf(p, a)),
          label,
          approve,
        );
        return li;
      }),
    );
  }
}

export function renderAccounts(): void {
  const s = t();
  const me = admin.keys ? b64(admin.keys.accountId) : deps.vault() ? b64(deps.vault()!.accountId) : '';
  $('adm-accounts').replaceChildren(
    ...admin.accounts.filter((a) => a.status !== 'pending').map((a) => {
      const li = el('li', { cls: 'card' });
      li.dataset.account = a.id;
      const role = a.role === 'admin' ? s.roleAdmin : s.roleResponder;
      const state = s[`acct_${a.status}` as keyof Strings] ?? a.status;
      li.append(el('h3', { text: `${a.username}` }), el('p', { cls: 'hint', text: `${role} · ${state} · ${a.teamIds.map(teamLabel).join(', ') || s.admNoTeams}` }));
      if (a.status === 'active' && a.id !== me) {
        const actions = el('div', { cls: 'inline' });
        if (a.role !== 'admin') actions.append(button(s.admMakeAdmin, () => void step(() => makeAdmin(a)), { disabled: !admin.keys, label: `${s.admMakeAdmin}: ${a.username}` }));
        actions.append(button(s.admRemove, () => void step(() => removeAccount(a)), { cls: 'danger', label: `${s.admRemove}: ${a.username}` }));
        li.append(actions);
      }
      return li;
    }),
  );
  const rotate = $('adm-must-rotate');
  rotate.replaceChildren();
  if (admin.mustRotate.length) {
    rotate.append(el('p', { cls: 'error', text: s.admMustRotate }));
    rotate.append(...admin.mustRotate.map((id) => button(fill(s.admRotateTeam, { team: teamLabel(id) }), () => void step(async () => void (await rotateTeam(id))), { disabled: !admin.keys })));
  }
}

// ---------------------------------------------------------------- actions

export async function createInvitation(): Promise<void> {
  const role = $<HTMLSelectElement>('adm-inv-role').value;
  const teamIds = [...$('adm-inv-teams-list').querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value);
  const res = await deps.api<{ code: string; expiresHour: string }>('POST', '/api/v1/admin/invitations', { role, teamIds });
  // Shown once: the code is not kept anywhere else, and the next wipe or invitation clears it.
  $<HTMLInputElement>('adm-inv-link').value = `${location.origin}/#invite=${res.code}`;
  $('adm-inv-expires').textContent = fill(t().admInvExpires, { when: deps.hourText(res.expiresHour) });
  $('adm-inv-result').hidden = false;
  for (const box of $('adm-inv-teams-list').querySelectorAll<HTMLInputElement>('input')) box.checked = false;
  $('adm-inv-link').focus();
  $<HTMLInputElement>('adm-inv-link').select();
  status(t().admInvCreated);
}

export async function copyLink(): Promise<void> {
  const input = $<HTMLInputElement>('adm-inv-link');
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand('copy');
  }
  deps.announce(t().admCopied);
}

async function approveAccount(a: AdminAccountJson): Promise<void> {
  if (!admin.keys || !admin.compared.has(a.id)) return;
  const p = await deps.primitives();
  await loadAccountsAndTeams();
  const fresh = admin.accounts.find((x) => x.id === a.id);
  // The keys the admin compared must still be the listed ones.
  if (!fresh || fresh.status !== 'pending' || fingerprintOf(p, fresh) !== fingerprintOf(p, a)) {
    admin.compared.delete(a.id);
    render();
    status(t().admChanged, true);
    return;
  }
  const role = fresh.role === 'admin' ? 'admin' : 'responder';
  const certificate = signAccountCertificate(p, admin.keys, fresh, role);
  const teamGrants: { teamId: string; epoch: number; grant: string }[] = [];
  const teamIds: string[] = [];
  for (const teamId of fresh.invitedTeamIds) {
    const team = admin.teams.find((x) => x.id === teamId);
    if (!team) continue;
    const secrets = liveEpochSecrets(p, admin.keys, team, team.grants);
    try {
      // createGrant verifies the certificate against the root before sealing to its key.
      for (const g of grantsFor(p, admin.keys, certificate, teamId, secrets)) teamGrants.push({ teamId, ...g });
    } finally {
      for (const x of secrets.values()) x.fill(0);
    }
    teamIds.push(teamId);
  }
  await audited('POST', `/accounts/${fresh.id}/approve`, 'account.approve', { accountId: fresh.id, teamIds }, (audit) => ({ certificate: b64(certificate), teamGrants, audit }));
  admin.compared.delete(a.id);
  if (role === 'admin') {
    await loadAccountsAndTeams();
    await sealRootTo(admin.accounts.find((x) => x.id === a.id)!);
  }
  await reload();
  await deps.keysChanged();
  status(fill(t().admApproved, { name: fresh.username }));
  $('adm-pending-title').focus();
}

async function sealRootTo(a: AdminAccountJson): Promise<void> {
  if (!admin.keys) throw new AdminKeyError('root');
  const p = await deps.primitives();
  // Seal only to the key in a certificate that verifies for this account; the new admin
  // certificate names the same keys.
  const rootWrap = rootWrapFor(p, admin.keys, a);
  const certificate = signAccountCertificate(p, admin.keys, a, 'admin');
  await audited('POST', '/admins', 'admin.add', { accountId: a.id }, (audit) => ({ accountId: a.id, certificate: b64(certificate), rootWrap: b64(rootWrap), audit }));
}

async function makeAdmin(a: AdminAccountJson): Promise<void> {
  if (!admin.keys) return;
  const p = await deps.primitives();
  const fp = certifiedFingerprint(p, admin.keys, a);
  const ok = await confirmDialog({
    title: fill(t().admMakeAdminTitle, { name: a.username }),
    body: [el('p', { text: t().admMakeAdminIntro }), fingerprintLine(t().admTheirFp, fp)],
    check: t().admCompared,
    ok: t().admMakeAdmin,
  });
  if (!ok) return;
  await sealRootTo(a);
  await reload();
  status(fill(t().admMadeAdmin, { name: a.username }));
}

async function removeAccount(a: AdminAccountJson): Promise<void> {
  const ok = await confirmDialog({ title: fill(t().admRemoveTitle, { name: a.username }), body: [el('p', { text: t().admRemoveIntro })], ok: t().admRemove });
  if (!ok) return;
  const res = await audited<{ mustRotate: string[] }>('POST', `/accounts/${a.id}/remove`, 'account.remove', { accountId: a.id }, (audit) => ({ audit }));
  for (const id of res.mustRotate) if (!admin.mustRotate.includes(id)) admin.mustRotate.push(id);
  await reload();
  status(fill(t().admRemoved, { name: a.username, n: res.mustRotate.length }));
  // Then each team they were in: one confirmed rotation after the other.
  for (const id of [...res.mustRotate]) {
    if (!(await rotateTeam(id))) break;
  }
}
