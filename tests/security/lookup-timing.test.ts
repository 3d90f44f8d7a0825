/**
 * The return flow must not tell a prober whether a lookup token exists, by its answer's
 * shape or by its time. Existing and unknown tokens are looked up interleaved and their
 * median times compared; the bound is loose enough for a shared 2-core machine and tight
 * enough to catch a skipped query (which costs a database round trip).
 */
import { beforeEach, expect, it } from 'vitest';
import { base64urlEncode } from '../../crypto/encoding.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import type { DemoOrganisation } from '../../seeds/demo.ts';
import { lookupTokenHash, proofFor, requestBody, requesterKeys, sealRequest } from '../helpers/requester-client.ts';
import { createTestApps, type TestApps, seedDemoOrganisation } from '../helpers/test-app.ts';
import { describeEachDatabase } from '../helpers/test-database.ts';
import { base64urlDecode } from '../../crypto/encoding.ts';

const p = await loadSodiumPrimitives();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

describeEachDatabase('lookup timing', (t) => {
  let demo: DemoOrganisation;
  let apps: TestApps;

  beforeEach(async () => {
    demo = await seedDemoOrganisation(t.db);
    apps = createTestApps(t.db, { rootPublicKey: demo.root.publicKey, env: { HAVEN_POW_DIFFICULTY: '0', HAVEN_LOG_LEVEL: 'silent' } });
  });

  it('answers existing and unknown tokens in the same shape and about the same time', { timeout: 60_000 }, async () => {
    const keys = await requesterKeys(p, 'timing test passphrase words here', demo.organisationId);
    const envelope = sealRequest(p, demo, demo.teams[0]!, keys, requestBody('x', keys));
    const challenge = base64urlDecode(((await (await apps.requester.request('/api/v1/pow/challenge')).json()) as { challenge: string }).challenge);
    const created = await apps.requester.request('/api/v1/requests', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ envelope: base64urlEncode(envelope), lookupHash: base64urlEncode(lookupTokenHash(p, keys.lookupToken)), pow: proofFor(p, challenge) }),
    });
    expect(created.status).toBe(201);

    const lookup = async (token: Uint8Array) => {
      const started = performance.now();
      const res = await apps.requester.request('/api/v1/threads/lookup', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: base64urlEncode(token) }) });
      const body = (await res.json()) as { messages: unknown[] };
      return { ms: performance.now() - started, status: res.status, keys: Object.keys(body) };
    };
    for (let i = 0; i < 20; i++) await lookup(keys.lookupToken); // warm up
    const existing: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 150; i++) {
      const a = await lookup(keys.lookupToken);
      const b = await lookup(p.randomBytes(32));
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(a.keys).toEqual(b.keys);
      existing.push(a.ms);
      unknown.push(b.ms);
    }
    const [me, mu] = [median(existing), median(unknown)];
    // Both paths run the same two queries; the remaining difference is encoding one small thread.
    expect(Math.abs(me - mu)).toBeLessThan(Math.max(1.5, 0.5 * Math.max(me, mu)));
  });
});
