/**
 * The request list: pages of rows decrypted in this browser, filtered by status, team and a
 * search over the decrypted text (never sent to the server), and keyboard selection.
 */
import { fill, PRIORITY_LABELS, STATUS_LABELS } from '../i18n.ts';
import { type RequestRowJson, vaultContext } from '../keys.ts';
import { toRow } from '../rows.ts';
import { openRows } from '../decrypt-pool.ts';
import { $, alertError, announce, api, ApiError, hourText, PAGE_SIZE, primitives, type Row, state, teamName, wipeBody } from '../shell.ts';
import { openRequest } from './thread.ts';
import { removeUndecryptable } from '../admin/junk.ts';

/** Bumped by every list load, so a slower answer to an older filter never lands on a newer list. */
let loadSeq = 0;

export async function loadRows(reset: boolean, quiet = false): Promise<void> {
  if (!state.vault) return;
  const seq = ++loadSeq;
  const p = await primitives();
  const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (state.filters.status) q.set('status', state.filters.status);
  if (state.filters.team) q.set('team', state.filters.team);
  if (!reset && state.nextCursor) q.set('cursor', state.nextCursor);
  try {
    // The marker is read BEFORE the list: a change landing in between moves it again, so the
    // next poll re-reads (at worst once too often, never a change missed).
    if (reset) {
      const { marker } = await api<{ marker: string }>('GET', '/api/v1/changes');
      if (seq !== loadSeq || !state.vault) return;
      state.changeMarker = marker;
    }
    const page = await api<{ requests: RequestRowJson[]; nextCursor: string | null }>('GET', `/api/v1/requests?${q}`);
    if (seq !== loadSeq || !state.vault) return;
    // Decrypted in a Web Worker when there is one (decrypt-pool.ts): the page stays responsive.
    const vault = state.vault;
    const opened = await openRows(p, vault, vaultContext(vault), page.requests);
    if (seq !== loadSeq || state.vault !== vault) return;
    const before = state.rows.length;
    // Text of threads opened before (searchable from the list) survives a refresh of the list.
    const threadText = new Map(state.rows.filter((r) => r.haystack.includes('\n\u0000')).map((r) => [r.json.id, r.haystack.slice(r.haystack.indexOf('\n\u0000'))]));
    if (reset) {
      // The open thread keeps its row (and its attachment keys) until it is closed.
      for (const row of state.rows) if (row !== state.current?.row) wipeBody(row.body);
      state.rows = [];
      state.selected = -1;
    }
    state.rows.push(
      ...page.requests.map((r, i) => {
        const open = state.current?.row;
        if (open && open.json.id === r.id) {
          Object.assign(open.json, r);
          return open;
        }
        const row = toRow(r, opened[i]!);
        const extra = threadText.get(r.id);
        if (extra && row.body) row.haystack += extra;
        return row;
      }),
    );
    state.nextCursor = page.nextCursor;
    renderRows();
    if (!quiet) announce(fill(state.t.loaded, { n: state.rows.length }) + (state.nextCursor ? ` ${state.t.more}` : ''));
    // "Load more" may have just hidden itself: carry focus to the first new row.
    if (!reset) {
      const index = visibleRows().indexOf(state.rows[before]!);
      if (index >= 0) select(index);
    }
  } catch (err) {
    if (!(err instanceof ApiError && (err.status === 401 || err.code === 'stale'))) alertError(state.t.failed);
  }
}

/**
 * How often an open dashboard asks whether anything changed. The answer is a content-free
 * marker (GET /api/v1/changes); only when it moves is the list (and an open thread) re-read.
 * The same poll is how a removed or signed-out responder's open page learns its session is
 * gone: the API answers 401 and `api` wipes everything decrypted and shows the login.
 */
export const POLL_MS = 5_000;

/**
 * One poll; re-reads the list and the open thread when the marker moved. The Admin screen
 * polls too, only to learn that its session is gone (an admin removed by another admin, or
 * signed out elsewhere): the 401 wipes the Admin screen with the list. The list itself is
 * re-read when the admin goes back to it.
 */
