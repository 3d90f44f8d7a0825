/**
 * The less protected no-JavaScript path: `GET /plain` (the forms, with the current teams, in the
 * browser's language) and three form endpoints, all POST so no passphrase ever enters a URL or
 * the browser's history list:
 *
 * - `POST /plain/request`  a new request (one-time form token; a repeat creates nothing);
 * - `POST /plain/thread`   read a thread with the passphrase (then a follow-up form is shown);
 * - `POST /plain/followup` add a follow-up, passphrase typed again (one-time form token).
 *
 * Every POST must come from this site (same-site.ts) and is answered with an HTML page in the
 * person's language, errors included; every answer is `Cache-Control: no-store`
 * (api/http/security-headers.ts). Two budgets per minute (budgets.ts): reading and submitting.
 */
import { Hono, type Context } from 'hono';
import type { Kysely } from 'kysely';
import type { Sites } from '../web/static-site.ts';
import { AppError } from '../errors.ts';
import type { PlainIntakeService } from '../intake/intake.service.ts';
import { listTeamsWithCurrentEpoch } from '../intake/intake.repository.ts';
import type { Database } from '../db/schema.ts';
import { coarseHour } from '../time.ts';
import { WORDS as EN_WORDS } from '../../crypto/wordlists/en.ts';
import { WORDS as RU_WORDS } from '../../crypto/wordlists/ru.ts';
import { REQUEST_LIMITS } from '../../crypto/v1/request-body.ts';
import type { Lang } from '../../crypto/requester-i18n.ts';
import { MinuteBudget } from './budgets.ts';
import { FormPurpose, type FormTokens } from './form-token.ts';
import * as spent from './noscript.repository.ts';
import type { NoscriptFollowUpService } from './noscript.service.ts';
import { isSameSitePost } from './same-site.ts';
import {
  escapeHtml, followUpForm, lookupForm, pickLanguageFromHeader, plainPage, requestForm, stringsFor, threadList, type PageFrame, type RequestValues,
} from './noscript.page.ts';

const MAX_MESSAGE_CHARS = 20_000;
const MAX_PASSPHRASE_CHARS = 500;

export interface NoscriptOptions {
  /** valid submissions (requests and follow-ups) per minute per instance */
  submitPerMinute: number;
  /** lookups (each an Argon2id derivation, follow-ups included) per minute per instance */
  readPerMinute: number;
  quickExitUrl: string;
  /** HAVEN_REQUESTER_TITLE, or null for the neutral title of the page's language */
  pageTitle: string | null;
  onionRequesterUrl: string | null;
}

export interface NoscriptDeps {
  db: Kysely<Database>;
  plain: PlainIntakeService;
  followUps: NoscriptFollowUpService;
  tokens: FormTokens;
  sites: Sites | undefined;
  options: NoscriptOptions;
}

type Form = Record<string, unknown>;
type Status = 200 | 201 | 400 | 403 | 429 | 503;

function field(form: Form, name: string): string {
  const value = form[name];
  return typeof value === 'string' ? value : '';
}

function langOf(value: unknown, c: Context): Lang {
  return value === 'ru' || value === 'en' ? value : pickLanguageFromHeader(c.req.header('accept-language'));
}

/** Spent tokens are kept until the hour after they expire (then the retention sweep drops them). */
function spentUntil(expiresAtMinute: number): Date {
  return coarseHour(new Date((expiresAtMinute + 60) * 60_000));
}

