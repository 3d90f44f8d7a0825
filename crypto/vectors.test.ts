/**
 * Known-answer vectors, both directions, both backends:
 * - external vectors (RFC 8032, RFC 7748, RFC 7693, XChaCha20-Poly1305 draft A.3.1, and an
 *   Argon2id / crypto_kdf vector computed by libsodium) prove each backend against a reference;
 * - tests/vectors/v1.json (our protocol) must be reproduced byte for byte by each backend, and
 *   its bytes must decode/open/verify to the recorded values with each backend.
 * Set HAVEN_WRITE_VECTORS=1 to regenerate v1.json (with libsodium) after a deliberate change.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hexDecode as h, hexEncode as x, utf8Encode } from './encoding.ts';
import { WeakInputError } from './errors.ts';
import { noblePrimitives } from './noble.ts';
import { loadSodiumPrimitives } from './sodium.ts';
import { buildVectors, TINY } from './test-vectors.ts';
import * as v1 from './v1/index.ts';

const sodiumP = await loadSodiumPrimitives();
const backends = [sodiumP, noblePrimitives];
const vectorPath = new URL('../tests/vectors/v1.json', import.meta.url);
const externalPath = new URL('../tests/vectors/primitives.json', import.meta.url);

if (process.env.HAVEN_WRITE_VECTORS === '1') {
  writeFileSync(vectorPath, JSON.stringify(await buildVectors(sodiumP), null, 2) + '\n');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const V: any = JSON.parse(readFileSync(vectorPath, 'utf8'));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const E: any = JSON.parse(readFileSync(externalPath, 'utf8'));

describe.each(backends)('external known answers ($name)', (p) => {
  it('Ed25519: RFC 8032 section 7.1 test 1', () => {
    const t = E.ed25519_rfc8032_test1;
    expect(x(p.ed25519KeypairFromSeed(h(t.seed)).publicKey)).toBe(t.publicKey);
    expect(x(p.ed25519Sign(h(t.message), h(t.seed)))).toBe(t.signature);
    expect(p.ed25519Verify(h(t.signature), h(t.message), h(t.publicKey))).toBe(true);
  });
  it('X25519: RFC 7748 section 6.1', () => {
    const t = E.x25519_rfc7748_6_1;
    expect(x(p.x25519PublicFromSecret(h(t.aliceSecret)))).toBe(t.alicePublic);
    expect(x(p.x25519PublicFromSecret(h(t.bobSecret)))).toBe(t.bobPublic);
    expect(x(p.x25519SharedSecret(h(t.aliceSecret), h(t.bobPublic)))).toBe(t.shared);
    expect(x(p.x25519SharedSecret(h(t.bobSecret), h(t.alicePublic)))).toBe(t.shared);
  });
  it('BLAKE2b-512("abc"): RFC 7693 appendix A', () => {
    expect(x(p.blake2b(64, utf8Encode('abc')))).toBe(E.blake2b_rfc7693_abc);
  });
  it('XChaCha20-Poly1305: draft-irtf-cfrg-xchacha-03 A.3.1', () => {
    const t = E.xchacha20poly1305_draft_a31;
    const ct = x(p.aeadEncrypt(h(t.key), h(t.nonce), utf8Encode(t.plaintextUtf8), h(t.ad)));
    expect(ct).toBe(t.ciphertext + t.tag);
  });
  it('Argon2id and crypto_kdf: values computed by libsodium 0.8.4 crypto_pwhash / crypto_kdf_derive_from_key', async () => {
    const t = E.argon2id_libsodium;
    const out = await p.argon2id(32, utf8Encode(t.passwordUtf8), h(t.salt), t.ops, t.memKiB * 1024);
    expect(x(out)).toBe(t.output);
    const k = E.kdf_libsodium;
    expect(x(p.kdfDerive(32, k.subkeyId, k.context, h(k.masterKey)))).toBe(k.subkey);
  });
  it('BLAKE2b with key, salt and personal: value computed by libsodium', () => {
    const t = E.blake2b_salt_personal_libsodium;
    expect(x(p.blake2b(32, utf8Encode(t.messageUtf8), { key: h(t.key), salt: h(t.salt), personal: utf8Encode(t.personalUtf8) }))).toBe(t.output);
  });
});

describe.each(backends)('v1 vectors: encode reproduces tests/vectors/v1.json ($name)', (p) => {
  it('every object is byte-identical to the checked-in vector', async () => {
    const built = JSON.parse(JSON.stringify(await buildVectors(p)));
    expect(built).toEqual(V);
  });
});

describe.each(backends)('v1 vectors: decode of the checked-in bytes ($name)', (p) => {
  const orgId = h(V.inputs.orgId);
  const teamId = h(V.inputs.teamId);
  const rootPublic = h(V.rootPublic);
  it('opens the sealed box', () => {
    expect(new TextDecoder().decode(v1.open(p, h(V.inputs.epochSecret), h(V.seal.sealed), utf8Encode(V.seal.adUtf8)))).toBe('hello');
  });
  it('verifies the certificates and opens the grant', () => {
    const team = v1.verifyTeamKey(p, rootPublic, h(V.teamKeyCert), { orgId, teamId });
    expect(team.epoch).toBe(1);
    expect(x(team.publicKey)).toBe(V.epochPublic);
    const resp = v1.verifyResponderCert(p, rootPublic, h(V.responderCert), { orgId });
    expect(x(resp.accountId)).toBe(V.inputs.accountId);
    expect(resp.role).toBe(v1.Role.responder);
    expect(x(resp.ed25519Public)).toBe(V.responderEd25519Public);
    const g = v1.openGrant(p, {
      responderSecret: h(V.inputs.responderX25519Secret), bytes: h(V.grant.bytes),
      expected: { orgId, teamId, epoch: 1, accountId: h(V.inputs.accountId) }, teamPublic: team.publicKey,
    });
    expect(x(g.epochSecret)).toBe(V.inputs.epochSecret);
  });
  it('unwraps the account bundle', () => {
    const { salt, params } = v1.parseAccountBundleHeader(h(V.account.bundle));
    expect(x(salt)).toBe(V.inputs.accountSalt);
    expect(params).toEqual(TINY);
    const k = v1.unwrapAccountKeys(p, h(V.account.wrapKey), h(V.account.bundle));
    expect(x(k.x25519Secret)).toBe(V.inputs.responderX25519Secret);
    expect(x(k.ed25519Seed)).toBe(V.inputs.responderEd25519Seed);
  });
  it('opens every message for every recipient and decodes the request body', () => {
    const exp = { orgId, teamId, threadId: h(V.inputs.threadId) };
    const team = v1.openMessage(p, h(V.messages.request), { recipientKind: 1, secret: h(V.inputs.epochSecret), expected: exp });
    const body = v1.decodeRequestBody(team.body);
    expect(body.message).toContain('<script>');
    expect(x(body.replyPublicKey)).toBe(V.requester.replyPublic);
    expect(new TextDecoder().decode(team.body)).toBe(V.requestBodyUtf8);
    const mine = v1.openMessage(p, h(V.messages.request), { recipientKind: 2, secret: h(V.requester.replySecret), expected: exp });
    expect(mine.body).toEqual(team.body);
    const reply = v1.openMessage(p, h(V.messages.reply), { recipientKind: 2, secret: h(V.requester.replySecret), expected: exp });
    expect(new TextDecoder().decode(reply.body)).toBe('We received your request.');
    const note = v1.openMessage(p, h(V.messages.note), { recipientKind: 1, secret: h(V.inputs.epochSecret), expected: exp });
    expect(note.header.kind).toBe(v1.MessageKind.note);
    const re = v1.openMessage(p, h(V.messages.requestRewrappedToEpoch2), { recipientKind: 1, secret: h(V.inputs.epoch2Secret), expected: { ...exp, epoch: 2 } });
    expect(re.body).toEqual(team.body);
  });
  it('verifies the audit signature', () => {
    const hash = v1.auditEntryHash(p, v1.AUDIT_GENESIS_HASH, utf8Encode(V.audit.entryUtf8));
    expect(x(hash)).toBe(V.audit.hash);
    expect(() => v1.verifyAuditHash(p, h(V.responderEd25519Public), hash, h(V.audit.signatureByResponder))).not.toThrow();
  });
});

describe('backend parity on edge cases', () => {
  it('both reject the same degenerate Ed25519 signatures (small-order key or R, non-canonical S)', () => {
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const seed = new Uint8Array(32).fill(9);
    const pk = sodiumP.ed25519KeypairFromSeed(seed).publicKey;
    const msg = utf8Encode('m');
    const good = sodiumP.ed25519Sign(msg, seed);
    const forgedIdentity = new Uint8Array(64);
    forgedIdentity.set(identity);
    const highS = good.slice();
    highS[63]! |= 0xf0; // S >= L: non-canonical
    const cases: [Uint8Array, Uint8Array][] = [[forgedIdentity, identity], [good, identity], [highS, pk], [good.subarray(0, 63), pk]];
    for (const [sig, key] of cases) {
      expect(noblePrimitives.ed25519Verify(sig, msg, key)).toBe(sodiumP.ed25519Verify(sig, msg, key));
      expect(noblePrimitives.ed25519Verify(sig, msg, key)).toBe(false);
    }
    expect(noblePrimitives.ed25519Verify(good, msg, pk)).toBe(true);
  });
  it('both refuse an all-zero X25519 result and agree on random inputs', () => {
    for (const p of backends) expect(() => p.x25519SharedSecret(new Uint8Array(32).fill(5), new Uint8Array(32))).toThrow(WeakInputError);
    for (let i = 0; i < 20; i++) {
      const a = sodiumP.randomBytes(32);
      const b = sodiumP.randomBytes(32);
      expect(noblePrimitives.x25519SharedSecret(a, b)).toEqual(sodiumP.x25519SharedSecret(a, b));
      const m = sodiumP.randomBytes(i * 7);
      const key = sodiumP.randomBytes(16 + i);
      expect(noblePrimitives.blake2b(1 + i * 3, m, { key, personal: utf8Encode('p'.repeat(i % 17)) })).toEqual(sodiumP.blake2b(1 + i * 3, m, { key, personal: utf8Encode('p'.repeat(i % 17)) }));
      expect(noblePrimitives.kdfDerive(16 + i, i * 1000003, 'abcdefgh', a)).toEqual(sodiumP.kdfDerive(16 + i, i * 1000003, 'abcdefgh', a));
    }
  });
});
