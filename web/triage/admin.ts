/**
 * The Admin section of the triage dashboard (shown to admins only; the server enforces the
 * role on every /api/v1/admin route anyway): invitations, approving pending accounts after a
 * fingerprint comparison, teams and membership, key rotation confirmed key by key (STYLE rule
 * 12), re-wrapping old records in this browser, retiring old epochs, removing accounts, a
 * second admin, retention, and the audit log verified here.
 *
 * Same rules as main.ts: everything from the server or another person reaches the page as
 * text only; the root seed and every epoch secret live in memory only and are zero-filled as
 * soon as the step that needed them ends, or by `wipeAdmin` (called from main.ts's wipe).
 * Key work is in admin-keys.ts, apart from the DOM.
 */
import { base64urlDecode as unb64, base64urlEncode as b64 } from '../../crypto/encoding.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import type { AuditAction, AuditTargets } from '../../crypto/v1/admin.ts';
import {
  AdminKeyError, certifiedFingerprint, fingerprintOf, grantsFor, liveEpochSecrets, makeTeamKey, openAdminKeys, rewrapPage, rootWrapFor, signAccountCertificate,
  signAudit, verifiedCertificate, verifyAuditChain, wipeAdminKeys,
  type AdminAccountJson, type AdminKeys, type AdminTeamJson, type AuditEntryJson, type AuditJson, type ChainVerdict, type NewTeamKey, type RewrapPageJson, type RootWrapJson,
} from './admin-keys.ts';
import { fill, type Lang, type Strings } from './i18n.ts';
import type { Vault } from './keys.ts';

export interface AdminDeps {
  api<T>(method: string, path: string, body?: unknown): Promise<T>;
  primitives(): Promise<Primitives>;
  strings(): Strings;
  lang(): Lang;
  announce(text: string): void;
  alertError(text: string | null): void;
  hourText(iso: string): string;
  vault(): Vault | null;
  /** main.ts re-reads GET /teams after a key change, so the admin's own reading keys follow. */
  keysChanged(): Promise<void>;
}

interface RewrapProgress {
  done: number;
  total: number;
  running: boolean;
  failed: number;
}

const REWRAP_BATCH = 200;
const AUDIT_PAGE = 1000;
const ADMIN = '/api/v1/admin';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

let deps: AdminDeps;
const t = (): Strings => deps.strings();

// ---- state: wiped by wipeAdmin
let keys: AdminKeys | null = null;
let rootProblem: 'none' | 'no_wrap' | 'bad' | null = null;
let accounts: AdminAccountJson[] = [];
let teams: AdminTeamJson[] = [];
let retentionDays: number | null = null;
let auditEntries: AuditEntryJson[] = [];
let verdict: ChainVerdict | null = null;
let compared = new Set<string>();
let mustRotate: string[] = [];
let rewrap = new Map<string, RewrapProgress>();
let busy = false;
let epoch = 0;
/** libsodium, loaded before any admin data arrives (main.ts loads it at start). */
let sodium: Primitives | null = null;

// ---------------------------------------------------------------- small DOM helpers

function el<K extends keyof HTMLElementTagNameMap>(tag: K, opts: { cls?: string; text?: string } = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (opts.cls) e.className = opts.cls;
  // Text only: names, slugs and audit entries come from the server or other people.
  if (opts.text !== undefined) e.textContent = opts.text;
  e.append(...children);
  return e;
}

function button(text: string, onClick: () => void, opts: { cls?: string; disabled?: boolean; label?: string } = {}): HTMLButtonElement {
  const b = el('button', { text, ...(opts.cls ? { cls: opts.cls } : {}) });
  b.type = 'button';
  b.disabled = opts.disabled ?? false;
  if (opts.label) b.setAttribute('aria-label', opts.label);
  b.addEventListener('click', onClick);
  return b;
}