export async function pollChanges(refreshThread: () => Promise<void>): Promise<void> {
  if (!state.vault) return;
  try {
    const { marker } = await api<{ marker: string }>('GET', '/api/v1/changes');
    if (!state.vault || state.screen === 'admin') return;
    if (marker === state.changeMarker) return;
    const selectedId = state.selected >= 0 ? visibleRows()[state.selected]?.json.id : undefined;
    await loadRows(true, true);
    if (selectedId) state.selected = visibleRows().findIndex((r) => r.json.id === selectedId);
    if (state.screen === 'detail') await refreshThread();
    announce(state.t.liveUpdated);
  } catch {
    // A failed poll changes nothing; a 401 has already wiped the page (shell.ts `api`).
  }
}

/** The rows shown as requests: everything but the undecryptable, which are grouped apart. */
export function visibleRows(): Row[] {
  const query = $<HTMLInputElement>('search').value.trim().toLowerCase();
  const readable = state.rows.filter((r) => r.failure !== 'unreadable');
  if (!query) return readable;
  return readable.filter((r) => r.haystack.includes(query));
}

/**
 * Requests no key of this browser opens although it holds the team's key ("unreadable", not
 * "no key"): junk a flood can send with a valid proof of work, or damaged records. Listed
 * apart, counted; an admin removes them in one audited action.
 */
function junkGroup(): HTMLLIElement | null {
  const junk = state.rows.filter((r) => r.failure === 'unreadable');
  if (junk.length === 0) return null;
  const li = document.createElement('li');
  li.className = 'junk-group';
  li.append(Object.assign(document.createElement('p'), { className: 'hint', textContent: fill(state.t.liveJunkCount, { n: junk.length }) }));
  if (state.me?.role === 'admin') {
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'junk-remove';
    remove.textContent = fill(state.t.liveJunkRemove, { n: junk.length });
    remove.addEventListener('click', () => {
      void (async () => {
        try {
          if (await removeUndecryptable(junk.map((r) => r.json.id))) {
            announce(fill(state.t.liveJunkRemoved, { n: junk.length }));
            await loadRows(true);
          }
        } catch (err) {
          if (!(err instanceof ApiError && (err.status === 401 || err.code === 'stale'))) alertError(state.t.liveJunkRefused);
        }
      })();
    });
    li.append(remove);
  }
  return li;
}

function badge(text: string, cls: string): HTMLElement {
  const span = document.createElement('span');
  span.className = `badge ${cls}`;
  span.textContent = text;
  return span;
}

export function renderRows(): void {
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
    excerpt.textContent = row.body ? row.excerpt : row.failure === 'no_key' ? state.t.noKey : state.t.unreadable;
    const meta = document.createElement('span');
    meta.className = 'rowmeta';
    if (row.json.unread) {
      button.classList.add('unread');
      meta.append(badge(state.t.liveUnread, 'unread'));
    }
    meta.append(
      badge(STATUS_LABELS[state.lang][row.json.status] ?? row.json.status, row.json.status),
      badge(PRIORITY_LABELS[state.lang][row.json.priority] ?? row.json.priority, row.json.priority),
      document.createTextNode(`${teamName(row.json.teamId)} · ${hourText(row.json.createdHour)}`),
    );
    button.append(excerpt, meta);
    button.addEventListener('click', () => void openRequest(row.json.id));
    button.addEventListener('focus', () => select(shown.indexOf(row), false));
    li.append(button);
    return li;
  });
  const junk = junkGroup();
  list.replaceChildren(...items, ...(junk ? [junk] : []));
  if (state.selected >= shown.length) state.selected = shown.length - 1;
  markSelected();
  $('load-more').hidden = state.nextCursor === null;
  const count = $('list-count');
  if (state.rows.length === 0) count.textContent = state.t.noRequests;
  else if (shown.length === 0) count.textContent = state.t.noMatches;
  else count.textContent = fill(state.t.shown, { n: shown.length, m: state.rows.length });
}

export function rowButtons(): HTMLButtonElement[] {
  return [...$('rows').querySelectorAll<HTMLButtonElement>('button.row')];
}

function markSelected(): void {
  rowButtons().forEach((b, i) => {
    b.classList.toggle('selected', i === state.selected);
    b.setAttribute('aria-current', i === state.selected ? 'true' : 'false');
  });
}

export function select(index: number, focus = true): void {
  const buttons = rowButtons();
  if (buttons.length === 0) return;
  state.selected = Math.max(0, Math.min(buttons.length - 1, index));
  markSelected();
  if (focus) buttons[state.selected]!.focus();
}
