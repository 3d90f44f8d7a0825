/**
 * The audit log: every admin action appends an entry signed in the actor's browser and
 * chained by hash; `verifyAuditChain` (what `npm run audit:verify` runs) finds the first
 * broken link after any row is edited (entry, hash, previous hash, signature, actor) or
 * deleted, a tail cut-off against a recorded head, and a chain re-signed under a swapped
 * account key (actor keys come only from certificates verified against the configured root).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { Hono } from 'hono';
import { beforeEach, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { base64urlEncode as b64, utf8Encode } from '../crypto/encoding.ts';
import { createRootKey, Role, signResponderCert } from '../crypto/v1/certs.ts';
import { signAuditHash } from '../crypto/v1/audit.ts';
import { setupOrganisation } from '../api/admin/setup.service.ts';
import { verifyAuditChain } from '../api/admin/audit.service.ts';
import type { AuditLogTable } from '../api/db/schema.ts';
import { createTestApps } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import { AdminBrowser, type Json } from './helpers/admin-browser.ts';

const p = await loadSodiumPrimitives();
const ROOT = path.resolve(import.meta.dirname, '..');

/** Runs api/admin/audit-verify.cli.ts (what `npm run audit:verify` builds) with only `env` configured. */
function auditVerifyCli(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  // A fresh data directory: no root-public-key.txt to find, unless the test configures one.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-audit-cli-'));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'api', 'admin', 'audit-verify.cli.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HAVEN_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    resolve({ code, out });
  }));
}
const PASS = 'the first admin passphrase';

describeEachDatabase('admin audit log', (t) => {
  let admin: AdminBrowser;
  let rows: AuditLogTable[];
  let root: Uint8Array;

  beforeEach(async () => {
    const setup = await setupOrganisation(t.db, p, { name: 'Audit hotline', username: 'admin.one', passphrase: PASS });
    root = setup.rootPublicKey;
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
    const r = await verifyAuditChain(t.db, p, root);
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
      const r = await verifyAuditChain(t.db, p, root);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.seq).toBe(seq);
      expect(r.reason).toMatch(reason);
      await restore();
      expect((await verifyAuditChain(t.db, p, root)).ok).toBe(true);
    });
  }

  /**
   * A database writer (no root seed) replaces the admin's stored signing key with one of its
   * own and re-signs every entry from `from` on: hashes and links stay intact, so only the
   * origin of the key can tell. The verifier takes keys from root-verified certificates.
   */
  async function swapKeyAndResign(from: number, alsoCertificate: 'keep' | 'own-root'): Promise<void> {
    const forger = p.ed25519KeypairFromSeed(p.randomBytes(32));
    await t.db.updateTable('accounts').set({ sign_public_key: forger.publicKey }).where('id', '=', admin.id).execute();
    if (alsoCertificate === 'own-root') {
      // A certificate for the new key, signed by a root the writer made: it does not chain to
      // the configured root, so it vouches for nothing.
      const fake = createRootKey(p);
      const row = await t.db.selectFrom('accounts').select(['enc_public_key']).where('id', '=', admin.id).executeTakeFirstOrThrow();
      const orgId = (await t.db.selectFrom('organisations').select('id').executeTakeFirstOrThrow()).id;
      const cert = signResponderCert(p, fake.seed, { orgId, accountId: admin.id, role: Role.admin, x25519Public: row.enc_public_key, ed25519Public: forger.publicKey });
      await t.db.updateTable('accounts').set({ certificate: cert }).where('id', '=', admin.id).execute();
    }
    for (const r of rows.filter((x) => x.seq >= from)) {
      await t.db.updateTable('audit_log').set({ signature: signAuditHash(p, forger.seed, r.hash) }).where('seq', '=', r.seq).execute();
    }
  }

  for (const variant of ['keep', 'own-root'] as const) {
    it(`[audit keys from certificates] audit:verify reports BROKEN at the first entry after a database writer swaps an actor's sign_public_key and re-signs the chain (${variant === 'keep' ? 'certificate untouched' : 'certificate from its own root'})`, async () => {
      await swapKeyAndResign(3, variant);
      const r = await verifyAuditChain(t.db, p, root);
      // With its certificate untouched the first re-signed entry is caught; with the
      // certificate replaced too, the actor has no root-certified key at all, so its first
      // entry (seq 1, org.setup) is where the chain breaks.
      expect(r).toMatchObject(variant === 'keep' ? { ok: false, seq: 3, count: 2 } : { ok: false, seq: 1, count: 0 });
      if (!r.ok) expect(r.reason).toMatch(variant === 'keep' ? /signature does not verify with the actor's certified key/ : /no certificate from this organisation's root/);
    });
  }

  it('[audit keys from certificates] the verdict depends only on the configured root: a chain verifies against it and against no other root', async () => {
    expect((await verifyAuditChain(t.db, p, root)).ok).toBe(true);
    // The database holds everything it would need to "verify" under another root: it does not.
    const r = await verifyAuditChain(t.db, p, createRootKey(p).publicKey);
    expect(r).toMatchObject({ ok: false, seq: 1 });
  });

  if (t.kind === 'postgres') {
    it('[audit keys from certificates] the CLI takes the root from deployment configuration only: OK, BROKEN after a re-signed chain, and no verdict without a root', { timeout: 60_000 }, async () => {
      const rootHex = Buffer.from(root).toString('hex');
      const ok = await auditVerifyCli({ DATABASE_URL: t.url!, HAVEN_ROOT_PUBLIC_KEY: rootHex });
      expect(ok.out).toMatch(/^OK: 5 entries verified\./m);
      expect(ok.code).toBe(0);
      // No root configured: the CLI refuses rather than fall back to the database's keys.
      const none = await auditVerifyCli({ DATABASE_URL: t.url! });
      expect(none.code).toBe(1);
      expect(none.out).toMatch(/no organisation root public key is configured/);
      await swapKeyAndResign(2, 'keep');
      const broken = await auditVerifyCli({ DATABASE_URL: t.url!, HAVEN_ROOT_PUBLIC_KEY: rootHex });
      expect(broken.out).toMatch(/^BROKEN at entry 2: /m);
      expect(broken.code).toBe(1);
    });
  }

  it('a cut-off tail is found against a recorded head', async () => {
    const intact = await verifyAuditChain(t.db, p, root);
    if (!intact.ok || !intact.head) throw new Error('expected an intact chain');
    await sql`delete from audit_log where seq = 5`.execute(t.db);
    // Without a recorded head the shorter chain is self-consistent...
    expect((await verifyAuditChain(t.db, p, root)).ok).toBe(true);
    // ...but not against the head an admin wrote down.
    const r = await verifyAuditChain(t.db, p, root, { expectHead: intact.head });
    expect(r).toMatchObject({ ok: false, seq: 5 });
  });
});