function fingerprintLine(label: string, fp: string): HTMLElement {
  return el('p', {}, `${label} `, el('code', { cls: 'fingerprint', text: fp }));
}

function status(text: string, error = false): void {
  const s = $('adm-status');
  s.classList.toggle('error', error);
  s.textContent = '';
  s.append(document.createTextNode(text));
}

function accountName(id: string): string {
  return accounts.find((a) => a.id === id)?.username ?? '?';
}

function teamLabel(id: string): string {
  return teams.find((x) => x.id === id)?.name ?? '?';
}

function errorText(err: unknown): string | null {
  const e = err as { status?: number; code?: string };
  if (e.status === 401 || e.code === 'stale') return null; // main.ts already wiped and said why
  if (err instanceof AdminKeyError) {
    if (err.reason === 'root') return t().admRootBad;
    if (err.reason === 'no_secret') return t().admNoSecret;
    return t().admCertBad;
  }
  if (e.status === 409) return t().admConflict;
  if (e.status === 403) return t().admForbidden;
  if (e.status === 400 || e.status === 404) return t().admRefused;
  return t().failed;
}

/** Runs one admin step; one at a time, so two clicks never race on the audit head. */
async function step(run: () => Promise<void>): Promise<void> {
  if (busy) return;
  busy = true;
  const started = epoch;
  deps.alertError(null);
  try {
    await run();
  } catch (err) {
    if (started !== epoch) return;
    const text = errorText(err);
    if (text) status(text, true);
  } finally {
    busy = false;
  }
}

// ---------------------------------------------------------------- API with signed audit entries

/**
 * Sends an audited admin action: reads the head, signs the entry on top of it, sends. If
 * another admin appended first the server answers 409; the entry is rebuilt once on the new
 * head (the action itself did not happen).
 */
async function audited<T>(method: string, path: string, action: AuditAction, targets: AuditTargets, body: (audit: AuditJson) => Record<string, unknown>): Promise<T> {
  const p = await deps.primitives();
  for (let attempt = 0; ; attempt++) {
    if (!keys) throw new AdminKeyError('root');
    const head = await deps.api<{ seq: number; hash: string }>('GET', `${ADMIN}/audit/head`);
    const audit = signAudit(p, keys, action, targets, head.hash);
    try {
      return await deps.api<T>(method, `${ADMIN}${path}`, body(audit));
    } catch (err) {
      if (attempt === 0 && (err as { status?: number }).status === 409) continue;
      throw err;
    }
  }
}

async function loadAccountsAndTeams(): Promise<void> {
  const [a, tm] = await Promise.all([
    deps.api<{ accounts: AdminAccountJson[] }>('GET', `${ADMIN}/accounts`),
    deps.api<{ teams: AdminTeamJson[] }>('GET', `${ADMIN}/teams`),
  ]);
  accounts = a.accounts;
  teams = tm.teams;
}

async function loadAudit(): Promise<void> {
  const all: AuditEntryJson[] = [];
  let after = 0;
  for (;;) {
    const page = await deps.api<{ entries: AuditEntryJson[]; next: number | null }>('GET', `${ADMIN}/audit?after=${after}&limit=${AUDIT_PAGE}`);
    all.push(...page.entries);
    if (page.next === null) break;
    after = page.next;
  }
  auditEntries = all;
  const p = await deps.primitives();
  const signKeys = new Map<string, Uint8Array>();
  for (const a of accounts) {
    try {
      signKeys.set(a.id, unb64(a.signPublicKey));
    } catch {
      // A malformed key simply does not verify anything.
    }
  }
  verdict = verifyAuditChain(p, auditEntries, signKeys);
}

/** Everything the Admin screen shows, fetched again. */
async function reload(): Promise<void> {
  const started = epoch;
  await loadAccountsAndTeams();
  const r = await deps.api<{ closedRetentionDays: number }>('GET', `${ADMIN}/retention`);
  retentionDays = r.closedRetentionDays;
  await loadAudit();
  if (started !== epoch) return;
  render();
}

