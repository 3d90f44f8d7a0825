/**
 * Specification tests for the v1 objects, run against BOTH backends and across them (sealed
 * with one, opened with the other). Property tests (fast-check) cover round trips, single
 * flipped bits, swapped fields, wrong keys, versions, trailing and truncated input.
 * Argon2id params are tiny here except in the "real params" tests.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat, utf8Encode } from '../encoding.ts';
import {
  DecryptionError, MalformedError, NotSupportedError, SignatureError, UnknownVersionError, UnsupportedVersionError, WeakInputError,
} from '../errors.ts';
import { blobVersion } from '../index.ts';
import { noblePrimitives } from '../noble.ts';
import type { Primitives } from '../primitives.ts';
import { loadSodiumPrimitives } from '../sodium.ts';
import { checkVersionByte } from './constants.ts';
import * as v1 from './index.ts';

const S = await loadSodiumPrimitives();
const N = noblePrimitives;
const pairs: [string, Primitives, Primitives][] = [
  ['sodium->sodium', S, S],
  ['noble->noble', N, N],
  ['sodium->noble', S, N],
  ['noble->sodium', N, S],
];
const TINY = { ops: 1, memKiB: 8 };
const RUNS = { numRuns: 25 };

const flip = (b: Uint8Array, bit: number) => {
  const c = b.slice();
  c[Math.floor(bit / 8) % c.length]! ^= 1 << bit % 8;
  return c;
};
const withByte = (b: Uint8Array, i: number, v: number) => {
  const c = b.slice();
  c[i] = v;
  return c;
};

function setup(p: Primitives) {
  const root = v1.createRootKey(p);
  const orgId = p.randomBytes(16);
  const teamId = p.randomBytes(16);
  const epoch = p.x25519Keypair();
  const requester = p.x25519Keypair();
  return { root, orgId, teamId, epoch, requester };
}

describe.each(pairs)('sealed box with AD (%s)', (_n, A, B) => {
  it('round-trips any plaintext and ad', () => {
    const kp = A.x25519Keypair();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 100 }), (m, ad) => {
      expect(v1.open(B, kp.secretKey, v1.seal(A, kp.publicKey, m, ad), ad)).toEqual(m);
    }), RUNS);
  });
  it('rejects any single flipped bit, a different ad, and the wrong key', () => {
    const kp = A.x25519Keypair();
    const sealed = v1.seal(A, kp.publicKey, utf8Encode('secret'), utf8Encode('ad'));
    fc.assert(fc.property(fc.nat(sealed.length * 8 - 1), (bit) => {
      expect(() => v1.open(B, kp.secretKey, flip(sealed, bit), utf8Encode('ad'))).toThrow(DecryptionError);
    }), RUNS);
    expect(() => v1.open(B, kp.secretKey, sealed, utf8Encode('ae'))).toThrow(DecryptionError);
    expect(() => v1.open(B, B.x25519Keypair().secretKey, sealed, utf8Encode('ad'))).toThrow(DecryptionError);
    expect(() => v1.open(B, kp.secretKey, sealed.subarray(0, 47), utf8Encode('ad'))).toThrow(MalformedError);
  });
  it('opens the same with the recipient public key handed in, and not at all with a wrong one', () => {
    const kp = A.x25519Keypair();
    const sealed = v1.seal(A, kp.publicKey, utf8Encode('secret'), utf8Encode('ad'));
    expect(v1.open(B, kp.secretKey, sealed, utf8Encode('ad'), kp.publicKey)).toEqual(utf8Encode('secret'));
    // A caller holding the wrong public key (a stale cache, a key from elsewhere) gets no plaintext.
    expect(() => v1.open(B, kp.secretKey, sealed, utf8Encode('ad'), B.x25519Keypair().publicKey)).toThrow(DecryptionError);
  });
  it('refuses to seal to a small-order public key (all-zero shared secret)', () => {
    expect(() => v1.seal(A, new Uint8Array(32), utf8Encode('x'), new Uint8Array(0))).toThrow(WeakInputError);
    const onePoint = new Uint8Array(32);
    onePoint[0] = 1;
    expect(() => v1.seal(A, onePoint, utf8Encode('x'), new Uint8Array(0))).toThrow(WeakInputError);
  });
  it('an all-zero ephemeral key in a forged box is a DecryptionError, not a crash', () => {
    const kp = B.x25519Keypair();
    expect(() => v1.open(B, kp.secretKey, new Uint8Array(64), new Uint8Array(0))).toThrow(DecryptionError);
  });
});

describe.each(pairs)('property 2, signed key chain: team key certificates (%s)', (_n, A, B) => {
  it('round-trips and rejects wrong root, other org/team/epoch, flipped bits, trailing and truncated bytes', () => {
    const { root, orgId, teamId, epoch } = setup(A);
    fc.assert(fc.property(fc.nat(0xffffffff), (ep) => {
      const cert = v1.signTeamKey(A, root.seed, { orgId, teamId, epoch: ep, publicKey: epoch.publicKey });
      expect(cert.length).toBe(v1.TEAM_KEY_CERT_BYTES);
      const got = v1.verifyTeamKey(B, root.publicKey, cert, { orgId, teamId, epoch: ep });
      expect(got.publicKey).toEqual(epoch.publicKey);
      expect(got.epoch).toBe(ep);
    }), { numRuns: 10 });
    const cert = v1.signTeamKey(A, root.seed, { orgId, teamId, epoch: 7, publicKey: epoch.publicKey });
    expect(() => v1.verifyTeamKey(B, v1.createRootKey(B).publicKey, cert, { orgId, teamId })).toThrow(SignatureError);
    expect(() => v1.verifyTeamKey(B, root.publicKey, cert, { orgId: B.randomBytes(16), teamId })).toThrow(SignatureError);
    expect(() => v1.verifyTeamKey(B, root.publicKey, cert, { orgId, teamId: B.randomBytes(16) })).toThrow(SignatureError);
    expect(() => v1.verifyTeamKey(B, root.publicKey, cert, { orgId, teamId, epoch: 8 })).toThrow(SignatureError);
    fc.assert(fc.property(fc.nat(cert.length * 8 - 1), (bit) => {
      expect(() => v1.verifyTeamKey(B, root.publicKey, flip(cert, bit), { orgId, teamId })).toThrow(/bad signature|another|malformed|version|type|unknown/);
    }), { numRuns: 60 });
    expect(() => v1.verifyTeamKey(B, root.publicKey, concat(cert, new Uint8Array(1)), { orgId, teamId })).toThrow(MalformedError);
    expect(() => v1.verifyTeamKey(B, root.publicKey, cert.subarray(0, cert.length - 1), { orgId, teamId })).toThrow(MalformedError);
    expect(() => v1.verifyTeamKey(B, root.publicKey, withByte(cert, 0, 2), { orgId, teamId })).toThrow(UnknownVersionError);
    expect(() => v1.verifyTeamKey(B, root.publicKey, withByte(cert, 0, 0), { orgId, teamId })).toThrow(UnknownVersionError);
    expect(() => v1.verifyTeamKey(B, root.publicKey, withByte(cert, 1, 0x11), { orgId, teamId })).toThrow(MalformedError);
  });
  it('shows the root as a 16-group hex fingerprint', () => {
    const { root } = setup(A);
    expect(v1.rootFingerprint(A, root.publicKey)).toMatch(/^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
    expect(v1.rootFingerprint(A, root.publicKey)).toBe(v1.rootFingerprint(B, root.publicKey));
  });
});

describe.each(pairs)('responder certificates and grants (%s)', (_n, A, B) => {
  it('round-trip; grant opens only for the named responder, team, epoch and certified key', () => {
    const { root, orgId, teamId, epoch } = setup(A);
    const accountId = A.randomBytes(16);
    const resp = A.x25519Keypair();
    const respEd = A.ed25519KeypairFromSeed(A.randomBytes(32));
    for (const role of [v1.Role.responder, v1.Role.admin]) {
      const c = v1.signResponderCert(A, root.seed, { orgId, accountId, role, x25519Public: resp.publicKey, ed25519Public: respEd.publicKey });
      expect(v1.verifyResponderCert(B, root.publicKey, c, { orgId, accountId }).role).toBe(role);
    }
    const cert = v1.signResponderCert(A, root.seed, { orgId, accountId, role: 1, x25519Public: resp.publicKey, ed25519Public: respEd.publicKey });
    expect(() => v1.verifyResponderCert(B, root.publicKey, cert, { orgId: B.randomBytes(16) })).toThrow(SignatureError);
    expect(() => v1.verifyResponderCert(B, root.publicKey, cert, { orgId, accountId: B.randomBytes(16) })).toThrow(SignatureError);
    expect(() => v1.verifyResponderCert(B, root.publicKey, withByte(cert, 34, 3), { orgId })).toThrow(MalformedError);
    expect(() => v1.verifyResponderCert(B, root.publicKey, concat(cert, new Uint8Array(1)), { orgId })).toThrow(MalformedError);
    // a server-forged certificate (signed by another key) is refused before anything is sealed to it
    const evil = v1.createRootKey(A);
    const forged = v1.signResponderCert(A, evil.seed, { orgId, accountId, role: 1, x25519Public: resp.publicKey, ed25519Public: respEd.publicKey });
    expect(() => v1.createGrant(A, { rootPublic: root.publicKey, responderCert: forged, orgId, teamId, epoch: 3, epochSecret: epoch.secretKey })).toThrow(SignatureError);

    const grant = v1.createGrant(A, { rootPublic: root.publicKey, responderCert: cert, orgId, teamId, epoch: 3, epochSecret: epoch.secretKey });
    expect(grant.length).toBe(v1.GRANT_BYTES);
    const expected = { orgId, teamId, epoch: 3, accountId };
    const ok = v1.openGrant(B, { responderSecret: resp.secretKey, bytes: grant, expected, teamPublic: epoch.publicKey });
    expect(ok.epochSecret).toEqual(epoch.secretKey);
    for (const e of [{ ...expected, epoch: 4 }, { ...expected, teamId: B.randomBytes(16) }, { ...expected, accountId: B.randomBytes(16) }, { ...expected, orgId: B.randomBytes(16) }]) {
      expect(() => v1.openGrant(B, { responderSecret: resp.secretKey, bytes: grant, expected: e, teamPublic: epoch.publicKey })).toThrow(SignatureError);
    }
    expect(() => v1.openGrant(B, { responderSecret: B.x25519Keypair().secretKey, bytes: grant, expected, teamPublic: epoch.publicKey })).toThrow(DecryptionError);
    expect(() => v1.openGrant(B, { responderSecret: resp.secretKey, bytes: grant, expected, teamPublic: B.x25519Keypair().publicKey })).toThrow(SignatureError);
    fc.assert(fc.property(fc.nat(grant.length * 8 - 1), (bit) => {
      expect(() => v1.openGrant(B, { responderSecret: resp.secretKey, bytes: flip(grant, bit), expected, teamPublic: epoch.publicKey })).toThrow();
    }), { numRuns: 60 });
    // a grant "re-labelled" for another epoch by rewriting the header fails the seal's AD
    const relabelled = grant.slice();
    relabelled[37] = 4;
    expect(() => v1.openGrant(B, { responderSecret: resp.secretKey, bytes: relabelled, expected: { ...expected, epoch: 4 }, teamPublic: epoch.publicKey })).toThrow(DecryptionError);
  });
});

describe.each(pairs)('accounts (%s)', (_n, A, B) => {
  it('derives the same secrets on both backends; bundle round-trips; wrong passphrase and tampering fail', async () => {
    const salt = A.randomBytes(16);
    const s1 = await v1.deriveAccountSecrets(A, 'correct horse battery', salt, TINY, TINY);
    const s2 = await v1.deriveAccountSecrets(B, 'correct horse battery', salt, TINY, TINY);
    expect(s1).toEqual(s2);
    expect(s1.wrapKey).not.toEqual(s1.loginVerifier);
    const keys = v1.createAccountKeys(A);
    const bundle = v1.wrapAccountKeys(A, { wrapKey: s1.wrapKey, salt, params: TINY, ...keys });
    expect(bundle.length).toBe(v1.ACCOUNT_BUNDLE_BYTES);
    const out = v1.unwrapAccountKeys(B, s2.wrapKey, bundle);
    expect(out.x25519Secret).toEqual(keys.x25519Secret);
    expect(out.ed25519Seed).toEqual(keys.ed25519Seed);
    const wrong = await v1.deriveAccountSecrets(B, 'correct horse battery!', salt, TINY, TINY);
    expect(() => v1.unwrapAccountKeys(B, wrong.wrapKey, bundle)).toThrow(DecryptionError);
    fc.assert(fc.property(fc.nat(bundle.length * 8 - 1), (bit) => {
      expect(() => v1.unwrapAccountKeys(B, s2.wrapKey, flip(bundle, bit))).toThrow();
    }), { numRuns: 60 });
    expect(() => v1.unwrapAccountKeys(B, s2.wrapKey, concat(bundle, new Uint8Array(1)))).toThrow(MalformedError);
    expect(() => v1.unwrapAccountKeys(B, s2.wrapKey, bundle.subarray(0, 100))).toThrow(MalformedError);
    expect(v1.loginVerifierHash(A, s1.loginVerifier)).toEqual(v1.loginVerifierHash(B, s2.loginVerifier));
  });
  it('refuses weak params (a server downgrading the KDF) and short passphrases', async () => {
    const salt = A.randomBytes(16);
    await expect(v1.deriveAccountSecrets(A, 'correct horse battery', salt, { ops: 1, memKiB: 65536 })).rejects.toThrow(WeakInputError);
    await expect(v1.deriveAccountSecrets(A, 'correct horse battery', salt, { ops: 3, memKiB: 1024 })).rejects.toThrow(WeakInputError);
    await expect(v1.deriveAccountSecrets(A, 'short', salt, TINY, TINY)).rejects.toThrow(WeakInputError);
    await expect(v1.deriveAccountSecrets(A, 'correct horse battery', salt, { ops: 3, memKiB: 4 * 1048576 })).rejects.toThrow(MalformedError);
  });
  it('fake salts are deterministic per name and server secret, and differ between names', () => {
    const secret = A.randomBytes(32);
    expect(v1.fakeSalt(A, secret, 'alice')).toEqual(v1.fakeSalt(B, secret, 'alice'));
    expect(v1.fakeSalt(A, secret, 'alice')).not.toEqual(v1.fakeSalt(A, secret, 'bob'));
    expect(v1.fakeSalt(A, secret, 'alice').length).toBe(16);
  });
});

describe('accounts with the real responder params', () => {
  it.each([['sodium', S], ['noble', N]] as const)('%s: RESPONDER_DEFAULT_PARAMS derive the same secrets', async (_n, p) => {
    const salt = new Uint8Array(16).fill(7);
    const got = await v1.deriveAccountSecrets(p, 'a long enough passphrase', salt, v1.RESPONDER_DEFAULT_PARAMS);
    const ref = await v1.deriveAccountSecrets(S, 'a long enough passphrase', salt, v1.RESPONDER_DEFAULT_PARAMS);
    expect(got).toEqual(ref);
  });
});

type Kind = v1.MessageKindValue;
function msgArgs(p: Primitives, kind: Kind, body: Uint8Array) {
  const ctx = setup(p);
  const threadId = p.randomBytes(16);
  return {
    ctx,
    args: {
      kind, orgId: ctx.orgId, teamId: ctx.teamId, epoch: 5, threadId,
      messageId: kind === 1 ? threadId : p.randomBytes(16),
      teamPublic: ctx.epoch.publicKey,
      ...(kind <= 3 ? { requesterPublic: ctx.requester.publicKey } : {}),
      body,
    } satisfies v1.SealMessageArgs,
  };
}

describe.each(pairs)('messages (%s)', (_n, A, B) => {
  const kinds = fc.constantFrom<Kind>(1, 2, 3, 4, 5);
  it('property 1/6: round-trip for every kind and recipient; sizes are exactly the allowed buckets', () => {
    fc.assert(fc.property(kinds, fc.uint8Array({ maxLength: 5000 }), (kind, body) => {
      const { ctx, args } = msgArgs(A, kind, body);
      const m = v1.sealMessage(A, args);
      const h = v1.parseMessageHeader(m);
      expect(v1.allowedMessageSizes(h.recipientKinds.length)).toContain(m.length);
      expect(h.kind).toBe(kind);
      const exp = { orgId: ctx.orgId, teamId: ctx.teamId, threadId: args.threadId };
      expect(v1.openMessage(B, m, { recipientKind: 1, secret: ctx.epoch.secretKey, expected: exp }).body).toEqual(body);
      if (kind <= 3) {
        expect(v1.openMessage(B, m, { recipientKind: 2, secret: ctx.requester.secretKey, expected: exp }).body).toEqual(body);
      } else {
        // notes and tags are never readable by the requester
        expect(() => v1.openMessage(B, m, { recipientKind: 2, secret: ctx.requester.secretKey, expected: exp })).toThrow(DecryptionError);
      }
    }), { numRuns: 20 });
  });
  it('property 8: any single flipped bit is rejected', () => {
    const { ctx, args } = msgArgs(A, 1, utf8Encode('help'));
    const m = v1.sealMessage(A, args);
    fc.assert(fc.property(fc.nat(m.length * 8 - 1), fc.boolean(), (bit, asRequester) => {
      const bad = flip(m, bit);
      expect(() => v1.openMessage(B, bad, asRequester
        ? { recipientKind: 2, secret: ctx.requester.secretKey, expected: { orgId: ctx.orgId } }
        : { recipientKind: 1, secret: ctx.epoch.secretKey, expected: { orgId: ctx.orgId } })).toThrow();
    }), { numRuns: 200 });
  });
  it('property 8: a swapped org, team, epoch, thread, message id or kind is rejected even with the "expected" check off', () => {
    const { ctx, args } = msgArgs(A, 2, utf8Encode('follow-up'));
    const m = v1.sealMessage(A, args);
    const fields: [string, number, number][] = [['kind', 2, 1], ['org', 3, 16], ['team', 19, 16], ['epoch', 35, 4], ['thread', 39, 16], ['message', 55, 16]];
    for (const [, off, len] of fields) {
      const bad = m.slice();
      if (len === 1) bad[off] = 3; // follow-up -> reply (same recipients, so it parses)
      else bad.set(B.randomBytes(len), off);
      // expected only names the org when the org is intact, so the AEAD is what catches it
      const exp = { orgId: bad.subarray(3, 19) };
      expect(() => v1.openMessage(B, bad, { recipientKind: 1, secret: ctx.epoch.secretKey, expected: exp })).toThrow(DecryptionError);
      // the requester slot does not bind the epoch, but the body AD covers every header byte
      expect(() => v1.openMessage(B, bad, { recipientKind: 2, secret: ctx.requester.secretKey, expected: exp })).toThrow(DecryptionError);
    }
  });
  it('property 8: a recipient slot cut from another message (or another team) does not open this one', () => {
    const { ctx, args } = msgArgs(A, 3, utf8Encode('reply 1'));
    const m1 = v1.sealMessage(A, args);
    const m2 = v1.sealMessage(A, { ...args, messageId: A.randomBytes(16), body: utf8Encode('reply 2') });
    const spliced = concat(m1.subarray(0, 72), m2.subarray(72, 72 + 81), m1.subarray(72 + 81));
    expect(() => v1.openMessage(B, spliced, { recipientKind: 1, secret: ctx.epoch.secretKey, expected: { orgId: ctx.orgId } })).toThrow(DecryptionError);
    const other = v1.sealMessage(A, { ...args, teamId: A.randomBytes(16) });
    expect(() => v1.openMessage(B, other, { recipientKind: 1, secret: ctx.epoch.secretKey, expected: { orgId: ctx.orgId, teamId: ctx.teamId } })).toThrow(DecryptionError);
  });
  it('property 3/4: the wrong team or epoch key cannot open; dropping the requester slot is detected', () => {
    const { ctx, args } = msgArgs(A, 1, utf8Encode('help'));
    const m = v1.sealMessage(A, args);
    expect(() => v1.openMessage(B, m, { recipientKind: 1, secret: B.x25519Keypair().secretKey, expected: { orgId: ctx.orgId } })).toThrow(DecryptionError);
    const dropped = concat(withByte(m.subarray(0, 72), 71, 1), m.subarray(72, 153), m.subarray(234));
    expect(() => v1.openMessage(B, dropped, { recipientKind: 1, secret: ctx.epoch.secretKey, expected: { orgId: ctx.orgId } })).toThrow(MalformedError);
  });
  it('strict parse: versions, trailing bytes, truncation, wrong sizes, unknown kinds', () => {
    const { args } = msgArgs(A, 4, utf8Encode('note'));
    const m = v1.sealMessage(A, args);
    expect(() => v1.parseMessageHeader(withByte(m, 0, 2))).toThrow(UnknownVersionError);
    expect(() => v1.parseMessageHeader(withByte(m, 0, 0))).toThrow(UnknownVersionError);
    expect(() => v1.parseMessageHeader(withByte(m, 1, 0x10))).toThrow(MalformedError);
    expect(() => v1.parseMessageHeader(withByte(m, 2, 9))).toThrow(MalformedError);
    fc.assert(fc.property(fc.nat(m.length - 1), (cut) => {
      expect(() => v1.parseMessageHeader(m.subarray(0, cut))).toThrow(MalformedError);
    }), { numRuns: 100 });
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (extra) => {
      expect(() => v1.parseMessageHeader(concat(m, extra))).toThrow(MalformedError);
    }), RUNS);
  });
  it('bodies above 64 KiB - 1 are refused; request ids must start their own thread; recipients must match the kind', () => {
    const { args } = msgArgs(A, 1, new Uint8Array(65536));
    expect(() => v1.sealMessage(A, args)).toThrow(MalformedError);
    expect(v1.sealMessage(A, { ...args, body: new Uint8Array(65535) }).length).toBe(v1.allowedMessageSizes(2)[3]);
    expect(() => v1.sealMessage(A, { ...args, body: new Uint8Array(1), messageId: A.randomBytes(16) })).toThrow(MalformedError);
    const { args: note } = msgArgs(A, 4, new Uint8Array(1));
    expect(() => v1.sealMessage(A, { ...note, requesterPublic: A.x25519Keypair().publicKey })).toThrow(MalformedError);
    const { requesterPublic: _r, ...noRequester } = args;
    expect(() => v1.sealMessage(A, { ...noRequester, body: new Uint8Array(1) })).toThrow(MalformedError);
  });
  it('property 7: rewrap moves the team slot to the new epoch; the old epoch key no longer opens it; the requester still can', () => {
    const { ctx, args } = msgArgs(A, 1, utf8Encode('request body'));
    const m = v1.sealMessage(A, args);
    const next = A.x25519Keypair();
    const r = v1.rewrapMessage(B, m, ctx.epoch.secretKey, next.publicKey, 6);
    expect(r.length).toBe(m.length);
    expect(v1.parseMessageHeader(r).epoch).toBe(6);
    const exp = { orgId: ctx.orgId, teamId: ctx.teamId };
    expect(v1.openMessage(A, r, { recipientKind: 1, secret: next.secretKey, expected: { ...exp, epoch: 6 } }).body).toEqual(utf8Encode('request body'));
    expect(() => v1.openMessage(A, r, { recipientKind: 1, secret: ctx.epoch.secretKey, expected: exp })).toThrow(DecryptionError);
    expect(v1.openMessage(A, r, { recipientKind: 2, secret: ctx.requester.secretKey, expected: exp }).body).toEqual(utf8Encode('request body'));
    // putting the old epoch number back on the re-wrapped slot fails (epoch bound in the slot AD)
    expect(() => v1.openMessage(A, withByte(r, 38, 5), { recipientKind: 1, secret: next.secretKey, expected: exp })).toThrow(DecryptionError);
    expect(() => v1.rewrapMessage(B, m, B.x25519Keypair().secretKey, next.publicKey, 6)).toThrow(DecryptionError);
    expect(() => v1.rewrapMessage(B, m, ctx.epoch.secretKey, next.publicKey, 5)).toThrow(MalformedError);
  });
});

describe('request body', () => {
  const base = { message: 'Помогите', replyPublicKey: new Uint8Array(32).fill(1), argon: { ops: 1, memKiB: 8192 } };
  it('round-trips with optional fields and attachments', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 300 }), fc.option(fc.string({ minLength: 1, maxLength: 50 }), { nil: undefined }), (message, topic) => {
      const b = { ...base, message, ...(topic !== undefined ? { topic } : {}), attachments: [{ name: 'a.pdf', type: 'application/pdf', size: 10, key: new Uint8Array(32), streamId: new Uint8Array(16) }] };
      expect(v1.decodeRequestBody(v1.encodeRequestBody(b))).toEqual(b);
    }), RUNS);
  });
  it('rejects unknown fields, wrong version, wrong key sizes, non-canonical base64url and invalid UTF-8', () => {
    const ok = JSON.parse(new TextDecoder().decode(v1.encodeRequestBody(base)));
    const bad = (o: unknown) => () => v1.decodeRequestBody(utf8Encode(JSON.stringify(o)));
    expect(bad({ ...ok, extra: 1 })).toThrow(MalformedError);
    expect(bad({ ...ok, v: 2 })).toThrow(MalformedError);
    expect(bad({ ...ok, message: '' })).toThrow(MalformedError);
    expect(bad({ ...ok, replyPublicKey: 'AAAA' })).toThrow(MalformedError);
    expect(bad({ ...ok, replyPublicKey: ok.replyPublicKey + '=' })).toThrow(MalformedError);
    expect(bad({ ...ok, argon: { ops: 1.5, memKiB: 8 } })).toThrow(MalformedError);
    expect(bad([ok])).toThrow(MalformedError);
    expect(() => v1.decodeRequestBody(new Uint8Array([0xff, 0xfe]))).toThrow(MalformedError);
    expect(() => v1.decodeRequestBody(utf8Encode('{'))).toThrow(MalformedError);
  });
});

describe('attachments', () => {
  it('round-trip with libsodium across chunk boundaries; blob sizes hide all but the chunk count', () => {
    const key = v1.newAttachmentKey(S);
    for (const n of [0, 1, 65535, 65536, 65537, 200000]) {
      const file = S.randomBytes(n);
      const blob = v1.encryptAttachment(S, key, file);
      expect(blob.length).toBe(v1.attachmentBlobSize(n));
      expect(v1.decryptAttachment(S, key, blob)).toEqual(file);
    }
  });
  it('detects truncation, dropped or reordered chunks, tampering and a wrong key', () => {
    const key = v1.newAttachmentKey(S);
    const blob = v1.encryptAttachment(S, key, S.randomBytes(150000)); // 3 chunks
    const c = 65536 + 17;
    expect(() => v1.decryptAttachment(S, key, blob.subarray(0, 26 + 2 * c))).toThrow(DecryptionError);
    expect(() => v1.decryptAttachment(S, key, concat(blob.subarray(0, 26), blob.subarray(26 + c)))).toThrow(DecryptionError);
    expect(() => v1.decryptAttachment(S, key, concat(blob.subarray(0, 26), blob.subarray(26 + c, 26 + 2 * c), blob.subarray(26, 26 + c), blob.subarray(26 + 2 * c)))).toThrow(DecryptionError);
    expect(() => v1.decryptAttachment(S, key, flip(blob, 8 * 1000))).toThrow(DecryptionError);
    expect(() => v1.decryptAttachment(S, S.randomBytes(32), blob)).toThrow(DecryptionError);
    expect(() => v1.decryptAttachment(S, key, blob.subarray(0, blob.length - 1))).toThrow(MalformedError);
    expect(() => v1.decryptAttachment(S, key, withByte(blob, 0, 9))).toThrow(UnknownVersionError);
  });
  it('both backends read each other\'s attachments (noble has a byte-compatible secretstream: crypto/secretstream.test.ts)', () => {
    const key = v1.newAttachmentKey(S);
    for (const n of [0, 65536, 150000]) {
      const file = S.randomBytes(n);
      expect(v1.decryptAttachment(N, key, v1.encryptAttachment(S, key, file))).toEqual(file);
      expect(v1.decryptAttachment(S, key, v1.encryptAttachment(N, key, file))).toEqual(file);
    }
    // A backend without a secretstream still refuses with a typed error.
    expect(() => v1.encryptAttachment({ ...N, secretstream: undefined }, key, new Uint8Array(1))).toThrow(NotSupportedError);
  });
});

describe.each(pairs)('audit log (%s)', (_n, A, B) => {
  it('hash chains and signatures verify; another key, entry or previous hash fails', () => {
    const acct = A.ed25519KeypairFromSeed(A.randomBytes(32));
    const h1 = v1.auditEntryHash(A, v1.AUDIT_GENESIS_HASH, utf8Encode('one'));
    const h2 = v1.auditEntryHash(A, h1, utf8Encode('two'));
    expect(v1.auditEntryHash(B, h1, utf8Encode('two'))).toEqual(h2);
    expect(v1.auditEntryHash(B, v1.AUDIT_GENESIS_HASH, utf8Encode('two'))).not.toEqual(h2);
    const sig = v1.signAuditHash(A, acct.seed, h2);
    expect(() => v1.verifyAuditHash(B, acct.publicKey, h2, sig)).not.toThrow();
    expect(() => v1.verifyAuditHash(B, acct.publicKey, h1, sig)).toThrow(SignatureError);
    expect(() => v1.verifyAuditHash(B, B.ed25519KeypairFromSeed(B.randomBytes(32)).publicKey, h2, sig)).toThrow(SignatureError);
  });
});

describe('versions', () => {
  it('the dispatcher accepts only versions 1 and 2 and names unknown versions', () => {
    expect(blobVersion(new Uint8Array([1, 0x40]))).toBe(1);
    expect(blobVersion(new Uint8Array([2, 0x40]))).toBe(2);
    fc.assert(fc.property(fc.integer({ min: 0, max: 255 }).filter((v) => v !== 1 && v !== 2), (v) => {
      expect(() => blobVersion(new Uint8Array([v, 0x40]))).toThrow(UnknownVersionError);
    }));
    expect(() => blobVersion(new Uint8Array(0))).toThrow(MalformedError);
  });
  it('a retired version gets UnsupportedVersionError, distinct from unknown', () => {
    expect(() => checkVersionByte(0, new Set([0]))).toThrow(UnsupportedVersionError);
    expect(() => checkVersionByte(9, new Set([0]))).toThrow(UnknownVersionError);
    expect(v1.RETIRED_VERSIONS.size).toBe(0);
  });
});
