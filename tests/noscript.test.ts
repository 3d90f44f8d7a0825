/**
 * The labelled, less protected no-JavaScript path: the server seals on arrival (to a key it
 * verifies against the root), stores only ciphertext, and renders every text escaped; a form is
 * sent once however often it is re-posted; POSTs from another site are refused; reading and
 * sending have budgets of their own; every page is in the person's language; a returning
 * requester adds follow-ups the server signs for them, which the team verifies.
 */
import { sql } from 'kysely';
import { beforeEach, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { MessageKind, RecipientKind } from '../crypto/v1/message.ts';
import { createRootKey, Role, signResponderCert } from '../crypto/v1/certs.ts';
import { encodeTextBody } from '../crypto/v1/text-body.ts';
import { lookupTokenHash, REQUESTER_PARAM_SETS, CURRENT_REQUESTER_PARAM_SET } from '../crypto/v1/requester.ts';
import { openMessageV2, sealMessageV2 } from '../crypto/v2/message.ts';
import { decodeRequestBodyV2 } from '../crypto/v2/request-body.ts';
import { deriveRequesterKeysV2 } from '../crypto/v2/requester.ts';
import { appendMessage } from '../api/intake/intake.repository.ts';
import { FormPurpose, FormTokens } from '../api/noscript/form-token.ts';
import { coarseHour } from '../api/time.ts';
import { NOSCRIPT_STRINGS, STRINGS } from '../crypto/requester-i18n.ts';
import type { DemoOrganisation } from '../seeds/demo.ts';
import { createTestApps, type TestApps, seedDemoOrganisation } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import { addTeamReply, teamView } from './helpers/noscript-fixtures.ts';

const p = await loadSodiumPrimitives();
const CANARY = 'CANARY-noscript-3b7d';
const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' };

function postForm(apps: TestApps, path: string, fields: Record<string, string>, headers: Record<string, string> = SAME_ORIGIN) {
  return apps.requester.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'localhost', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The one-time token of the form at `path` in `html`. */
function tokenIn(html: string, form: 'ns-request' | 'ns-followup'): string {
  const section = html.slice(html.indexOf(`id="${form}"`));
  return /name="form" value="([^"]+)"/.exec(section)![1]!;
}

async function freshToken(apps: TestApps, lang = 'en'): Promise<string> {
  return tokenIn(await (await apps.requester.request(`/plain?lang=${lang}`)).text(), 'ns-request');
}

function passphraseIn(html: string): string {
  return /id="passphrase-out">([^<]+)</.exec(html)![1]!;
}

/** Every English phrase of both tables, for pages that must have none. */
const ENGLISH = [...Object.values(STRINGS.en), ...Object.values(NOSCRIPT_STRINGS.en)].filter((s) => s.trim().length > 0);

function visibleText(html: string): string {
  return html
    .replace(/<span class="team-name">[^<]*<\/span>/g, '') // team names are the organisation's data
    .replace(/<a [^>]*lang="en"[^>]*>[^<]*<\/a>/g, '') // the link to the English page, in English
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
}

function expectNoEnglish(html: string): void {
  const text = visibleText(html);
  for (const phrase of ENGLISH) expect(text, phrase).not.toContain(phrase.trim());
  // and no stray Latin word beyond the names of things
  const latin = (text.match(/[A-Za-z]{3,}/g) ?? []).filter((w) => !['JavaScript', 'Tor', 'Browser', 'Signal', 'Telegram'].includes(w));
  expect(latin).toEqual([]);
}

