/**
 * One request: its thread decrypted in this browser, status, priority and assignee, and the
 * encrypted notes, tags and replies written here.
 */
import { base64urlEncode } from '../../../crypto/encoding.ts';
import { TAG_LIMITS } from '../../../crypto/v1/text-body.ts';
import { fill, PRIORITY_LABELS, STATUS_LABELS, type Strings } from '../i18n.ts';
import { openThreadMessage, type RequestRowJson, sealResponderMessage, type ThreadContent, type ThreadMessageJson, vaultContext } from '../keys.ts';
import { $, alertError, announce, api, ApiError, fillSelect, hourText, primitives, PRIORITIES, show, state, STATUSES, teamName } from '../shell.ts';
import { renderRows, select, visibleRows } from './list.ts';

export async function openRequest(id: string): Promise<void> {
  const row = state.rows.find((r) => r.json.id === id);
  if (!row || !state.vault) return;
  alertError(null);
  state.current = { row, items: [], tags: [] };
  for (const f of ['tags-input', 'note-input', 'reply-input']) $<HTMLInputElement>(f).value = '';
  renderDetail();
  show('detail');
  await loadThread();
  announce(state.t.opened);
}

async function loadThread(): Promise<void> {
  if (!state.current || !state.vault) return;
  const p = await primitives();
  const id = state.current.row.json.id;
  try {
    const thread = await api<{ request: Omit<RequestRowJson, 'blob'>; messages: ThreadMessageJson[] }>('GET', `/api/v1/requests/${id}`);
    if (!state.current || state.current.row.json.id !== id || !state.vault) return;
    Object.assign(state.current.row.json, thread.request);
    const ctx = vaultContext(state.vault);
    state.current.items = thread.messages.map((m) => {
      const opened = openThreadMessage(p, ctx, state.current!.row.json.teamId, id, m);
      return opened.ok ? { message: m, content: opened.value, failure: null } : { message: m, content: null, failure: opened.reason };
    });
    const lastTags = [...state.current.items].reverse().find((i) => i.content?.kind === 'tags');
    state.current.tags = lastTags?.content?.kind === 'tags' ? lastTags.content.tags : [];
    $<HTMLInputElement>('tags-input').value = state.current.tags.join(', ');
    // Thread text becomes searchable from the list too.
    const extra = state.current.items.map((i) => (i.content ? contentText(i.content) : '')).join('\n').toLowerCase();
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
  const items = (state.current.items.length ? state.current.items : [{ message: null, content: row.body ? { kind: 'request' as const, body: row.body } : null, failure: row.failure }]).map((item) => {
    const li = document.createElement('li');
    const kind = item.content?.kind ?? (item.message?.kind as string | undefined) ?? 'request';
    li.className = `k-${kind}`;
    const head = document.createElement('span');
    head.className = 'item-meta';
    let who = '';
    const author = item.message?.authorId;
    if (author) {
      const name = state.vault!.teams.get(r.teamId)?.members.find((m) => m.id === author)?.username;
      who = author === state.me!.id ? ` (${state.t.byYou})` : name ? ` (${name})` : ` (${state.t.byColleague})`;
    }
    head.textContent = `${state.t[`k_${kind}` as keyof Strings] ?? kind}${who}`;
    const text = document.createElement('p');
    text.className = 'text';
    // Text only: hostile text stays text.
    if (!item.content) text.textContent = item.failure === 'no_key' ? state.t.noKey : state.t.unreadable;
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
    li.textContent = state.t.attachmentsNone;
    attachments.replaceChildren(li);
  } else {
    // Listed as text only; downloading needs an attachment endpoint the API does not have yet.
    attachments.replaceChildren(
      ...refs.map((a) => {
        const li = document.createElement('li');
        li.textContent = `${a.name} (${a.type || '?'}, ${a.size} B)`;
        return li;
      }),
      Object.assign(document.createElement('li'), { textContent: state.t.attachmentsUnavailable }),
    );
  }
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
  const button = $<HTMLButtonElement>(kind === 'note' ? 'note-save' : kind === 'reply' ? 'reply-send' : 'tags-save');
  button.disabled = true;
  try {
    const p = await primitives();
    const envelope = sealResponderMessage(p, state.vault, {
      kind,
      teamKey: row.json.teamId,
      threadId: row.json.id,
      ...(kind === 'tags' ? { tags: tags! } : { text: value }),
      ...(kind === 'reply' ? { requesterPublic: row.body!.replyPublicKey } : {}),
    });
    await api('POST', `/api/v1/requests/${row.json.id}/messages`, { kind, envelope: base64urlEncode(envelope) });
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
