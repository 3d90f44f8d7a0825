/**
 * The audit log: every admin action appends an entry signed in the actor's browser and
 * chained by hash; `verifyAuditChain` (what `npm run audit:verify` runs) finds the first
 * broken link after any row is edited (entry, hash, previous hash, signature, actor) or
 * deleted, and a tail cut-off against a recorded head.
 */
import { sql } from 'kysely';
import type { Hono } from 'hono';
import { beforeEach, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { base64urlEncode as b64, utf8Encode } from '../crypto/encoding.ts';
import { setupOrganisation } from '../api/admin/setup.service.ts';
import { verifyAuditChain } from '../api/admin/audit.service.ts';
import type { AuditLogTable } from '../api/db/schema.ts';
import { createTestApps } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import { AdminBrowser, type Json } from './helpers/admin-browser.ts';

const p = await loadSodiumPrimitives();
const PASS = 'the first admin passphrase';

describeEachDatabase('admin audit log', (t) => {
  let admin: AdminBrowser;
  let rows: AuditLogTable[];

  beforeEach(async () => {
    const setup = await setupOrganisation(t.db, p, { name: 'Audit hotline', username: 'admin.one', passphrase: PASS });
    const apps = createTestApps(t.db, { rootPublicKey: setup.rootPublicKey });
    admin = new AdminBrowser(apps.triage as unknown as Hono, p, setup.rootPublicKey);
    await admin.signIn('admin.one', PASS);
    for (const days of [30, 60, 45, 14]) {
      const res = await admin.send('/retention', { closedRetentionDays: days, audit: await admin.audit('retention.set', { closedRetentionDays: days }) }, 'PUT');
      expect(res.status).toBe(200);
    }
    rows = await t.db.selectFrom('audit_log').selectAll().orderBy('seq').execute();
  });

  async function restore(): Promise<void> {
    await sql`delete from audit_log`.execute(t.db);
    await t.db.insertInto('audit_log').values(rows).execute();
  }

  it('records each action with the hour only (no IP, user agent or precise time) and verifies intact', async () => {
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    const entries = (await admin.get('/audit')).json.entries as Json[];
    expect(entries.map((e) => JSON.parse(e.entryText).action)).toEqual(['org.setup', 'retention.set', 'retention.set', 'retention.set', 'retention.set']);
    const e = JSON.parse(entries[1]!.entryText);
    expect(Object.keys(e).sort()).toEqual(['action', 'actor', 'hour', 'targets', 'v']);
    expect(e.hour).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:00:00Z$/);
    expect(e.actor).toBe(b64(admin.id));
    expect((await admin.get('/retention')).json.closedRetentionDays).toBe(14);
    const r = await verifyAuditChain(t.db, p);
    expect(r).toMatchObject({ ok: true, count: 5 });
  });

  it('a signature by another key, or an entry for another action, is refused and nothing is written', async () => {
    const head = (await admin.get('/audit/head')).json;
    const forged = await admin.audit('retention.set', { closedRetentionDays: 7 });
    forged.signature = b64(p.ed25519Sign(utf8Encode('x'), p.randomBytes(32)));
    expect((await admin.send('/retention', { closedRetentionDays: 7, audit: forged }, 'PUT')).status).toBe(400);
    const other = await admin.audit('retention.set', { closedRetentionDays: 8 });
    expect((await admin.send('/retention', { closedRetentionDays: 7, audit: other }, 'PUT')).status).toBe(400);
    expect((await admin.get('/audit/head')).json).toEqual(head);
    expect((await admin.get('/retention')).json.closedRetentionDays).toBe(14);
  });

  const tampers: [string, number, (db: typeof t.db) => Promise<unknown>, RegExp][] = [
    ['an edited entry', 3, (db) => sql`update audit_log set entry = convert_to(replace(convert_from(entry, 'UTF8'), '60', '61'), 'UTF8') where seq = 3`.execute(db), /hash does not match/],
    ['an edited hash', 3, (db) => sql`update audit_log set hash = decode(repeat('ab', 32), 'hex') where seq = 3`.execute(db), /hash does not match/],
    ['an edited previous hash', 4, (db) => sql`update audit_log set prev_hash = decode(repeat('cd', 32), 'hex') where seq = 4`.execute(db), /previous hash/],
    ['an edited signature', 2, (db) => sql`update audit_log set signature = decode(repeat('00', 64), 'hex') where seq = 2`.execute(db), /signature/],
    ['a changed actor', 2, (db) => sql`update audit_log set actor_id = decode(repeat('11', 16), 'hex') where seq = 2`.execute(db), /actor/],
    ['a deleted middle row', 3, (db) => sql`delete from audit_log where seq = 3`.execute(db), /missing/],
    ['a deleted first row', 1, (db) => sql`delete from audit_log where seq = 1`.execute(db), /missing/],
    ['rows renumbered to hide a deletion', 3, async (db) => {
      await sql`delete from audit_log where seq = 3`.execute(db);
      await sql`update audit_log set seq = seq + 1000 where seq > 3`.execute(db);
      await sql`update audit_log set seq = seq - 1001 where seq > 1000`.execute(db);
    }, /previous hash/],
  ];

  for (const [what, seq, tamper, reason] of tampers) {
    it(`verify points at entry ${seq} after ${what}`, async () => {
      await tamper(t.db);
      const r = await verifyAuditChain(t.db, p);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.seq).toBe(seq);
      expect(r.reason).toMatch(reason);
      await restore();
      expect((await verifyAuditChain(t.db, p)).ok).toBe(true);
    });
  }

  it('a cut-off tail is found against a recorded head', async () => {
    const intact = await verifyAuditChain(t.db, p);
    if (!intact.ok || !intact.head) throw new Error('expected an intact chain');
    await sql`delete from audit_log where seq = 5`.execute(t.db);
    // Without a recorded head the shorter chain is self-consistent...
    expect((await verifyAuditChain(t.db, p)).ok).toBe(true);
    // ...but not against the head an admin wrote down.
    const r = await verifyAuditChain(t.db, p, { expectHead: intact.head });
    expect(r).toMatchObject({ ok: false, seq: 5 });
  });
});