// ---------------------------------------------------------------- lifecycle

export function initAdmin(d: AdminDeps): void {
  deps = d;
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
export async function openAdmin(): Promise<void> {
  const vault = deps.vault();
  if (!vault) return;
  const started = epoch;
  const p = await deps.primitives();
  sodium = p;
  try {
    const wrap = await deps.api<RootWrapJson>('GET', `${ADMIN}/root-wrap`);
    if (started !== epoch || deps.vault() !== vault) return;
    keys = openAdminKeys(p, vault, wrap);
    rootProblem = 'none';
  } catch (err) {
    if (started !== epoch) return;
    const e = err as { status?: number; code?: string };
    if (e.status === 401 || e.code === 'stale') return;
    rootProblem = e.status === 404 ? 'no_wrap' : 'bad';
  }
}

/** Shows the Admin screen's data (called when main.ts switches to it). */
export async function showAdmin(): Promise<void> {
  sodium ??= await deps.primitives();
  render();
  await step(reload);
}

/** Zero-fills the root seed and forgets and empties everything the Admin screen held. */
export function wipeAdmin(): void {
  epoch++;
  if (keys) wipeAdminKeys(keys);
  keys = null;
  rootProblem = null;
  accounts = [];
  teams = [];
  retentionDays = null;
  auditEntries = [];
  verdict = null;
  compared = new Set();
  mustRotate = [];
  rewrap = new Map();
  busy = false;
  for (const id of ['adm-pending', 'adm-teams', 'adm-accounts', 'adm-audit', 'adm-audit-result', 'adm-inv-teams-list', 'adm-team-members', 'adm-must-rotate', 'adm-status', 'adm-root-status']) {
    $(id).replaceChildren();
  }
  for (const id of ['adm-inv-link', 'adm-team-slug', 'adm-team-name', 'adm-retention']) $<HTMLInputElement>(id).value = '';
  $('adm-inv-result').hidden = true;
  const dialog = $<HTMLDialogElement>('adm-dialog');
  if (dialog.open) dialog.close('cancel');
  $('adm-dialog-body').replaceChildren();
}

// ---------------------------------------------------------------- confirmation dialog

interface ConfirmOptions {
  title: string;
  body: Node[];
  /** a box the admin must tick before OK is enabled (a comparison they made) */
  check?: string;
  ok: string;
}

function confirmDialog(o: ConfirmOptions): Promise<boolean> {
  const dialog = $<HTMLDialogElement>('adm-dialog');
  $('adm-dialog-title').textContent = o.title;
  $('adm-dialog-body').replaceChildren(...o.body);
  const check = $<HTMLInputElement>('adm-dialog-check');
  check.checked = false;
  $('adm-dialog-check-row').hidden = !o.check;
  $('adm-dialog-check-text').textContent = o.check ?? '';
  const ok = $<HTMLButtonElement>('adm-dialog-ok');
  ok.textContent = o.ok;
  ok.disabled = Boolean(o.check);
  $('adm-dialog-cancel').textContent = t().cancel;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      $('adm-dialog-body').replaceChildren();
      resolve(dialog.returnValue === 'ok');
    }, { once: true });
    dialog.showModal();
    // Start on the box to tick, else on Cancel: the destructive choice is never the default.
    (o.check ? check : $('adm-dialog-cancel')).focus();
  });
}

/** The rotation (or creation) confirmation: the new key and every member it is granted to. */
function confirmKey(title: string, key: NewTeamKey, ok: string): Promise<boolean> {
  const list = el('ul', { cls: 'grant-list' });
  for (const g of key.grants) list.append(el('li', {}, `${g.username}: `, el('code', { cls: 'fingerprint', text: g.fingerprint })));
  return confirmDialog({
    title,
    body: [
      el('p', { text: t().admKeyIntro }),
      fingerprintLine(t().admNewKeyFp, key.fingerprint),
      el('p', { text: fill(t().admGrantedTo, { n: key.grants.length }) }),
      list,
    ],
    check: t().admKeyCheck,
    ok,
  });
}

