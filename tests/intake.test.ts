/**
 * The requester API: intake info, submitting a request, returning with the lookup token,
 * adding a follow-up. Every bad-input class gets a typed error and leaves nothing written.
 */
import { sql } from 'kysely';
import { beforeEach, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { base64urlDecode, base64urlEncode } from '../crypto/encoding.ts';
import { parseMessageHeaderV2 } from '../crypto/v2/message.ts';
import type { DemoOrganisation } from '../seeds/demo.ts';
import { createTestApps, type TestApps, seedDemoOrganisation } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import {
  lookupTokenHash, proofFor, requestBody, requesterKeys, sealFollowUp, sealRequest, TEST_ARGON, verifyCertificate, type RequesterKeys,
} from './helpers/requester-client.ts';
import { MessageKind, sealMessage } from '../crypto/v1/message.ts';
import { encodeRequestBody } from '../crypto/v1/request-body.ts';
import type { Primitives } from '../crypto/primitives.ts';

const p = await loadSodiumPrimitives();

/** What a v1 page sent: no position, no signed author. */
function sealRequestV1(p: Primitives, org: DemoOrganisation, team: DemoOrganisation['teams'][number], keys: RequesterKeys): Uint8Array {
  const id = p.randomBytes(16);
  const body = encodeRequestBody({ message: 'x', replyPublicKey: keys.replyPublic, argon: TEST_ARGON });
  return sealMessage(p, { kind: MessageKind.request, orgId: org.organisationId, teamId: team.id, epoch: team.epoch, threadId: id, messageId: id, teamPublic: team.publicKey, requesterPublic: keys.replyPublic, body });
}
const CANARY = 'CANARY-intake-5d1e';

function post(apps: TestApps, path: string, body: unknown, headers: Record<string, string> = {}) {
  return apps.requester.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function challenge(apps: TestApps): Promise<Uint8Array> {
  const res = await apps.requester.request('/api/v1/pow/challenge');
  return base64urlDecode(((await res.json()) as { challenge: string }).challenge);
}

describeEachDatabase('requester API', (t) => {
  let demo: DemoOrganisation;
  let apps: TestApps;

  beforeEach(async () => {
    demo = await seedDemoOrganisation(t.db);
    apps = createTestApps(t.db, { rootPublicKey: demo.root.publicKey, env: { HAVEN_POW_DIFFICULTY: '4' } });
  });

  async function counts() {
    const r = await sql<{ requests: number; messages: number; spent: number }>`
      select (select count(*)::int from requests) as requests,
             (select count(*)::int from messages) as messages,
             (select count(*)::int from pow_spent) as spent`.execute(t.db);
    return r.rows[0]!;
  }

  async function validSubmission(message = `Please help ${CANARY}`) {
    const keys = await requesterKeys(p, 'apple banana cherry delta echo foxtrot golf hotel', demo.organisationId);
    const team = demo.teams[0]!;
    const envelope = sealRequest(p, demo, team, keys, requestBody(message, keys, `signal: ${CANARY}`));
    return { keys, team, envelope, body: { envelope: base64urlEncode(envelope), lookupHash: base64urlEncode(lookupTokenHash(p, keys.lookupToken)), pow: proofFor(p, await challenge(apps)) } };
  }

  it('serves intake info whose team keys verify against the configured root key', async () => {
    const res = await apps.requester.request('/api/v1/intake');
    expect(res.status).toBe(200);
    const info = (await res.json()) as {
      organisation: { id: string; name: string }; rootFingerprint: string; teams: { id: string; slug: string; certificate: string }[]; pow: { challenge: string; difficulty: number; effort: number };
    };
    expect(info.organisation.name).toBe('Haven demo hotline');
    expect(info.rootFingerprint).toMatch(/^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
    expect(info.teams.map((x) => x.slug)).toEqual(['legal', 'medical', 'evacuation']);
    for (const [i, team] of info.teams.entries()) {
      const verified = verifyCertificate(p, demo.root.publicKey, demo, demo.teams[i]!, base64urlDecode(team.certificate));
      expect(new Uint8Array(verified.publicKey)).toEqual(new Uint8Array(demo.teams[i]!.publicKey));
    }
    expect(base64urlDecode(info.pow.challenge)).toHaveLength(54);
    expect(info.pow).toMatchObject({ difficulty: 4, effort: 4 });
  });

  it('answers 503 not set up when no root key is configured', async () => {
    const bare = createTestApps(t.db);
    const res = await bare.requester.request('/api/v1/intake');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: 'unavailable' } });
  });

  it('[server-blind] accepts a request with 201 only after commit, and stores only ciphertext', async () => {
    const { body, envelope } = await validSubmission();
    const res = await post(apps, '/api/v1/requests', body);
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect(new Uint8Array(base64urlDecode(id))).toEqual(new Uint8Array(parseMessageHeaderV2(envelope).threadId));
    expect(await counts()).toEqual({ requests: 1, messages: 1, spent: 1 });
    const dump = await sql<{ dump: string }>`
      select concat_ws('|', (select string_agg(r::text, '|') from requests r), (select string_agg(m::text, '|') from messages m)) as dump`.execute(t.db);
    expect(dump.rows[0]!.dump).not.toContain(CANARY);
    expect(dump.rows[0]!.dump).not.toContain(Buffer.from(CANARY).toString('hex'));
  });

  it('lets the requester come back with the lookup token, and add a follow-up', async () => {
    const { body, keys, team } = await validSubmission();
    const created = (await (await post(apps, '/api/v1/requests', body)).json()) as { id: string };
    const threadId = base64urlDecode(created.id);

    const follow = sealFollowUp(p, demo, team, keys, threadId, 'one more thing');
    const added = await post(apps, '/api/v1/threads/messages', { token: base64urlEncode(keys.lookupToken), envelope: base64urlEncode(follow), pow: proofFor(p, await challenge(apps)) });
    expect(added.status).toBe(201);

    const res = await post(apps, '/api/v1/threads/lookup', { token: base64urlEncode(keys.lookupToken) });
    expect(res.status).toBe(200);
    const thread = (await res.json()) as { messages: { kind: string; position: number; blob: string }[]; nextPosition: number };
    expect(thread.messages.map((m) => [m.kind, m.position])).toEqual([['request', 0], ['followup', 1]]);
    expect(thread.nextPosition).toBe(2);
  });

  it('answers an unknown token with the same shape and no messages', async () => {
    const { body } = await validSubmission();
    await post(apps, '/api/v1/requests', body);
    const res = await post(apps, '/api/v1/threads/lookup', { token: base64urlEncode(p.randomBytes(32)) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ messages: [], nextPosition: 0 });
  });

  it('refuses a follow-up for an unknown token or another thread, writing nothing', async () => {
    const { body, keys, team } = await validSubmission();
    const created = (await (await post(apps, '/api/v1/requests', body)).json()) as { id: string };
    const before = await counts();
    const follow = sealFollowUp(p, demo, team, keys, base64urlDecode(created.id), 'x');
    const unknown = await post(apps, '/api/v1/threads/messages', { token: base64urlEncode(p.randomBytes(32)), envelope: base64urlEncode(follow), pow: proofFor(p, await challenge(apps)) });
    expect(unknown.status).toBe(404);
    const elsewhere = sealFollowUp(p, demo, team, keys, p.randomBytes(16), 'x');
    const moved = await post(apps, '/api/v1/threads/messages', { token: base64urlEncode(keys.lookupToken), envelope: base64urlEncode(elsewhere), pow: proofFor(p, await challenge(apps)) });
    expect(moved.status).toBe(400);
    expect(await counts()).toEqual(before);
  });

  it('refuses a replayed proof of work', async () => {
    const first = await validSubmission();
    expect((await post(apps, '/api/v1/requests', first.body)).status).toBe(201);
    const second = await validSubmission('another');
    const replay = await post(apps, '/api/v1/requests', { ...second.body, pow: first.body.pow });
    expect(replay.status).toBe(409);
    expect(await replay.json()).toMatchObject({ error: { code: 'proof_replayed' } });
    expect(await counts()).toEqual({ requests: 1, messages: 1, spent: 1 });
  });

  it('refuses every bad-input class with a typed error and writes nothing', async () => {
    const { body, envelope, keys } = await validSubmission();
    const withEnvelope = (bytes: Uint8Array) => ({ ...body, envelope: base64urlEncode(bytes) });
    const flipped = (i: number, value: number) => {
      const copy = envelope.slice();
      copy[i] = value;
      return copy;
    };
    const forgedChallenge = base64urlDecode(body.pow.challenge);
    forgedChallenge[53]! ^= 1;
    const v1Challenge = new Uint8Array([1, ...forgedChallenge, 0]); // 55 bytes starting 0x01
    const otherOrg = { ...demo, organisationId: p.randomBytes(16) };
    const otherTeam = { ...demo.teams[0]!, id: p.randomBytes(16) };
    const staleTeam = { ...demo.teams[0]!, epoch: 7 };
    const cases: [string, () => Response | Promise<Response>, number, string][] = [
      ['not JSON', () => post(apps, '/api/v1/requests', '{nope'), 400, 'bad_request'],
      ['a JSON array', () => post(apps, '/api/v1/requests', '[]'), 400, 'bad_request'],
      ['the wrong content type', () => post(apps, '/api/v1/requests', JSON.stringify(body), { 'content-type': 'text/plain' }), 415, 'unsupported_media_type'],
      ['no envelope', () => post(apps, '/api/v1/requests', { ...body, envelope: undefined }), 400, 'validation_failed'],
      ['an envelope of the wrong type', () => post(apps, '/api/v1/requests', { ...body, envelope: 42 }), 400, 'validation_failed'],
      ['bad base64url', () => post(apps, '/api/v1/requests', { ...body, envelope: '***' }), 400, 'validation_failed'],
      ['a short lookup hash', () => post(apps, '/api/v1/requests', { ...body, lookupHash: 'AAAA' }), 400, 'validation_failed'],
      ['no proof of work', () => post(apps, '/api/v1/requests', { ...body, pow: undefined }), 400, 'proof_required'],
      ['a forged challenge', () => post(apps, '/api/v1/requests', { ...body, pow: { ...body.pow, challenge: base64urlEncode(forgedChallenge) } }), 400, 'proof_invalid'],
      ['a version 1 challenge', () => post(apps, '/api/v1/requests', { ...body, pow: { ...body.pow, challenge: base64urlEncode(v1Challenge) } }), 400, 'unsupported_version'],
      ['a proof without its effort', () => post(apps, '/api/v1/requests', { ...body, pow: { ...body.pow, effort: undefined } }), 400, 'validation_failed'],
      ['an effort over 32', () => post(apps, '/api/v1/requests', { ...body, pow: { ...body.pow, effort: 33 } }), 400, 'validation_failed'],
      ['an effort claimed above the work', () => post(apps, '/api/v1/requests', { ...body, pow: { ...body.pow, effort: body.pow.effort + 8 } }), 400, 'proof_invalid'],
      ['an unknown version', () => post(apps, '/api/v1/requests', withEnvelope(flipped(0, 3))), 400, 'unknown_version'],
      ['a v1 (unsigned) envelope', () => post(apps, '/api/v1/requests', withEnvelope(sealRequestV1(p, demo, demo.teams[0]!, keys))), 400, 'unsupported_version'],
      ['version zero (never issued)', () => post(apps, '/api/v1/requests', withEnvelope(flipped(0, 0))), 400, 'unknown_version'],
      ['a size outside the buckets', () => post(apps, '/api/v1/requests', withEnvelope(envelope.subarray(0, envelope.length - 1))), 400, 'malformed'],
      ['trailing bytes', () => post(apps, '/api/v1/requests', withEnvelope(new Uint8Array([...envelope, 0]))), 400, 'malformed'],
      ['another organisation', () => post(apps, '/api/v1/requests', withEnvelope(sealRequest(p, otherOrg, demo.teams[0]!, keys, requestBody('x', keys)))), 400, 'validation_failed'],
      ['an unknown team', () => post(apps, '/api/v1/requests', withEnvelope(sealRequest(p, demo, otherTeam, keys, requestBody('x', keys)))), 400, 'validation_failed'],
      ['a stale epoch', () => post(apps, '/api/v1/requests', withEnvelope(sealRequest(p, demo, staleTeam, keys, requestBody('x', keys)))), 409, 'conflict'],
      ['a follow-up posted as a request', () => post(apps, '/api/v1/requests', withEnvelope(sealFollowUp(p, demo, demo.teams[0]!, keys, p.randomBytes(16), 'x'))), 400, 'malformed'],
    ];
    for (const [name, send, status, code] of cases) {
      const res = await send();
      expect({ name, status: res.status }).toEqual({ name, status });
      const json = (await res.json()) as { error: { code: string; message: string } };
      expect({ name, code: json.error.code }).toEqual({ name, code });
      expect(json.error.message).not.toContain(CANARY);
    }
    expect(await counts()).toEqual({ requests: 0, messages: 0, spent: 0 });
  });

  it('refuses a wrong proof-of-work solution at a real difficulty', async () => {
    const { body } = await validSubmission();
    const hard = createTestApps(t.db, { rootPublicKey: demo.root.publicKey, env: { HAVEN_POW_DIFFICULTY: '20' } });
    const res = await post(hard, '/api/v1/requests', { ...body, pow: { challenge: base64urlEncode(await challenge(hard)), effort: 20, nonce: base64urlEncode(new Uint8Array(8)) } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'proof_invalid' } });
  });

  it('refuses a second request reusing a request id', async () => {
    const first = await validSubmission();
    expect((await post(apps, '/api/v1/requests', first.body)).status).toBe(201);
    const again = { ...first.body, lookupHash: base64urlEncode(p.randomBytes(32)), pow: proofFor(p, await challenge(apps)) };
    const res = await post(apps, '/api/v1/requests', again);
    expect(res.status).toBe(409);
    expect(await counts()).toEqual({ requests: 1, messages: 1, spent: 1 });
  });
});
