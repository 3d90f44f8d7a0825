/**
 * Attachments on the API (PROTOCOL.md 10.2, 23.3a): they travel with the request that names
 * them, under its proof of work and in its transaction; the limits give typed errors and leave
 * nothing written; a flood pays more work for more bytes; a responder downloads only the blobs
 * of requests of their teams, and retention deletes the blobs with their request.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Hono } from 'hono';
import { beforeEach, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { base64urlDecode, base64urlEncode, concat } from '../crypto/encoding.ts';
import { decryptAttachment, encryptAttachment } from '../crypto/v1/attachment.ts';
import { ATTACHMENT_CHUNK_CT_BYTES, MAX_ATTACHMENT_CHUNKS } from '../crypto/v2/attachment-limits.ts';
import { runRetention } from '../api/admin/retention.service.ts';
import type { DemoOrganisation, DemoTeam } from '../seeds/demo.ts';
import { createTestApps, seedDemoOrganisation, testConfig, type TestApps } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import { lookupTokenHash, proofFor, requestBody, requesterKeys, sealRequest } from './helpers/requester-client.ts';
import { approveAccount, insertAccountDirectly } from './helpers/approve.ts';
import { makeCredentials, sessionCookie, type ResponderCredentials } from './helpers/responder-client.ts';

const p = await loadSodiumPrimitives();
const BASE = 4;

/**
 * A blob with the format's shape (version, type, header, whole chunks) but random contents: what
 * the server can check. Node's random source: libsodium's in WebAssembly is far too slow for megabytes.
 */
function shapedBlob(chunks: number, first: readonly [number, number] = [0x01, 0x50]): Uint8Array {
  return concat(new Uint8Array(first), new Uint8Array(randomBytes(24 + chunks * ATTACHMENT_CHUNK_CT_BYTES)));
}