describeEachDatabase('no-JavaScript path', (t) => {
  let demo: DemoOrganisation;
  let apps: TestApps;

  const send = async (a: TestApps, fields: Record<string, string>, headers?: Record<string, string>) =>
    postForm(a, '/plain/request', { form: await freshToken(a), lang: 'en', ...fields }, headers);
  const requests = async () => (await t.db.selectFrom('requests').select('id').execute()).length;

  beforeEach(async () => {
    demo = await seedDemoOrganisation(t.db);
    apps = createTestApps(t.db, { rootPublicKey: demo.root.publicKey });
  });

  it('[server-blind, no-JS fallback] seals on arrival, stores only ciphertext, and the passphrase opens it', async () => {
    const res = await send(apps, { team: 'medical', message: `Help <script>alert(1)</script> ${CANARY}`, contact: CANARY });
    expect(res.status).toBe(201);
    const passphrase = passphraseIn(await res.text());
    expect(passphrase.split(' ')).toHaveLength(8);

    const dump = await sql<{ dump: string }>`select string_agg(m::text, '|') as dump from messages m`.execute(t.db);
    expect(dump.rows[0]!.dump).not.toContain(CANARY);
    expect(apps.logLines.join('\n')).not.toContain(CANARY);

    // The stored envelope is an ordinary request: the requester key derived from the passphrase opens it.
    const keys = await deriveRequesterKeysV2(p, passphrase, demo.organisationId, REQUESTER_PARAM_SETS[CURRENT_REQUESTER_PARAM_SET]!);
    const row = await t.db.selectFrom('requests').innerJoin('messages', 'messages.request_id', 'requests.id').select(['lookup_hash', 'blob']).executeTakeFirstOrThrow();
    expect(new Uint8Array(row.lookup_hash)).toEqual(new Uint8Array(lookupTokenHash(p, keys.lookupToken)));
    // v2: at position 0, signed as the requester with the key the passphrase derives.
    const opened = openMessageV2(p, row.blob, {
      recipientKind: RecipientKind.requester, secret: keys.replySecret, expected: { orgId: demo.organisationId, teamId: demo.teams[1]!.id, position: 0 }, rootPublic: demo.root.publicKey,
    });
    expect(opened.author).toEqual({ type: 'requester', signPublic: keys.signPublic });
    expect(decodeRequestBodyV2(opened.body).message).toContain(CANARY);

    const thread = await postForm(apps, '/plain/thread', { passphrase: passphrase.toUpperCase(), lang: 'en' });
    expect(thread.status).toBe(200);
    const page = await thread.text();
    expect(page).toContain(CANARY);
    expect(page).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(page).not.toContain('<script>alert(1)');
    // The thread page carries a follow-up form, never the passphrase.
    expect(page).toContain('id="ns-followup"');
    expect(page.toLowerCase()).not.toContain(passphrase.toLowerCase());
  });

  it('answers a bad form or an unknown team with a readable page, the text kept, and writes nothing', async () => {
    for (const fields of [{ team: 'medical', message: '  ' }, { team: 'nope', message: 'x kept' }, { team: '', message: 'x kept' }, { team: 'legal', message: 'x'.repeat(20_001) }] as Record<string, string>[]) {
      const res = await send(apps, fields);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('text/html');
      const html = await res.text();
      expect(html).toContain(STRINGS.en.noscriptInvalid);
      if (fields.message === 'x kept') expect(html).toContain('>x kept</textarea>');
    }
    expect(await requests()).toBe(0);
  });

  it('[reload, double submit] a re-posted form creates nothing and never shows the passphrase again', async () => {
    const form = await freshToken(apps);
    const fields = { form, team: 'legal', message: `once ${CANARY}`, lang: 'en' };
    const first = await postForm(apps, '/plain/request', fields);
    expect(first.status).toBe(201);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const passphrase = passphraseIn(await first.text());

    // A reload re-sends the same body.
    const again = await postForm(apps, '/plain/request', fields);
    expect(again.status).toBe(200);
    expect(again.headers.get('cache-control')).toBe('no-store');
    const html = await again.text();
    expect(html).toContain(NOSCRIPT_STRINGS.en.alreadySent);
    expect(html).not.toContain('passphrase-out');
    expect(html.toLowerCase()).not.toContain(passphrase.toLowerCase());
    expect(await requests()).toBe(1);

    // A double click: the same form several times at once; exactly one request.
    const form2 = await freshToken(apps);
    const answers = await Promise.all(Array.from({ length: 6 }, () => postForm(apps, '/plain/request', { ...fields, form: form2 })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(await requests()).toBe(2);
  });

  it('refuses a forged, expired or misused form token and writes nothing', async () => {
    const secret = apps.config.serverSecret!;
    const old = new FormTokens(p, secret, () => Date.now() - 4 * 3600_000).issue(FormPurpose.request);
    const other = new FormTokens(p, p.randomBytes(32)).issue(FormPurpose.request);
    const followUpToken = new FormTokens(p, secret).issue(FormPurpose.followup);
    const good = await freshToken(apps);
    const tampered = good.slice(0, 10) + (good[10] === 'A' ? 'B' : 'A') + good.slice(11);
    for (const form of [old, other, followUpToken, tampered, '', 'x'.repeat(300)]) {
      const res = await postForm(apps, '/plain/request', { form, team: 'legal', message: 'kept text', lang: 'en' });
      expect(res.status).toBe(400);
      const html = await res.text();
      expect(html).toContain(NOSCRIPT_STRINGS.en.expired);
      // The text comes back in a fresh, valid form.
      expect(html).toContain('>kept text</textarea>');
      expect(tokenIn(html, 'ns-request')).not.toBe(form);
    }
    expect(await requests()).toBe(0);
  });

  it('[cross-site POST] refuses a form from another site with a translated page, and accepts our own', async () => {
    const fields = async () => ({ form: await freshToken(apps), team: 'legal', message: 'from elsewhere', lang: 'ru' });
    for (const headers of [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: 'http://localhost' },
      { origin: 'https://evil.example' },
      { referer: 'https://evil.example/page' },
      { origin: 'null', referer: 'https://evil.example/page' },
      { origin: 'data:,x' },
    ] as Record<string, string>[]) {
      for (const path of ['/plain/request', '/plain/thread', '/plain/followup']) {
        const res = await postForm(apps, path, { ...(await fields()), passphrase: 'a b c' }, headers);
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
        const html = await res.text();
        expect(html).toContain(NOSCRIPT_STRINGS.ru.refused);
        expectNoEnglish(html);
      }
    }
    expect(await requests()).toBe(0);
    // Our own forms: fetch metadata, a matching Origin or Referer, or (a browser without fetch
    // metadata under our no-referrer policy) `Origin: null` and nothing else.
    for (const headers of [
      { 'sec-fetch-site': 'same-origin', origin: 'null' },
      { 'sec-fetch-site': 'none' },
      { origin: 'http://localhost' },
      { referer: 'http://localhost/plain' },
      { origin: 'null' },
      {},
    ] as Record<string, string>[]) {
      expect((await postForm(apps, '/plain/request', await fields(), headers)).status, JSON.stringify(headers)).toBe(201);
    }
    expect(await requests()).toBe(6);
  });

  it('[budgets] counts only valid submissions, and a flood of lookups does not stop a valid submission', async () => {
    const limited = createTestApps(t.db, { rootPublicKey: demo.root.publicKey, env: { HAVEN_PLAIN_PER_MINUTE: '1', HAVEN_PLAIN_READS_PER_MINUTE: '3' } });
    // Invalid forms (no team, an empty message, a bad token) count nothing...
    for (let i = 0; i < 5; i++) {
      expect((await send(limited, { team: '', message: 'x' })).status).toBe(400);
      expect((await postForm(limited, '/plain/request', { form: 'bad', team: 'legal', message: 'x' })).status).toBe(400);
    }
    // ...and lookups use their own budget: the flood is refused once it is spent...
    const lookups = await Promise.all(Array.from({ length: 8 }, () => postForm(limited, '/plain/thread', { passphrase: 'no such words here at all ok' })));
    expect(lookups.map((r) => r.status).sort()).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
    // ...while a valid submission still goes through.
    expect((await send(limited, { team: 'legal', message: 'one' })).status).toBe(201);
    const second = await send(limited, { team: 'legal', message: 'two' });
    expect(second.status).toBe(429);
    expect(await second.text()).toContain('>two</textarea>');
    expect(await requests()).toBe(1);
    // The refused form's token was given back: it is not spent.
    expect((await t.db.selectFrom('pow_spent').select('challenge_id').execute()).length).toBe(1);
  });

  it('answers an unknown passphrase with the same page shape as "no replies yet"', async () => {
    const res = await postForm(apps, '/plain/thread', { passphrase: 'no such words here at all ok', lang: 'ru' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('не найден');
  });

  it('[no-JS follow-up] a returning requester reads the reply and adds a follow-up the team verifies; a reload adds nothing', async () => {
    const passphrase = passphraseIn(await (await send(apps, { team: 'legal', message: `first ${CANARY}` })).text());
    await addTeamReply(t.db, demo, passphrase, 'REPLY-from-the-team');

    const thread = await (await postForm(apps, '/plain/thread', { passphrase, lang: 'en' })).text();
    expect(thread).toContain('REPLY-from-the-team');
    expect(thread).toContain(NOSCRIPT_STRINGS.en.followUpWarning);
    const form = tokenIn(thread, 'ns-followup');

    // A wrong passphrase adds nothing, keeps the text and does not spend the form.
    const wrong = await postForm(apps, '/plain/followup', { form, passphrase: 'wrong words entirely here now', message: 'FOLLOW-UP-TEXT', lang: 'en' });
    expect(wrong.status).toBe(200);
    const wrongHtml = await wrong.text();
    expect(wrongHtml).toContain(STRINGS.en.notFound);
    expect(wrongHtml).toContain('>FOLLOW-UP-TEXT</textarea>');

    // A text within 20,000 characters whose body cannot fit the largest bucket (each control
    // character is 6 bytes of JSON): refused, nothing written, the form not spent.
    const huge = await postForm(apps, '/plain/followup', { form, passphrase, message: '\u0001'.repeat(19_999), lang: 'en' });
    expect(huge.status).toBe(400);
    expect(await huge.text()).toContain(NOSCRIPT_STRINGS.en.followUpInvalid);

    const fields = { form, passphrase: ` ${passphrase.toUpperCase()} `, message: 'FOLLOW-UP-TEXT', lang: 'en' };
    const added = await postForm(apps, '/plain/followup', fields);
    expect(added.status).toBe(201);
    expect(added.headers.get('cache-control')).toBe('no-store');
    const addedHtml = await added.text();
    expect(addedHtml).toContain(STRINGS.en.added);
    expect(addedHtml).toContain('FOLLOW-UP-TEXT');
    expect(addedHtml.toLowerCase()).not.toContain(passphrase.toLowerCase());

    const reload = await postForm(apps, '/plain/followup', fields);
    expect(reload.status).toBe(200);
    expect(await reload.text()).toContain(NOSCRIPT_STRINGS.en.followUpAlready);

    // The dashboard's reader: the follow-up is the requester's, verified, exactly once.
    const view = await teamView(t.db, demo);
    expect(view.entries.map((e) => (e.status === 'unverified' ? 'unverified' : `${e.status}:${e.kind}:${e.text ?? e.request?.message}`))).toEqual([
      `verified:${MessageKind.request}:first ${CANARY}`,
      `verified:${MessageKind.reply}:REPLY-from-the-team`,
      `verified:${MessageKind.followup}:FOLLOW-UP-TEXT`,
    ]);
    const dump = await sql<{ dump: string }>`select string_agg(m::text, '|') as dump from messages m`.execute(t.db);
    expect(dump.rows[0]!.dump).not.toContain('FOLLOW-UP-TEXT');
    expect(apps.logLines.join('\n')).not.toContain('FOLLOW-UP-TEXT');
  });

  it('[translated frame] every Russian page has no English word of the frame, and a quick exit link', async () => {
    const quick = createTestApps(t.db, { rootPublicKey: demo.root.publicKey, env: { HAVEN_QUICK_EXIT_URL: 'https://neutral.example/' } });
    const form = await (await quick.requester.request('/plain', { headers: { 'accept-language': 'ru-RU,ru;q=0.9,en;q=0.5' } })).text();
    expect(form).toContain('<html lang="ru">');
    const pages = [form];
    const sent = await (await postForm(quick, '/plain/request', { form: tokenIn(form, 'ns-request'), team: 'legal', message: 'помогите', lang: 'ru' })).text();
    pages.push(sent);
    const passphrase = passphraseIn(sent);
    pages.push(await (await postForm(quick, '/plain/request', { form: tokenIn(form, 'ns-request'), team: 'legal', message: 'помогите', lang: 'ru' })).text());
    await addTeamReply(t.db, demo, passphrase, 'ответ');
    const thread = await (await postForm(quick, '/plain/thread', { passphrase, lang: 'ru' })).text();
    pages.push(thread);
    pages.push(await (await postForm(quick, '/plain/thread', { passphrase: 'нет таких слов', lang: 'ru' })).text());
    const added = await (await postForm(quick, '/plain/followup', { form: tokenIn(thread, 'ns-followup'), passphrase, message: 'ещё', lang: 'ru' })).text();
    pages.push(added);
    pages.push(await (await postForm(quick, '/plain/followup', { form: tokenIn(thread, 'ns-followup'), passphrase, message: 'ещё', lang: 'ru' })).text());
    pages.push(await (await postForm(quick, '/plain/request', { form: 'bad', team: 'legal', message: 'x', lang: 'ru' })).text());
    for (const html of pages) {
      expect(html).toContain('<a id="quick-exit" class="quick-exit" href="https://neutral.example/" rel="noreferrer">Быстрый выход</a>');
      expectNoEnglish(html);
    }
    // The English page, for contrast, shows the English frame (the check can fail).
    expect(() => expectNoEnglish(pages[0]!.replace('<html lang="ru">', '') + STRINGS.en.title)).toThrow();
  });

  it('never takes a passphrase from a URL: every form is a POST and a query string opens nothing', async () => {
    const passphrase = passphraseIn(await (await send(apps, { team: 'legal', message: 'x' })).text());
    const res = await apps.requester.request(`/plain/thread?passphrase=${encodeURIComponent(passphrase)}`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain(passphrase);
    const emptyPost = await apps.requester.request(`/plain/thread?passphrase=${encodeURIComponent(passphrase)}`, { method: 'POST', headers: SAME_ORIGIN });
    expect(await emptyPost.text()).toContain(STRINGS.en.notFound);
    const forms = await (await apps.requester.request(`/plain?passphrase=${encodeURIComponent(passphrase)}`)).text();
    expect(forms).not.toContain(passphrase);
    for (const m of forms.matchAll(/<form [^>]*>/g)) expect(m[0]).toContain('method="post"');
  });

  it('[forged reply, no-JS] a reply sealed with the public reply key but no certified author shows as unverified; the rest stays readable', async () => {
    const res = await send(apps, { team: 'legal', message: `Help ${CANARY}` });
    const passphrase = passphraseIn(await res.text());
    const keys = await deriveRequesterKeysV2(p, passphrase, demo.organisationId, REQUESTER_PARAM_SETS[CURRENT_REQUESTER_PARAM_SET]!);
    const request = await t.db.selectFrom('requests').select('id').executeTakeFirstOrThrow();
    // The server (or a removed responder) knows the reply key and can certify nothing: it signs
    // with a certificate of a root of its own.
    const fakeRoot = createRootKey(p);
    const seed = p.randomBytes(32);
    const cert = signResponderCert(p, fakeRoot.seed, {
      orgId: demo.organisationId, accountId: p.randomBytes(16), role: Role.responder,
      x25519Public: p.x25519Keypair().publicKey, ed25519Public: p.ed25519KeypairFromSeed(seed).publicKey,
    });
    const team = demo.teams[0]!;
    const forged = sealMessageV2(p, {
      kind: MessageKind.reply, orgId: demo.organisationId, teamId: team.id, epoch: team.epoch, threadId: request.id, messageId: p.randomBytes(16), position: 1,
      teamPublic: team.publicKey, requesterPublic: keys.replyPublic, body: encodeTextBody('FORGED-REPLY'), author: { type: 'responder', signSeed: seed, cert },
    });
    await t.db.transaction().execute(async (trx) => {
      expect(await appendMessage(trx, { id: p.randomBytes(16), requestId: request.id, position: 1, kind: 'reply', epoch: team.epoch, authorId: null, blob: forged, hour: coarseHour() })).toBe('appended');
    });
    const page = await (await postForm(apps, '/plain/thread', { passphrase, lang: 'en' })).text();
    expect(page).toContain(CANARY);
    expect(page).toContain(STRINGS.en.unverified);
    expect(page).not.toContain('FORGED-REPLY');
    expect(page).not.toContain(`<span class="who">${STRINGS.en.fromTeam}</span>`);
  });
});
