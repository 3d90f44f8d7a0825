/**
 * What every view of the triage dashboard shares: its state (the only place decrypted data
 * and keys are held), the screen switcher and status lines, the API call, and `wipe`, which
 * zero-fills and empties all of it (on sign-out, idle lock and any 401).
 *
 * The rules of main.ts hold here and in every view: decrypted text reaches the page only as
 * text; keys and decrypted data live in memory only.
 */
import type { Primitives } from '../../crypto/primitives.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import type { RequestBody } from '../../crypto/v1/request-body.ts';
import { wipeAdmin } from './admin/screen.ts';
import { wipeNotifications } from './views/notifications.ts';
import { wipePasskeyState } from './views/passkey.ts';
import { wipeSecurity } from './views/security.ts';
import { terminateDecryptWorkers } from './decrypt-pool.ts';
import { type Lang, pickLanguage, type Strings, STRINGS } from './i18n.ts';
import { type ThreadItem, type Vault, wipeVault } from './keys.ts';
import type { Row } from './rows.ts';

export const STATUSES = ['new', 'triaged', 'in_progress', 'waiting', 'resolved', 'closed'] as const;
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export const PAGE_SIZE = 50;
type Screen = 'enrol' | 'waiting' | 'login' | 'list' | 'detail' | 'admin' | 'security';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(code);
  }
}

export type { Row };

interface Current {
  row: Row;
  /** the thread, each message opened and verified on its own (keys.ts openThread) */
  items: ThreadItem[];
  tags: string[];
  /** the position the next note, tags or reply must be signed for */
  nextPosition: number;
}

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const initialLang: Lang = pickLanguage(navigator.languages ?? [navigator.language]);

/**
 * The dashboard's state, shared by its views. The fields from `vault` down are the only
 * places decrypted data and keys are held; `wipe` empties all of them.
 */
export const state = {
  lang: initialLang,
  t: STRINGS[initialLang] as Strings,
  sodium: null as Primitives | null,
  screen: 'login' as Screen,
  vault: null as Vault | null,
  me: null as { id: string; username: string; role: string } | null,
  /** The own root-signed certificate, to re-open the vault after an admin's key change. */
  myCertificate: null as Uint8Array | null,
  rows: [] as Row[],
  nextCursor: null as string | null,
  current: null as Current | null,
  selected: -1,
  filters: { status: '', team: '' },
  /** bumped by every wipe, so answers to requests made before it are dropped */
  generation: 0,
  /** the last change marker GET /api/v1/changes answered (views/list.ts `pollChanges`) */
  changeMarker: null as string | null,
  /** the invitation code read from the link's fragment, until enrolment uses it */
  inviteCode: null as string | null,
};

export async function primitives(): Promise<Primitives> {
  state.sodium ??= await loadSodiumPrimitives();
  return state.sodium;
}

export function fillSelect(select: HTMLSelectElement, options: [string, string][], value: string): void {
  select.replaceChildren(...options.map(([v, label]) => new Option(label, v)));
  select.value = value;
}

export function fillTeamFilter(): void {
  const teams = state.vault ? [...state.vault.teams.values()] : [];
  fillSelect($('filter-team'), [['', state.t.any], ...teams.map((x): [string, string] => [x.key, x.name])], state.filters.team);
}

// ---------------------------------------------------------------- screens and statuses

export function show(next: Screen, focus = true): void {
  state.screen = next;
  $('boot').hidden = true;
  for (const id of ['enrol', 'waiting', 'login', 'list', 'detail', 'admin', 'security'] as const) $(id).hidden = id !== next;
  const signedIn = state.vault !== null;
  // Shown to admins only; the server refuses every admin route to anyone else anyway.
  $('admin-nav').hidden = !signedIn || state.me?.role !== 'admin';
  $('admin-nav').textContent = next === 'admin' ? state.t.requestsNav : state.t.adminNav;
  $('admin-nav').setAttribute('aria-pressed', next === 'admin' ? 'true' : 'false');
  $('security-nav').hidden = !signedIn;
  $('security-nav').setAttribute('aria-pressed', next === 'security' ? 'true' : 'false');
  $('logout').hidden = !signedIn;
  $('who').hidden = !signedIn;
  $('help-button').hidden = !signedIn;
  $('notify-button').hidden = !signedIn;
  if (focus) $(`${next}-title`).focus();
}

