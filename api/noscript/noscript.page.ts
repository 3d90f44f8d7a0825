/**
 * Server-rendered HTML for the no-JavaScript path. Every word comes from the translation tables
 * (crypto/requester-i18n.ts: STRINGS and NOSCRIPT_STRINGS), so a Russian page has no English
 * frame; every piece of text passes through `escapeHtml`: replies are hostile input too.
 *
 * No page ever contains a passphrase except the one answer that shows a new one, and no form
 * puts one in a URL: every form is a POST, and a follow-up's passphrase is typed again rather
 * than carried in a hidden field (docs/PROTOCOL.md, "No-JavaScript path").
 */
import { NOSCRIPT_STRINGS, STRINGS, type Lang, type NoscriptStrings, type Strings } from '../../crypto/requester-i18n.ts';
import type { PlainThreadEntry } from '../intake/intake.service.ts';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

export function pickLanguageFromHeader(acceptLanguage: string | undefined): Lang {
  for (const part of (acceptLanguage ?? '').split(',')) {
    const base = part.trim().toLowerCase().split(/[-;]/)[0];
    if (base === 'ru') return 'ru';
    if (base === 'en') return 'en';
  }
  return 'en';
}

export function stringsFor(lang: Lang): Strings & NoscriptStrings {
  return { ...STRINGS[lang], ...NOSCRIPT_STRINGS[lang] };
}

export interface NoscriptTeam {
  slug: string;
  name: string;
}

/** What the person typed, shown again when a form comes back with an error. */
export interface RequestValues {
  team?: string;
  message?: string;
  contact?: string;
}

const e = escapeHtml;

/** The form for a new request, with its one-time token. */
export function requestForm(lang: Lang, teams: NoscriptTeam[], token: string, values: RequestValues = {}): string {
  const t = stringsFor(lang);
  const radios = teams
    .map(
      (team) =>
        `<label><input type="radio" name="team" value="${e(team.slug)}" required${values.team === team.slug ? ' checked' : ''}> <span class="team-name">${e(team.name)}</span></label>`,
    )
    .join('');
  return `<section aria-labelledby="ns-title">
      <h2 id="ns-title">${e(t.noscriptTitle)}</h2>
      <p class="warning">${e(t.noscriptWarning)}</p>
      <form method="post" action="/plain/request" id="ns-request">
        <input type="hidden" name="lang" value="${lang}">
        <input type="hidden" name="form" value="${e(token)}">
        <fieldset><legend>${e(t.topic)}</legend>${radios}</fieldset>
        <label for="ns-message">${e(t.message)}</label>
        <p id="ns-message-hint" class="hint">${e(t.messageHint)}</p>
        <textarea id="ns-message" name="message" rows="8" maxlength="20000" aria-describedby="ns-message-hint" required>${e(values.message ?? '')}</textarea>
        <label for="ns-contact">${e(t.contact)}</label>
        <p id="ns-contact-hint" class="hint">${e(t.contactHint)}</p>
        <input id="ns-contact" name="contact" type="text" maxlength="1000" autocomplete="off" aria-describedby="ns-contact-hint" value="${e(values.contact ?? '')}">
        <p class="hint" id="ns-no-files">${e(t.noscriptNoFiles)}</p>
        <button type="submit" id="ns-send">${e(t.send)}</button>
      </form>
    </section>`;
}

/** The form to open a thread: a POST, so the passphrase never enters a URL. */
export function lookupForm(lang: Lang): string {
  const t = stringsFor(lang);
  return `<section aria-labelledby="ns-return-title">
      <h2 id="ns-return-title">${e(t.noscriptReturn)}</h2>
      <form method="post" action="/plain/thread" id="ns-lookup">
        <input type="hidden" name="lang" value="${lang}">
        <label for="ns-passphrase">${e(t.passphrase)}</label>
        <p id="ns-passphrase-hint" class="hint">${e(t.passphraseHint)}</p>
        ${passphraseInput('ns-passphrase', 'ns-passphrase-hint')}
        <button type="submit" id="ns-open">${e(t.open)}</button>
      </form>
    </section>`;
}

