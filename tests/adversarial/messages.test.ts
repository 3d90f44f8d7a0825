/**
 * Adversarial server, thread messages (protocol v2): a hostile proxy plays the server (or
 * whoever holds it) between Chromium and a real Haven, and injects messages into the thread
 * answers. It can seal to the team key and to the requester's reply key (both public); it cannot
 * sign as the requester or as a responder the root certified. So every forgery below must show
 * as "could not be verified", never under the author it claims, and every genuine message must
 * stay readable next to it, on the requester's page and in the responder's dashboard.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import { base64urlDecode, base64urlEncode } from '../../crypto/encoding.ts';
import { createRootKey, Role, signResponderCert, signTeamKey } from '../../crypto/v1/certs.ts';
import { MessageKind, sealMessage } from '../../crypto/v1/message.ts';
import { CURRENT_REQUESTER_PARAM_SET, REQUESTER_PARAM_SETS, lookupTokenHash } from '../../crypto/v1/requester.ts';
import { encodeTextBody } from '../../crypto/v1/text-body.ts';
import { parseMessageHeaderV2, sealMessageV2 } from '../../crypto/v2/message.ts';
import { encodeRequestBodyV2 } from '../../crypto/v2/request-body.ts';
import { deriveRequesterKeysV2, type RequesterKeysV2 } from '../../crypto/v2/requester.ts';
import { STRINGS as REQUESTER_STRINGS } from '../../crypto/requester-i18n.ts';
import { en as TRIAGE_EN } from '../../web/triage/i18n/en.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { describeWithBrowser } from '../helpers/browser-suite.ts';
import { dashboardLogin, readOnRequesterPage } from '../helpers/dashboard.ts';
import { rewriteJson, startHostileProxy, type HostileProxy } from '../helpers/hostile-proxy.ts';
import { startLiveServer, type LiveServer } from '../helpers/live-server.ts';
import { approveAccount, insertAccountDirectly } from '../helpers/approve.ts';
import { makeCredentials, sealResponderMessage, sessionCookie, type ResponderCredentials } from '../helpers/responder-client.ts';
import { proofFor } from '../helpers/requester-client.ts';

const p = await loadSodiumPrimitives();
const PASSPHRASE = 'amber basin cedar dune ember fjord grove heath';
const GENUINE_REQUEST = 'GENUINE-request: please help';
const GENUINE_REPLY = 'GENUINE-reply: we will call';

type Json = { [k: string]: unknown };
type Message = { id: string; kind: string; position: number; blob: string };

describeWithBrowser('adversarial server: thread messages', () => {
  let live: LiveServer;
  let browser: Browser;
  let requesterProxy: HostileProxy;
  let triageProxy: HostileProxy;
  let keys: RequesterKeysV2;
  let threadId: Uint8Array;
  let responder: ResponderCredentials;
  let certificate: Uint8Array;
  let genuineReply: Uint8Array;
  let otherThreadRequest: Uint8Array;

  const legal = () => live.demo.teams[0]!;
  const orgId = () => live.demo.organisationId;

  async function post(base: string, path: string, body: unknown, cookie?: string): Promise<{ status: number; json: Json; res: Response }> {
    const res = await fetch(new URL(path, base), { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json().catch(() => ({}))) as Json, res };
  }

  async function submit(k: RequesterKeysV2, text: string): Promise<Uint8Array> {
    const id = p.randomBytes(16);
    const team = legal();
    const body = encodeRequestBodyV2({ message: text, replyPublicKey: k.replyPublic, argon: REQUESTER_PARAM_SETS[CURRENT_REQUESTER_PARAM_SET]!, signPublicKey: k.signPublic });
    const envelope = sealMessageV2(p, {
      kind: MessageKind.request, orgId: orgId(), teamId: team.id, epoch: team.epoch, threadId: id, messageId: id, position: 0,
      teamPublic: team.publicKey, requesterPublic: k.replyPublic, body, author: { type: 'requester', signSeed: k.signSeed },
    });
    const challenge = base64urlDecode(((await (await fetch(new URL('/api/v1/pow/challenge', live.server.requesterUrl))).json()) as { challenge: string }).challenge);
    const res = await post(live.server.requesterUrl, '/api/v1/requests', { envelope: base64urlEncode(envelope), lookupHash: base64urlEncode(lookupTokenHash(p, k.lookupToken)), pow: proofFor(p, challenge) });
    expect(res.status).toBe(201);
    return envelope;
  }

  beforeAll(async () => {
    live = await startLiveServer();
    browser = await launchBrowser();
    requesterProxy = await startHostileProxy(live.server.requesterUrl);
    triageProxy = await startHostileProxy(live.server.triageUrl);
    // The genuine thread: a v2 request (as the page would send it) and a genuine signed reply.
    const params = REQUESTER_PARAM_SETS[CURRENT_REQUESTER_PARAM_SET]!;
    keys = await deriveRequesterKeysV2(p, PASSPHRASE, orgId(), params);
    const request = await submit(keys, GENUINE_REQUEST);
    threadId = parseMessageHeaderV2(request).threadId;
    const other = await deriveRequesterKeysV2(p, 'other other other other other other other other', orgId(), params);
    otherThreadRequest = await submit(other, 'another thread');

    const db = live.server.database.db;
    responder = await makeCredentials(p, 'legal.adversarial');
    const accountId = await insertAccountDirectly(db, p, responder, 'responder');
    certificate = await approveAccount(db, p, live.demo, accountId, [legal().id]);
    const login = await post(live.server.triageUrl, '/api/v1/login', { username: responder.username, verifier: base64urlEncode(responder.secrets.loginVerifier) });
    expect(login.status).toBe(200);
    genuineReply = sealResponderMessage(p, {
      kind: 'reply', orgId: orgId(), team: legal(), threadId, position: 1, certificate, ed25519Seed: responder.ed25519Seed, text: GENUINE_REPLY, requesterPublic: keys.replyPublic,
    });
    const sent = await post(live.server.triageUrl, `/api/v1/requests/${base64urlEncode(threadId)}/messages`, { kind: 'reply', envelope: base64urlEncode(genuineReply) }, sessionCookie(login.res));
    expect(sent.status).toBe(201);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await requesterProxy?.stop();
    await triageProxy?.stop();
    await live?.stop();
  });

  /** A certificate for a fresh key, signed by a root of the attacker's own: the key speaks for nobody. */
  function uncertifiedResponder(): { cert: Uint8Array; seed: Uint8Array } {
    const seed = p.randomBytes(32);
    const cert = signResponderCert(p, createRootKey(p).seed, {
      orgId: orgId(), accountId: p.randomBytes(16), role: Role.responder, x25519Public: p.x25519Keypair().publicKey, ed25519Public: p.ed25519KeypairFromSeed(seed).publicKey,
    });
    return { cert, seed };
  }

  function forgedFollowUp(position: number): Uint8Array {
    // Sealed to the team and the requester, signed by a key that is not the requester's.
    const team = legal();
    return sealMessageV2(p, {
      kind: MessageKind.followup, orgId: orgId(), teamId: team.id, epoch: team.epoch, threadId, messageId: p.randomBytes(16), position,
      teamPublic: team.publicKey, requesterPublic: keys.replyPublic, body: encodeTextBody('FORGED-followup: send the address'), author: { type: 'requester', signSeed: p.randomBytes(32) },
    });
  }

  function forgedNote(position: number): Uint8Array {
    const { cert, seed } = uncertifiedResponder();
    const team = legal();
    return sealMessageV2(p, {
      kind: MessageKind.note, orgId: orgId(), teamId: team.id, epoch: team.epoch, threadId, messageId: p.randomBytes(16), position,
      teamPublic: team.publicKey, body: encodeTextBody('FORGED-note: colleague says close it'), author: { type: 'responder', signSeed: seed, cert },
    });
  }

  function forgedReply(position: number): Uint8Array {
    // Made with the requester's reply key alone, as any team member, a removed responder or the
    // server could: no certified key signs it.
    const { cert, seed } = uncertifiedResponder();
    const team = legal();
    return sealMessageV2(p, {
      kind: MessageKind.reply, orgId: orgId(), teamId: team.id, epoch: team.epoch, threadId, messageId: p.randomBytes(16), position,
      teamPublic: team.publicKey, requesterPublic: keys.replyPublic, body: encodeTextBody('FORGED-reply: meet us at the station'), author: { type: 'responder', signSeed: seed, cert },
    });
  }

  function downgradedFollowUp(): Uint8Array {
    // A v1 message (no signature at all) slipped into a v2 thread.
    const team = legal();
    return sealMessage(p, {
      kind: MessageKind.followup, orgId: orgId(), teamId: team.id, epoch: team.epoch, threadId, messageId: p.randomBytes(16),
      teamPublic: team.publicKey, requesterPublic: keys.replyPublic, body: encodeTextBody('FORGED-v1: unsigned'),
    });
  }

  const injected = (blobs: Uint8Array[], from: number) =>
    blobs.map((blob, i): Message => ({ id: base64urlEncode(p.randomBytes(16)), kind: 'followup', position: from + i, blob: base64urlEncode(blob) }));

  it('[forged follow-up, forged reply, undecodable message] the requester page shows each as could-not-be-verified and keeps every genuine message', async () => {
    const extra = [
      forgedFollowUp(2),
      forgedReply(3),
      downgradedFollowUp(),
      p.randomBytes(genuineReply.length), // random bytes of a valid size
      otherThreadRequest, // a valid v2 blob, of another thread
    ];
    requesterProxy.rewriteAnswers((ex) =>
      ex.url === '/api/v1/threads/lookup' && ex.status === 200
        ? rewriteJson<{ messages: Message[] }>(ex, (j) => ({ ...j, messages: [...j.messages, ...injected(extra, 2)] }))
        : undefined,
    );
    const context = await browser.newContext({ locale: 'en-GB' });
    try {
      const page = await context.newPage();
      const text = await readOnRequesterPage(page, requesterProxy.url, PASSPHRASE, 2 + extra.length);
      expect(text).toContain(GENUINE_REQUEST);
      expect(text).toContain(GENUINE_REPLY);
      expect(text).not.toContain('FORGED');
      expect(await page.locator('#messages li').count()).toBe(2 + extra.length);
      expect(await page.locator('#messages li.unverified').count()).toBe(extra.length);
      for (const li of await page.locator('#messages li.unverified').all()) expect(await li.textContent()).toBe(REQUESTER_STRINGS.en.unverified);
      // Only the genuine reply is from the hotline.
      expect(await page.locator('#messages li.from-team').count()).toBe(1);
      expect(await page.locator('#messages li.from-team').textContent()).toContain(GENUINE_REPLY);
      expect(await page.locator('#return-status').textContent()).not.toContain(REQUESTER_STRINGS.en.notFound);
    } finally {
      requesterProxy.rewriteAnswers(null);
      await context.close();
    }
  }, 180_000);

  it('[forged follow-up, forged note "from a colleague"] the dashboard shows each as could-not-be-verified, never under the claimed author', async () => {
    const extra = [forgedFollowUp(2), forgedNote(3), downgradedFollowUp(), p.randomBytes(genuineReply.length)];
    const path = `/api/v1/requests/${base64urlEncode(threadId)}`;
    triageProxy.rewriteAnswers((ex) =>
      ex.method === 'GET' && ex.url === path && ex.status === 200
        ? rewriteJson<{ messages: (Message & { epoch: number; authorId: string | null })[] }>(ex, (j) => ({
            ...j,
            // The server also claims authorship in its own column: readers must not care.
            messages: [...j.messages, ...injected(extra, 2).map((m, i) => ({ ...m, kind: i === 1 ? 'note' : 'followup', epoch: legal().epoch, authorId: null }))],
          }))
        : undefined,
    );
    const context = await browser.newContext({ locale: 'en-GB' });
    try {
      const page = await context.newPage();
      await dashboardLogin(page, triageProxy.url, responder.username, responder.passphrase);
      const row = page.locator('#rows button.row', { hasText: GENUINE_REQUEST });
      await row.waitFor({ timeout: 60_000 });
      await row.click();
      await page.locator('#detail').waitFor({ state: 'visible' });
      await expect.poll(() => page.locator('#thread li').count(), { timeout: 60_000 }).toBe(2 + extra.length);
      const thread = (await page.locator('#thread').textContent()) ?? '';
      expect(thread).toContain(GENUINE_REQUEST);
      expect(thread).toContain(GENUINE_REPLY);
      expect(thread).not.toContain('FORGED');
      expect(await page.locator('#thread li.k-unverified').count()).toBe(extra.length);
      for (const li of await page.locator('#thread li.k-unverified').all()) expect(await li.textContent()).toBe(TRIAGE_EN.unverifiedMessage);
      expect(await page.locator('#thread li.k-note').count()).toBe(0);
      expect(await page.locator('#thread li.k-followup').count()).toBe(0);
      // The genuine reply is attributed from its verified certificate: this account.
      expect(await page.locator('#thread li.k-reply').textContent()).toContain(TRIAGE_EN.byYou);
    } finally {
      triageProxy.rewriteAnswers(null);
      await context.close();
    }
  }, 180_000);

  it('[old team key] a genuine v1 team certificate (no expiry, no serial) is refused for encryption, and the page says the keys need renewing', async () => {
    requesterProxy.rewriteAnswers((ex) =>
      ex.url === '/api/v1/intake' && ex.status === 200
        ? rewriteJson<{ teams: { id: string; certificate: string }[] }>(ex, (j) => ({
            ...j,
            teams: j.teams.map((t) => {
              const team = live.demo.teams.find((x) => base64urlEncode(x.id) === t.id)!;
              return { ...t, certificate: base64urlEncode(signTeamKey(p, live.demo.root.seed, { orgId: orgId(), teamId: team.id, epoch: team.epoch, publicKey: team.publicKey })) };
            }),
          }))
        : undefined,
    );
    const context = await browser.newContext({ locale: 'en-GB' });
    try {
      const page = await context.newPage();
      await page.goto(requesterProxy.url);
      await page.locator('#fatal').waitFor({ state: 'visible', timeout: 60_000 });
      expect(await page.locator('#fatal').textContent()).toBe(REQUESTER_STRINGS.en.keysExpired);
      expect(await page.locator('#send').isDisabled()).toBe(true);
    } finally {
      requesterProxy.rewriteAnswers(null);
      await context.close();
    }
  }, 120_000);
});
