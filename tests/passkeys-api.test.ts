/**
 * Passkeys as a second factor, through `app.request()` on both databases, with a software
 * authenticator (tests/helpers/soft-authenticator.ts) that can forge what a browser never
 * would: enrolment and sign-in, the organisation policy `passkey` (TOTP alone is refused,
 * recovery codes still work), and the hostile cases: a replayed assertion, an assertion for
 * another site's origin or RP ID, another account's passkey, a counter that goes back (a
 * cloned authenticator), junk. Then key wraps: once an account's keys are on a passkey, a copy
 * of the database plus the passphrase does not open them [database copy + passphrase].
 */
import { beforeEach, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { Secret } from 'otpauth';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { base64urlDecode, base64urlEncode } from '../crypto/encoding.ts';
import { DecryptionError } from '../crypto/errors.ts';
import { deriveAccountSecrets, unwrapAccountKeys } from '../crypto/v1/account.ts';
import { passkeyWrapKey, unwrapFromPasskey, wrapForPasskey } from '../crypto/v1/passkey-wrap.ts';
import { TotpService } from '../api/accounts/totp.service.ts';
import type { DemoOrganisation } from '../seeds/demo.ts';
import { createTestApps, type TestApps, seedDemoOrganisation } from './helpers/test-app.ts';
import { describeEachDatabase } from './helpers/test-database.ts';
import { approveAccount, createAdminAccount, insertAccountDirectly } from './helpers/approve.ts';
import { loginProofFor, makeCredentials, sessionCookie, type ResponderCredentials } from './helpers/responder-client.ts';
import { putPolicy } from './helpers/second-factor-policy.ts';
import { verifyAuditChain } from '../api/admin/audit.service.ts';
import { assert as softAssert, register as softRegister, type SoftCredential } from './helpers/soft-authenticator.ts';
import { call, type Json } from './helpers/admin-browser.ts';

const p = await loadSodiumPrimitives();
const b64 = base64urlEncode;
const unb64 = base64urlDecode;
const ORIGIN = 'http://localhost';


describeEachDatabase('passkeys (API)', (t) => {
  let demo: DemoOrganisation;
  let apps: TestApps;
  const triage = () => apps.triage as unknown as Hono;

  beforeEach(async () => {
    demo = await seedDemoOrganisation(t.db);
    apps = createTestApps(t.db, { rootPublicKey: demo.root.publicKey });
  });

  async function responder(name: string): Promise<ResponderCredentials> {
    const creds = await makeCredentials(p, name);
    await approveAccount(t.db, p, demo, await insertAccountDirectly(t.db, p, creds, 'responder'), [demo.teams[0]!.id]);
    return creds;
  }

  /** As the dashboard does: a throttled name (wrong passkeys count against it) pays a proof of work. */
  async function signIn(c: ResponderCredentials) {
    const salt = await call(triage(), '/api/v1/login/salt', { body: { username: c.username } });
    const pow = salt.json.challenge ? loginProofFor(salt.json as { challenge: string; effort: number }) : undefined;
    return call(triage(), '/api/v1/login', { body: { username: c.username, verifier: b64(c.secrets.loginVerifier), ...(pow ? { pow } : {}) } });
  }

  async function enrolPasskey(cookie: string): Promise<{ credential: SoftCredential; json: Json }> {
    const options = await call(triage(), '/api/v1/second-factor/passkeys/registration-options', { body: {}, cookie });
    expect(options.status).toBe(200);
    expect(options.json.options.rp.id).toBe('localhost');
    const { credential, response } = softRegister(options.json.options, ORIGIN);
    const done = await call(triage(), '/api/v1/second-factor/passkeys', { body: { response }, cookie });
    expect(done.status).toBe(201);
    return { credential, json: done.json };
  }

  async function assertionOptions(cookie: string): Promise<Json> {
    const r = await call(triage(), '/api/v1/second-factor/passkeys/assertion-options', { body: {}, cookie });
    expect(r.status).toBe(200);
    return r.json.options;
  }

  /** Signs in with the passphrase; the half-open session that owes a passkey. */
  async function halfOpen(c: ResponderCredentials): Promise<string> {
    const login = await signIn(c);
    expect(login.json.stage).toBe('second_factor');
    return sessionCookie(login.res);
  }

  it('[passkey] enrolled while signed in, it is then owed at sign-in and opens the keys; recovery codes come with it', async () => {
    const owner = await responder('pk.owner');
    const full = sessionCookie((await signIn(owner)).res);
    const { credential, json } = await enrolPasskey(full);
    expect(json.passkey).toEqual({ id: expect.any(String), createdHour: expect.stringMatching(/T\d\d:00:00Z$/), holdsKeys: false });
    expect(json.recoveryCodes).toHaveLength(10);
    expect((await call(triage(), '/api/v1/second-factor', { cookie: full })).json).toMatchObject({ passkeys: [json.passkey], keysOnPasskeys: false, recoveryCodesLeft: 10 });

    const half = await halfOpen(owner);
    expect((await call(triage(), '/api/v1/teams', { cookie: half })).status).toBe(401);
    const options = await assertionOptions(half);
    expect(options.allowCredentials.map((c: Json) => c.id)).toEqual([b64(credential.id)]);
    const done = await call(triage(), '/api/v1/login/passkey', { body: { response: softAssert(credential, options, ORIGIN) }, cookie: half });
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ stage: 'full', keysOnPasskeys: false, passkey: { credentialId: b64(credential.id), wrap: null } });
    expect(unwrapAccountKeys(p, owner.secrets.wrapKey, unb64(done.json.keyBundle)).x25519Public).toEqual(owner.encPublicKey);
    expect((await call(triage(), '/api/v1/teams', { cookie: half })).status).toBe(200);
  });

  it('[passkey, hostile] a replayed assertion, another origin, another RP ID, another account\'s passkey, a counter gone back and junk are all refused', async () => {
    const owner = await responder('pk.victim');
    const other = await responder('pk.other');
    const { credential } = await enrolPasskey(sessionCookie((await signIn(owner)).res));
    const { credential: othersKey } = await enrolPasskey(sessionCookie((await signIn(other)).res));

    const half = await halfOpen(owner);
    const refusedWith = async (response: unknown, code: string) => {
      const r = await call(triage(), '/api/v1/login/passkey', { body: { response }, cookie: half });
      expect({ status: r.status, code: r.json.error?.code }).toEqual({ status: 400, code });
    };
    await refusedWith(softAssert(credential, await assertionOptions(half), 'https://evil.example'), 'passkey_rejected');
    await refusedWith(softAssert(credential, await assertionOptions(half), ORIGIN, { rpId: 'evil.example' }), 'passkey_rejected');
    await refusedWith(softAssert(othersKey, await assertionOptions(half), ORIGIN), 'passkey_rejected');
    await refusedWith(softAssert(credential, await assertionOptions(half), ORIGIN, { type: 'webauthn.create' }), 'passkey_rejected');
    // The wrong answers spent the session's tries (5): sign in again and see a replay refused.
    const again = await halfOpen(owner);
    const options = await assertionOptions(again);
    const good = softAssert(credential, options, ORIGIN);
    expect((await call(triage(), '/api/v1/login/passkey', { body: { response: good }, cookie: again })).status).toBe(200);
    const third = await halfOpen(owner);
    const replay = await call(triage(), '/api/v1/login/passkey', { body: { response: good }, cookie: third });
    expect(replay.json.error.code).toBe('challenge_expired');
    // The same old assertion against a fresh challenge: the challenge inside does not match.
    await assertionOptions(third);
    const stale = await call(triage(), '/api/v1/login/passkey', { body: { response: good }, cookie: third });
    expect(stale.json.error.code).toBe('passkey_rejected');
    // A cloned authenticator: its counter is behind the stored one.
    const cloned = softAssert(credential, await assertionOptions(third), ORIGIN, { counter: 1 });
    expect((await call(triage(), '/api/v1/login/passkey', { body: { response: cloned }, cookie: third })).json.error.code).toBe('passkey_rejected');
    // Junk never reaches a 500, and costs the challenge.
    const fourth = await halfOpen(owner);
    for (const junk of [{}, { rawId: 'AA', response: 7 }, { rawId: '!!!' }, { rawId: 'x'.repeat(2000) }]) {
      await assertionOptions(fourth);
      const r = await call(triage(), '/api/v1/login/passkey', { body: { response: junk }, cookie: fourth });
      expect([r.status, r.json.error.code]).toEqual([400, 'passkey_rejected']);
    }
    const fifth = await halfOpen(owner);
    const noResponse = await call(triage(), '/api/v1/login/passkey', { body: {}, cookie: fifth });
    expect([noResponse.status, noResponse.json.error.code]).toEqual([400, 'validation_failed']);
  });

  it('[passkey, hostile] a registration for another origin, or answered twice, is refused and stores nothing', async () => {
    const owner = await responder('pk.reg');
    const full = sessionCookie((await signIn(owner)).res);
    const options = await call(triage(), '/api/v1/second-factor/passkeys/registration-options', { body: {}, cookie: full });
    const forged = softRegister(options.json.options, 'https://evil.example');
    const r = await call(triage(), '/api/v1/second-factor/passkeys', { body: { response: forged.response }, cookie: full });
    expect([r.status, r.json.error.code]).toEqual([400, 'passkey_rejected']);
    const again = await call(triage(), '/api/v1/second-factor/passkeys', { body: { response: softRegister(options.json.options, ORIGIN).response }, cookie: full });
    expect([again.status, again.json.error.code]).toEqual([400, 'challenge_expired']);
    expect((await call(triage(), '/api/v1/second-factor', { cookie: full })).json.passkeys).toEqual([]);
    expect((await signIn(owner)).json.stage).toBe('full');
  });

  it('[policy passkey] forces passkey enrolment; TOTP alone is refused; a recovery code still works', async () => {
    const adminCreds = await makeCredentials(p, 'pk.admin');
    const adminId = await createAdminAccount(t.db, p, demo, adminCreds);
    const admin = sessionCookie((await signIn(adminCreds)).res);
    const signer = { id: adminId, ed25519Seed: adminCreds.ed25519Seed };
    const owner = await responder('pk.policy');
    // The owner has TOTP (set up while the policy was none).
    const full = sessionCookie((await signIn(owner)).res);
    const start = await call(triage(), '/api/v1/second-factor/totp/start', { body: {}, cookie: full });
    const secret = new Uint8Array(Secret.fromBase32(start.json.secret).bytes);
    expect((await call(triage(), '/api/v1/second-factor/totp/confirm', { body: { pending: start.json.pending, code: TotpService.codeAt(secret, Date.now()) }, cookie: full })).status).toBe(200);

    // [audit] The change is signed into the audit log; unsigned, or signed for another policy, it is refused.
    const unsigned = await call(triage(), '/api/v1/admin/second-factor-policy', { method: 'PUT', body: { policy: 'passkey' }, cookie: admin });
    expect([unsigned.status, unsigned.json.error.code]).toEqual([400, 'validation_failed']);
    expect((await putPolicy(triage(), p, admin, signer, 'passkey', 'none')).status).toBe(400);
    expect((await signIn(owner)).json.stage).toBe('second_factor');
    expect((await putPolicy(triage(), p, admin, signer, 'passkey')).json).toEqual({ policy: 'passkey' });
    const entries = (await call(triage(), '/api/v1/admin/audit', { cookie: admin })).json.entries.map((e: Json) => JSON.parse(e.entryText));
    expect(entries.at(-1)).toMatchObject({ action: 'second_factor.policy', targets: { policy: 'passkey' }, actor: b64(adminId) });
    expect((await verifyAuditChain(t.db, p, demo.root.publicKey)).ok).toBe(true);
    const login = await signIn(owner);
    expect(login.json.stage).toBe('enrol_second_factor');
    const half = sessionCookie(login.res);
    // TOTP cannot end the forced enrolment.
    const start2 = await call(triage(), '/api/v1/second-factor/totp/start', { body: {}, cookie: half });
    const secret2 = new Uint8Array(Secret.fromBase32(start2.json.secret).bytes);
    const refused = await call(triage(), '/api/v1/second-factor/totp/confirm', { body: { pending: start2.json.pending, code: TotpService.codeAt(secret2, Date.now() + 30_000) }, cookie: half });
    expect([refused.status, refused.json.error.code]).toEqual([403, 'forbidden']);
    const { credential, json } = await enrolPasskey(half);
    expect(json.recoveryCodes).toBeNull(); // the account had a second factor (and its codes) already
    expect(json.login.stage).toBe('full');
    expect((await call(triage(), '/api/v1/teams', { cookie: half })).status).toBe(200);

    // Next sign-in: a TOTP code is refused before it is checked; the passkey works.
    const next = await halfOpen(owner);
    const totp = await call(triage(), '/api/v1/login/second-factor', { body: { totp: TotpService.codeAt(secret, Date.now() + 30_000) }, cookie: next });
    expect([totp.status, totp.json.error.code]).toEqual([403, 'forbidden']);
    expect((await call(triage(), '/api/v1/login/passkey', { body: { response: softAssert(credential, await assertionOptions(next), ORIGIN) }, cookie: next })).status).toBe(200);

    // The last resort: a recovery code (from the TOTP set-up) still opens the session.
    const renewed = await call(triage(), '/api/v1/second-factor/recovery-codes', { body: {}, cookie: next });
    const last = await halfOpen(owner);
    const rec = await call(triage(), '/api/v1/login/second-factor', { body: { recoveryCode: renewed.json.recoveryCodes[0] }, cookie: last });
    expect(rec.status).toBe(200);
    // The only passkey cannot be removed while the policy requires one.
    const removed = await call(triage(), `/api/v1/second-factor/passkeys/${json.passkey.id}`, { method: 'DELETE', cookie: last });
    expect([removed.status, removed.json.error.code]).toEqual([409, 'conflict']);
  });

  it('[database copy + passphrase] once a key wrap is stored, the passphrase-only bundle is gone: the database and the passphrase do not open the keys', async () => {
    const owner = await responder('pk.prf');
    const full = sessionCookie((await signIn(owner)).res);
    const { credential, json } = await enrolPasskey(full);
    const accountId = unb64((await call(triage(), '/api/v1/session', { cookie: full })).json.account.id);
    // What the browser does: an assertion with PRF (here a stand-in PRF output), wrap, upload.
    const prfOutput = p.randomBytes(32);
    const key = passkeyWrapKey(p, owner.secrets.wrapKey, prfOutput);
    const wrap = wrapForPasskey(p, { key, accountId, credentialId: credential.id, x25519Secret: owner.x25519Secret, ed25519Seed: owner.ed25519Seed });
    const bad = await call(triage(), `/api/v1/second-factor/passkeys/${json.passkey.id}/wrap`, { method: 'PUT', body: { response: softAssert(credential, await assertionOptions(full), ORIGIN), wrap: b64(wrap.subarray(1)) }, cookie: full });
    expect(bad.status).toBe(400);
    const body = { response: softAssert(credential, await assertionOptions(full), ORIGIN), wrap: b64(wrap) };
    const stored = await call(triage(), `/api/v1/second-factor/passkeys/${json.passkey.id}/wrap`, { method: 'PUT', body, cookie: full });
    expect(stored.json).toEqual({ keysOnPasskeys: true });
    // The same assertion again, in the same session: its challenge is spent.
    const replayed = await call(triage(), `/api/v1/second-factor/passkeys/${json.passkey.id}/wrap`, { method: 'PUT', body, cookie: full });
    expect([replayed.status, replayed.json.error.code]).toEqual([400, 'challenge_expired']);

    // The database copy: every bundle and wrap the account has, and the passphrase.
    const row = await t.db.selectFrom('accounts').select(['key_bundle', 'salt']).where('id', '=', accountId).executeTakeFirstOrThrow();
    const wraps = await t.db.selectFrom('passkeys').select(['prf_wrap', 'credential_id']).where('account_id', '=', accountId).execute();
    const fromPassphrase = await deriveAccountSecrets(p, owner.passphrase, row.salt, owner.params);
    expect(() => unwrapAccountKeys(p, fromPassphrase.wrapKey, row.key_bundle)).toThrow(DecryptionError);
    for (const w of wraps) expect(() => unwrapFromPasskey(p, fromPassphrase.wrapKey, w.prf_wrap!, accountId, w.credential_id)).toThrow(DecryptionError);
    // With the PRF output (only the authenticator has it) it opens.
    expect(unwrapFromPasskey(p, key, wraps[0]!.prf_wrap!, accountId, credential.id).x25519Secret).toEqual(owner.x25519Secret);

    // Sign-in still works (the retired bundle keeps salt and parameters) and hands over the wrap.
    const salt = await call(triage(), '/api/v1/login/salt', { body: { username: 'pk.prf' } });
    expect(unb64(salt.json.salt)).toEqual(owner.salt);
    const half = await halfOpen(owner);
    const done = await call(triage(), '/api/v1/login/passkey', { body: { response: softAssert(credential, await assertionOptions(half), ORIGIN) }, cookie: half });
    expect(done.json).toMatchObject({ keysOnPasskeys: true, passkey: { credentialId: b64(credential.id), wrap: b64(wrap) } });

    // A second passkey without a wrap is not offered at sign-in; the one holding the only wrap cannot be removed.
    const second = await enrolPasskey(half);
    expect((await assertionOptions(await halfOpen(owner))).allowCredentials.map((c: Json) => c.id)).toEqual([b64(credential.id)]);
    const removeLast = await call(triage(), `/api/v1/second-factor/passkeys/${json.passkey.id}`, { method: 'DELETE', cookie: half });
    expect([removeLast.status, removeLast.json.error.code]).toEqual([409, 'conflict']);
    expect((await call(triage(), `/api/v1/second-factor/passkeys/${second.json.passkey.id}`, { method: 'DELETE', cookie: half })).status).toBe(204);
    expect((await call(triage(), `/api/v1/second-factor/passkeys/${second.json.passkey.id}`, { method: 'DELETE', cookie: half })).status).toBe(404);
  });
});
