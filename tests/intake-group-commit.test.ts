/**
 * Group commit of submissions: concurrent requests share one transaction and one commit,
 * yet each caller gets its own answer, only after that commit, and one bad item (a replayed
 * proof, a taken id) fails only its caller and leaves nothing half-written.
 */
import { sql } from 'kysely';
import { beforeEach, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { base64urlDecode, base64urlEncode } from '../crypto/encoding.ts';
import type { DemoOrganisation } from '../seeds/demo.ts';
import { createTestApps, type TestApps, seedDemoOrganisation } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import { lookupTokenHash, proofFor, requestBody, requesterKeys, sealRequest } from './helpers/requester-client.ts';
import type { RequesterKeys } from './helpers/requester-client.ts';

const p = await loadSodiumPrimitives();

describeEachDatabase('group commit of submissions', (t) => {
  let demo: DemoOrganisation;
  let apps: TestApps;
  let keys: RequesterKeys;

  beforeEach(async () => {
    demo = await seedDemoOrganisation(t.db);
    apps = createTestApps(t.db, { rootPublicKey: demo.root.publicKey });
    keys = await requesterKeys(p, 'apple banana cherry delta echo foxtrot golf hotel', demo.organisationId);
  });

  async function counts() {
    const r = await sql<{ requests: number; messages: number; spent: number }>`
      select (select count(*)::int from requests) as requests,
             (select count(*)::int from messages) as messages,
             (select count(*)::int from pow_spent) as spent`.execute(t.db);
    return r.rows[0]!;
  }

  async function challenge(): Promise<Uint8Array> {
    const res = await apps.requester.request('/api/v1/pow/challenge');
    return base64urlDecode(((await res.json()) as { challenge: string }).challenge);
  }

  async function submission(envelope = sealRequest(p, demo, demo.teams[0]!, keys, requestBody('help', keys))) {
    return { envelope: base64urlEncode(envelope), lookupHash: base64urlEncode(lookupTokenHash(p, p.randomBytes(32))), pow: proofFor(p, await challenge()) };
  }

  function post(body: unknown) {
    return apps.requester.request('/api/v1/requests', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  async function storedIds(): Promise<Set<string>> {
    const rows = await t.db.selectFrom('requests').innerJoin('messages', 'messages.request_id', 'requests.id').select('requests.id').execute();
    return new Set(rows.map((r) => base64urlEncode(r.id)));
  }

  it('commits every concurrent submission it answered 201, each with its own id', async () => {
    const bodies = await Promise.all(Array.from({ length: 24 }, () => submission()));
    const responses = await Promise.all(bodies.map(post));
    expect(responses.map((r) => r.status)).toEqual(bodies.map(() => 201));
    const ids = await Promise.all(responses.map(async (r) => ((await r.json()) as { id: string }).id));
    expect(new Set(ids).size).toBe(24);
    const stored = await storedIds();
    for (const id of ids) expect(stored.has(id)).toBe(true);
    expect(await counts()).toEqual({ requests: 24, messages: 24, spent: 24 });
  });

  it('fails only the callers that replay a proof, inside one batch and across batches', async () => {
    const spentBefore = await submission();
    expect((await post(spentBefore)).status).toBe(201);
    const fresh = await Promise.all(Array.from({ length: 8 }, () => submission()));
    const shared = fresh[0]!.pow;
    const replays = [
      { ...(await submission()), pow: shared }, // same challenge as fresh[0], same batch
      { ...(await submission()), pow: shared },
      { ...(await submission()), pow: spentBefore.pow }, // already spent in an earlier commit
    ];
    const responses = await Promise.all([...fresh, ...replays].map(post));
    const statuses = responses.map((r) => r.status);
    // Of the three users of `shared`, exactly one wins; every other fresh submission goes in.
    const sharedUsers = [statuses[0], statuses[8], statuses[9]];
    expect(sharedUsers.filter((s) => s === 201)).toHaveLength(1);
    expect(sharedUsers.filter((s) => s === 409)).toHaveLength(2);
    expect(statuses.slice(1, 8)).toEqual(Array(7).fill(201));
    expect(statuses[10]).toBe(409);
    for (const [i, r] of responses.entries()) {
      if (r.status === 409) expect({ i, body: await r.json() }).toMatchObject({ i, body: { error: { code: 'proof_replayed' } } });
    }
    expect(await counts()).toEqual({ requests: 9, messages: 9, spent: 9 });
  });

  it('fails only the caller whose request id is taken, and leaves nothing half-written', async () => {
    const envelope = sealRequest(p, demo, demo.teams[1]!, keys, requestBody('twice', keys));
    const twins = [await submission(envelope), await submission(envelope)];
    const others = await Promise.all(Array.from({ length: 6 }, () => submission()));
    const responses = await Promise.all([...twins, ...others].map(post));
    const statuses = responses.map((r) => r.status);
    expect(statuses.slice(0, 2).sort()).toEqual([201, 409]);
    expect(statuses.slice(2)).toEqual(Array(6).fill(201));
    const loser = responses[statuses.indexOf(409)]!;
    expect(await loser.json()).toMatchObject({ error: { code: 'conflict' } });
    // The loser's proof was not spent: its transaction rolled back whole.
    expect(await counts()).toEqual({ requests: 7, messages: 7, spent: 7 });
  });

  it('keeps the per-item checks: another organisation, an unknown team, a stale epoch', async () => {
    const good = await submission();
    const otherOrg = await submission(sealRequest(p, { ...demo, organisationId: p.randomBytes(16) }, demo.teams[0]!, keys, requestBody('x', keys)));
    const unknownTeam = await submission(sealRequest(p, demo, { ...demo.teams[0]!, id: p.randomBytes(16) }, keys, requestBody('x', keys)));
    const stale = await submission(sealRequest(p, demo, { ...demo.teams[0]!, epoch: 7 }, keys, requestBody('x', keys)));
    const responses = await Promise.all([good, otherOrg, unknownTeam, stale].map(post));
    expect(responses.map((r) => r.status)).toEqual([201, 400, 400, 409]);
    expect(await counts()).toEqual({ requests: 1, messages: 1, spent: 1 });
  });
});
