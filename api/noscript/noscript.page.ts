/**
 * Server-rendered HTML for the no-JavaScript path. Every piece of text passes through
 * `escapeHtml`: replies are hostile input too.
 */
import { STRINGS, type Lang, type Strings } from '../../crypto/requester-i18n.ts';

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

export function stringsFor(lang: Lang): Strings {
  return STRINGS[lang];
}

export interface NoscriptTeam {
  slug: string;
  name: string;
}

/** The forms shown inside `<noscript>` on the requester page. */
export function noscriptForms(lang: Lang, teams: NoscriptTeam[]): string {
  const t = STRINGS[lang];
  const radios = teams
    .map((team) => `<label><input type="radio" name="team" value="${escapeHtml(team.slug)}" required> ${escapeHtml(team.name)}</label>`)
    .join('');
  return `<section aria-labelledby="ns-title">
      <h2 id="ns-title">${escapeHtml(t.noscriptTitle)}</h2>
      <p class="warning">${escapeHtml(t.noscriptWarning)}</p>
      <form method="post" action="/plain/request">
        <input type="hidden" name="lang" value="${lang}">
        <fieldset><legend>${escapeHtml(t.topic)}</legend>${radios}</fieldset>
        <label for="ns-message">${escapeHtml(t.message)}</label>
        <textarea id="ns-message" name="message" rows="8" maxlength="20000" required></textarea>
        <label for="ns-contact">${escapeHtml(t.contact)}</label>
        <input id="ns-contact" name="contact" type="text" maxlength="1000" autocomplete="off">
        <button type="submit">${escapeHtml(t.send)}</button>
      </form>
      <h2>${escapeHtml(t.noscriptReturn)}</h2>
      <form method="post" action="/plain/thread">
        <input type="hidden" name="lang" value="${lang}">
        <label for="ns-passphrase">${escapeHtml(t.passphrase)}</label>
        <input id="ns-passphrase" name="passphrase" type="text" autocomplete="off" required>
        <button type="submit">${escapeHtml(t.open)}</button>
      </form>
    </section>`;
}

/** A whole page for the answers of the no-JavaScript forms. */
export function plainPage(lang: Lang, styleTag: string, title: string, bodyHtml: string): string {
  return `<!doctype html>
<html lang="${lang}">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <meta name="robots" content="noindex, nofollow">
    <title>${escapeHtml(title)}</title>
    ${styleTag}
  </head>
  <body>
    <main>
      <h1>${escapeHtml(title)}</h1>
      ${bodyHtml}
      <p><a href="/">${escapeHtml(STRINGS[lang].back)}</a></p>
    </main>
  </body>
</html>`;
}
