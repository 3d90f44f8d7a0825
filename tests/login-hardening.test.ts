/**
 * Sign-in that nobody can block or probe, and second factors, through `app.request()`:
 * a third party hammering a real name never keeps its owner out (a throttled name costs a
 * fresh proof of work per attempt, never a lock); known and unknown names answer alike;
 * TOTP (enrolment, one use per code, the window), recovery codes (one use each), half-open
 * sessions that reach nothing, and the organisation's policy set by an admin.
 */
import { beforeEach, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { Secret } from 'otpauth';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { base64urlDecode, base64urlEncode } from '../crypto/encoding.ts';
import { unwrapAccountKeys } from '../crypto/v1/account.ts';
import { TotpService } from '../api/accounts/totp.service.ts';
import { FREE_FAILURES } from '../api/accounts/login-throttle.ts';
import type { DemoOrganisation } from '../seeds/demo.ts';
import { createTestApps, type TestApps, seedDemoOrganisation } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import { nobleSha256 } from '../crypto/noble.ts';
import { createPowChallengeV2, powMacKeyV2, solvePowV2Sync } from '../crypto/v2/pow.ts';
import { approveAccount, createAdminAccount, insertAccountDirectly } from './helpers/approve.ts';
import { putPolicy } from './helpers/second-factor-policy.ts';
import { loginProofFor, makeCredentials, sessionCookie, type ResponderCredentials } from './helpers/responder-client.ts';
import { call, type Json } from './helpers/admin-browser.ts';

const p = await loadSodiumPrimitives();
const b64 = base64urlEncode;
const unb64 = base64urlDecode;

/** A solution of any v2 challenge at `effort` (for challenges the server did not issue for sign-in). */
const solved = (challenge: Uint8Array, effort: number) => ({ challenge: b64(challenge), effort, nonce: b64(solvePowV2Sync(nobleSha256, challenge, effort).nonce) });


describeEachDatabase('login hardening and second factors', (t) => {
  let demo: DemoOrganisation;
  let apps: TestApps;
  const triage = () => apps.triage as unknown as Hono;

  beforeEach(async () => {
    demo = await seedDemoOrganisation(t.db);
    apps = createTestApps(t.db, { rootPublicKey: demo.root.publicKey, env: { HAVEN_POW_DIFFICULTY: '0' } });
  });

  async function responder(name: string): Promise<ResponderCredentials> {
    const creds = await makeCredentials(p, name);
    await approveAccount(t.db, p, demo, await insertAccountDirectly(t.db, p, creds, 'responder'), [demo.teams[0]!.id]);
    return creds;
  }

  /** What the dashboard does: salt (with a challenge when throttled), solve it, then log in. */
  async function signIn(c: ResponderCredentials, verifier = c.secrets.loginVerifier) {
    const salt = await call(triage(), '/api/v1/login/salt', { body: { username: c.username } });
    expect(salt.status).toBe(200);
    const pow = salt.json.challenge ? loginProofFor(salt.json as { challenge: string; effort: number }) : undefined;
    return call(triage(), '/api/v1/login', { body: { username: c.username, verifier: b64(verifier), ...(pow ? { pow } : {}) } });
  }

  const wrongAttempt = (username: string) => call(triage(), '/api/v1/login', { body: { username, verifier: b64(p.randomBytes(32)) } });

  it('[no lock-out] a third party failing on purpose, with and without proofs, never keeps the owner out', async () => {
    const owner = await responder('target.one');
    // The attacker: wrong passphrases without any work until refused, then with paid proofs.
    for (let i = 0; i < FREE_FAILURES; i++) expect((await wrongAttempt('target.one')).status).toBe(401);
    for (let i = 0; i < 20; i++) {
      const refused = await wrongAttempt('target.one');
      expect(refused.status).toBe(400);
      expect(refused.json.error.code).toBe('proof_required');
    }
    for (let i = 0; i < 5; i++) expect((await signIn(owner, p.randomBytes(32))).status).toBe(401);
    // The owner: the salt answer now carries a challenge; with its proof, the right passphrase works.
    const login = await signIn(owner);
    expect(login.status).toBe(200);
    expect(login.json.stage).toBe('full');
    const keys = unwrapAccountKeys(p, owner.secrets.wrapKey, unb64(login.json.keyBundle));
    expect(keys.x25519Public).toEqual(owner.encPublicKey);
    expect((await call(triage(), '/api/v1/teams', { cookie: sessionCookie(login.res) })).status).toBe(200);
    // A name nobody attacked is not affected.
    const bystander = await responder('bystander.one');
    const salt = await call(triage(), '/api/v1/login/salt', { body: { username: 'bystander.one' } });
    expect(salt.json.challenge).toBeNull();
    expect((await signIn(bystander)).status).toBe(200);
  });

  it('[no lock-out] a proof is spent once, and neither a requester-site proof nor a forged challenge counts for sign-in', async () => {
    const owner = await responder('target.two');
    for (let i = 0; i < FREE_FAILURES; i++) await wrongAttempt('target.two');
    const salt = await call(triage(), '/api/v1/login/salt', { body: { username: 'target.two' } });
    expect(salt.json.effort).toBeGreaterThan(0);
    const pow = loginProofFor(salt.json as { challenge: string; effort: number });
    expect((await call(triage(), '/api/v1/login', { body: { username: 'target.two', verifier: b64(p.randomBytes(32)), pow } })).status).toBe(401);
    const replay = await call(triage(), '/api/v1/login', { body: { username: 'target.two', verifier: b64(owner.secrets.loginVerifier), pow } });
    expect(replay.status).toBe(409);
    expect(replay.json.error.code).toBe('proof_replayed');
    // The requester site's challenges have the same format (15.2) under another MAC key: a
    // proof solved for the intake, at the sign-in effort, does not count here.
    const intake = unb64(((await (await apps.requester.request('/api/v1/pow/challenge')).json()) as Json).challenge);
    const crossSite = await call(triage(), '/api/v1/login', { body: { username: 'target.two', verifier: b64(owner.secrets.loginVerifier), pow: solved(intake, salt.json.effort) } });
    expect(crossSite.status).toBe(400);
    expect(crossSite.json.error.code).toBe('proof_invalid');
    // A sign-in-shaped challenge MACed under any other key is refused.
    const forged = createPowChallengeV2(p, powMacKeyV2(p, p.randomBytes(32)), { challengeId: p.randomBytes(16), expiresAt: Math.floor(Date.now() / 1000) + 300 });
    const foreign = await call(triage(), '/api/v1/login', { body: { username: 'target.two', verifier: b64(owner.secrets.loginVerifier), pow: solved(forged, salt.json.effort) } });
    expect(foreign.status).toBe(400);
    expect(foreign.json.error.code).toBe('proof_invalid');
    // The retired v1 sign-in layout (55 bytes, BLAKE2b work) is refused, not read.
    const v1 = new Uint8Array(55);
    v1.set([1, 0x60]);
    const retired = await call(triage(), '/api/v1/login', { body: { username: 'target.two', verifier: b64(owner.secrets.loginVerifier), pow: { challenge: b64(v1), effort: salt.json.effort, nonce: b64(new Uint8Array(8)) } } });
    expect(retired.status).toBe(400);
    expect(retired.json.error.code).toBe('proof_invalid');
    // A fresh sign-in challenge solved below the stated effort is refused.
    const again = await call(triage(), '/api/v1/login/salt', { body: { username: 'target.two' } });
    const weak = await call(triage(), '/api/v1/login', { body: { username: 'target.two', verifier: b64(owner.secrets.loginVerifier), pow: solved(unb64(again.json.challenge), 0) } });
    expect(weak.json.error.code).toBe('proof_invalid');
    expect((await signIn(owner)).status).toBe(200);
  });

  it('[no enumeration] a known and an unknown name are throttled alike and answer with the same bytes', async () => {
    await responder('real.person');
    const answers: Json[] = [];
    for (const name of ['real.person', 'ghost.person']) {
      const seen: string[] = [];
      for (let i = 0; i < FREE_FAILURES + 2; i++) {
        const r = await wrongAttempt(name);
        seen.push(`${r.status} ${JSON.stringify(r.json)} ${r.res.headers.get('set-cookie')}`);
      }
      const salt = await call(triage(), '/api/v1/login/salt', { body: { username: name } });
      answers.push({ seen, saltKeys: Object.keys(salt.json).sort(), challenge: typeof salt.json.challenge });
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]!.challenge).toBe('string');
  });

  async function enrolTotp(cookie: string, username: string) {
    const start = await call(triage(), '/api/v1/second-factor/totp/start', { method: 'POST', body: {}, cookie });
    expect(start.status).toBe(200);
    expect(start.json.uri).toMatch(new RegExp(`^otpauth://totp/Haven:${username}\\?`));
    const secret = new Uint8Array(Secret.fromBase32(start.json.secret).bytes);
    expect(start.json.uri).toContain(`secret=${start.json.secret}`);
    const now = Date.now();
    const wrong = await call(triage(), '/api/v1/second-factor/totp/confirm', { body: { pending: start.json.pending, code: TotpService.codeAt(secret, now + 10 * 60_000) }, cookie });
    expect(wrong.status).toBe(401);
    const confirm = await call(triage(), '/api/v1/second-factor/totp/confirm', { body: { pending: start.json.pending, code: TotpService.codeAt(secret, now) }, cookie });
    expect(confirm.status).toBe(200);
    expect(confirm.json.recoveryCodes).toHaveLength(10);
    return { secret, recoveryCodes: confirm.json.recoveryCodes as string[], confirm };
  }

  it('[second factor] TOTP: enrolment, a half-open session that reaches nothing, one use per code, sealed at rest', async () => {
    const owner = await responder('totp.one');
    const first = await signIn(owner);
    const { secret } = await enrolTotp(sessionCookie(first.res), 'totp.one');
    // Stored sealed: the raw secret is nowhere in the row.
    const row = await t.db.selectFrom('accounts').select(['totp_secret']).where('username', '=', 'totp.one').executeTakeFirstOrThrow();
    expect(Buffer.from(row.totp_secret!).includes(Buffer.from(secret))).toBe(false);

    const login = await signIn(owner);
    expect(login.status).toBe(200);
    expect(login.json).toEqual({ stage: 'second_factor', account: expect.objectContaining({ username: 'totp.one' }) });
    const half = sessionCookie(login.res);
    for (const path of ['/api/v1/teams', '/api/v1/requests', '/api/v1/session', '/api/v1/second-factor']) {
      expect((await call(triage(), path, { cookie: half })).status).toBe(401);
    }
    // The next step's code (inside the window of one step): accepted once, then refused.
    const code = TotpService.codeAt(secret, Date.now() + 30_000);
    expect((await call(triage(), '/api/v1/login/second-factor', { body: { totp: '000000' === code ? '111111' : '000000' }, cookie: half })).status).toBe(401);
    const done = await call(triage(), '/api/v1/login/second-factor', { body: { totp: code }, cookie: half });
    expect(done.status).toBe(200);
    expect(done.json.stage).toBe('full');
    expect(unwrapAccountKeys(p, owner.secrets.wrapKey, unb64(done.json.keyBundle)).x25519Public).toEqual(owner.encPublicKey);
    expect((await call(triage(), '/api/v1/teams', { cookie: half })).status).toBe(200);

    const again = await signIn(owner);
    const reused = await call(triage(), '/api/v1/login/second-factor', { body: { totp: code }, cookie: sessionCookie(again.res) });
    expect(reused.status).toBe(401);
    // Two steps out is outside the window.
    const far = await call(triage(), '/api/v1/login/second-factor', { body: { totp: TotpService.codeAt(secret, Date.now() + 95_000) }, cookie: sessionCookie(again.res) });
    expect(far.status).toBe(401);
  });

  it('[second factor] recovery codes work once each; a half-open session closes after five wrong codes', async () => {
    const owner = await responder('recover.one');
    const { recoveryCodes } = await enrolTotp(sessionCookie((await signIn(owner)).res), 'recover.one');
    const stored = await t.db.selectFrom('recovery_codes').select('code_hash').execute();
    expect(stored).toHaveLength(10);
    for (const code of recoveryCodes) for (const r of stored) expect(Buffer.from(r.code_hash).toString()).not.toContain(code.replace(/-/g, ''));

    const half = sessionCookie((await signIn(owner)).res);
    const used = await call(triage(), '/api/v1/login/second-factor', { body: { recoveryCode: recoveryCodes[3]!.toLowerCase() }, cookie: half });
    expect(used.status).toBe(200);
    const half2 = sessionCookie((await signIn(owner)).res);
    expect((await call(triage(), '/api/v1/login/second-factor', { body: { recoveryCode: recoveryCodes[3] }, cookie: half2 })).status).toBe(401);
    for (let i = 0; i < 4; i++) expect((await call(triage(), '/api/v1/login/second-factor', { body: { totp: '000000' }, cookie: half2 })).status).toBe(401);
    // Closed: even a good recovery code no longer completes it.
    expect((await call(triage(), '/api/v1/login/second-factor', { body: { recoveryCode: recoveryCodes[4] }, cookie: half2 })).status).toBe(401);
    const half3 = sessionCookie((await signIn(owner)).res);
    expect((await call(triage(), '/api/v1/login/second-factor', { body: { recoveryCode: recoveryCodes[4] }, cookie: half3 })).status).toBe(200);
    // Renewal: ten new codes, the old ones stop working; no codes for an account without TOTP.
    const renewed = await call(triage(), '/api/v1/second-factor/recovery-codes', { body: {}, cookie: half3 });
    expect(renewed.json.recoveryCodes).toHaveLength(10);
    const half4 = sessionCookie((await signIn(owner)).res);
    expect((await call(triage(), '/api/v1/login/second-factor', { body: { recoveryCode: recoveryCodes[5] }, cookie: half4 })).status).toBe(401);
    expect((await call(triage(), '/api/v1/login/second-factor', { body: { recoveryCode: renewed.json.recoveryCodes[0] }, cookie: half4 })).status).toBe(200);
    const plain = await responder('plain.one');
    const none = await call(triage(), '/api/v1/second-factor/recovery-codes', { body: {}, cookie: sessionCookie((await signIn(plain)).res) });
    expect(none.status).toBe(403);
  });

  it('[second factor] a pending TOTP secret made for one account cannot be confirmed by another', async () => {
    const a = await responder('pending.a');
    const b = await responder('pending.b');
    const aCookie = sessionCookie((await signIn(a)).res);
    const start = await call(triage(), '/api/v1/second-factor/totp/start', { method: 'POST', body: {}, cookie: aCookie });
    const secret = new Uint8Array(Secret.fromBase32(start.json.secret).bytes);
    const bCookie = sessionCookie((await signIn(b)).res);
    const stolen = await call(triage(), '/api/v1/second-factor/totp/confirm', { body: { pending: start.json.pending, code: TotpService.codeAt(secret, Date.now()) }, cookie: bCookie });
    expect(stolen.status).toBe(400);
    expect(stolen.json.error.code).toBe('validation_failed');
  });

  it('[second factor] the organisation policy, set by an admin only, makes a responder enrol one before anything opens', async () => {
    const adminCreds = await makeCredentials(p, 'admin.one');
    const adminId = await createAdminAccount(t.db, p, demo, adminCreds);
    const admin = sessionCookie((await signIn(adminCreds)).res);
    const owner = await responder('policy.one');
    const ownerCookie = sessionCookie((await signIn(owner)).res);
    expect((await call(triage(), '/api/v1/admin/second-factor-policy', { method: 'PUT', body: { policy: 'any' }, cookie: ownerCookie })).status).toBe(403);
    expect((await putPolicy(triage(), p, admin, { id: adminId, ed25519Seed: adminCreds.ed25519Seed }, 'any')).json).toEqual({ policy: 'any' });

    const login = await signIn(owner);
    expect(login.json).toEqual({ stage: 'enrol_second_factor', account: expect.objectContaining({ username: 'policy.one' }) });
    const half = sessionCookie(login.res);
    expect((await call(triage(), '/api/v1/teams', { cookie: half })).status).toBe(401);
    expect((await call(triage(), '/api/v1/second-factor', { cookie: half })).json).toEqual({ policy: 'any', totp: false, recoveryCodesLeft: 0, passkeys: [], keysOnPasskeys: false });
    const { confirm } = await enrolTotp(half, 'policy.one');
    expect(confirm.json.login.stage).toBe('full');
    expect(unwrapAccountKeys(p, owner.secrets.wrapKey, unb64(confirm.json.login.keyBundle)).x25519Public).toEqual(owner.encPublicKey);
    expect((await call(triage(), '/api/v1/teams', { cookie: half })).status).toBe(200);
  });
});
