/**
 * The labelled, less protected no-JavaScript path: the server seals on arrival (to a key it
 * verifies against the root), stores only ciphertext, and renders every text escaped.
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
import { coarseHour } from '../api/time.ts';
import { STRINGS } from '../crypto/requester-i18n.ts';
import type { DemoOrganisation } from '../seeds/demo.ts';
import { createTestApps, type TestApps, seedDemoOrganisation } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';

const p = await loadSodiumPrimitives();
const CANARY = 'CANARY-noscript-3b7d';

function postForm(apps: TestApps, path: string, fields: Record<string, string>) {
  return apps.requester.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

describeEachDatabase('no-JavaScript path', (t) => {
  let demo: DemoOrganisation;
  let apps: TestApps;

  beforeEach(async () => {
    demo = await seedDemoOrganisation(t.db);
    apps = createTestApps(t.db, { rootPublicKey: demo.root.publicKey });
  });

  it('[server-blind, no-JS fallback] seals on arrival, stores only ciphertext, and the passphrase opens it', async () => {
    const res = await postForm(apps, '/plain/request', { team: 'medical', message: `Help <script>alert(1)</script> ${CANARY}`, contact: CANARY, lang: 'en' });
    expect(res.status).toBe(201);
    const html = await res.text();
    const passphrase = /id="passphrase-out">([^<]+)</.exec(html)![1]!;
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
  });

  it('answers a bad form or an unknown team with a readable page and writes nothing', async () => {
    for (const fields of [{ team: 'medical', message: '  ' }, { team: 'nope', message: 'x' }, { team: '', message: 'x' }, { team: 'legal', message: 'x'.repeat(20_001) }] as Record<string, string>[]) {
      const res = await postForm(apps, '/plain/request', fields);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('text/html');
    }
    expect(await t.db.selectFrom('requests').selectAll().execute()).toHaveLength(0);
  });

  it('holds to a global ceiling, since a no-JavaScript form cannot carry a proof of work', async () => {
    const limited = createTestApps(t.db, { rootPublicKey: demo.root.publicKey, env: { HAVEN_PLAIN_PER_MINUTE: '1' } });
    expect((await postForm(limited, '/plain/request', { team: 'legal', message: 'one' })).status).toBe(201);
    const second = await postForm(limited, '/plain/request', { team: 'legal', message: 'two' });
    expect(second.status).toBe(429);
    expect(await t.db.selectFrom('requests').selectAll().execute()).toHaveLength(1);
  });

  it('answers an unknown passphrase with the same page shape as "no replies yet"', async () => {
    const res = await postForm(apps, '/plain/thread', { passphrase: 'no such words here at all ok', lang: 'ru' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('не найден');
  });

  it('[forged reply, no-JS] a reply sealed with the public reply key but no certified author shows as unverified; the rest stays readable', async () => {
    const res = await postForm(apps, '/plain/request', { team: 'legal', message: `Help ${CANARY}`, lang: 'en' });
    const passphrase = /id="passphrase-out">([^<]+)</.exec(await res.text())![1]!;
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
