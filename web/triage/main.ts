/**
 * The triage dashboard: enrol from an invitation link, sign in, read the team's requests
 * decrypted in this browser, triage them, write encrypted notes, tags and replies.
 *
 * Rules this file keeps (DESIGN.md properties 1 and 9):
 * - Decrypted text is hostile input: it only ever reaches the page through `textContent` /
 *   text nodes, never as HTML.
 * - Keys and decrypted data live in memory only (no storage API is touched). Signing out,
 *   and any 401 from the API, wipe them: secrets are zero-filled, references dropped, the
 *   DOM emptied, and the login screen shown.
 * - No third-party request; no inline script or style (the CSP allows neither).
 */
import { base64urlDecode, base64urlEncode } from '../../crypto/encoding.ts';
import type { Primitives } from '../../crypto/primitives.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import {
  createAccountKeys, deriveAccountSecrets, newAccountSalt, RESPONDER_DEFAULT_PARAMS, unwrapAccountKeys, wrapAccountKeys,
} from '../../crypto/v1/account.ts';
import { accountFingerprint } from '../../crypto/v1/certs.ts';
import type { RequestBody } from '../../crypto/v1/request-body.ts';
import { TAG_LIMITS } from '../../crypto/v1/text-body.ts';
import { fill, pickLanguage, PRIORITY_LABELS, STATUS_LABELS, STRINGS, type Lang, type Strings } from './i18n.ts';
import {
  KeyError, openRequestRow, openThreadMessage, openVault, sealResponderMessage, vaultContext, wipeVault,
  type RequestRowJson, type TeamsJson, type ThreadContent, type ThreadMessageJson, type Vault,
} from './keys.ts';
import { assessPassphrase } from '../../crypto/passphrase-policy.ts';
import { initAdmin, openAdmin, renderAdmin, showAdmin, wipeAdmin } from './admin.ts';

const STATUSES = ['new', 'triaged', 'in_progress', 'waiting', 'resolved', 'closed'] as const;
const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
const PAGE_SIZE = 50;
const EXCERPT_CHARS = 160;
type Screen = 'enrol' | 'waiting' | 'login' | 'list' | 'detail' | 'admin';

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(code);
  }
}

interface Row {
  json: RequestRowJson;
  body: RequestBody | null;
  failure: 'no_key' | 'unreadable' | null;
  excerpt: string;
  /** lower-cased decrypted text of the request and, once opened, of its thread */
  haystack: string;
}

interface ThreadItem {
  message: ThreadMessageJson;
  content: ThreadContent | null;
  failure: 'no_key' | 'unreadable' | null;
}

