/**
 * One request: its thread decrypted in this browser, status, priority and assignee, and the
 * encrypted notes, tags and replies written here.
 *
 * Protocol v2: each message is verified on its own; one that does not verify is shown as
 * "could not be verified" with no author and no text. A responder's name comes from the
 * account id in its VERIFIED certificate (never the server's authorId column).
 */
import { base64urlEncode } from '../../../crypto/encoding.ts';
import { TAG_LIMITS } from '../../../crypto/v1/text-body.ts';
import { fill, PRIORITY_LABELS, STATUS_LABELS, type Strings } from '../i18n.ts';
import { openThread, type RequestRowJson, sealResponderMessage, type ThreadItem, type ThreadMessageJson, vaultContext } from '../keys.ts';
import { $, alertError, announce, api, ApiError, confirmDialog, fillSelect, hourText, primitives, PRIORITIES, show, state, STATUSES, teamName } from '../shell.ts';
import { renderRows, select, visibleRows } from './list.ts';
import { renderAttachments } from './attachments.ts';

export async function openRequest(id: string): Promise<void> {
  const row = state.rows.find((r) => r.json.id === id);
  if (!row || !state.vault) return;
  alertError(null);
  state.current = { row, items: [], tags: [], nextPosition: 0 };
  for (const f of ['tags-input', 'note-input', 'reply-input']) $<HTMLInputElement>(f).value = '';
  renderDetail();
  show('detail');
  await loadThread();
  announce(state.t.opened);
}

/** Re-reads the open thread (also after a live refresh saw a change). Reading it marks it read. */
export async function loadThread(): Promise<void> {
  if (!state.current || !state.vault) return;
  const p = await primitives();
  const id = state.current.row.json.id;
  try {
    const thread = await api<{ request: Omit<RequestRowJson, 'blob'>; messages: ThreadMessageJson[] }>('GET', `/api/v1/requests/${id}`);
    if (!state.current || state.current.row.json.id !== id || !state.vault) return;
    Object.assign(state.current.row.json, thread.request);
    // The server marked it read for this account as it answered; so does the list.
    state.current.row.json.unread = false;
    const listed = state.rows.find((r) => r.json.id === id);
    if (listed) listed.json.unread = false;
    const opened = openThread(p, vaultContext(state.vault), state.current.row.json.teamId, id, thread.messages);
    state.current.items = opened.items;
    state.current.nextPosition = opened.nextPosition;
    // The latest verified tags by position: earlier tags messages stay, positions are never reused.
    state.current.tags = opened.tags;
    $<HTMLInputElement>('tags-input').value = state.current.tags.join(', ');
    // Thread text becomes searchable from the list too.
    const extra = state.current.items.map(itemText).join('\n').toLowerCase();
    const base = state.current.row.body ? state.current.row.haystack.split('\n\u0000')[0]! : '';
    state.current.row.haystack = `${base}\n\u0000${extra}`;
    renderDetail();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      backToList();
      alertError(state.t.failed);
    } else if (!(err instanceof ApiError && (err.status === 401 || err.code === 'stale'))) alertError(state.t.failed);
  }
}

function itemText(i: ThreadItem): string {
  if (i.status === 'unverified') return '';
  if (i.request) return [i.request.topic ?? '', i.request.message, i.request.contact ?? ''].join('\n');
  if (i.tags) return i.tags.join(', ');
  return i.text ?? '';
}

/** Who wrote a verified responder message: the user name of the account its certificate names. */
function authorName(accountId: string, teamKey: string): string {
  if (accountId === state.me!.id) return state.t.byYou;
  const name = state.vault!.teams.get(teamKey)?.members.find((m) => m.id === accountId)?.username;
  return name ?? state.t.byUnknownColleague;
}

function addMeta(dl: HTMLElement, label: string, value: string): void {
  const dt = document.createElement('dt');
  dt.textContent = label;
  const dd = document.createElement('dd');
  dd.textContent = value;
  dl.append(dt, dd);
}