// ---------------------------------------------------------------- render

function render(): void {
  // A dialog closed by a wipe may still call back: nothing is drawn for a signed-out page.
  if (!deps.vault()) return;
  const s = t();
  const root = $('adm-root-status');
  root.classList.toggle('error', rootProblem === 'no_wrap' || rootProblem === 'bad');
  root.textContent = rootProblem === 'none' ? s.admRootOpen : rootProblem === 'no_wrap' ? s.admNoWrap : rootProblem === 'bad' ? s.admRootBad : '';
  renderInvitationTeams();
  renderPending();
  renderTeams();
  renderAccounts();
  renderRetention();
  renderAudit();
}

function checkboxList(container: HTMLElement, name: string, items: { value: string; label: string; checked?: boolean; disabled?: boolean }[]): void {
  const before = new Set([...container.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value));
  container.replaceChildren(
    ...items.map((item) => {
      const input = el('input');
      input.type = 'checkbox';
      input.name = name;
      input.value = item.value;
      input.checked = item.checked ?? before.has(item.value);
      input.disabled = item.disabled ?? false;
      return el('label', { cls: 'check' }, input, ` ${item.label}`);
    }),
  );
}

function renderInvitationTeams(): void {
  checkboxList($('adm-inv-teams-list'), 'inv-team', teams.map((x) => ({ value: x.id, label: x.name })));
  const role = $<HTMLSelectElement>('adm-inv-role');
  const value = role.value || 'responder';
  role.replaceChildren(new Option(t().roleResponder, 'responder'), new Option(t().roleAdmin, 'admin'));
  role.value = value;
}

