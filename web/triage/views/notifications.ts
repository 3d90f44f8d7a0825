/**
 * The signed-in account's opt-in to content-free e-mail notifications (docs/PROTOCOL.md
 * 23.6): one address, shown only to its owner, set or cleared here. The dialog says what
 * such an e-mail reveals before anyone opts in. The address is personal data: it lives in
 * this dialog's field only while it is open, and `wipeNotifications` empties it.
 */
import { $, api, ApiError, state } from '../shell.ts';
import { fill } from '../i18n.ts';

interface NotificationStatus {
  available: boolean;
  address: string | null;
}

function say(text: string): void {
  $('notify-state').textContent = text;
}

function render(s: NotificationStatus): void {
  const form = $<HTMLFormElement>('notify-form');
  form.hidden = !s.available;
  $('notify-clear').hidden = s.address === null;
  $<HTMLInputElement>('notify-address').value = s.address ?? '';
  if (!s.available) say(state.t.notifyUnavailable);
  else say(s.address === null ? state.t.notifyNone : fill(state.t.notifyOn, { address: s.address }));
}

async function open(): Promise<void> {
  const dialog = $<HTMLDialogElement>('notify-dialog');
  say(state.t.loading);
  $<HTMLFormElement>('notify-form').hidden = true;
  if (!dialog.open) dialog.showModal();
  try {
    render(await api<NotificationStatus>('GET', '/api/v1/notifications'));
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 'stale')) say(state.t.notifyFailed);
  }
}

async function save(e: SubmitEvent): Promise<void> {
  e.preventDefault();
  const address = $<HTMLInputElement>('notify-address').value.trim();
  try {
    render(await api<NotificationStatus>('PUT', '/api/v1/notifications', { address }));
    say(fill(state.t.notifyOn, { address }));
  } catch (err) {
    if (err instanceof ApiError && err.code === 'stale') return;
    say(err instanceof ApiError && err.status === 400 ? state.t.notifyBadAddress : state.t.notifyFailed);
  }
}

async function clear(): Promise<void> {
  try {
    await api<unknown>('DELETE', '/api/v1/notifications');
    render({ available: true, address: null });
    say(state.t.notifyCleared);
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 'stale')) say(state.t.notifyFailed);
  }
}

export function initNotifications(): void {
  $('notify-button').addEventListener('click', () => void open());
  $('notify-form').addEventListener('submit', (e) => void save(e as SubmitEvent));
  $('notify-clear').addEventListener('click', () => void clear());
}

/** Forgets the address shown (sign-out, idle lock, any 401). */
export function wipeNotifications(): void {
  $<HTMLInputElement>('notify-address').value = '';
  say('');
  const dialog = $<HTMLDialogElement>('notify-dialog');
  if (dialog.open) dialog.close();
}
