/**
 * What the Admin screen's views share: the dependencies main.ts hands in, the screen's state
 * (wiped by wipeAdmin), small DOM helpers that build text-only nodes, one-step-at-a-time
 * running, the API call that carries a signed audit entry, loading, and the confirmation
 * dialog.
 */
import type { Primitives } from '../../../crypto/primitives.ts';
import type { AuditAction, AuditTargets } from '../../../crypto/v1/admin.ts';
import { type AdminAccountJson, AdminKeyError, type AdminKeys, type AdminTeamJson, type AuditEntryJson, type AuditJson, type NewTeamKey, signAudit } from './keys.ts';
import { AdminTrustError, type ChainVerdict, verifyAuditChainCertified } from './trust.ts';
import { keyFloors } from '../key-floor.ts';
import { KeyFreshnessError, type TeamKeyState, teamKeyState } from './key-freshness.ts';
import { fill, type Lang, type Strings } from '../i18n.ts';
import { type ManifestOverviewJson, ManifestRefusedError, type ManifestStatus } from './manifest-review.ts';
import { loadManifests } from './site-manifests.ts';
import type { Vault } from '../keys.ts';
import { render } from './screen.ts';
import { confirmDialog } from '../shell.ts';

// The page's one confirmation dialog lives in shell.ts (the reply confirmation uses it too).
export { confirmDialog };

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

export interface RewrapProgress {
  done: number;
  total: number;
  running: boolean;
  failed: number;
}

export const REWRAP_BATCH = 200;
const AUDIT_PAGE = 1000;
export const ADMIN = '/api/v1/admin';

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

export let deps: AdminDeps;

/** Called once by initAdmin, before anything else of the Admin screen runs. */
export function setDeps(d: AdminDeps): void {
  deps = d;
}

export const t = (): Strings => deps.strings();

/** The Admin screen's state, emptied by wipeAdmin (which bumps `epoch`, so late answers are dropped; `sodium` is a library and stays). */
export const admin = {
  keys: null as AdminKeys | null,
  rootProblem: null as 'none' | 'no_wrap' | 'bad' | null,
  accounts: [] as AdminAccountJson[],
  teams: [] as AdminTeamJson[],
  retentionDays: null as number | null,
  auditEntries: [] as AuditEntryJson[],
  verdict: null as ChainVerdict | null,
  compared: new Set<string>(),
  mustRotate: [] as string[],
  rewrap: new Map<string, RewrapProgress>(),
  /** Each team's current key as THIS browser judges it (teamKeyState), by team id. */
  keyStates: new Map<string, TeamKeyState>(),
  /** Both sites' manifests as listed, and each one's status as THIS browser judges it. */
  manifests: null as ManifestOverviewJson | null,
  manifestStates: new Map<string, ManifestStatus>(),
  busy: false,
  /** The screen's own load (reload) is running: buttons drawn meanwhile show "Loading…" (a click would be dropped by `step`). */
  loading: false,
  epoch: 0,
  /** libsodium, loaded before any admin data arrives (main.ts loads it at start). */
  sodium: null as Primitives | null,
};

// ---------------------------------------------------------------- small DOM helpers

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, opts: { cls?: string; text?: string } = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (opts.cls) e.className = opts.cls;
  // Text only: names, slugs and audit entries come from the server or other people.
  if (opts.text !== undefined) e.textContent = opts.text;
  e.append(...children);
  return e;
}

export function button(text: string, onClick: () => void, opts: { cls?: string; disabled?: boolean; label?: string } = {}): HTMLButtonElement {
  const b = el('button', { text, ...(opts.cls ? { cls: opts.cls } : {}) });
  b.type = 'button';
  b.disabled = opts.disabled ?? false;
  if (opts.label) b.setAttribute('aria-label', opts.label);
  b.addEventListener('click', onClick);
  return b;
}

export function fingerprintLine(label: string, fp: string): HTMLElement {
  return el('p', {}, `${label} `, el('code', { cls: 'fingerprint', text: fp }));
}

export function status(text: string, error = false): void {
  const s = $('adm-status');
  s.classList.toggle('error', error);
  s.textContent = '';
  s.append(document.createTextNode(text));
}

export function accountName(id: string): string {
  return admin.accounts.find((a) => a.id === id)?.username ?? '?';
}

export function teamLabel(id: string): string {
  return admin.teams.find((x) => x.id === id)?.name ?? '?';
}

