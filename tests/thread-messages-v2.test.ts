/**
 * Protocol v2 thread messages at the API (issue: unsigned notes, replies and follow-ups).
 *
 * The server cannot check a signature (it cannot read the plaintext), so what it enforces is
 * structure: only v2 (signed) messages are written now, and every message sits at exactly its
 * thread's next position, checked under the thread's row lock. What these tests prove: an
 * unsigned v1 envelope is refused; a message signed for a taken or skipped position is refused
 * with 409 position_taken and nothing is written; the same bytes sent twice land once; tags never
 * reuse a position. Readers verify authors (tests/adversarial/messages.test.ts, the crypto tests).
 */
import { sql } from 'kysely';
import type { Hono } from 'hono';
import { beforeEach, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { base64urlDecode, base64urlEncode } from '../crypto/encoding.ts';
import { MessageKind, sealMessage } from '../crypto/v1/message.ts';
import { encodeTextBody } from '../crypto/v1/text-body.ts';
import type { DemoOrganisation, DemoTeam } from '../seeds/demo.ts';
import { createTestApps, seedDemoOrganisation, type TestApps } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import { lookupTokenHash, proofFor, requestBody, requesterKeys, sealFollowUp, sealRequest, type RequesterKeys } from './helpers/requester-client.ts';
import { approveAccount, insertAccountDirectly } from './helpers/approve.ts';
import { makeCredentials, sealResponderMessage, sessionCookie, type ResponderCredentials } from './helpers/responder-client.ts';

const p = await loadSodiumPrimitives();
// API answers are read field by field in assertions; a declared type per answer would restate the API.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see the line above
type Json = Record<string, any>;
const b64 = base64urlEncode;

describeEachDatabase('thread messages v2', (t) => {
  let demo: DemoOrganisation;
  let apps: TestApps;
  let legal: DemoTeam;

  beforeEach(async () => {
    demo = await seedDemoOrganisation(t.db);
    legal = demo.teams[0]!;
    apps = createTestApps(t.db, { rootPublicKey: demo.root.publicKey, env: { HAVEN_POW_DIFFICULTY: '0' } });
  });

  async function call(app: Hono, path: string, body: unknown, cookie?: string): Promise<{ status: number; json: Json }> {
    const res = await app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Json };
  }
  const requester = () => apps.requester as unknown as Hono;
  const triage = () => apps.triage as unknown as Hono;

  async function pow(): Promise<Json> {
    const res = await apps.requester.request('/api/v1/pow/challenge');
    return proofFor(p, base64urlDecode(((await res.json()) as Json).challenge));
  }

  async function thread(passphrase = 'apple banana cherry delta echo foxtrot golf hotel'): Promise<{ id: Uint8Array; keys: RequesterKeys }> {
    const keys = await requesterKeys(p, passphrase, demo.organisationId);
    const envelope = sealRequest(p, demo, legal, keys, requestBody('help', keys));
    const res = await call(requester(), '/api/v1/requests', { envelope: b64(envelope), lookupHash: b64(lookupTokenHash(p, keys.lookupToken)), pow: await pow() });
    expect(res.status).toBe(201);
    return { id: base64urlDecode(res.json.id), keys };
  }

  async function responder(): Promise<{ creds: ResponderCredentials; certificate: Uint8Array; cookie: string }> {
    const creds = await makeCredentials(p, 'legal.one');
    const id = await insertAccountDirectly(t.db, p, creds, 'responder');
    const certificate = await approveAccount(t.db, p, demo, id, [legal.id]);
    const res = await apps.triage.request('/api/v1/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: creds.username, verifier: b64(creds.secrets.loginVerifier) }),
    });
    expect(res.status).toBe(200);
    return { creds, certificate, cookie: sessionCookie(res) };
  }

  const followUp = async (keys: RequesterKeys, envelope: Uint8Array, proof?: Json) =>
    call(requester(), '/api/v1/threads/messages', { token: b64(keys.lookupToken), envelope: b64(envelope), pow: proof ?? (await pow()) });

  async function rows(id: Uint8Array) {
    return t.db.selectFrom('messages').select(['kind', 'position']).where('request_id', '=', id).orderBy('position').execute();
  }
  async function counts() {
    const r = await sql<Json>`select (select count(*)::int from messages) as messages, (select count(*)::int from pow_spent) as spent`.execute(t.db);
    return r.rows[0]!;
  }

  it('accepts a request and a follow-up in the largest padding bucket (a v2 message is 4 bytes longer than v1)', async () => {
    const keys = await requesterKeys(p, 'kilo lima mike november oscar papa quebec romeo', demo.organisationId);
    const big = 'x'.repeat(40_000);
    const envelope = sealRequest(p, demo, legal, keys, requestBody(big, keys));
    expect(envelope.length).toBe(65_814);
    const res = await call(requester(), '/api/v1/requests', { envelope: b64(envelope), lookupHash: b64(lookupTokenHash(p, keys.lookupToken)), pow: await pow() });
    expect(res.status).toBe(201);
    const id = base64urlDecode(res.json.id);
    const follow = await followUp(keys, sealFollowUp(p, demo, legal, keys, id, big, 1));
    expect(follow.status).toBe(201);
    expect((await rows(id)).map((r) => r.position)).toEqual([0, 1]);
  });

  it('[unsigned follow-up] refuses a v1 follow-up (no signed author) with 400 unsupported_version, writing nothing', async () => {
    const { id, keys } = await thread();
    const before = await counts();
    const v1 = sealMessage(p, {
      kind: MessageKind.followup, orgId: demo.organisationId, teamId: legal.id, epoch: legal.epoch, threadId: id, messageId: p.randomBytes(16),
      teamPublic: legal.publicKey, requesterPublic: keys.replyPublic, body: encodeTextBody('from the server, claiming to be the requester'),
    });
    const res = await followUp(keys, v1);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('unsupported_version');
    expect(await counts()).toEqual(before);
  });

  it('[unsigned note or reply] refuses v1 replies, notes and tags from a signed-in responder with 400 unsupported_version', async () => {
    const { id, keys } = await thread();
    const r = await responder();
    for (const kind of ['reply', 'note', 'tags'] as const) {
      const v1 = sealMessage(p, {
        kind: MessageKind[kind], orgId: demo.organisationId, teamId: legal.id, epoch: legal.epoch, threadId: id, messageId: p.randomBytes(16), teamPublic: legal.publicKey,
        ...(kind === 'reply' ? { requesterPublic: keys.replyPublic } : {}), body: encodeTextBody('unsigned'),
      });
      const res = await call(triage(), `/api/v1/requests/${b64(id)}/messages`, { kind, envelope: b64(v1) }, r.cookie);
      expect({ kind, status: res.status, code: res.json.error?.code }).toEqual({ kind, status: 400, code: 'unsupported_version' });
    }
    expect(await rows(id)).toEqual([{ kind: 'request', position: 0 }]);
  });

  it('[reordering] refuses a follow-up signed for a position ahead of the thread with 409 position_taken; nothing is written and the proof stays unspent (taken positions: see [replay] and [race])', async () => {
    const { id, keys } = await thread();
    const before = await counts();
    for (const position of [2, 6]) {
      const res = await followUp(keys, sealFollowUp(p, demo, legal, keys, id, 'skips ahead', position));
      expect(res.status).toBe(409);
      expect(res.json.error.code).toBe('position_taken');
    }
    expect(await counts()).toEqual(before);
    // The client re-signs at the position the lookup names and may resend the same proof.
    const proof = await pow();
    const ahead = await followUp(keys, sealFollowUp(p, demo, legal, keys, id, 'ahead', 3), proof);
    expect(ahead.status).toBe(409);
    const lookup = await call(requester(), '/api/v1/threads/lookup', { token: b64(keys.lookupToken) });
    expect(lookup.json.nextPosition).toBe(1);
    const resent = await followUp(keys, sealFollowUp(p, demo, legal, keys, id, 'right place', lookup.json.nextPosition), proof);
    expect(resent.status).toBe(201);
    expect(await rows(id)).toEqual([{ kind: 'request', position: 0 }, { kind: 'followup', position: 1 }]);
  });

  it('[replay] the same follow-up bytes sent again are refused (409) and written once', async () => {
    const { id, keys } = await thread();
    const envelope = sealFollowUp(p, demo, legal, keys, id, 'once', 1);
    expect((await followUp(keys, envelope)).status).toBe(201);
    const before = await counts();
    const again = await followUp(keys, envelope);
    expect(again.status).toBe(409);
    expect(await counts()).toEqual(before);
    expect(await rows(id)).toEqual([{ kind: 'request', position: 0 }, { kind: 'followup', position: 1 }]);
  });

  it('[replay] a reply replayed by the server or a client is refused (409) and written once', async () => {
    const { id, keys } = await thread();
    const r = await responder();
    const reply = sealResponderMessage(p, {
      kind: 'reply', orgId: demo.organisationId, team: legal, threadId: id, position: 1, certificate: r.certificate, ed25519Seed: r.creds.ed25519Seed,
      text: 'we will call', requesterPublic: keys.replyPublic,
    });
    const url = `/api/v1/requests/${b64(id)}/messages`;
    expect((await call(triage(), url, { kind: 'reply', envelope: b64(reply) }, r.cookie)).status).toBe(201);
    const again = await call(triage(), url, { kind: 'reply', envelope: b64(reply) }, r.cookie);
    expect(again.status).toBe(409);
    expect(await rows(id)).toEqual([{ kind: 'request', position: 0 }, { kind: 'reply', position: 1 }]);
  });

  it('[tags] a new tags message takes the next position and the previous one stays: positions are never reused', async () => {
    const { id } = await thread();
    const r = await responder();
    const url = `/api/v1/requests/${b64(id)}/messages`;
    const tags = (position: number, list: string[]) =>
      sealResponderMessage(p, { kind: 'tags', orgId: demo.organisationId, team: legal, threadId: id, position, certificate: r.certificate, ed25519Seed: r.creds.ed25519Seed, tags: list });
    expect((await call(triage(), url, { kind: 'tags', envelope: b64(tags(1, ['housing'])) }, r.cookie)).status).toBe(201);
    expect((await call(triage(), url, { kind: 'tags', envelope: b64(tags(2, ['housing', 'urgent'])) }, r.cookie)).status).toBe(201);
    // Re-signing at the old position of a tags message (as deleting and re-adding once allowed) is refused.
    const reused = await call(triage(), url, { kind: 'tags', envelope: b64(tags(1, ['rolled back'])) }, r.cookie);
    expect(reused.status).toBe(409);
    expect(reused.json.error.code).toBe('position_taken');
    expect(await rows(id)).toEqual([{ kind: 'request', position: 0 }, { kind: 'tags', position: 1 }, { kind: 'tags', position: 2 }]);
  });

  it('[race] two follow-ups signed for the same position: exactly one lands, the other gets 409 position_taken', async () => {
    const { id, keys } = await thread();
    const [a, b] = await Promise.all([
      followUp(keys, sealFollowUp(p, demo, legal, keys, id, 'first', 1)),
      followUp(keys, sealFollowUp(p, demo, legal, keys, id, 'second', 1)),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    expect([a, b].find((x) => x.status === 409)!.json.error.code).toBe('position_taken');
    expect(await rows(id)).toEqual([{ kind: 'request', position: 0 }, { kind: 'followup', position: 1 }]);
  });

  it('[v1 threads stay usable] a v2 follow-up to a stored v1 thread goes after its request at position 1', async () => {
    const keys = await requesterKeys(p, 'kilo lima mike november oscar papa quebec romeo', demo.organisationId);
    const id = p.randomBytes(16);
    const v1 = sealMessage(p, {
      kind: MessageKind.request, orgId: demo.organisationId, teamId: legal.id, epoch: legal.epoch, threadId: id, messageId: id, teamPublic: legal.publicKey,
      requesterPublic: keys.replyPublic, body: encodeTextBody('an old request'),
    });
    const { insertRequest } = await import('../api/intake/intake.repository.ts');
    const { coarseHour } = await import('../api/time.ts');
    await t.db.transaction().execute((trx) => insertRequest(trx, { id, teamId: legal.id, epoch: legal.epoch, lookupHash: lookupTokenHash(p, keys.lookupToken), blob: v1, hour: coarseHour() }));
    const lookup = await call(requester(), '/api/v1/threads/lookup', { token: b64(keys.lookupToken) });
    expect(lookup.json.nextPosition).toBe(2);
    expect((await followUp(keys, sealFollowUp(p, demo, legal, keys, id, 'still here', 2))).status).toBe(201);
    expect(await rows(id)).toEqual([{ kind: 'request', position: 1 }, { kind: 'followup', position: 2 }]);
  });
});