export function renderDetail(): void {
  if (!state.current || !state.vault) return;
  const { row } = state.current;
  const r = row.json;
  $('detail-title').textContent = `${state.t.requestTitle} · ${teamName(r.teamId)} · ${hourText(r.createdHour)}`;
  const dl = $('detail-meta');
  dl.replaceChildren();
  addMeta(dl, state.t.team, teamName(r.teamId));
  addMeta(dl, state.t.received, hourText(r.createdHour));
  addMeta(dl, state.t.updated, hourText(r.updatedHour));
  if (row.body?.topic) addMeta(dl, state.t.topic, row.body.topic);
  if (row.body?.contact) addMeta(dl, state.t.contact, row.body.contact);
  if (state.current.tags.length) addMeta(dl, state.t.tags, state.current.tags.join(', '));
  fillSelect($('set-status'), STATUSES.map((s): [string, string] => [s, STATUS_LABELS[state.lang][s]!]), r.status);
  fillSelect($('set-priority'), PRIORITIES.map((s): [string, string] => [s, PRIORITY_LABELS[state.lang][s]!]), r.priority);
  const assignee: [string, string][] = [['', state.t.unassigned], [state.me!.id, state.t.me]];
  for (const m of state.vault.teams.get(r.teamId)?.members ?? []) if (m.id !== state.me!.id) assignee.push([m.id, m.username]);
  if (r.assigneeId && !assignee.some(([id]) => id === r.assigneeId)) assignee.push([r.assigneeId, state.t.someoneElse]);
  fillSelect($('set-assignee'), assignee, r.assigneeId ?? '');

  const list = $('thread');
  const fallback: ThreadItem[] = row.body ? [{ status: 'verified', kind: 'request', authorAccountId: null, request: row.body }] : [];
  const shown = state.current.items.length ? state.current.items : fallback;
  const items = shown.map((item) => {
    const li = document.createElement('li');
    const head = document.createElement('span');
    head.className = 'item-meta';
    const text = document.createElement('p');
    text.className = 'text';
    if (item.status === 'unverified') {
      // Whatever it claims to be and whoever it names: no author, no text.
      li.className = 'k-unverified';
      head.textContent = state.t.unverifiedMessage;
      li.append(head);
      return li;
    }
    li.className = `k-${item.kind}`;
    let who = '';
    if (item.authorAccountId) who = ` (${authorName(item.authorAccountId, r.teamId)})`;
    if (item.status === 'legacy') who += ` (${state.t.legacyMessage})`;
    head.textContent = `${state.t[`k_${item.kind}` as keyof Strings] ?? item.kind}${who}`;
    // Who sees it, said in words (not only by colour): a note stays in the team, a reply goes out.
    if (item.kind === 'note' || item.kind === 'reply') {
      head.append(' ', Object.assign(document.createElement('span'), { className: `audience ${item.kind}`, textContent: item.kind === 'note' ? state.t.liveNoteAudience : state.t.liveReplyAudience }));
    }
    // Text only: hostile text stays text.
    if (item.request) text.textContent = item.request.message;
    else if (item.tags) text.textContent = item.tags.join(', ');
    else text.textContent = item.text ?? '';
    li.append(head, text);
    return li;
  });
  if (!state.current.items.length && !row.body) {
    const li = document.createElement('li');
    li.textContent = row.failure === 'no_key' ? state.t.noKey : state.t.unreadable;
    items.push(li);
  }
  list.replaceChildren(...items);

  renderAttachments($('attachments'), r.id, row.body?.attachments ?? []);
}