function errorText(err: unknown): string | null {
  const e = err as { status?: number; code?: string };
  if (e.status === 401 || e.code === 'stale') return null; // the dashboard's api (shell.ts) already wiped and said why
  if (err instanceof AdminTrustError) return t()[`admTrust_${err.reason}`];
  if (err instanceof ManifestRefusedError) return fill(t()[`manifestRefused_${err.reason}`], { file: err.file ?? '' });
  if (err instanceof KeyFreshnessError) {
    const team = teamLabel(err.teamId);
    if (err.reason === 'rolled_back') return fill(t().keyRolledBack, { team });
    if (err.reason === 'expired') return fill(t().keyExpired, { team });
    return t().admCertBad;
  }
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
export async function step(run: () => Promise<void>): Promise<void> {
  if (admin.busy) return;
  admin.busy = true;
  const started = admin.epoch;
  deps.alertError(null);
  try {
    await run();
  } catch (err) {
    if (started !== admin.epoch) return;
    const text = errorText(err);
    if (text) status(text, true);
  } finally {
    admin.busy = false;
  }
}

// ---------------------------------------------------------------- API with signed audit entries

/**
 * Sends an audited admin action: reads the head, signs the entry on top of it, sends. If
 * another admin appended first the server answers 409; the entry is rebuilt once on the new
 * head (the action itself did not happen).
 */
export async function audited<T>(method: string, path: string, action: AuditAction, targets: AuditTargets, body: (audit: AuditJson) => Record<string, unknown>): Promise<T> {
  const p = await deps.primitives();
  for (let attempt = 0; ; attempt++) {
    if (!admin.keys) throw new AdminKeyError('root');
    const head = await deps.api<{ seq: number; hash: string }>('GET', `${ADMIN}/audit/head`);
    const audit = signAudit(p, admin.keys, action, targets, head.hash);
    try {
      return await deps.api<T>(method, `${ADMIN}${path}`, body(audit));
    } catch (err) {
      if (attempt === 0 && (err as { status?: number }).status === 409) continue;
      throw err;
    }
  }
}

export async function loadAccountsAndTeams(): Promise<void> {
  const [a, tm] = await Promise.all([
    deps.api<{ accounts: AdminAccountJson[] }>('GET', `${ADMIN}/accounts`),
    deps.api<{ teams: AdminTeamJson[] }>('GET', `${ADMIN}/teams`),
  ]);
  admin.accounts = a.accounts;
  admin.teams = tm.teams;
  // "Rotation due" after a removal is the server's record, not this page's memory: it stays
  // across sign-outs until the rotation is done.
  for (const team of tm.teams) if (team.rotationRequired && !admin.mustRotate.includes(team.id)) admin.mustRotate.push(team.id);
  // Judged here, on every load: this is also where the browser learns (and remembers) each
  // team's newest serial, before any rotation, renewal or re-wrap is offered.
  admin.keyStates.clear();
  if (admin.keys && admin.sodium) for (const team of tm.teams) admin.keyStates.set(team.id, teamKeyState(admin.sodium, admin.keys, team, keyFloors()));
}

export async function loadAudit(): Promise<void> {
  const all: AuditEntryJson[] = [];
  let after = 0;
  for (;;) {
    const page = await deps.api<{ entries: AuditEntryJson[]; next: number | null }>('GET', `${ADMIN}/audit?after=${after}&limit=${AUDIT_PAGE}`);
    all.push(...page.entries);
    if (page.next === null) break;
    after = page.next;
  }
  admin.auditEntries = all;
  const p = await deps.primitives();
  const vault = deps.vault();
  if (!vault) return;
  // The root from the page (the vault's), not the admin's root wrap: an admin without a wrap
  // verifies the log too. Actor keys only from certificates verified against it.
  admin.verdict = verifyAuditChainCertified(p, { rootPublic: vault.rootPublic, orgId: vault.orgId }, admin.auditEntries, admin.accounts);
}

/** Everything the Admin screen shows, fetched again. */
export async function reload(): Promise<void> {
  const started = admin.epoch;
  admin.loading = true;
  try {
    await loadAll(started);
  } finally {
    // Also after a failed load: the buttons must not stay on "Loading…".
    if (started === admin.epoch) {
      admin.loading = false;
      render();
    }
  }
}

async function loadAll(started: number): Promise<void> {
  // The audit log is verified against the accounts listed, so those come first; the rest at once.
  await loadAccountsAndTeams();
  // Accounts and teams show at once: the audit chain and the site manifests (every served file
  // fetched and hashed here) can take a while, and nothing above needs to wait for them.
  if (started !== admin.epoch) return;
  render();
  await Promise.all([
    deps.api<{ closedRetentionDays: number }>('GET', `${ADMIN}/retention`).then((r) => void (admin.retentionDays = r.closedRetentionDays)),
    loadAudit(),
    // A server that serves no front end answers 503 here: the rest of the screen still shows.
    loadManifests().catch((err: unknown) => {
      if ((err as { status?: number }).status !== 503) throw err;
    }),
  ]);
}

// ---------------------------------------------------------------- confirmation dialog

/** The rotation (or creation) confirmation: the new key and every member it is granted to. */
export function confirmKey(title: string, key: NewTeamKey, ok: string): Promise<boolean> {
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
export function checkboxList(container: HTMLElement, name: string, items: { value: string; label: string; checked?: boolean; disabled?: boolean }[]): void {
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