function renderPending(): void {
  const s = t();
  const list = $('adm-pending');
  const pending = accounts.filter((a) => a.status === 'pending');
  if (pending.length === 0) {
    list.replaceChildren(el('li', { text: s.admNoPending }));
    return;
  }
  const p = sodium;
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
        box.checked = compared.has(a.id);
        const approve = button(s.admApprove, () => void step(() => approveAccount(a)), { disabled: !box.checked || !keys, label: `${s.admApprove} ${a.username}` });
        approve.className = 'approve';
        box.addEventListener('change', () => {
          if (box.checked) compared.add(a.id);
          else compared.delete(a.id);
          approve.disabled = !box.checked || !keys;
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

function renderTeams(): void {
  const s = t();
  const list = $('adm-teams');
  list.replaceChildren(
    ...teams.map((team) => {
      const li = el('li', { cls: 'card' });
      li.dataset.team = team.id;
      const head = el('h3', { text: `${team.name} (${team.slug})` });
      if (team.rotationDue) head.append(' ', el('span', { cls: 'badge due', text: fill(s.admRotationDue, { d: team.currentEpochAgeDays ?? 0 }) }));
      li.append(head);
      li.append(el('p', { cls: 'hint', text: fill(s.admEpochLine, { e: team.currentEpoch ?? '?', d: team.currentEpochAgeDays ?? '?' }) }));
      const epochs = el('ul', { cls: 'epochs' });
      for (const e of [...team.epochs].sort((a, b) => a.epoch - b.epoch)) {
        const item = el('li', { text: `${s.admEpoch} ${e.epoch}: ${s[`state_${e.state}` as keyof Strings] ?? e.state}` });
        if (e.state === 'retiring') {
          item.append(' ', button(fill(s.admRetire, { e: e.epoch }), () => void step(() => retireEpoch(team, e.epoch)), { disabled: team.staleMessages > 0 || !keys }));
        }
        epochs.append(item);
      }
      li.append(epochs);

      // Members, each removable; then offer rotation.
      const members = el('ul', { cls: 'members' });
      for (const id of team.memberIds) {
        const m = el('li', { text: accountName(id) });
        if (keys && id !== b64(keys.accountId)) {
          m.append(' ', button(s.admRemoveMember, () => void step(() => removeMember(team, id)), { cls: 'link', label: `${s.admRemoveMember}: ${accountName(id)}` }));
        }
        members.append(m);
      }
      li.append(el('h4', { text: s.admMembers }), members);

      const candidates = accounts.filter((a) => a.status === 'active' && a.certificate && !team.memberIds.includes(a.id));
      if (candidates.length) {
        const select = el('select');
        select.id = `adm-add-${team.id}`;
        select.append(...candidates.map((a) => new Option(a.username, a.id)));
        const label = el('label', { text: s.admAddMember });
        label.htmlFor = select.id;
        li.append(el('div', { cls: 'inline' }, label, select, button(s.admAdd, () => void step(() => addMember(team, select.value)), { disabled: !keys })));
      }

      // Rotation, re-wrap with progress, retirement.
      const progress = rewrap.get(team.id);
      const actions = el('div', { cls: 'inline' });
      actions.append(button(s.admRotate, () => void step(async () => void (await rotateTeam(team.id))), { disabled: !keys, cls: 'rotate' }));
      const stale = team.staleMessages;
      if (stale > 0 || progress) {
        actions.append(button(fill(s.admRewrap, { n: stale }), () => void step(() => rewrapTeam(team.id)), { disabled: !keys || stale === 0 || progress?.running, cls: 'rewrap' }));
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
  const me = keys ? b64(keys.accountId) : null;
  checkboxList(
    $('adm-team-members'),
    'team-member',
    accounts.filter((a) => a.status === 'active' && a.certificate).map((a) => ({ value: a.id, label: a.username, ...(a.id === me ? { checked: true, disabled: true } : {}) })),
  );
}

function renderAccounts(): void {
  const s = t();
  const me = keys ? b64(keys.accountId) : deps.vault() ? b64(deps.vault()!.accountId) : '';
  $('adm-accounts').replaceChildren(
    ...accounts.filter((a) => a.status !== 'pending').map((a) => {
      const li = el('li', { cls: 'card' });
      li.dataset.account = a.id;
      const role = a.role === 'admin' ? s.roleAdmin : s.roleResponder;
      const state = s[`acct_${a.status}` as keyof Strings] ?? a.status;
      li.append(el('h3', { text: `${a.username}` }), el('p', { cls: 'hint', text: `${role} · ${state} · ${a.teamIds.map(teamLabel).join(', ') || s.admNoTeams}` }));
      if (a.status === 'active' && a.id !== me) {
        const actions = el('div', { cls: 'inline' });
        if (a.role !== 'admin') actions.append(button(s.admMakeAdmin, () => void step(() => makeAdmin(a)), { disabled: !keys, label: `${s.admMakeAdmin}: ${a.username}` }));
        actions.append(button(s.admRemove, () => void step(() => removeAccount(a)), { cls: 'danger', label: `${s.admRemove}: ${a.username}` }));
        li.append(actions);
      }
      return li;
    }),
  );
  const rotate = $('adm-must-rotate');
  rotate.replaceChildren();
  if (mustRotate.length) {
    rotate.append(el('p', { cls: 'error', text: s.admMustRotate }));
    rotate.append(...mustRotate.map((id) => button(fill(s.admRotateTeam, { team: teamLabel(id) }), () => void step(async () => void (await rotateTeam(id))), { disabled: !keys })));
  }
}

function renderRetention(): void {
  const input = $<HTMLInputElement>('adm-retention');
  if (retentionDays !== null && document.activeElement !== input) input.value = String(retentionDays);
  $('adm-retention-now').textContent = retentionDays === null ? '' : fill(t().admRetentionNow, { n: retentionDays });
}

function targetText(targets: Record<string, unknown>): string {
  return Object.entries(targets)
    .map(([k, v]) => {
      const name = (id: unknown) => (typeof id !== 'string' ? String(id) : accounts.find((a) => a.id === id)?.username ?? teams.find((x) => x.id === id)?.name ?? id);
      return `${k}=${Array.isArray(v) ? `[${v.map(name).join(', ')}]` : name(v)}`;
    })
    .join(' ');
}

function renderAudit(): void {
  const s = t();
  const result = $('adm-audit-result');
  result.classList.remove('error', 'ok');
  if (verdict === null) result.textContent = '';
  else if (verdict.ok) {
    result.classList.add('ok');
    result.textContent = fill(s.admAuditOk, { n: verdict.count, head: verdict.head ? verdict.head.slice(0, 16) : '-' });
  } else {
    result.classList.add('error');
    result.textContent = fill(s.admAuditBroken, { seq: verdict.seq, why: s[`fault_${verdict.fault}` as keyof Strings] ?? verdict.fault });
  }
  const broken = verdict && !verdict.ok ? verdict.seq : null;
  $('adm-audit').replaceChildren(
    ...[...auditEntries].reverse().map((e) => {
      const li = el('li');
      li.dataset.seq = String(e.seq);
      let parsed: { action?: unknown; hour?: unknown; targets?: unknown } = {};
      try {
        parsed = JSON.parse(e.entryText) as typeof parsed;
      } catch {
        // Shown as unreadable below; the verdict names the fault.
      }
      const action = typeof parsed.action === 'string' ? parsed.action : '?';
      const hour = typeof parsed.hour === 'string' ? deps.hourText(parsed.hour) : '?';
      const targets = parsed.targets && typeof parsed.targets === 'object' ? targetText(parsed.targets as Record<string, unknown>) : '';
      li.append(
        el('span', { cls: 'seq', text: `#${e.seq}` }), ' ',
        el('span', { text: `${hour} · ${s[`a_${action.replace(/\./g, '_')}` as keyof Strings] ?? action} · ${accountName(e.actorId)}` }),
        el('span', { cls: 'hint block', text: targets }),
      );
      if (broken === e.seq) {
        li.classList.add('broken');
        li.prepend(el('strong', { text: `${s.admBrokenHere} ` }));
      }
      return li;
    }),
  );
}

// ---------------------------------------------------------------- actions

async function createInvitation(): Promise<void> {
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

async function copyLink(): Promise<void> {
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
  if (!keys || !compared.has(a.id)) return;
  const p = await deps.primitives();
  await loadAccountsAndTeams();
  const fresh = accounts.find((x) => x.id === a.id);
  // The keys the admin compared must still be the listed ones.
  if (!fresh || fresh.status !== 'pending' || fingerprintOf(p, fresh) !== fingerprintOf(p, a)) {
    compared.delete(a.id);
    render();
    status(t().admChanged, true);
    return;
  }
  const role = fresh.role === 'admin' ? 'admin' : 'responder';
  const certificate = signAccountCertificate(p, keys, fresh, role);
  const teamGrants: { teamId: string; epoch: number; grant: string }[] = [];
  const teamIds: string[] = [];
  for (const teamId of fresh.invitedTeamIds) {
    const team = teams.find((x) => x.id === teamId);
    if (!team) continue;
    const secrets = liveEpochSecrets(p, keys, team, team.grants);
    try {
      // createGrant verifies the certificate against the root before sealing to its key.
      for (const g of grantsFor(p, keys, certificate, teamId, secrets)) teamGrants.push({ teamId, ...g });
    } finally {
      for (const x of secrets.values()) x.fill(0);
    }
    teamIds.push(teamId);
  }
  await audited('POST', `/accounts/${fresh.id}/approve`, 'account.approve', { accountId: fresh.id, teamIds }, (audit) => ({ certificate: b64(certificate), teamGrants, audit }));
  compared.delete(a.id);
  if (role === 'admin') {
    await loadAccountsAndTeams();
    await sealRootTo(accounts.find((x) => x.id === a.id)!);
  }
  await reload();
  await deps.keysChanged();
  status(fill(t().admApproved, { name: fresh.username }));
  $('adm-pending-title').focus();
}

async function sealRootTo(a: AdminAccountJson): Promise<void> {
  if (!keys) throw new AdminKeyError('root');
  const p = await deps.primitives();
  // Seal only to the key in a certificate that verifies for this account; the new admin
  // certificate names the same keys.
  const rootWrap = rootWrapFor(p, keys, a);
  const certificate = signAccountCertificate(p, keys, a, 'admin');
  await audited('POST', '/admins', 'admin.add', { accountId: a.id }, (audit) => ({ accountId: a.id, certificate: b64(certificate), rootWrap: b64(rootWrap), audit }));
}

async function makeAdmin(a: AdminAccountJson): Promise<void> {
  if (!keys) return;
  const p = await deps.primitives();
  const fp = certifiedFingerprint(p, keys, a);
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
  for (const id of res.mustRotate) if (!mustRotate.includes(id)) mustRotate.push(id);
  await reload();
  status(fill(t().admRemoved, { name: a.username, n: res.mustRotate.length }));
  // Then each team they were in: one confirmed rotation after the other.
  for (const id of [...res.mustRotate]) {
    if (!(await rotateTeam(id))) break;
  }
}

async function removeMember(team: AdminTeamJson, accountId: string): Promise<void> {
  const name = accountName(accountId);
  const ok = await confirmDialog({ title: fill(t().admRemoveMemberTitle, { name, team: team.name }), body: [el('p', { text: t().admRemoveMemberIntro })], ok: t().admRemoveMember });
  if (!ok) return;
  await audited('PUT', `/teams/${team.id}/members/${accountId}`, 'team.member.remove', { teamId: team.id, accountId }, (audit) => ({ member: false, audit }));
  if (!mustRotate.includes(team.id)) mustRotate.push(team.id);
  await reload();
  status(fill(t().admMemberRemoved, { name, team: team.name }));
  await rotateTeam(team.id);
}

async function addMember(team: AdminTeamJson, accountId: string): Promise<void> {
  if (!keys) return;
  const p = await deps.primitives();
  await loadAccountsAndTeams();
  const fresh = teams.find((x) => x.id === team.id);
  const member = accounts.find((a) => a.id === accountId);
  if (!fresh || !member) throw new AdminKeyError('member');
  const cert = verifiedCertificate(p, keys, member).certificate;
  const secrets = liveEpochSecrets(p, keys, fresh, fresh.grants);
  let grants;
  try {
    grants = grantsFor(p, keys, cert, team.id, secrets);
  } finally {
    for (const x of secrets.values()) x.fill(0);
  }
  await audited('PUT', `/teams/${team.id}/members/${accountId}`, 'team.member.add', { teamId: team.id, accountId }, (audit) => ({ member: true, grants, audit }));
  await reload();
  status(fill(t().admMemberAdded, { name: member.username, team: team.name }));
}

/**
 * Rotates a team: a new key made here, signed by the root, granted to each current member
 * after verifying that member's certificate; the admin confirms the key and every member's
 * fingerprint before anything is sent; all of it goes in one request (STYLE rule 12).
 * @returns false if the admin cancelled.
 */
async function rotateTeam(teamId: string): Promise<boolean> {
  if (!keys) throw new AdminKeyError('root');
  const p = await deps.primitives();
  await loadAccountsAndTeams();
  const team = teams.find((x) => x.id === teamId);
  if (!team) throw new AdminKeyError('member');
  const next = Math.max(0, ...team.epochs.map((e) => e.epoch)) + 1;
  const members = team.memberIds.map((id) => accounts.find((a) => a.id === id));
  if (members.some((m) => !m || m.status !== 'active')) throw new AdminKeyError('member');
  const key = makeTeamKey(p, keys, team.id, next, members as AdminAccountJson[]);
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
  mustRotate = mustRotate.filter((id) => id !== teamId);
  await reload();
  await deps.keysChanged();
  status(fill(t().admRotated, { team: team.name, e: next }));
  return true;
}

async function rewrapTeam(teamId: string): Promise<void> {
  if (!keys) throw new AdminKeyError('root');
  const p = await deps.primitives();
  const team = teams.find((x) => x.id === teamId);
  const progress: RewrapProgress = { done: 0, total: team?.staleMessages ?? 0, running: true, failed: 0 };
  rewrap.set(teamId, progress);
  const started = epoch;
  renderTeams();
  let cursor: string | null = null;
  try {
    for (;;) {
      const q = new URLSearchParams({ limit: String(REWRAP_BATCH) });
      if (cursor) q.set('cursor', cursor);
      const page: RewrapPageJson = await deps.api<RewrapPageJson>('GET', `${ADMIN}/teams/${teamId}/rewrap?${q}`);
      if (started !== epoch || !keys) return;
      if (cursor === null) progress.total = Math.max(progress.total, page.remaining);
      if (page.messages.length === 0) break;
      const { messages, failed } = rewrapPage(p, keys, teamId, page);
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

async function retireEpoch(team: AdminTeamJson, e: number): Promise<void> {
  const ok = await confirmDialog({ title: fill(t().admRetireTitle, { e, team: team.name }), body: [el('p', { text: t().admRetireIntro })], ok: fill(t().admRetire, { e }) });
  if (!ok) return;
  await audited('POST', `/teams/${team.id}/epochs/${e}/retire`, 'team.epoch.retire', { teamId: team.id, epoch: e }, (audit) => ({ audit }));
  rewrap.delete(team.id);
  await reload();
  await deps.keysChanged();
  status(fill(t().admRetired, { e, team: team.name }));
}

const SLUG = /^[a-z0-9-]{1,40}$/;

async function createTeam(): Promise<void> {
  if (!keys) throw new AdminKeyError('root');
  const slug = $<HTMLInputElement>('adm-team-slug').value.trim().toLowerCase();
  const name = $<HTMLInputElement>('adm-team-name').value.trim();
  if (!SLUG.test(slug) || name.length < 1 || name.length > 200) {
    status(t().admTeamInvalid, true);
    $('adm-team-slug').focus();
    return;
  }
  const p = await deps.primitives();
  await loadAccountsAndTeams();
  const me = b64(keys.accountId);
  const chosen = new Set([me, ...[...$('adm-team-members').querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value)]);
  const members = accounts.filter((a) => chosen.has(a.id) && a.status === 'active');
  const id = b64(p.randomBytes(16));
  const key = makeTeamKey(p, keys, id, 1, members);
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
  $<HTMLInputElement>('adm-team-slug').value = '';
  $<HTMLInputElement>('adm-team-name').value = '';
  await reload();
  await deps.keysChanged();
  status(fill(t().admTeamCreated, { team: name }));
}

async function saveRetention(): Promise<void> {
  const days = Number($<HTMLInputElement>('adm-retention').value);
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    status(t().admRetentionInvalid, true);
    $('adm-retention').focus();
    return;
  }
  const res = await audited<{ closedRetentionDays: number }>('PUT', '/retention', 'retention.set', { closedRetentionDays: days }, (audit) => ({ closedRetentionDays: days, audit }));
  retentionDays = res.closedRetentionDays;
  await loadAudit();
  render();
  status(fill(t().admRetentionSaved, { n: days }));
}

/** Re-renders in the current language (main.ts calls this from applyLanguage). */
export function renderAdmin(): void {
  if (deps?.vault()) render();
}