describeEachDatabase('attachments API', (t) => {
  let demo: DemoOrganisation;
  let apps: TestApps;
  let legal: DemoTeam;
  let medical: DemoTeam;

  beforeEach(async () => {
    demo = await seedDemoOrganisation(t.db);
    legal = demo.teams[0]!;
    medical = demo.teams[1]!;
    apps = createTestApps(t.db, { rootPublicKey: demo.root.publicKey, env: { HAVEN_POW_DIFFICULTY: String(BASE) } });
  });

  const requester = () => apps.requester as unknown as Hono;
  const triage = () => apps.triage as unknown as Hono;

  async function challenge(): Promise<Uint8Array> {
    const res = await requester().request('/api/v1/pow/challenge');
    return base64urlDecode(((await res.json()) as { challenge: string }).challenge);
  }

  async function counts() {
    const r = await sql<{ requests: number; attachments: number; spent: number }>`
      select (select count(*)::int from requests) as requests, (select count(*)::int from attachments) as attachments,
             (select count(*)::int from pow_spent) as spent`.execute(t.db);
    return r.rows[0]!;
  }

  let passphraseCounter = 0;
  /** A request to `team` carrying `blobs`, solved at `effort`. */
  async function submission(blobs: { id: Uint8Array; blob: Uint8Array }[], opts: { team?: DemoTeam; effort?: number; pow?: boolean } = {}) {
    const keys = await requesterKeys(p, `apple banana cherry delta echo foxtrot golf ${passphraseCounter++}`, demo.organisationId);
    const id = p.randomBytes(16);
    const envelope = sealRequest(p, demo, opts.team ?? legal, keys, requestBody('See the files.', keys), id);
    const body: Record<string, unknown> = {
      envelope: base64urlEncode(envelope),
      lookupHash: base64urlEncode(lookupTokenHash(p, keys.lookupToken)),
      attachments: blobs.map((b) => ({ id: base64urlEncode(b.id), blob: base64urlEncode(b.blob) })),
    };
    if (opts.pow !== false) body.pow = proofFor(p, await challenge(), opts.effort ?? BASE);
    return { id, body };
  }

  async function send(body: unknown): Promise<{ status: number; json: { id?: string; error?: { code: string; difficulty?: number } } }> {
    // With its length stated, as a browser sends it (a large body must state it, PROTOCOL.md 10.2).
    const text = JSON.stringify(body);
    const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) };
    const res = await requester().request('/api/v1/requests', { method: 'POST', headers, body: text });
    return { status: res.status, json: (await res.json()) as { id?: string; error?: { code: string } } };
  }

  async function responder(name: string, teams: DemoTeam[]): Promise<string> {
    const creds: ResponderCredentials = await makeCredentials(p, name);
    const accountId = await insertAccountDirectly(t.db, p, creds, 'responder');
    await approveAccount(t.db, p, demo, accountId, teams.map((x) => x.id));
    await triage().request('/api/v1/login/salt', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: creds.username }) });
    const res = await triage().request('/api/v1/login', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: creds.username, verifier: base64urlEncode(creds.secrets.loginVerifier) }),
    });
    expect(res.status).toBe(200);
    return sessionCookie(res);
  }

  function download(cookie: string, requestId: Uint8Array, attachmentId: Uint8Array) {
    return triage().request(`/api/v1/requests/${base64urlEncode(requestId)}/attachments/${base64urlEncode(attachmentId)}`, { headers: { cookie } });
  }

  it('stores encrypted files with their request, and a responder of the team downloads exactly those bytes', async () => {
    const key = p.randomBytes(32);
    const file = p.randomBytes(100_000);
    const blob = encryptAttachment(p, key, file);
    const attachmentId = p.randomBytes(16);
    const { id, body } = await submission([{ id: attachmentId, blob }, { id: p.randomBytes(16), blob: shapedBlob(1) }]);
    const res = await send(body);
    expect(res.status).toBe(201);
    expect(await counts()).toEqual({ requests: 1, attachments: 2, spent: 1 });
    const cookie = await responder('legal.one', [legal]);
    const got = await download(cookie, id, attachmentId);
    expect(got.status).toBe(200);
    // Bytes only: a browser must never sniff or render it.
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    expect(got.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    const bytes = new Uint8Array(await got.arrayBuffer());
    expect(bytes).toEqual(blob);
    expect(decryptAttachment(p, key, bytes)).toEqual(file);
  }, 120_000);

  it('refuses a blob asked for under another request, an unknown id, and a request of a team the responder is not in (404 each)', async () => {
    const a = await submission([{ id: p.randomBytes(16), blob: shapedBlob(1) }]);
    const bId = p.randomBytes(16);
    const b = await submission([{ id: bId, blob: shapedBlob(1) }], { team: medical });
    expect((await send(a.body)).status).toBe(201);
    expect((await send(b.body)).status).toBe(201);
    const legalOnly = await responder('legal.two', [legal]);
    const both = await responder('both.teams', [legal, medical]);
    // B's blob under A's id: not there, even for someone who may read both.
    expect((await download(both, a.id, bId)).status).toBe(404);
    expect((await download(both, a.id, p.randomBytes(16))).status).toBe(404);
    expect((await download(legalOnly, b.id, bId)).status).toBe(404);
    expect((await download(both, b.id, bId)).status).toBe(200);
    const res = await triage().request(`/api/v1/requests/${base64urlEncode(b.id)}/attachments/${base64urlEncode(bId)}`);
    expect(res.status).toBe(401);
  });

  it('refuses more files than allowed, one file too large and all files too large, with typed errors and nothing written', async () => {
    const five = await submission(Array.from({ length: 5 }, () => ({ id: p.randomBytes(16), blob: shapedBlob(1) })));
    expect(await send(five.body)).toMatchObject({ status: 400, json: { error: { code: 'too_many_attachments' } } });
    const big = await submission([{ id: p.randomBytes(16), blob: shapedBlob(MAX_ATTACHMENT_CHUNKS + 1) }], { effort: BASE + 4 });
    expect(await send(big.body)).toMatchObject({ status: 400, json: { error: { code: 'attachment_too_large' } } });
    // 128 + 128 + 1 chunks: each file allowed, one chunk over the request's 256 (and still under the body limit).
    const many = await submission([shapedBlob(MAX_ATTACHMENT_CHUNKS), shapedBlob(MAX_ATTACHMENT_CHUNKS), shapedBlob(1)].map((blob) => ({ id: p.randomBytes(16), blob })), { effort: BASE + 5 });
    expect(await send(many.body)).toMatchObject({ status: 400, json: { error: { code: 'attachments_too_large' } } });
    // Three files of 100 chunks do not even fit the body limit of this one path.
    const huge = await submission(Array.from({ length: 3 }, () => ({ id: p.randomBytes(16), blob: shapedBlob(100) })), { effort: BASE + 5 });
    expect(await send(huge.body)).toMatchObject({ status: 413, json: { error: { code: 'payload_too_large' } } });
    expect(await counts()).toEqual({ requests: 0, attachments: 0, spent: 0 });
  }, 120_000);

  it('refuses malformed blobs (unknown version, wrong type, not whole chunks, empty, duplicate ids) and writes nothing', async () => {
    const cases: [Uint8Array, string][] = [
      [shapedBlob(1, [0x07, 0x50]), 'unknown_version'],
      [shapedBlob(1, [0x01, 0x40]), 'malformed'],
      [shapedBlob(1).subarray(0, 26 + ATTACHMENT_CHUNK_CT_BYTES - 1), 'malformed'],
      [shapedBlob(0), 'malformed'],
    ];
    for (const [blob, code] of cases) {
      const s = await submission([{ id: p.randomBytes(16), blob }]);
      expect(await send(s.body), code).toMatchObject({ status: 400, json: { error: { code } } });
    }
    const same = p.randomBytes(16);
    const dup = await submission([{ id: same, blob: shapedBlob(1) }, { id: same, blob: shapedBlob(1) }]);
    expect(await send(dup.body)).toMatchObject({ status: 400, json: { error: { code: 'validation_failed' } } });
    const badShape = await submission([]);
    expect(await send({ ...badShape.body, attachments: [{ id: base64urlEncode(p.randomBytes(16)), blob: 'AAA', name: 'x.jpg' }] })).toMatchObject({ status: 400, json: { error: { code: 'validation_failed' } } });
    expect(await send({ ...badShape.body, attachments: 'no' })).toMatchObject({ status: 400, json: { error: { code: 'validation_failed' } } });
    expect(await counts()).toEqual({ requests: 0, attachments: 0, spent: 0 });
  });

  it('a flood pays for bytes: no proof is refused, and above 1 MiB every doubling needs one more bit of work', async () => {
    const large = [{ id: p.randomBytes(16), blob: shapedBlob(100) }];
    const none = await submission(large, { pow: false });
    expect(await send(none.body)).toMatchObject({ status: 400, json: { error: { code: 'proof_required' } } });
    // 100 chunks = 6.25 MiB: ceil(log2(100 / 16)) = 3 bits above the base difficulty.
    const weak = await submission(large, { effort: BASE + 2 });
    expect(await send(weak.body)).toMatchObject({ status: 409, json: { error: { code: 'proof_too_weak', difficulty: BASE + 3 } } });
    // 20 chunks: one bit more; refused at the base, stored at base + 1.
    const medium = [{ id: p.randomBytes(16), blob: shapedBlob(20) }];
    expect(await send((await submission(medium, { effort: BASE })).body)).toMatchObject({ status: 409, json: { error: { code: 'proof_too_weak', difficulty: BASE + 1 } } });
    expect(await counts()).toEqual({ requests: 0, attachments: 0, spent: 0 });
    expect((await send((await submission(medium, { effort: BASE + 1 })).body)).status).toBe(201);
    // Up to 16 chunks (1 MiB) the base difficulty is enough.
    const small = await submission([{ id: p.randomBytes(16), blob: shapedBlob(16) }], { effort: BASE });
    expect((await send(small.body)).status).toBe(201);
    expect(await counts()).toEqual({ requests: 2, attachments: 2, spent: 2 });
  }, 120_000);

  it('keeps nothing when any part fails: a taken attachment id rolls back the request and leaves the proof unspent', async () => {
    const taken = p.randomBytes(16);
    expect((await send((await submission([{ id: taken, blob: shapedBlob(1) }])).body)).status).toBe(201);
    const second = await submission([{ id: p.randomBytes(16), blob: shapedBlob(1) }, { id: taken, blob: shapedBlob(1) }]);
    expect(await send(second.body)).toMatchObject({ status: 409, json: { error: { code: 'conflict' } } });
    expect(await counts()).toEqual({ requests: 1, attachments: 1, spent: 1 });
    // A stale epoch (the envelope names another) is refused the same way.
    const stale = await submission([{ id: p.randomBytes(16), blob: shapedBlob(1) }]);
    await sql`update team_epochs set epoch = epoch + 100 where team_id = ${legal.id}`.execute(t.db);
    expect(await send(stale.body)).toMatchObject({ status: 409, json: { error: { code: 'conflict' } } });
    expect(await counts()).toEqual({ requests: 1, attachments: 1, spent: 1 });
  });

  it('refuses a body larger than the attachment limit allows with 413 before reading it', async () => {
    const res = await requester().request('/api/v1/requests', {
      method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(40 * 1024 * 1024) }, body: '{}',
    });
    expect(res.status).toBe(413);
    // Every other path keeps the ordinary limit.
    const other = await requester().request('/api/v1/threads/messages', {
      method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) }, body: '{}',
    });
    expect(other.status).toBe(413);
  });

  it('retention deletes the attachments with their closed request, and keeps those of open ones', async () => {
    const closed = await submission([{ id: p.randomBytes(16), blob: shapedBlob(2) }, { id: p.randomBytes(16), blob: shapedBlob(1) }]);
    const open = await submission([{ id: p.randomBytes(16), blob: shapedBlob(1) }]);
    expect((await send(closed.body)).status).toBe(201);
    expect((await send(open.body)).status).toBe(201);
    await t.db.updateTable('requests').set({ status: 'closed' }).where('id', '=', closed.id).execute();
    const config = testConfig();
    const r = await runRetention(t.db, p, { serverSecret: config.serverSecret!, config, now: new Date(Date.now() + 200 * 86_400_000) });
    expect(r).toMatchObject({ requests: 1, attachments: 2 });
    const left = await t.db.selectFrom('attachments').select('request_id').execute();
    expect(left.map((x) => base64urlEncode(x.request_id))).toEqual([base64urlEncode(open.id)]);
  });

  it('deleting a request by any path takes its attachments (the foreign key cascades)', async () => {
    const s = await submission([{ id: p.randomBytes(16), blob: shapedBlob(1) }]);
    expect((await send(s.body)).status).toBe(201);
    await t.db.deleteFrom('messages').where('request_id', '=', s.id).execute();
    await t.db.deleteFrom('requests').where('id', '=', s.id).execute();
    expect(await counts()).toMatchObject({ requests: 0, attachments: 0 });
  });
});
