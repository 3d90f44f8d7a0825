/**
 * Removing undecryptable requests (issue 13): requests no key this browser holds opens, which
 * a flood can send with a valid proof of work. The list groups and counts them; an admin
 * removes them here in one audited action that names every id. The server refuses any that
 * someone has touched (a status change or any message), so a real request a colleague is
 * working on can never go this way.
 */
import { fill } from '../i18n.ts';
import { audited, confirmDialog, el, t } from './shared.ts';

/** @returns true once removed; false when the admin cancelled. */
export async function removeUndecryptable(ids: string[]): Promise<boolean> {
  const ok = await confirmDialog({ title: fill(t().liveJunkRemoveTitle, { n: ids.length }), body: [el('p', { text: t().liveJunkRemoveIntro })], ok: fill(t().liveJunkRemove, { n: ids.length }) });
  if (!ok) return false;
  await audited('POST', '/requests/remove-undecryptable', 'requests.remove_undecryptable', { requestIds: ids }, (audit) => ({ requestIds: ids, audit }));
  return true;
}
