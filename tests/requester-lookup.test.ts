/**
 * The lookup answer a returning requester gets (PROTOCOL.md 20.4): the request's coarse status
 * and, once closed, the first day it may be deleted; and one byte length whether the
 * passphrase exists or not, so the size on the wire (TLS hides content, not length) does not
 * tell an observer that this person has a request here.
 */
import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { beforeEach, expect, it } from 'vitest';
import { base64urlDecode, base64urlEncode } from '../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import type { DemoOrganisation } from '../seeds/demo.ts';
import { LOOKUP_ANSWER_MIN_BYTES } from '../api/intake/intake.routes.ts';
import { deletionDate, requesterStatus } from '../api/intake/intake.service.ts';
import { lookupTokenHash, proofFor, requestBody, requesterKeys, sealFollowUp, sealRequest } from './helpers/requester-client.ts';
import { createTestApps, type TestApps, seedDemoOrganisation } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';

const p = await loadSodiumPrimitives();

interface Answer {
  messages: unknown[];
  nextPosition: number;
  status: string;
  deleteAfter: string | null;
  retentionDays: number;
  pad: string;
}

it('folds the triage statuses into the four a requester sees', () => {
  expect(['new', 'triaged', 'in_progress', 'waiting', 'resolved', 'closed', 'anything'].map(requesterStatus)).toEqual([
    'received', 'received', 'in_progress', 'in_progress', 'answered', 'closed', 'received',
  ]);
  expect(deletionDate(new Date('2026-01-30T17:00:00Z'), 30)).toBe('2026-03-01');
});

describeEachDatabase('requester lookup answer', (t) => {
  let demo: DemoOrganisation;
  let apps: TestApps;

  beforeEach(async () => {
    demo = await seedDemoOrganisation(t.db);
    apps = createTestApps(t.db, { rootPublicKey: demo.root.publicKey, env: { HAVEN_POW_DIFFICULTY: '0', HAVEN_LOG_LEVEL: 'silent' } });
  });

  const post = (path: string, body: unknown) =>
    apps.requester.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  async function challenge(): Promise<Uint8Array> {
    return base64urlDecode(((await (await apps.requester.request('/api/v1/pow/challenge')).json()) as { challenge: string }).challenge);
  }

  async function submit(message: string) {
    const keys = await requesterKeys(p, `lookup answer words ${message.length}`, demo.organisationId);
    const team = demo.teams[0]!;
    const envelope = sealRequest(p, demo, team, keys, requestBody(message, keys));
    const res = await post('/api/v1/requests', { envelope: base64urlEncode(envelope), lookupHash: base64urlEncode(lookupTokenHash(p, keys.lookupToken)), pow: proofFor(p, await challenge()) });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    return { keys, team, id: base64urlDecode(id) };
  }

  async function lookup(token: Uint8Array) {
    const res = await post('/api/v1/threads/lookup', { token: base64urlEncode(token) });
    expect(res.status).toBe(200);
    const raw = new Uint8Array(await res.arrayBuffer());
    return { raw, answer: JSON.parse(new TextDecoder().decode(raw)) as Answer };
  }

  it('answers an unknown passphrase and a fresh request (short or as long as allowed) in the same bytes and shape', async () => {
    const short = await submit('help');
    // The largest request a page can send today fits the 16 KiB padding bucket.
    const long = await submit('x'.repeat(15_000));
    const unknown = await lookup(p.randomBytes(32));
    const a = await lookup(short.keys.lookupToken);
    const b = await lookup(long.keys.lookupToken);
    expect(a.answer.messages).toHaveLength(1);
    expect(b.answer.messages).toHaveLength(1);
    expect(unknown.answer.messages).toHaveLength(0);
    expect(unknown.raw.length).toBe(LOOKUP_ANSWER_MIN_BYTES);
    expect(a.raw.length).toBe(unknown.raw.length);
    expect(b.raw.length).toBe(unknown.raw.length);
    expect(Object.keys(a.answer)).toEqual(Object.keys(unknown.answer));
    expect(a.answer.status).toBe(unknown.answer.status);
    // A compressing proxy cannot tell them apart either: the pad is random, not a run of one byte.
    const [gu, ga] = [gzipSync(unknown.raw).length, gzipSync(a.raw).length];
    expect(Math.abs(gu - ga) / gu).toBeLessThan(0.05);
    // Each answer pads afresh: the pad is not a constant a prober could subtract.
    expect((await lookup(p.randomBytes(32))).answer.pad).not.toBe(unknown.answer.pad);
  });

  it('grows in powers of two past the smallest size, so a long thread shows only a coarse size', async () => {
    const { keys, team, id } = await submit('x'.repeat(15_000));
    for (let i = 0; i < 3; i++) {
      const follow = sealFollowUp(p, demo, team, keys, id, 'y'.repeat(15_000), i + 1);
      const res = await post('/api/v1/threads/messages', { token: base64urlEncode(keys.lookupToken), envelope: base64urlEncode(follow), pow: proofFor(p, await challenge()) });
      expect(res.status).toBe(201);
    }
    const { raw, answer } = await lookup(keys.lookupToken);
    // Four messages of about 22 KB each (base64 of the 16 KiB bucket) round up to 128 KiB.
    expect(answer.messages).toHaveLength(4);
    expect(raw.length).toBe(LOOKUP_ANSWER_MIN_BYTES * 4);
  });

  it('tells the requester the status and, once closed, the first day it may be deleted', async () => {
    const { keys, id } = await submit('status please');
    expect((await lookup(keys.lookupToken)).answer).toMatchObject({ status: 'received', deleteAfter: null, retentionDays: 90 });
    await sql`update requests set status = 'in_progress' where id = ${id}`.execute(t.db);
    expect((await lookup(keys.lookupToken)).answer).toMatchObject({ status: 'in_progress', deleteAfter: null });
    await sql`update requests set status = 'resolved' where id = ${id}`.execute(t.db);
    expect((await lookup(keys.lookupToken)).answer.status).toBe('answered');
    await sql`insert into settings (id, closed_retention_days) values (1, 30) on conflict (id) do update set closed_retention_days = 30`.execute(t.db);
    await sql`update requests set status = 'closed', updated_hour = '2026-01-30T17:00:00Z' where id = ${id}`.execute(t.db);
    const closed = await lookup(keys.lookupToken);
    expect(closed.answer).toMatchObject({ status: 'closed', deleteAfter: '2026-03-01', retentionDays: 30 });
    // Still the one size: the status and date change nothing on the wire.
    expect(closed.raw.length).toBe((await lookup(p.randomBytes(32))).raw.length);
  });
});