export function backToList(): void {
  const id = state.current?.row.json.id;
  state.current = null;
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

export async function patch(change: { status?: string; priority?: string; assigneeId?: string | null }): Promise<void> {
  if (!state.current) return;
  const row = state.current.row;
  try {
    const res = await api<{ request: Omit<RequestRowJson, 'blob'> }>('PATCH', `/api/v1/requests/${row.json.id}`, change);
    Object.assign(row.json, res.request);
    renderDetail();
    if (change.status) announce(fill(state.t.statusSet, { v: STATUS_LABELS[state.lang][change.status] ?? change.status }));
    else if (change.priority) announce(fill(state.t.prioritySet, { v: PRIORITY_LABELS[state.lang][change.priority] ?? change.priority }));
    else announce(state.t.assigneeSet);
  } catch (err) {
    renderDetail();
    if (!(err instanceof ApiError && (err.status === 401 || err.code === 'stale'))) alertError(state.t.failed);
  }
}

/** How many times a note, tags or reply is re-signed when another message took its position. */
const POSITION_RETRIES = 3;

export async function post(kind: 'note' | 'tags' | 'reply'): Promise<void> {
  if (!state.current || !state.vault) return;
  alertError(null);
  const row = state.current.row;
  const inputId = kind === 'note' ? 'note-input' : kind === 'reply' ? 'reply-input' : 'tags-input';
  const input = $<HTMLInputElement>(inputId);
  const value = input.value;
  let tags: string[] | undefined;
  if (kind === 'tags') {
    tags = [...new Set(value.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
    if (tags.length > TAG_LIMITS.tags || tags.some((x) => x.length > TAG_LIMITS.tagLength)) {
      alertError(state.t.tooManyTags);
      return;
    }
  } else if (value.trim() === '') {
    alertError(state.t.empty);
    input.focus();
    return;
  }
  if (kind === 'reply' && !row.body) {
    alertError(state.t.failed);
    return;
  }
  // A reply leaves the team (the requester reads it): it is sent only after a confirmation
  // that shows the text, so a note is never sent out by a slip of the keyboard.
  if (kind === 'reply' && !(await confirmReply(value))) {
    input.focus();
    return;
  }
  const button = $<HTMLButtonElement>(kind === 'note' ? 'note-save' : kind === 'reply' ? 'reply-send' : 'tags-save');
  button.disabled = true;
  try {
    const p = await primitives();
    // Signed for the thread's next position; if another message lands first the server answers
    // 409 position_taken, and the thread is re-read and the message re-signed (bounded).
    for (let attempt = 0; ; attempt++) {
      const current = state.current;
      if (!current || current.row !== row || !state.vault) return;
      const envelope = sealResponderMessage(p, state.vault, {
        kind,
        teamKey: row.json.teamId,
        threadId: row.json.id,
        position: current.nextPosition,
        ...(kind === 'tags' ? { tags: tags! } : { text: value }),
        ...(kind === 'reply' ? { requesterPublic: row.body!.replyPublicKey } : {}),
      });
      try {
        await api('POST', `/api/v1/requests/${row.json.id}/messages`, { kind, envelope: base64urlEncode(envelope) });
        break;
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'position_taken') || attempt >= POSITION_RETRIES) throw err;
        announce(state.t.positionRetry);
        await loadThread();
      }
    }
    if (kind !== 'tags') input.value = '';
    announce(kind === 'reply' ? state.t.sent : state.t.saved);
    await loadThread();
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) alertError(state.t.staleKey);
    else if (err instanceof Error && err.message === 'no_current_key') alertError(state.t.staleKey);
    else if (!(err instanceof ApiError && (err.status === 401 || err.code === 'stale'))) alertError(state.t.failed);
  } finally {
    button.disabled = false;
  }
}

/** The reply confirmation: the text as the requester will read it (shell.ts `confirmDialog`). */
function confirmReply(text: string): Promise<boolean> {
  const quoted = Object.assign(document.createElement('p'), { className: 'text reply-preview', textContent: text });
  return confirmDialog({
    title: state.t.liveReplyConfirmTitle,
    body: [Object.assign(document.createElement('p'), { textContent: state.t.liveReplyConfirmIntro }), quoted],
    ok: state.t.sendReply,
  });
}
