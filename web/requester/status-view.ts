/**
 * The request's status and when it will be deleted, as the server reports them in the lookup
 * answer (PROTOCOL.md 20.4). Advisory: the server could say anything here, so the words say
 * "the service reports", and nothing on the page acts on them.
 */
import { plural, type Lang, type Strings } from '../../crypto/requester-i18n.ts';

export interface RequestState {
  status: string;
  deleteAfter: string | null;
  retentionDays: number;
}

const STATUS_KEYS = { received: 'statusReceived', in_progress: 'statusInProgress', answered: 'statusAnswered', closed: 'statusClosed' } as const;

/** A YYYY-MM-DD day in the page's language, or null when the server sent something else. */
function formatDay(day: string, lang: Lang): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  const date = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return null;
  return new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeZone: 'UTC' }).format(date);
}

export function renderRequestState(state: RequestState | null, t: Strings, lang: Lang, statusEl: HTMLElement, retentionEl: HTMLElement): void {
  if (!state) {
    statusEl.textContent = '';
    retentionEl.textContent = '';
    return;
  }
  const key = STATUS_KEYS[state.status as keyof typeof STATUS_KEYS];
  statusEl.textContent = key ? `${t.statusLabel} ${t[key]}` : '';
  const day = state.deleteAfter === null ? null : formatDay(state.deleteAfter, lang);
  const days = Number.isInteger(state.retentionDays) && state.retentionDays > 0 ? plural(lang, state.retentionDays, t) : null;
  if (state.status === 'closed' && day) retentionEl.textContent = t.deleteAfter.replace('{date}', day);
  else if (days) retentionEl.textContent = t.retention.replace('{days}', days);
  else retentionEl.textContent = '';
}
