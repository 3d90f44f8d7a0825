/** Renders the requester's thread (crypto/thread-reading.ts entries) as text, never as HTML. */
import { MessageKind } from '../../crypto/v1/message.ts';
import type { ThreadEntry } from '../../crypto/thread-reading.ts';
import type { Strings } from '../../crypto/requester-i18n.ts';

/** One entry of the thread as the page shows it: text only, never parsed as HTML. */
export function renderThread(entries: ThreadEntry[], t: Strings, list: HTMLElement, noReplies: HTMLElement): void {
  list.replaceChildren();
  for (const entry of entries) {
    const li = document.createElement('li');
    const who = document.createElement('span');
    who.className = 'who';
    if (entry.status === 'unverified') {
      // No author and no text: whatever this message claims, nobody verifiable wrote it.
      li.className = 'unverified';
      who.textContent = t.unverified;
      li.append(who);
    } else {
      const fromTeam = entry.kind === MessageKind.reply;
      li.className = fromTeam ? 'from-team' : 'from-you';
      who.textContent = fromTeam ? t.fromTeam : t.fromYou;
      li.append(who);
      if (entry.status === 'legacy') {
        const legacy = document.createElement('span');
        legacy.className = 'legacy';
        legacy.textContent = t.legacy;
        li.append(legacy);
      }
      li.append(document.createTextNode(entry.request ? entry.request.message : (entry.text ?? '')));
    }
    list.append(li);
  }
  noReplies.hidden = entries.some((e) => e.status !== 'unverified' && e.kind === MessageKind.reply);
}