export function noscriptRoutes(deps: NoscriptDeps) {
  const { db, plain, followUps, tokens, options } = deps;
  const app = new Hono();
  const css = deps.sites ? [...deps.sites.get('requester').files].find(([url]) => url.endsWith('.css')) : undefined;
  const styleTag = css ? `<link rel="stylesheet" href="${css[0]}" integrity="${css[1].integrity}">` : '';
  const reading = new MinuteBudget(options.readPerMinute);
  const submitting = new MinuteBudget(options.submitPerMinute);

  // The tab title and history entry are neutral (or the operator's), never what the page is for.
  const frame = (lang: Lang): PageFrame => ({ lang, styleTag, quickExitUrl: options.quickExitUrl, pageTitle: options.pageTitle });
  const page = (c: Context, lang: Lang, status: Status, title: string, body: string) => c.html(plainPage(frame(lang), title, body), status);
  const p = (cls: string, text: string) => `<p class="${cls}">${escapeHtml(text)}</p>`;
  const teams = () => listTeamsWithCurrentEpoch(db).catch(() => []);

  /** The form body and language; null when the POST did not come from this site. */
  const readForm = async (c: Context): Promise<{ form: Form; lang: Lang; sameSite: boolean }> => {
    const form = (await c.req.parseBody().catch(() => ({}))) as Form;
    const sameSite = isSameSitePost(
      { secFetchSite: c.req.header('sec-fetch-site'), origin: c.req.header('origin'), referer: c.req.header('referer'), host: c.req.header('host') },
      options.onionRequesterUrl,
    );
    return { form, lang: langOf(form.lang, c), sameSite };
  };

  /** @returns true (spent now), false (already spent) or null (the database cannot be reached). */
  const claim = (id: Uint8Array, expiresAtMinute: number): Promise<boolean | null> => spent.claimFormToken(db, id, spentUntil(expiresAtMinute)).catch(() => null);
  // Best effort: if the database is gone too, the original failure is still what the person sees.
  const release = (id: Uint8Array): Promise<void> => spent.releaseFormToken(db, id).catch(() => undefined);

  const refused = (c: Context, lang: Lang) => {
    const t = stringsFor(lang);
    return page(c, lang, 403, t.refusedTitle, p('error', t.refused));
  };

  /** A failure of the services as a page: busy, unavailable, or the input was refused. */
  const failureStatus = (err: unknown): { status: Status; key: 'noscriptBusy' | 'unavailable' | 'noscriptInvalid' } => {
    if (err instanceof AppError && err.status === 429) return { status: 429, key: 'noscriptBusy' };
    if (err instanceof AppError && err.status >= 500) return { status: 503, key: 'unavailable' };
    if (err instanceof AppError || (err instanceof Error && 'code' in err)) return { status: 400, key: 'noscriptInvalid' };
    throw err;
  };

  app.get('/plain', async (c) => {
    const lang = langOf(c.req.query('lang'), c);
    const t = stringsFor(lang);
    return page(c, lang, 200, t.title, requestForm(lang, await teams(), tokens.issue(FormPurpose.request)) + lookupForm(lang));
  });

  app.post('/plain/request', async (c) => {
    const { form, lang, sameSite } = await readForm(c);
    if (!sameSite) return refused(c, lang);
    const t = stringsFor(lang);
    const values: RequestValues = { team: field(form, 'team'), message: field(form, 'message'), contact: field(form, 'contact').trim() };
    const message = values.message!;
    const again = async (status: Status, text: string, token: string) => page(c, lang, status, t.title, p('error', text) + requestForm(lang, await teams(), token, values));

    const token = tokens.check(form.form, FormPurpose.request);
    if (!token.ok) return again(400, t.expired, tokens.issue(FormPurpose.request));
    const tokenText = field(form, 'form');
    const known = (await teams()).some((team) => team.slug === values.team);
    if (!known || message.trim() === '' || message.length > MAX_MESSAGE_CHARS || values.contact!.length > REQUEST_LIMITS.contact) {
      return again(400, t.noscriptInvalid, tokenText);
    }
    // Spend the token first: of a double click or a reload, exactly one gets past here.
    const claimed = await claim(token.spentId, token.expiresAtMinute);
    if (claimed === null) return again(503, t.unavailable, tokenText);
    if (!claimed) {
      return page(c, lang, 200, t.alreadySentTitle, p('warning', t.alreadySent) + p('hint', t.alreadySentLost) + `<p><a href="/plain?lang=${lang}" id="ns-fresh">${escapeHtml(t.freshForm)}</a></p>`);
    }
    if (!submitting.take()) {
      await release(token.spentId);
      return again(429, t.noscriptBusy, tokenText);
    }
    try {
      const passphrase = await plain.submit({ teamSlug: values.team!, message, contact: values.contact!, words: lang === 'ru' ? RU_WORDS : EN_WORDS });
      return page(
        c, lang, 201, t.noscriptSent,
        `${p('', t.sentIntro)}<p class="passphrase" id="passphrase-out">${escapeHtml(passphrase)}</p>${p('warning', t.sentAdvice)}${p('hint', t.closeTab)}`,
      );
    } catch (err) {
      submitting.refund();
      await release(token.spentId);
      const failure = failureStatus(err);
      return again(failure.status, t[failure.key], tokenText);
    }
  });

  app.post('/plain/thread', async (c) => {
    const { form, lang, sameSite } = await readForm(c);
    if (!sameSite) return refused(c, lang);
    const t = stringsFor(lang);
    const passphrase = field(form, 'passphrase');
    if (passphrase.trim() === '' || passphrase.length > MAX_PASSPHRASE_CHARS) return page(c, lang, 400, t.returnTitle, p('error', t.notFound) + lookupForm(lang));
    if (!reading.take()) return page(c, lang, 429, t.returnTitle, p('error', t.readBusy) + lookupForm(lang));
    try {
      const entries = await plain.read(passphrase);
      if (entries.length === 0) return page(c, lang, 200, t.returnTitle, p('error', t.notFound) + lookupForm(lang));
      return page(c, lang, 200, t.thread, threadList(lang, entries) + followUpForm(lang, tokens.issue(FormPurpose.followup)) + p('hint', t.closeTab));
    } catch (err) {
      const failure = failureStatus(err);
      return page(c, lang, failure.status, t.returnTitle, p('error', t[failure.key]) + lookupForm(lang));
    }
  });

  app.post('/plain/followup', async (c) => {
    const { form, lang, sameSite } = await readForm(c);
    if (!sameSite) return refused(c, lang);
    const t = stringsFor(lang);
    const message = field(form, 'message');
    const passphrase = field(form, 'passphrase');
    const again = (status: Status, text: string, token: string) => page(c, lang, status, t.followUpTitle, p('error', text) + followUpForm(lang, token, message));

    const token = tokens.check(form.form, FormPurpose.followup);
    if (!token.ok) return again(400, t.expired, tokens.issue(FormPurpose.followup));
    const tokenText = field(form, 'form');
    if (passphrase.trim() === '' || passphrase.length > MAX_PASSPHRASE_CHARS || message.trim() === '' || message.length > MAX_MESSAGE_CHARS) {
      return again(400, t.followUpInvalid, tokenText);
    }
    const claimed = await claim(token.spentId, token.expiresAtMinute);
    if (claimed === null) return again(503, t.unavailable, tokenText);
    if (!claimed) {
      return page(c, lang, 200, t.followUpAlreadyTitle, p('warning', t.followUpAlready) + lookupForm(lang));
    }
    if (!reading.take()) {
      await release(token.spentId);
      return again(429, t.readBusy, tokenText);
    }
    try {
      const outcome = await followUps.followUp(passphrase, message, submitting);
      if (outcome.status === 'added') {
        return page(c, lang, 201, t.added, threadList(lang, outcome.entries) + followUpForm(lang, tokens.issue(FormPurpose.followup)) + p('hint', t.closeTab));
      }
      await release(token.spentId);
      if (outcome.status === 'busy') return again(429, t.noscriptBusy, tokenText);
      if (outcome.status === 'legacy_thread') return page(c, lang, 200, t.followUpTitle, p('error', t.legacyThread));
      return again(200, t.notFound, tokenText);
    } catch (err) {
      await release(token.spentId);
      const failure = failureStatus(err);
      return again(failure.status, failure.status === 400 ? t.followUpInvalid : t[failure.key], tokenText);
    }
  });

  return app;
}