interface Current {
  row: Row;
  items: ThreadItem[];
  tags: string[];
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

let lang: Lang = pickLanguage(navigator.languages ?? [navigator.language]);
let t: Strings = STRINGS[lang];
let sodium: Primitives | null = null;
let screen: Screen = 'login';

// ---- the only places decrypted data and keys are held (all wiped by `wipe`)
let vault: Vault | null = null;
let me: { id: string; username: string; role: string } | null = null;
/** The own root-signed certificate, to re-open the vault after an admin's key change. */
let myCertificate: Uint8Array | null = null;
let rows: Row[] = [];
let nextCursor: string | null = null;
let current: Current | null = null;
let selected = -1;
let filters = { status: '', team: '' };
/** bumped by every wipe, so answers to requests made before it are dropped */
let generation = 0;

async function primitives(): Promise<Primitives> {
  sodium ??= await loadSodiumPrimitives();
  return sodium;
}

// ---------------------------------------------------------------- language

function applyLanguage(): void {
  t = STRINGS[lang];
  document.documentElement.lang = lang;
  document.title = t.title;
  for (const el of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
    el.textContent = t[el.dataset.i18n as keyof Strings] ?? '';
  }
  fillSelect($('filter-status'), [['', t.any], ...STATUSES.map((s): [string, string] => [s, STATUS_LABELS[lang][s]!])], filters.status);
  fillTeamFilter();
  fillSelect($('set-status'), STATUSES.map((s): [string, string] => [s, STATUS_LABELS[lang][s]!]), current?.row.json.status ?? 'new');
  fillSelect($('set-priority'), PRIORITIES.map((s): [string, string] => [s, PRIORITY_LABELS[lang][s]!]), current?.row.json.priority ?? 'normal');
  updateStrength();
  $('help-button').setAttribute('aria-label', t.helpTitle);
  $('admin-nav').textContent = screen === 'admin' ? t.requestsNav : t.adminNav;
  renderAdmin();
  if (vault) {
    $('who').textContent = `${t.signedInAs} ${me?.username ?? ''}`;
    $('root-fp').textContent = `${t.rootFp} ${vault.rootFingerprint}`;
    renderRows();
    if (current) renderDetail();
  }
}

function fillSelect(select: HTMLSelectElement, options: [string, string][], value: string): void {
  select.replaceChildren(...options.map(([v, label]) => new Option(label, v)));
  select.value = value;
}

function fillTeamFilter(): void {
  const teams = vault ? [...vault.teams.values()] : [];
  fillSelect($('filter-team'), [['', t.any], ...teams.map((x): [string, string] => [x.key, x.name])], filters.team);
}

// ---------------------------------------------------------------- screens and statuses

function show(next: Screen, focus = true): void {
  screen = next;
  $('boot').hidden = true;
  for (const id of ['enrol', 'waiting', 'login', 'list', 'detail', 'admin'] as const) $(id).hidden = id !== next;
  const signedIn = vault !== null;
  // Shown to admins only; the server refuses every admin route to anyone else anyway.
  $('admin-nav').hidden = !signedIn || me?.role !== 'admin';
  $('admin-nav').textContent = next === 'admin' ? t.requestsNav : t.adminNav;
  $('admin-nav').setAttribute('aria-pressed', next === 'admin' ? 'true' : 'false');
  $('logout').hidden = !signedIn;
  $('who').hidden = !signedIn;
  $('help-button').hidden = !signedIn;
  if (focus) $(`${next}-title`).focus();
}

function announce(text: string): void {
  const el = $('announce');
  el.textContent = '';
  // A fresh text node makes screen readers speak a repeated message again.
  el.append(document.createTextNode(text));
}

function alertError(text: string | null): void {
  const el = $('alert');
  el.textContent = text ?? '';
  el.hidden = !text;
}

function hourText(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(lang === 'ru' ? 'ru-RU' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

function teamName(key: string): string {
  return vault?.teams.get(key)?.name ?? '?';
}

// ---------------------------------------------------------------- API

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const started = generation;
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
  if (res.status === 401 && vault !== null && started === generation) {
    // Session expired or revoked: nothing decrypted may stay on screen.
    wipe();
    show('login');
    alertError(t.expired);
    throw new ApiError(401, 'unauthorized', '');
  }
  if (started !== generation) throw new ApiError(0, 'stale', '');
  if (!res.ok) throw new ApiError(res.status, json.error?.code ?? 'unknown', json.error?.message ?? '');
  return json as T;
}

// ---------------------------------------------------------------- wiping

/** Zero-fills every key, drops every decrypted value, and empties every view that showed one. */
function wipe(): void {
  generation++;
  wipeAdmin();
  if (vault) wipeVault(vault);
  myCertificate = null;
  for (const row of rows) wipeBody(row.body);
  if (current) for (const item of current.items) if (item.content?.kind === 'request') wipeBody(item.content.body);
  vault = null;
  me = null;
  rows = [];
  current = null;
  nextCursor = null;
  selected = -1;
  filters = { status: '', team: '' };
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

function wipeBody(body: RequestBody | null): void {
  for (const a of body?.attachments ?? []) a.key.fill(0);
}

async function logout(): Promise<void> {
  if (!vault) return;
  wipe();
  show('login');
  announce(t.signedOut);
  try {
    await fetch('/api/v1/logout', { method: 'POST', credentials: 'same-origin', cache: 'no-store' });
  } catch {
    // The keys are gone from this page either way; the server session expires on its own.
  }
}

// ---------------------------------------------------------------- enrolment

let inviteCode: string | null = null;

function readInvitation(): string | null {
  const match = /^#invite=([A-Za-z0-9_-]{16,64})$/.exec(location.hash);
  if (location.hash.startsWith('#invite')) {
    // The code must not linger in the address bar or history.
    history.replaceState(null, '', location.pathname + location.search);
  }
  return match ? match[1]! : location.hash.startsWith('#invite') ? '' : null;
}

function updateStrength(): void {
  const pw = $<HTMLInputElement>('enrol-passphrase').value;
  const confirm = $<HTMLInputElement>('enrol-confirm').value;
  const verdict = assessPassphrase(pw, $<HTMLInputElement>('enrol-username').value, confirm === '' ? undefined : confirm);
  $<HTMLMeterElement>('strength-meter').value = verdict.score;
  $('strength-text').textContent = t[`strength${verdict.score}` as keyof Strings];
  const list = $('problems');
  list.replaceChildren();
  if (pw === '') return;
  for (const problem of verdict.problems) {
    const li = document.createElement('li');
    li.textContent = t[`p_${problem}` as keyof Strings];
    list.append(li);
  }
}

const USERNAME = /^[a-z0-9._-]{3,40}$/;

async function submitEnrol(event: Event): Promise<void> {
  event.preventDefault();
  const status = $('enrol-status');
  status.classList.remove('error');
  const username = $<HTMLInputElement>('enrol-username').value.trim().toLowerCase();
  const pwInput = $<HTMLInputElement>('enrol-passphrase');
  const confirmInput = $<HTMLInputElement>('enrol-confirm');
  if (!inviteCode) {
    status.textContent = t.noInvite;
    status.classList.add('error');
    return;
  }
  if (!USERNAME.test(username)) {
    status.textContent = t.badUsername;
    status.classList.add('error');
    $('enrol-username').focus();
    return;
  }
  const verdict = assessPassphrase(pwInput.value, username, confirmInput.value);
  if (!verdict.ok) {
    updateStrength();
    status.textContent = verdict.problems.map((x) => t[`p_${x}` as keyof Strings]).join(' ');
    status.classList.add('error');
    pwInput.focus();
    return;
  }
  const button = $<HTMLButtonElement>('enrol-submit');
  button.disabled = true;
  status.textContent = t.makingKeys;
  const passphrase = pwInput.value;
  pwInput.value = '';
  confirmInput.value = '';
  updateStrength();
  const p = await primitives();
  const keys = createAccountKeys(p);
  const salt = newAccountSalt(p);
  let secrets: { wrapKey: Uint8Array; loginVerifier: Uint8Array } | null = null;
  try {
    secrets = await deriveAccountSecrets(p, passphrase, salt, RESPONDER_DEFAULT_PARAMS);
    const keyBundle = wrapAccountKeys(p, { wrapKey: secrets.wrapKey, salt, params: RESPONDER_DEFAULT_PARAMS, ...keys });
    const encPublicKey = p.x25519PublicFromSecret(keys.x25519Secret);
    const signPublicKey = p.ed25519KeypairFromSeed(keys.ed25519Seed).publicKey;
    await api('POST', '/api/v1/enrol', {
      invitationCode: inviteCode,
      username,
      keyBundle: base64urlEncode(keyBundle),
      salt: base64urlEncode(salt),
      encPublicKey: base64urlEncode(encPublicKey),
      signPublicKey: base64urlEncode(signPublicKey),
      loginVerifier: base64urlEncode(secrets.loginVerifier),
    });
    inviteCode = null;
    status.textContent = '';
    $('fingerprint').textContent = accountFingerprint(p, encPublicKey, signPublicKey);
    $<HTMLInputElement>('login-username').value = username;
    show('waiting');
  } catch (err) {
    status.classList.add('error');
    if (err instanceof ApiError && err.status === 403) status.textContent = t.inviteUsed;
    else if (err instanceof ApiError && err.status === 409) status.textContent = t.nameTaken;
    else status.textContent = t.enrolFailed;
  } finally {
    keys.x25519Secret.fill(0);
    keys.ed25519Seed.fill(0);
    secrets?.wrapKey.fill(0);
    secrets?.loginVerifier.fill(0);
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- login

interface AccountJson {
  id: string;
  username: string;
  role: string;
  status: string;
}

async function submitLogin(event: Event): Promise<void> {
  event.preventDefault();
  alertError(null);
  const status = $('login-status');
  status.classList.remove('error');
  const username = $<HTMLInputElement>('login-username').value.trim().toLowerCase();
  const pwInput = $<HTMLInputElement>('login-passphrase');
  const passphrase = pwInput.value;
  if (!username || !passphrase) return;
  pwInput.value = '';
  const button = $<HTMLButtonElement>('login-submit');
  button.disabled = true;
  status.textContent = t.signingIn;
  let secrets: { wrapKey: Uint8Array; loginVerifier: Uint8Array } | null = null;
  let unwrapped: ReturnType<typeof unwrapAccountKeys> | null = null;
  try {
    const p = await primitives();
    const salt = await api<{ salt: string; params: { ops: number; memKiB: number } }>('POST', '/api/v1/login/salt', { username });
    // deriveAccountSecrets refuses parameters below the floor (a server downgrading the cost).
    secrets = await deriveAccountSecrets(p, passphrase, base64urlDecode(salt.salt), salt.params);
    const login = await api<{ account: AccountJson; keyBundle: string; certificate: string | null }>('POST', '/api/v1/login', {
      username,
      verifier: base64urlEncode(secrets.loginVerifier),
    });
    unwrapped = unwrapAccountKeys(p, secrets.wrapKey, base64urlDecode(login.keyBundle));
    const accountId = base64urlDecode(login.account.id);
    const teams = await api<TeamsJson>('GET', '/api/v1/teams');
    myCertificate = login.certificate ? base64urlDecode(login.certificate) : null;
    vault = openVault(p, unwrapped, accountId, myCertificate, teams);
    unwrapped = null; // now owned by the vault
    me = { id: login.account.id, username: login.account.username, role: login.account.role };
    status.textContent = '';
    $('who').textContent = `${t.signedInAs} ${me.username}`;
    $('root-fp').textContent = `${t.rootFp} ${vault.rootFingerprint}`;
    $('keys-warning').hidden = vault.rejected === 0;
    fillTeamFilter();
    show('list');
    await loadRows(true);
    // An admin's browser opens the root seed now (in memory only, wiped with everything else).
    if (me.role === 'admin') await openAdmin();
  } catch (err) {
    if (vault) {
      wipe();
      show('login');
    }
    status.classList.add('error');
    status.textContent = loginError(err);
    // Best effort: a session opened before a key check failed is closed again.
    if (err instanceof KeyError) void fetch('/api/v1/logout', { method: 'POST', credentials: 'same-origin' }).catch(() => undefined);
  } finally {
    secrets?.wrapKey.fill(0);
    secrets?.loginVerifier.fill(0);
    unwrapped?.x25519Secret.fill(0);
    unwrapped?.ed25519Seed.fill(0);
    button.disabled = false;
  }
}

function loginError(err: unknown): string {
  if (err instanceof KeyError) return t.keyProblem;
  if (err instanceof ApiError) {
    if (err.status === 401) return t.badLogin;
    if (err.status === 403) return t.pending;
    if (err.status === 429) return t.throttled;
    if (err.status === 0 || err.status >= 500) return t.unavailable;
  }
  // A bundle that does not open means a wrong passphrase (or a tampered bundle).
  return t.badLogin;
}

// ---------------------------------------------------------------- list

function excerptOf(body: RequestBody): string {
  const text = body.message.replace(/\s+/g, ' ').trim();
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
}

function toRow(p: Primitives, json: RequestRowJson): Row {
  const opened = openRequestRow(p, vaultContext(vault!), json);
  if (!opened.ok) return { json, body: null, failure: opened.reason, excerpt: '', haystack: '' };
  const b = opened.value;
  const haystack = [b.topic ?? '', b.message, b.contact ?? '', ...(b.attachments ?? []).map((a) => a.name)].join('\n').toLowerCase();
  return { json, body: b, failure: null, excerpt: excerptOf(b), haystack };
}

/** Bumped by every list load, so a slower answer to an older filter never lands on a newer list. */
let loadSeq = 0;

async function loadRows(reset: boolean): Promise<void> {
  if (!vault) return;
  const seq = ++loadSeq;
  const p = await primitives();
  const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (filters.status) q.set('status', filters.status);
  if (filters.team) q.set('team', filters.team);
  if (!reset && nextCursor) q.set('cursor', nextCursor);
  try {
    const page = await api<{ requests: RequestRowJson[]; nextCursor: string | null }>('GET', `/api/v1/requests?${q}`);
    if (seq !== loadSeq || !vault) return;
    const before = rows.length;
    if (reset) {
      for (const row of rows) wipeBody(row.body);
      rows = [];
      selected = -1;
    }
    rows.push(...page.requests.map((r) => toRow(p, r)));
    nextCursor = page.nextCursor;
    renderRows();
    announce(fill(t.loaded, { n: rows.length }) + (nextCursor ? ` ${t.more}` : ''));
    // "Load more" may have just hidden itself: carry focus to the first new row.
    if (!reset) {
      const index = visibleRows().indexOf(rows[before]!);
      if (index >= 0) select(index);
    }
  } catch (err) {
    if (!(err instanceof ApiError && (err.status === 401 || err.code === 'stale'))) alertError(t.failed);
  }
}

function visibleRows(): Row[] {
  const query = $<HTMLInputElement>('search').value.trim().toLowerCase();
  if (!query) return rows;
  return rows.filter((r) => r.haystack.includes(query));
}

function badge(text: string, cls: string): HTMLElement {
  const span = document.createElement('span');
  span.className = `badge ${cls}`;
  span.textContent = text;
  return span;
}

function renderRows(): void {
  const list = $('rows');
  const shown = visibleRows();
  const items = shown.map((row) => {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'row';
    button.dataset.id = row.json.id;
    const excerpt = document.createElement('span');
    excerpt.className = 'excerpt';
    // Text only: hostile request text can never become markup here.
    excerpt.textContent = row.body ? row.excerpt : row.failure === 'no_key' ? t.noKey : t.unreadable;
    const meta = document.createElement('span');
    meta.className = 'rowmeta';
    meta.append(
      badge(STATUS_LABELS[lang][row.json.status] ?? row.json.status, row.json.status),
      badge(PRIORITY_LABELS[lang][row.json.priority] ?? row.json.priority, row.json.priority),
      document.createTextNode(`${teamName(row.json.teamId)} · ${hourText(row.json.createdHour)}`),
    );
    button.append(excerpt, meta);
    button.addEventListener('click', () => void openRequest(row.json.id));
    button.addEventListener('focus', () => select(shown.indexOf(row), false));
    li.append(button);
    return li;
  });
  list.replaceChildren(...items);
  if (selected >= shown.length) selected = shown.length - 1;
  markSelected();
  $('load-more').hidden = nextCursor === null;
  const count = $('list-count');
  if (rows.length === 0) count.textContent = t.noRequests;
  else if (shown.length === 0) count.textContent = t.noMatches;
  else count.textContent = fill(t.shown, { n: shown.length, m: rows.length });
}

function rowButtons(): HTMLButtonElement[] {
  return [...$('rows').querySelectorAll<HTMLButtonElement>('button.row')];
}

function markSelected(): void {
  rowButtons().forEach((b, i) => {
    b.classList.toggle('selected', i === selected);
    b.setAttribute('aria-current', i === selected ? 'true' : 'false');
  });
}

function select(index: number, focus = true): void {
  const buttons = rowButtons();
  if (buttons.length === 0) return;
  selected = Math.max(0, Math.min(buttons.length - 1, index));
  markSelected();
  if (focus) buttons[selected]!.focus();
}

// ---------------------------------------------------------------- one request

async function openRequest(id: string): Promise<void> {
  const row = rows.find((r) => r.json.id === id);
  if (!row || !vault) return;
  alertError(null);
  current = { row, items: [], tags: [] };
  for (const f of ['tags-input', 'note-input', 'reply-input']) $<HTMLInputElement>(f).value = '';
  renderDetail();
  show('detail');
  await loadThread();
  announce(t.opened);
}

async function loadThread(): Promise<void> {
  if (!current || !vault) return;
  const p = await primitives();
  const id = current.row.json.id;
  try {
    const thread = await api<{ request: Omit<RequestRowJson, 'blob'>; messages: ThreadMessageJson[] }>('GET', `/api/v1/requests/${id}`);
    if (!current || current.row.json.id !== id || !vault) return;
    Object.assign(current.row.json, thread.request);
    const ctx = vaultContext(vault);
    current.items = thread.messages.map((m) => {
      const opened = openThreadMessage(p, ctx, current!.row.json.teamId, id, m);
      return opened.ok ? { message: m, content: opened.value, failure: null } : { message: m, content: null, failure: opened.reason };
    });
    const lastTags = [...current.items].reverse().find((i) => i.content?.kind === 'tags');
    current.tags = lastTags?.content?.kind === 'tags' ? lastTags.content.tags : [];
    $<HTMLInputElement>('tags-input').value = current.tags.join(', ');
    // Thread text becomes searchable from the list too.
    const extra = current.items.map((i) => (i.content ? contentText(i.content) : '')).join('\n').toLowerCase();
    const base = current.row.body ? current.row.haystack.split('\n\u0000')[0]! : '';
    current.row.haystack = `${base}\n\u0000${extra}`;
    renderDetail();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      backToList();
      alertError(t.failed);
    } else if (!(err instanceof ApiError && (err.status === 401 || err.code === 'stale'))) alertError(t.failed);
  }
}

function contentText(c: ThreadContent): string {
  if (c.kind === 'request') return [c.body.topic ?? '', c.body.message, c.body.contact ?? ''].join('\n');
  if (c.kind === 'tags') return c.tags.join(', ');
  return c.text;
}

function addMeta(dl: HTMLElement, label: string, value: string): void {
  const dt = document.createElement('dt');
  dt.textContent = label;
  const dd = document.createElement('dd');
  dd.textContent = value;
  dl.append(dt, dd);
}

function renderDetail(): void {
  if (!current || !vault) return;
  const { row } = current;
  const r = row.json;
  $('detail-title').textContent = `${t.requestTitle} · ${teamName(r.teamId)} · ${hourText(r.createdHour)}`;
  const dl = $('detail-meta');
  dl.replaceChildren();
  addMeta(dl, t.team, teamName(r.teamId));
  addMeta(dl, t.received, hourText(r.createdHour));
  addMeta(dl, t.updated, hourText(r.updatedHour));
  if (row.body?.topic) addMeta(dl, t.topic, row.body.topic);
  if (row.body?.contact) addMeta(dl, t.contact, row.body.contact);
  if (current.tags.length) addMeta(dl, t.tags, current.tags.join(', '));
  fillSelect($('set-status'), STATUSES.map((s): [string, string] => [s, STATUS_LABELS[lang][s]!]), r.status);
  fillSelect($('set-priority'), PRIORITIES.map((s): [string, string] => [s, PRIORITY_LABELS[lang][s]!]), r.priority);
  const assignee: [string, string][] = [['', t.unassigned], [me!.id, t.me]];
  for (const m of vault.teams.get(r.teamId)?.members ?? []) if (m.id !== me!.id) assignee.push([m.id, m.username]);
  if (r.assigneeId && !assignee.some(([id]) => id === r.assigneeId)) assignee.push([r.assigneeId, t.someoneElse]);
  fillSelect($('set-assignee'), assignee, r.assigneeId ?? '');

  const list = $('thread');
  const items = (current.items.length ? current.items : [{ message: null, content: row.body ? { kind: 'request' as const, body: row.body } : null, failure: row.failure }]).map((item) => {
    const li = document.createElement('li');
    const kind = item.content?.kind ?? (item.message?.kind as string | undefined) ?? 'request';
    li.className = `k-${kind}`;
    const head = document.createElement('span');
    head.className = 'item-meta';
    let who = '';
    const author = item.message?.authorId;
    if (author) {
      const name = vault!.teams.get(r.teamId)?.members.find((m) => m.id === author)?.username;
      who = author === me!.id ? ` (${t.byYou})` : name ? ` (${name})` : ` (${t.byColleague})`;
    }
    head.textContent = `${t[`k_${kind}` as keyof Strings] ?? kind}${who}`;
    const text = document.createElement('p');
    text.className = 'text';
    // Text only: hostile text stays text.
    if (!item.content) text.textContent = item.failure === 'no_key' ? t.noKey : t.unreadable;
    else if (item.content.kind === 'request') text.textContent = item.content.body.message;
    else if (item.content.kind === 'tags') text.textContent = item.content.tags.join(', ');
    else text.textContent = item.content.text;
    li.append(head, text);
    return li;
  });
  list.replaceChildren(...items);

  const attachments = $('attachments');
  const refs = row.body?.attachments ?? [];
  if (refs.length === 0) {
    const li = document.createElement('li');
    li.textContent = t.attachmentsNone;
    attachments.replaceChildren(li);
  } else {
    // Listed as text only; downloading needs an attachment endpoint the API does not have yet.
    attachments.replaceChildren(
      ...refs.map((a) => {
        const li = document.createElement('li');
        li.textContent = `${a.name} (${a.type || '?'}, ${a.size} B)`;
        return li;
      }),
      Object.assign(document.createElement('li'), { textContent: t.attachmentsUnavailable }),
    );
  }
}

function backToList(): void {
  const id = current?.row.json.id;
  current = null;
  $('thread').replaceChildren();
  $('detail-meta').replaceChildren();
  $('attachments').replaceChildren();
  for (const f of ['tags-input', 'note-input', 'reply-input']) $<HTMLInputElement>(f).value = '';
  renderRows();
  show('list', false);
  const index = visibleRows().findIndex((r) => r.json.id === id);
  if (index >= 0) select(index);
  else $('list-title').focus();
}

async function patch(change: { status?: string; priority?: string; assigneeId?: string | null }): Promise<void> {
  if (!current) return;
  const row = current.row;
  try {
    const res = await api<{ request: Omit<RequestRowJson, 'blob'> }>('PATCH', `/api/v1/requests/${row.json.id}`, change);
    Object.assign(row.json, res.request);
    renderDetail();
    if (change.status) announce(fill(t.statusSet, { v: STATUS_LABELS[lang][change.status] ?? change.status }));
    else if (change.priority) announce(fill(t.prioritySet, { v: PRIORITY_LABELS[lang][change.priority] ?? change.priority }));
    else announce(t.assigneeSet);
  } catch (err) {
    renderDetail();
    if (!(err instanceof ApiError && (err.status === 401 || err.code === 'stale'))) alertError(t.failed);
  }
}

async function post(kind: 'note' | 'tags' | 'reply'): Promise<void> {
  if (!current || !vault) return;
  alertError(null);
  const row = current.row;
  const inputId = kind === 'note' ? 'note-input' : kind === 'reply' ? 'reply-input' : 'tags-input';
  const input = $<HTMLInputElement>(inputId);
  const value = input.value;
  let tags: string[] | undefined;
  if (kind === 'tags') {
    tags = [...new Set(value.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
    if (tags.length > TAG_LIMITS.tags || tags.some((x) => x.length > TAG_LIMITS.tagLength)) {
      alertError(t.tooManyTags);
      return;
    }
  } else if (value.trim() === '') {
    alertError(t.empty);
    input.focus();
    return;
  }
  if (kind === 'reply' && !row.body) {
    alertError(t.failed);
    return;
  }
  const button = $<HTMLButtonElement>(kind === 'note' ? 'note-save' : kind === 'reply' ? 'reply-send' : 'tags-save');
  button.disabled = true;
  try {
    const p = await primitives();
    const envelope = sealResponderMessage(p, vault, {
      kind,
      teamKey: row.json.teamId,
      threadId: row.json.id,
      ...(kind === 'tags' ? { tags: tags! } : { text: value }),
      ...(kind === 'reply' ? { requesterPublic: row.body!.replyPublicKey } : {}),
    });
    await api('POST', `/api/v1/requests/${row.json.id}/messages`, { kind, envelope: base64urlEncode(envelope) });
    if (kind !== 'tags') input.value = '';
    announce(kind === 'reply' ? t.sent : t.saved);
    await loadThread();
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) alertError(t.staleKey);
    else if (err instanceof Error && err.message === 'no_current_key') alertError(t.staleKey);
    else if (!(err instanceof ApiError && (err.status === 401 || err.code === 'stale'))) alertError(t.failed);
  } finally {
    button.disabled = false;
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
      if (screen === 'list') select(selected >= 0 ? selected : 0);
      else if (screen === 'detail') $('detail-title').focus();
      e.preventDefault();
    } else if (screen === 'detail') {
      backToList();
      e.preventDefault();
    }
    return;
  }
  if (isField(active) || !vault) return;
  const inList = screen === 'list';
  const inDetail = screen === 'detail';
  const act = (fn: () => void) => {
    e.preventDefault();
    fn();
  };
  switch (e.key) {
    case 'j':
      if (inList) act(() => select(selected + 1));
      break;
    case 'k':
      if (inList) act(() => select(selected - 1));
      break;
    case 'o':
      if (inList && selected >= 0) act(() => rowButtons()[selected]?.click());
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
      if (inDetail && me) act(() => void patch({ assigneeId: me!.id }));
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
  if (!vault || me?.role !== 'admin') return;
  if (screen === 'admin') {
    show('list');
    await loadRows(true);
    return;
  }
  if (current) backToList();
  show('admin');
  await showAdmin();
}

/**
 * After an admin changed keys (new team, rotation, retirement, approval), re-reads GET /teams
 * and re-opens the vault with the same account keys, so this page reads and writes with the
 * new epochs without signing in again. The old vault's team secrets are zero-filled.
 */
async function refreshTeams(): Promise<void> {
  if (!vault || !myCertificate) return;
  const p = await primitives();
  try {
    const teams = await api<TeamsJson>('GET', '/api/v1/teams');
    const old = vault;
    if (!old) return;
    const sign = p.ed25519KeypairFromSeed(old.ed25519Seed);
    const fresh = openVault(p, { x25519Secret: old.x25519Secret, ed25519Seed: old.ed25519Seed, x25519Public: p.x25519PublicFromSecret(old.x25519Secret), ed25519Public: sign.publicKey }, old.accountId, myCertificate, teams);
    sign.seed.fill(0);
    for (const team of old.teams.values()) for (const secret of team.secrets.values()) secret.fill(0);
    vault = fresh;
    fillTeamFilter();
    $('keys-warning').hidden = vault.rejected === 0;
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
  if (vault && Date.now() - lastActivity > IDLE_MS) {
    wipe();
    show('login');
    alertError(t.expired);
    void fetch('/api/v1/logout', { method: 'POST', credentials: 'same-origin' }).catch(() => undefined);
  }
}

// ---------------------------------------------------------------- start

async function start(): Promise<void> {
  const langButton = $('lang');
  langButton.hidden = false;
  langButton.addEventListener('click', () => {
    lang = lang === 'en' ? 'ru' : 'en';
    applyLanguage();
  });
  applyLanguage();
  $('enrol-form').addEventListener('submit', (e) => void submitEnrol(e));
  for (const id of ['enrol-passphrase', 'enrol-confirm', 'enrol-username']) $(id).addEventListener('input', updateStrength);
  $('to-login').addEventListener('click', () => show('login'));
  $('login-form').addEventListener('submit', (e) => void submitLogin(e));
  $('logout').addEventListener('click', () => void logout());
  $('admin-nav').addEventListener('click', () => void toggleAdmin());
  initAdmin({
    api,
    primitives,
    strings: () => t,
    lang: () => lang,
    announce,
    alertError,
    hourText,
    vault: () => vault,
    keysChanged: refreshTeams,
  });
  $('help-button').addEventListener('click', () => $<HTMLDialogElement>('help').showModal());
  $('filter-status').addEventListener('change', (e) => {
    filters.status = (e.target as HTMLSelectElement).value;
    void loadRows(true);
  });
  $('filter-team').addEventListener('change', (e) => {
    filters.team = (e.target as HTMLSelectElement).value;
    void loadRows(true);
  });
  $('search').addEventListener('input', () => {
    selected = -1;
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
  document.addEventListener('visibilitychange', checkIdle);

  const code = readInvitation();
  if (code !== null) {
    inviteCode = code || null;
    show('enrol');
    if (!inviteCode) {
      const status = $('enrol-status');
      status.textContent = t.noInvite;
      status.classList.add('error');
    }
  } else {
    show('login');
  }
  // Load libsodium while the person types.
  void primitives().catch(() => alertError(t.unavailable));
}

void start();
