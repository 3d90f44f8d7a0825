/**
 * Accounts on the Admin screen: invitations (code and signed statement made here), pending
 * accounts approved only after the admin compares the fingerprint out of band and only with
 * the role and teams of the verified invitation statement (trust.ts), a second admin (the root
 * seed sealed only to an account this browser verified as an admin), and removal.
 */
import { base64urlEncode as b64 } from '../../../crypto/encoding.ts';
import { type AdminAccountJson, AdminKeyError, certifiedFingerprint, fingerprintOf, grantsFor, liveEpochSecrets, rootWrapFor, signAccountCertificate } from './keys.ts';
import { fill, type Strings } from '../i18n.ts';
import { rotateTeam } from './rotation.ts';
import { render } from './screen.ts';
import { $, admin, audited, button, checkboxList, confirmDialog, deps, el, fingerprintLine, loadAccountsAndTeams, reload, status, step, t, teamLabel } from './shared.ts';
import { AdminTrustError, checkAdminTarget, makeInvitation, verifiedInvitation, type VerifiedInvitation } from './trust.ts';

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
        // What is shown is what will be signed: the verified statement, never the listing.
        let signed: VerifiedInvitation | null = null;
        let problem: string | null = null;
        try {
          signed = admin.keys ? verifiedInvitation(p, admin.keys, a, admin.accounts) : null;
        } catch (err) {
          problem = err instanceof AdminTrustError ? s[`admTrust_${err.reason}`] : s.admCertBad;
        }
        const checkId = `adm-cmp-${a.id}`;
        const box = el('input');
        box.type = 'checkbox';
        box.id = checkId;
        box.checked = admin.compared.has(a.id);
        // Clickable even when the statement did not verify: approveAccount checks again and
        // says why it refuses (the page must never sign on the listing's word).
        const approve = button(s.admApprove, () => void step(() => approveAccount(a)), { disabled: !box.checked || !admin.keys, label: `${s.admApprove} ${a.username}` });
        approve.className = 'approve';
        box.addEventListener('change', () => {
          if (box.checked) admin.compared.add(a.id);
          else admin.compared.delete(a.id);
          approve.disabled = !box.checked || !admin.keys;
        });
        const roleText = (r: string) => (r === 'admin' ? s.roleAdmin : s.roleResponder);
        const label = el('label', { cls: 'check' }, box, ` ${s.admCompared}`);
        label.htmlFor = checkId;
        li.append(
          el('h3', { text: signed ? `${a.username} (${roleText(signed.role)})` : a.username }),
          signed
            ? el('p', { cls: 'hint signed-invitation', text: fill(s.admSignedInvite, { role: roleText(signed.role), teams: signed.teamIds.map(teamLabel).join(', ') || s.admNoTeams }) })
            : el('p', { cls: 'error trust-problem', text: problem ?? s.admRootBad }),
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
        // Only an account invited and approved as an admin can be given the root seed (checked
        // again in this browser before sealing: the listing alone proves nothing).
        if (a.role === 'admin' && !a.hasRootWrap) actions.append(button(s.admMakeAdmin, () => void step(() => makeAdmin(a)), { disabled: !admin.keys, label: `${s.admMakeAdmin}: ${a.username}` }));
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

/**
 * Makes the invitation here: the 32-byte code goes only into the link's fragment; the server
 * gets its id and the statement this admin signs (role, teams, expiry), audited as
 * `invitation.create`. The approving admin's browser later signs exactly that role and teams.
 */
export async function createInvitation(): Promise<void> {
  if (!admin.keys) throw new AdminKeyError('root');
  const p = await deps.primitives();
  const role = $<HTMLSelectElement>('adm-inv-role').value === 'admin' ? 'admin' : 'responder';
  const teamIds = [...$('adm-inv-teams-list').querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value);
  // Allowed (teams can be given later), but an easy slip: the person would enrol, be approved
  // and see an empty list with no idea why.
  if (teamIds.length === 0 && !(await confirmDialog({ title: t().admInvNoTeamTitle, body: [el('p', { text: t().admInvNoTeamBody })], ok: t().admInvNoTeamOk }))) return;
  if (!admin.keys) throw new AdminKeyError('root');
  const made = makeInvitation(p, admin.keys, role, teamIds);
  const targets = { invitationId: made.invitationId, role, teamIds, expiresHour: made.expiresHour };
  const res = await audited<{ invitationId: string; expiresHour: string }>('POST', '/invitations', 'invitation.create', targets, (audit) => ({
    invitationId: made.invitationId, statement: made.statement, audit,
  }));
  // Shown once: the code is not kept anywhere else, and the next wipe or invitation clears it.
  $<HTMLInputElement>('adm-inv-link').value = `${location.origin}/#invite=${made.code}`;
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
  // Role and teams from the statement the inviting admin signed, verified from the root; a
  // listing that differs is refused before anything is signed.
  const invitation = verifiedInvitation(p, admin.keys, fresh, admin.accounts);
  const role = invitation.role;
  const certificate = signAccountCertificate(p, admin.keys, fresh, role);
  const teamGrants: { teamId: string; epoch: number; grant: string }[] = [];
  const teamIds: string[] = [];
  for (const teamId of invitation.teamIds) {
    const team = admin.teams.find((x) => x.id === teamId);
    // A team of the statement that the server does not list cannot be granted: refuse rather
    // than approve with fewer teams than were signed.
    if (!team) throw new AdminTrustError('listing_differs');
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
  // Seal only to an account whose admin certificate and admin invitation verify here, to the
  // key in that certificate; the admin certificate sent along names the same keys.
  checkAdminTarget(p, admin.keys, a, admin.accounts);
  const rootWrap = rootWrapFor(p, admin.keys, a);
  const certificate = signAccountCertificate(p, admin.keys, a, 'admin');
  await audited('POST', '/admins', 'admin.add', { accountId: a.id }, (audit) => ({ accountId: a.id, certificate: b64(certificate), rootWrap: b64(rootWrap), audit }));
}

async function makeAdmin(a: AdminAccountJson): Promise<void> {
  if (!admin.keys) return;
  const p = await deps.primitives();
  await loadAccountsAndTeams();
  const fresh = admin.accounts.find((x) => x.id === a.id);
  if (!fresh) throw new AdminTrustError('not_admin');
  // Refused before the dialog: the listing's "admin" proves nothing by itself.
  checkAdminTarget(p, admin.keys, fresh, admin.accounts);
  const fp = certifiedFingerprint(p, admin.keys, fresh);
  const ok = await confirmDialog({
    title: fill(t().admMakeAdminTitle, { name: a.username }),
    body: [el('p', { text: t().admMakeAdminIntro }), fingerprintLine(t().admTheirFp, fp)],
    check: t().admCompared,
    ok: t().admMakeAdmin,
  });
  if (!ok) return;
  await sealRootTo(fresh);
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
