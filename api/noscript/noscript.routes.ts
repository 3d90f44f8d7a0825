/**
 * The less protected no-JavaScript path: `GET /plain` (the forms, with the current teams,
 * in the browser's language) and the two form endpoints. The requester page itself is
 * static (api/web/static-site.ts); its `<noscript>` links here. Answers are HTML pages,
 * errors included.
 */
import { Hono, type Context } from 'hono';
import type { Sites } from '../web/static-site.ts';
import { AppError } from '../errors.ts';
import type { PlainIntakeService } from '../intake/intake.service.ts';
import { listTeamsWithCurrentEpoch } from '../intake/intake.repository.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { WORDS as EN_WORDS } from '../../crypto/wordlists/en.ts';
import { WORDS as RU_WORDS } from '../../crypto/wordlists/ru.ts';
import { REQUEST_LIMITS } from '../../crypto/v1/request-body.ts';
import { escapeHtml, noscriptForms, pickLanguageFromHeader, plainPage, stringsFor } from './noscript.page.ts';
import type { Lang } from '../../crypto/requester-i18n.ts';

const MAX_MESSAGE_CHARS = 20_000;

function formLang(value: unknown, c: Context): Lang {
  return value === 'ru' || value === 'en' ? value : pickLanguageFromHeader(c.req.header('accept-language'));
}

export function noscriptRoutes(db: Kysely<Database>, plain: PlainIntakeService, sites: Sites | undefined) {
  const app = new Hono();
  const css = sites ? [...sites.get('requester').files].find(([url]) => url.endsWith('.css')) : undefined;
  const styleTag = css ? `<link rel="stylesheet" href="${css[0]}" integrity="${css[1].integrity}">` : '';

  app.get('/plain', async (c) => {
    const lang = formLang(c.req.query('lang'), c);
    const t = stringsFor(lang);
    const teams = await listTeamsWithCurrentEpoch(db).catch(() => []);
    return c.html(plainPage(lang, styleTag, t.title, noscriptForms(lang, teams)));
  });

  const answer = (c: Context, lang: Lang, status: 200 | 201 | 400 | 429 | 503, title: string, body: string) =>
    c.html(plainPage(lang, styleTag, title, body), status);

  const failure = (c: Context, lang: Lang, err: unknown) => {
    const t = stringsFor(lang);
    if (err instanceof AppError && err.status === 429) return answer(c, lang, 429, t.title, `<p class="error">${escapeHtml(t.noscriptBusy)}</p>`);
    if (err instanceof AppError && err.status === 503) return answer(c, lang, 503, t.title, `<p class="error">${escapeHtml(t.unavailable)}</p>`);
    if (err instanceof AppError || (err instanceof Error && 'code' in err)) return answer(c, lang, 400, t.title, `<p class="error">${escapeHtml(t.noscriptInvalid)}</p>`);
    throw err;
  };

  app.post('/plain/request', async (c) => {
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const lang = formLang(form.lang, c);
    const t = stringsFor(lang);
    const team = typeof form.team === 'string' ? form.team : '';
    const message = typeof form.message === 'string' ? form.message : '';
    const contact = typeof form.contact === 'string' ? form.contact.trim() : '';
    if (team === '' || message.trim() === '' || message.length > MAX_MESSAGE_CHARS || contact.length > REQUEST_LIMITS.contact) {
      return answer(c, lang, 400, t.title, `<p class="error">${escapeHtml(t.noscriptInvalid)}</p>`);
    }
    try {
      const passphrase = await plain.submit({ teamSlug: team, message, contact, words: lang === 'ru' ? RU_WORDS : EN_WORDS });
      return answer(
        c,
        lang,
        201,
        t.noscriptSent,
        `<p>${escapeHtml(t.sentIntro)}</p><p class="passphrase" id="passphrase-out">${escapeHtml(passphrase)}</p><p class="warning">${escapeHtml(t.sentAdvice)}</p>`,
      );
    } catch (err) {
      return failure(c, lang, err);
    }
  });

  app.post('/plain/thread', async (c) => {
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const lang = formLang(form.lang, c);
    const t = stringsFor(lang);
    const passphrase = typeof form.passphrase === 'string' ? form.passphrase : '';
    if (passphrase.trim() === '' || passphrase.length > 500) return answer(c, lang, 400, t.returnTitle, `<p class="error">${escapeHtml(t.notFound)}</p>`);
    try {
      const entries = await plain.read(passphrase);
      if (entries.length === 0) return answer(c, lang, 200, t.returnTitle, `<p class="error">${escapeHtml(t.notFound)}</p>`);
      // A message that did not verify shows as such, with no author and no text.
      const items = entries
        .map((e) =>
          e.from === 'unverified'
            ? `<li class="unverified"><span class="who">${escapeHtml(t.unverified)}</span></li>`
            : `<li class="${e.from === 'team' ? 'from-team' : 'from-you'}"><span class="who">${escapeHtml(e.from === 'team' ? t.fromTeam : t.fromYou)}</span>${
                e.legacy ? `<span class="legacy">${escapeHtml(t.legacy)}</span>` : ''
              }${escapeHtml(e.text)}</li>`,
        )
        .join('');
      const noReply = entries.some((e) => e.from === 'team') ? '' : `<p class="hint">${escapeHtml(t.noReplies)}</p>`;
      return answer(c, lang, 200, t.thread, `<ol class="messages">${items}</ol>${noReply}`);
    } catch (err) {
      return failure(c, lang, err);
    }
  });

  return app;
}