/**
 * A text field (not `password`: a password manager would offer to store it on the device) that
 * the browser neither autofills nor restores from history (`autocomplete=off`) nor sends to a
 * spelling service.
 */
function passphraseInput(id: string, hintId: string): string {
  return `<input id="${id}" name="passphrase" type="text" maxlength="500" autocomplete="off" autocapitalize="none" autocorrect="off" spellcheck="false" aria-describedby="${hintId}" required>`;
}

/** The follow-up form under a thread: the passphrase is typed again, never carried in the page. */
export function followUpForm(lang: Lang, token: string, message = ''): string {
  const t = stringsFor(lang);
  return `<section aria-labelledby="ns-followup-title">
      <h2 id="ns-followup-title">${e(t.followUpTitle)}</h2>
      <p class="warning" id="ns-followup-warning">${e(t.followUpWarning)}</p>
      <form method="post" action="/plain/followup" id="ns-followup">
        <input type="hidden" name="lang" value="${lang}">
        <input type="hidden" name="form" value="${e(token)}">
        <label for="ns-followup-message">${e(t.message)}</label>
        <textarea id="ns-followup-message" name="message" rows="6" maxlength="20000" required>${e(message)}</textarea>
        <label for="ns-followup-passphrase">${e(t.passphrase)}</label>
        <p id="ns-followup-passphrase-hint" class="hint">${e(t.passphraseHint)}</p>
        ${passphraseInput('ns-followup-passphrase', 'ns-followup-passphrase-hint')}
        <button type="submit" id="ns-followup-send">${e(t.followUpSend)}</button>
      </form>
    </section>`;
}

/** A thread; a message that did not verify shows as such, with no author and no text. */
export function threadList(lang: Lang, entries: readonly PlainThreadEntry[]): string {
  const t = stringsFor(lang);
  const items = entries
    .map((m) =>
      m.from === 'unverified'
        ? `<li class="unverified"><span class="who">${e(t.unverified)}</span></li>`
        : `<li class="${m.from === 'team' ? 'from-team' : 'from-you'}"><span class="who">${e(m.from === 'team' ? t.fromTeam : t.fromYou)}</span>${
            m.legacy ? `<span class="legacy">${e(t.legacy)}</span>` : ''
          }<span class="text">${e(m.text)}</span></li>`,
    )
    .join('');
  const noReply = entries.some((m) => m.from === 'team') ? '' : `<p class="hint">${e(t.noReplies)}</p>`;
  return `<ol class="messages" id="ns-thread">${items}</ol>${noReply}`;
}

export interface PageFrame {
  lang: Lang;
  styleTag: string;
  /** where the quick exit goes (HAVEN_QUICK_EXIT_URL) */
  quickExitUrl: string;
  /** the tab title (HAVEN_REQUESTER_TITLE); null: the neutral one of the language */
  pageTitle: string | null;
}

/**
 * A whole page. The quick exit is a plain link, first in the page: without script it cannot
 * replace this history entry, and the page says so.
 */
export function plainPage(frame: PageFrame, title: string, bodyHtml: string): string {
  const { lang } = frame;
  const t = stringsFor(lang);
  const other: Lang = lang === 'ru' ? 'en' : 'ru';
  return `<!doctype html>
<html lang="${lang}">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <meta name="robots" content="noindex, nofollow">
    <title>${e(frame.pageTitle ?? t.pageTitle)}</title>
    ${frame.styleTag}
  </head>
  <body>
    <header class="bar">
      <a id="quick-exit" class="quick-exit" href="${e(frame.quickExitUrl)}" rel="noreferrer">${e(t.quickExit)}</a>
      <a id="ns-lang" class="lang" href="/plain?lang=${other}" hreflang="${other}" lang="${other}">${e(t.switchLang)}</a>
    </header>
    <p class="hint" id="quick-exit-note">${e(t.quickExitNote)}</p>
    <main>
      <h1>${e(title)}</h1>
      ${bodyHtml}
      <p><a href="/plain?lang=${lang}" id="ns-back">${e(t.back)}</a></p>
    </main>
  </body>
</html>`;
}