export function announce(text: string): void {
  const el = $('announce');
  el.textContent = '';
  // A fresh text node makes screen readers speak a repeated message again.
  el.append(document.createTextNode(text));
}

export function alertError(text: string | null): void {
  const el = $('alert');
  el.textContent = text ?? '';
  el.hidden = !text;
}

export interface ConfirmOptions {
  title: string;
  body: Node[];
  /** a box the person must tick before OK is enabled (a comparison they made) */
  check?: string;
  ok: string;
}

/**
 * The page's one confirmation, in its one modal dialog (#adm-dialog: its buttons close it with
 * "ok" or "cancel"), for the Admin screen's steps and a reply leaving the team alike.
 * @returns true only when the person chose OK.
 */
export function confirmDialog(o: ConfirmOptions): Promise<boolean> {
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
  $('adm-dialog-cancel').textContent = state.t.cancel;
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

export function hourText(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(state.lang === 'ru' ? 'ru-RU' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function teamName(key: string): string {
  return state.vault?.teams.get(key)?.name ?? '?';
}

// ---------------------------------------------------------------- API

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const started = state.generation;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new ApiError(0, 'network', '');
  }
  const json = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  if (res.status === 401 && state.vault !== null && started === state.generation) {
    // Session expired or revoked: nothing decrypted may stay on screen.
    wipe();
    show('login');
    alertError(state.t.expired);
    throw new ApiError(401, 'unauthorized', '');
  }
  if (started !== state.generation) throw new ApiError(0, 'stale', '');
  if (!res.ok) throw new ApiError(res.status, json.error?.code ?? 'unknown', json.error?.message ?? '');
  return json as T;
}

// ---------------------------------------------------------------- wiping

/** Zero-fills every key, drops every decrypted value, and empties every view that showed one. */
export function wipe(): void {
  state.generation++;
  terminateDecryptWorkers();
  wipeAdmin();
  wipeNotifications();
  wipeSecurity();
  wipePasskeyState();
  if (state.vault) wipeVault(state.vault);
  state.myCertificate = null;
  for (const row of state.rows) wipeBody(row.body);
  if (state.current) for (const item of state.current.items) if (item.status !== 'unverified' && item.request) wipeBody(item.request);
  state.vault = null;
  state.me = null;
  state.rows = [];
  state.current = null;
  state.nextCursor = null;
  state.changeMarker = null;
  state.selected = -1;
  state.filters = { status: '', team: '' };
  for (const id of ['rows', 'thread', 'detail-meta', 'attachments', 'detail-title', 'list-count', 'root-fp', 'who', 'announce']) $(id).replaceChildren();
  for (const id of ['search', 'tags-input', 'note-input', 'reply-input', 'login-passphrase', 'enrol-passphrase', 'enrol-confirm']) {
    $<HTMLInputElement>(id).value = '';
  }
  $('load-more').hidden = true;
  $('keys-warning').hidden = true;
  fillTeamFilter();
  $<HTMLSelectElement>('filter-status').value = '';
  const help = $<HTMLDialogElement>('help');
  if (help.open) help.close();
}

export function wipeBody(body: RequestBody | null): void {
  for (const a of body?.attachments ?? []) a.key.fill(0);
}

export async function logout(): Promise<void> {
  if (!state.vault) return;
  wipe();
  show('login');
  announce(state.t.signedOut);
  try {
    await fetch('/api/v1/logout', { method: 'POST', credentials: 'same-origin', cache: 'no-store' });
  } catch {
    // The keys are gone from this page either way; the server session expires on its own.
  }
}
