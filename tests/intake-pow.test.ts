/**
 * Proof of work v2 through the requester API, against a flood: the difficulty is decided at
 * submission (a stockpiled proof fails once the intake is saturated, with the difficulty to
 * reach), a saturated intake serves higher effort first, a dropped submission's proof stays
 * unspent, and one valid proof sent many times at once takes one place, not many.
 *
 * The intake is made saturable on purpose: one admission a second (HAVEN_INTAKE_PER_SECOND)
 * and one waiting place (HAVEN_INTAKE_QUEUE). Waits are for conditions (the offered difficulty
 * rising), never for fixed times.
 */
import { sql } from 'kysely';
import { beforeEach, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { base64urlDecode, base64urlEncode } from '../crypto/encoding.ts';
import type { DemoOrganisation } from '../seeds/demo.ts';
import { createTestApps, type TestApps, seedDemoOrganisation } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import { lookupTokenHash, proofFor, requestBody, requesterKeys, sealRequest, type RequesterKeys } from './helpers/requester-client.ts';

const p = await loadSodiumPrimitives();
const FLOOR = 4;

interface Offer {
  challenge: string;
  difficulty: number;
  effort: number;
}

describeEachDatabase('proof of work v2 under a flood', (t) => {
  let demo: DemoOrganisation;
  let apps: TestApps;
  let keys: RequesterKeys;

  beforeEach(async () => {
    demo = await seedDemoOrganisation(t.db);
    apps = createTestApps(t.db, {
      rootPublicKey: demo.root.publicKey,
      env: { HAVEN_POW_DIFFICULTY: String(FLOOR), HAVEN_POW_MAX_DIFFICULTY: '12', HAVEN_INTAKE_PER_SECOND: '1', HAVEN_INTAKE_QUEUE: '1', HAVEN_LOG_LEVEL: 'silent' },
    });
    keys = await requesterKeys(p, 'apple banana cherry delta echo foxtrot golf hotel', demo.organisationId);
  });

  async function offer(): Promise<Offer> {
    return (await (await apps.requester.request('/api/v1/pow/challenge')).json()) as Offer;
  }

  /** A sealed request (fresh id and lookup hash) carrying a proof solved at `effort`. */
  function submission(pow: ReturnType<typeof proofFor>) {
    const envelope = sealRequest(p, demo, demo.teams[0]!, keys, requestBody('help', keys));
    return { envelope: base64urlEncode(envelope), lookupHash: base64urlEncode(lookupTokenHash(p, p.randomBytes(32))), pow };
  }

  function post(body: unknown) {
    return apps.requester.request('/api/v1/requests', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  async function solved(effort: number) {
    return proofFor(p, base64urlDecode((await offer()).challenge), effort);
  }

  async function until(condition: () => Promise<boolean>): Promise<void> {
    while (!(await condition())) await new Promise((r) => setTimeout(r, 5));
  }

  async function spent(): Promise<number> {
    return (await sql<{ n: number }>`select count(*)::int as n from pow_spent`.execute(t.db)).rows[0]!.n;
  }

  it('refuses a proof stockpiled while idle once the intake is saturated, says the difficulty to reach, and serves more effort first', async () => {
    const idle = await offer();
    expect(idle).toMatchObject({ difficulty: FLOOR, effort: FLOOR });
    const stockpiled = proofFor(p, base64urlDecode(idle.challenge), FLOOR);

    // A flood: the first takes this second's admission, the second the only waiting place.
    const first = post(submission(await solved(FLOOR)));
    const waiting = post(submission(await solved(FLOOR)));
    await until(async () => (await offer()).difficulty === FLOOR + 1);

    const weak = await post(submission(stockpiled));
    expect(weak.status).toBe(409);
    expect(await weak.json()).toMatchObject({ error: { code: 'proof_too_weak', difficulty: FLOOR + 1, effort: FLOOR + 1 } });

    // An honest person solving a fresh challenge at the stated effort takes the waiting place...
    const honest = post(submission(await solved(FLOOR + 1)));
    const dropped = await waiting;
    expect(dropped.status).toBe(503);
    expect(dropped.headers.get('retry-after')).toBe('1');
    expect(await dropped.json()).toMatchObject({ error: { code: 'proof_outranked', effort: FLOOR + 1 } });
    // ...and is stored, with the flooder's first.
    expect((await first).status).toBe(201);
    expect((await honest).status).toBe(201);
    expect(await spent()).toBe(2);

    // The stockpiled proof was refused without being spent: once the intake drains, it is good again.
    await until(async () => (await offer()).difficulty === FLOOR);
    expect((await post(submission(stockpiled))).status).toBe(201);
  });

  it('lets one valid proof take one place: the same proof sent twenty times at once is stored once', async () => {
    const proof = await solved(FLOOR + 3);
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(submission(proof))));
    const codes = await Promise.all(answers.map(async (r) => (r.status === 201 ? 'stored' : ((await r.json()) as { error: { code: string } }).error.code)));
    expect(codes.filter((c) => c === 'stored')).toHaveLength(1);
    // None was queued (a queued copy would have been outranked, 503): every other copy is a replay.
    expect(codes.filter((c) => c === 'proof_replayed')).toHaveLength(19);
    expect(await spent()).toBe(1);
  });

  it('keeps a dropped submission\'s proof unspent, so the same proof can be sent again', async () => {
    const busy = post(submission(await solved(FLOOR)));
    const lowProof = await solved(FLOOR);
    const low = post(submission(lowProof));
    await until(async () => (await offer()).difficulty === FLOOR + 1);
    const high = post(submission(await solved(FLOOR + 2)));
    expect((await low).status).toBe(503);
    expect((await busy).status).toBe(201);
    expect((await high).status).toBe(201);
    await until(async () => (await offer()).difficulty === FLOOR);
    expect((await post(submission(lowProof))).status).toBe(201);
  });
});
