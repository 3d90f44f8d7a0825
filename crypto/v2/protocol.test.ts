/**
 * v2 specifications: what each object must refuse, on both backends. The `forge` helper plays
 * the server: it can seal to the team key and the requester's reply key (both public) and write
 * any inner plaintext it likes; what it cannot do is sign as an author.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64urlEncode, ByteWriter, concat, hexDecode as h, utf8Decode, utf8Encode } from '../encoding.ts';
import {
  CryptoError, DecryptionError, ExpiredStatementError, MalformedError, NotYetValidError, RolledBackError, SignatureError,
  UnknownVersionError,
} from '../errors.ts';
import { blobVersion, openMessageAny, parseMessageHeaderAny } from '../index.ts';
import { noblePrimitives } from '../noble.ts';
import type { Primitives } from '../primitives.ts';
import { loadSodiumPrimitives } from '../sodium.ts';
import { FIXED } from '../test-vectors.ts';
import * as v1 from '../v1/index.ts';
import { bucketSizes, pad } from '../v1/padding.ts';
import * as v2 from './index.ts';

const sodiumP = await loadSodiumPrimitives();

describe.each([sodiumP, noblePrimitives])('protocol v2 ($name)', (p: Primitives) => {
  const rootSeed = h(FIXED.rootSeed);
  const rootPublic = p.ed25519KeypairFromSeed(rootSeed).publicKey;
  const otherRootSeed = new Uint8Array(32).fill(7);
  const orgId = h(FIXED.orgId);
  const otherOrgId = new Uint8Array(16).fill(0xaa);
  const teamId = h(FIXED.teamId);
  const threadId = h(FIXED.threadId);
  const nowHour = 500_000;
  const epochSecret = h(FIXED.epochSecret);
  const teamPublic = p.x25519PublicFromSecret(epochSecret);
  const reply = p.x25519Keypair();
  const requesterSign = p.ed25519KeypairFromSeed(p.randomBytes(32));
  const responderSeed = h(FIXED.responderEd25519Seed);
  const certFor = (seed: Uint8Array, role: v1.RoleValue, accountId: Uint8Array, signer = rootSeed, org = orgId): Uint8Array =>
    v1.signResponderCert(p, signer, {
      orgId: org, accountId, role, x25519Public: p.x25519Keypair().publicKey, ed25519Public: p.ed25519KeypairFromSeed(seed).publicKey,
    });
  const accountId = h(FIXED.accountId);
  const responderCert = certFor(responderSeed, v1.Role.responder, accountId);
  const adminSeed = new Uint8Array(32).fill(3);
  const adminId = new Uint8Array(16).fill(0x33);
  const adminCert = certFor(adminSeed, v1.Role.admin, adminId);
  const requestBody = v2.encodeRequestBodyV2({ message: 'help', replyPublicKey: reply.publicKey, signPublicKey: requesterSign.publicKey, argon: { ops: 1, memKiB: 2048 } });
  const team = { recipientKind: v1.RecipientKind.team, secret: epochSecret, rootPublic };
  const mine = { recipientKind: v1.RecipientKind.requester, secret: reply.secretKey, rootPublic };
  const base = { orgId, teamId, epoch: 1, threadId, teamPublic };
  const request = v2.sealMessageV2(p, {
    ...base, kind: v1.MessageKind.request, messageId: threadId, position: 0, requesterPublic: reply.publicKey, body: requestBody,
    author: { type: 'requester', signSeed: requesterSign.seed },
  });
  const sealReply = (position = 1, body = utf8Encode('we are here')): Uint8Array =>
    v2.sealMessageV2(p, {
      ...base, kind: v1.MessageKind.reply, messageId: p.randomBytes(16), position, requesterPublic: reply.publicKey, body,
      author: { type: 'responder', signSeed: responderSeed, cert: responderCert },
    });

  /** The server's forgery: a well-formed v2 envelope around any inner plaintext, written from the spec. */
  function forge(kind: v1.MessageKindValue, position: number, inner: Uint8Array, messageId = p.randomBytes(16)): Uint8Array {
    const b = new ByteWriter().u8(2).u8(0x40).u8(kind).bytes(orgId).bytes(teamId).bytes(threadId).bytes(messageId).u32(position).finish();
    const kinds = v1.recipientsFor(kind);
    const w = new ByteWriter().u8(2).u8(0x40).u8(kind).bytes(orgId).bytes(teamId).u32(1).bytes(threadId).bytes(messageId).u32(position).u8(kinds.length);
    const ck = p.randomBytes(32);
    for (const rk of kinds) {
      const ad = rk === 1 ? new ByteWriter().bytes(b).u8(1).u32(1).finish() : new ByteWriter().bytes(b).u8(2).finish();
      w.u8(rk).bytes(v1.seal(p, rk === 1 ? teamPublic : reply.publicKey, ck, ad));
    }
    const hs = w.finish();
    const nonce = p.randomBytes(24);
    return concat(hs, nonce, p.aeadEncrypt(ck, nonce, pad(inner), hs));
  }
  /** Inner plaintext as the spec says, signed with whatever seed the forger holds. */
  function inner(kind: v1.MessageKindValue, position: number, messageId: Uint8Array, authorType: number, authorRef: Uint8Array, body: Uint8Array, seed: Uint8Array): Uint8Array {
    const b = new ByteWriter().u8(2).u8(0x40).u8(kind).bytes(orgId).bytes(teamId).bytes(threadId).bytes(messageId).u32(position).finish();
    const sig = p.ed25519Sign(concat(new Uint8Array([2, 0x41]), b, new Uint8Array([authorType]), authorRef, body), seed);
    return concat(new Uint8Array([authorType]), authorRef, body, sig);
  }
  const forgeSigned = (kind: v1.MessageKindValue, position: number, authorType: number, authorRef: Uint8Array, body: Uint8Array, seed: Uint8Array): Uint8Array => {
    const id = kind === v1.MessageKind.request ? threadId : p.randomBytes(16);
    return forge(kind, position, inner(kind, position, id, authorType, authorRef, body, seed), id);
  };

  describe('team key statement', () => {
    const fields = { orgId, teamId, epoch: 3, serial: 5, issuedHour: nowHour - 10, expiresHour: nowHour + 100, publicKey: teamPublic };
    const stmt = v2.signTeamKeyStatement(p, rootSeed, fields);
    const want = { orgId, teamId, nowHour };
    it('is 146 bytes and verifies against the root', () => {
      expect(stmt.length).toBe(v2.TEAM_KEY_STATEMENT_BYTES);
      expect(v2.verifyTeamKeyStatement(p, rootPublic, stmt, { ...want, epoch: 3, minSerial: 5 })).toEqual(fields);
    });
    it('rejects a statement whose serial is below the floor', () => {
      expect(() => v2.verifyTeamKeyStatement(p, rootPublic, stmt, { ...want, minSerial: 6 })).toThrow(RolledBackError);
    });
    it('rejects an expired statement', () => {
      expect(() => v2.verifyTeamKeyStatement(p, rootPublic, stmt, { ...want, nowHour: fields.expiresHour })).toThrow(ExpiredStatementError);
    });
    it('rejects a statement issued more than an hour in the future, accepts one hour of skew', () => {
      expect(() => v2.verifyTeamKeyStatement(p, rootPublic, stmt, { ...want, nowHour: fields.issuedHour - 2 })).toThrow(NotYetValidError);
      expect(() => v2.verifyTeamKeyStatement(p, rootPublic, stmt, { ...want, nowHour: fields.issuedHour - 1 })).not.toThrow();
    });
    it('rejects a statement signed by another root, or for another team or epoch', () => {
      const forged = v2.signTeamKeyStatement(p, otherRootSeed, fields);
      expect(() => v2.verifyTeamKeyStatement(p, rootPublic, forged, want)).toThrow(SignatureError);
      expect(() => v2.verifyTeamKeyStatement(p, rootPublic, stmt, { ...want, teamId: h(FIXED.otherTeamId) })).toThrow(SignatureError);
      expect(() => v2.verifyTeamKeyStatement(p, rootPublic, stmt, { ...want, epoch: 4 })).toThrow(SignatureError);
    });
    it('rejects any flipped bit', () => {
      fc.assert(fc.property(fc.nat(stmt.length * 8 - 1), (bit) => {
        const t = stmt.slice();
        t[bit >> 3]! ^= 1 << (bit & 7);
        expect(() => v2.verifyTeamKeyStatement(p, rootPublic, t, want)).toThrow(CryptoError);
      }), { numRuns: 60 });
    });
    it('refuses to sign or accept a lifetime above 400 days or an empty one', () => {
      expect(() => v2.signTeamKeyStatement(p, rootSeed, { ...fields, expiresHour: fields.issuedHour + 400 * 24 + 1 })).toThrow(MalformedError);
      expect(() => v2.signTeamKeyStatement(p, rootSeed, { ...fields, expiresHour: fields.issuedHour })).toThrow(MalformedError);
    });
    it('rejects a v1 team key certificate presented as a statement', () => {
      const old = v1.signTeamKey(p, rootSeed, { orgId, teamId, epoch: 3, publicKey: teamPublic });
      expect(() => v2.verifyTeamKeyStatement(p, rootPublic, old, want)).toThrow(MalformedError);
    });
  });

  describe('invitation statement', () => {
    const fields = { orgId, role: v1.Role.responder, expiresHour: nowHour + 24, teamIds: [teamId], adminAccountId: adminId };
    const inv = v2.createInvitation(p, adminSeed, fields);
    const args = { orgId, adminCert, nowHour, invitationId: inv.invitationId };
    it('verifies and returns the role and teams it was signed with', () => {
      const got = v2.verifyInvitation(p, rootPublic, inv.statement, args);
      expect([got.role, got.teamIds]).toEqual([v1.Role.responder, [teamId]]);
      expect(got.invitationId).toEqual(v2.invitationIdFromCode(p, inv.inviteCode));
    });
    it('rejects an invitation whose role the server raised to admin', () => {
      const t = inv.statement.slice();
      t[34] = v1.Role.admin; // 2 + 16 + 16: the role byte
      expect(() => v2.verifyInvitation(p, rootPublic, t, args)).toThrow(SignatureError);
    });
    it('rejects an invitation signed by a responder, not an admin', () => {
      const byResponder = v2.signInvitation(p, responderSeed, { ...fields, invitationId: inv.invitationId, adminAccountId: accountId });
      expect(() => v2.verifyInvitation(p, rootPublic, byResponder, { ...args, adminCert: responderCert })).toThrow(SignatureError);
    });
    it('rejects an invitation whose admin certificate comes from another root', () => {
      const fake = certFor(adminSeed, v1.Role.admin, adminId, otherRootSeed);
      expect(() => v2.verifyInvitation(p, rootPublic, inv.statement, { ...args, adminCert: fake })).toThrow(SignatureError);
    });
    it('rejects an expired invitation, and one for another invitation id', () => {
      expect(() => v2.verifyInvitation(p, rootPublic, inv.statement, { ...args, nowHour: fields.expiresHour })).toThrow(ExpiredStatementError);
      expect(() => v2.verifyInvitation(p, rootPublic, inv.statement, { ...args, invitationId: new Uint8Array(16) })).toThrow(SignatureError);
    });
    it('round-trips any set of distinct teams', () => {
      fc.assert(fc.property(fc.uniqueArray(fc.uint8Array({ minLength: 16, maxLength: 16 }), { maxLength: 8, selector: (t) => t.join(',') }), fc.constantFrom(1, 2), (teams, role) => {
        const s = v2.signInvitation(p, adminSeed, { ...fields, role: role as v1.RoleValue, teamIds: teams, invitationId: inv.invitationId });
        const got = v2.verifyInvitation(p, rootPublic, s, args);
        expect([got.role, got.teamIds]).toEqual([role, teams]);
      }), { numRuns: 15 });
    });
  });

  describe('thread message', () => {
    it('opens with the verified author for both recipients', () => {
      const r = sealReply();
      for (const opener of [team, mine]) {
        const got = v2.openMessageV2(p, r, { ...opener, expected: { orgId, threadId, position: 1 } });
        expect(got.author).toMatchObject({ type: 'responder', accountId, role: v1.Role.responder });
        expect(utf8Decode(got.body)).toBe('we are here');
      }
      expect(v2.openMessageV2(p, request, { ...team, expected: { orgId } }).author).toEqual({ type: 'requester', signPublic: requesterSign.publicKey });
    });
    it('rejects a reply whose inner signature was made with the requester sign key (author type requester on a reply)', () => {
      const f = forgeSigned(v1.MessageKind.reply, 1, 1, new Uint8Array(0), utf8Encode('pay here'), requesterSign.seed);
      expect(() => v2.openMessageV2(p, f, { ...mine, expected: { orgId } })).toThrow(SignatureError);
    });
    it('rejects a reply whose inner signature was made with the requester reply key', () => {
      const f = forgeSigned(v1.MessageKind.reply, 1, 2, responderCert, utf8Encode('pay here'), reply.secretKey);
      expect(() => v2.openMessageV2(p, f, { ...mine, expected: { orgId } })).toThrow(SignatureError);
    });
    it('rejects a reply whose certificate comes from another root or names another organisation', () => {
      const serverSeed = p.randomBytes(32);
      for (const cert of [certFor(serverSeed, v1.Role.admin, accountId, otherRootSeed), certFor(serverSeed, v1.Role.admin, accountId, rootSeed, otherOrgId)]) {
        const f = forgeSigned(v1.MessageKind.reply, 1, 2, cert, utf8Encode('pay here'), serverSeed);
        expect(() => v2.openMessageV2(p, f, { ...mine, expected: { orgId } })).toThrow(SignatureError);
      }
    });
    it('rejects a note or tags written as the requester', () => {
      for (const kind of [v1.MessageKind.note, v1.MessageKind.tags]) {
        const f = forgeSigned(kind, 2, 1, new Uint8Array(0), utf8Encode('x'), requesterSign.seed);
        expect(() => v2.openMessageV2(p, f, { ...team, expected: { orgId } })).toThrow(SignatureError);
      }
    });
    it("rejects a follow-up signed by any key but the thread request's", () => {
      const serverSeed = p.randomBytes(32);
      const f = forgeSigned(v1.MessageKind.followup, 2, 1, new Uint8Array(0), utf8Encode('never mind'), serverSeed);
      expect(() => v2.openMessageV2(p, f, { ...team, expected: { orgId }, threadRequesterSignPublic: requesterSign.publicKey })).toThrow(SignatureError);
      const real = forgeSigned(v1.MessageKind.followup, 2, 1, new Uint8Array(0), utf8Encode('more'), requesterSign.seed);
      expect(utf8Decode(v2.openMessageV2(p, real, { ...team, expected: { orgId }, threadRequesterSignPublic: requesterSign.publicKey }).body)).toBe('more');
      expect(() => v2.openMessageV2(p, real, { ...team, expected: { orgId } })).toThrow(MalformedError);
    });
    it('rejects a request whose body names a key other than the one that signed it', () => {
      const f = forgeSigned(v1.MessageKind.request, 0, 1, new Uint8Array(0), requestBody, p.randomBytes(32));
      expect(() => v2.openMessageV2(p, f, { ...team, expected: { orgId } })).toThrow(SignatureError);
    });
    it('rejects a message moved to another position', () => {
      const r = sealReply(4);
      const moved = r.slice();
      moved[74] = 5; // position is header bytes 71..74
      expect(() => v2.openMessageV2(p, moved, { ...team, expected: { orgId } })).toThrow(DecryptionError);
      expect(() => v2.openMessageV2(p, r, { ...team, expected: { orgId, position: 5 } })).toThrow(DecryptionError);
    });
    it('puts a request at position 0 and nothing else there', () => {
      expect(() => sealReply(0)).toThrow(MalformedError);
      const r = sealReply(1);
      const zero = r.slice();
      zero[74] = 0;
      expect(() => v2.parseMessageHeaderV2(zero)).toThrow(MalformedError);
    });
    it('rejects a v2 message that claims to be v1', () => {
      const r = sealReply();
      const claimsV1 = r.slice();
      claimsV1[0] = 1;
      expect(() => openMessageAny(p, claimsV1, { ...team, expected: { orgId } })).toThrow(CryptoError);
      expect(() => v2.openMessageV2(p, claimsV1, { ...team, expected: { orgId } })).toThrow(MalformedError);
    });
    it('rejects any flipped bit in the blob', () => {
      const r = sealReply();
      fc.assert(fc.property(fc.nat(r.length * 8 - 1), (bit) => {
        const t = r.slice();
        t[bit >> 3]! ^= 1 << (bit & 7);
        expect(() => v2.openMessageV2(p, t, { ...team, expected: { orgId } })).toThrow(CryptoError);
      }), { numRuns: 40 });
    });
    it('a rewrapped v2 message still verifies, for the team and the requester, and leaves the old epoch behind', () => {
      const r = sealReply(3);
      const next = p.x25519Keypair();
      const re = v2.rewrapMessageV2(p, r, epochSecret, next.publicKey, 2);
      const got = v2.openMessageV2(p, re, { ...team, secret: next.secretKey, expected: { orgId, epoch: 2, position: 3 } });
      expect(got.author.type).toBe('responder');
      expect(v2.openMessageV2(p, re, { ...mine, expected: { orgId } }).body).toEqual(got.body);
      expect(() => v2.openMessageV2(p, re, { ...team, expected: { orgId } })).toThrow(DecryptionError);
    });
    it('round-trips any body that fits, at any position, in the smallest bucket', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 1, max: 0xffffffff }), (body, position) => {
        const r = sealReply(position, body);
        const got = v2.openMessageV2(p, r, { ...mine, expected: { orgId, position } });
        expect(got.body).toEqual(body);
        expect(v2.allowedMessageSizesV2(2)).toContain(r.length);
        expect(v2.parseMessageHeaderV2(r).paddedSize).toBe(bucketSizes.find((b) => b >= 1 + 163 + body.length + 64 + 1));
      }), { numRuns: 20 });
    });
  });

  describe('dispatcher', () => {
    it('reads versions 1 and 2 and refuses any other', () => {
      expect(blobVersion(request)).toBe(2);
      expect(blobVersion(new Uint8Array([1, 0x40]))).toBe(1);
      for (const v of [0, 3, 0xff]) expect(() => blobVersion(new Uint8Array([v]))).toThrow(UnknownVersionError);
      expect(() => blobVersion(new Uint8Array(0))).toThrow(MalformedError);
    });
    it('routes v1 and v2 messages; v1 comes back with an unverified author', () => {
      const old = v1.sealMessage(p, { ...base, kind: v1.MessageKind.note, messageId: p.randomBytes(16), body: utf8Encode('v1 note') });
      expect(parseMessageHeaderAny(old).version).toBe(1);
      expect(parseMessageHeaderAny(request)).toMatchObject({ version: 2, header: { position: 0 } });
      const a = openMessageAny(p, old, { ...team, expected: { orgId } });
      expect([a.version, a.author.type, utf8Decode(a.body)]).toEqual([1, 'unverified', 'v1 note']);
      const b = openMessageAny(p, request, { ...team, expected: { orgId } });
      expect([b.version, b.author.type]).toEqual([2, 'requester']);
    });
  });

  describe('request body v2', () => {
    it('requires signPublicKey and version 2, and otherwise follows v1', () => {
      const o = JSON.parse(utf8Decode(requestBody)) as Record<string, unknown>;
      const { signPublicKey: _k, ...noKey } = o;
      for (const bad of [noKey, { ...o, v: 1 }, { ...o, extra: 1 }, { ...o, message: '' }, { ...o, signPublicKey: 'AAAA' }]) {
        expect(() => v2.decodeRequestBodyV2(utf8Encode(JSON.stringify(bad)))).toThrow(MalformedError);
      }
      expect(() => v1.decodeRequestBody(requestBody)).toThrow(MalformedError);
    });
    it('round-trips', () => {
      fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 200 }), fc.option(fc.string({ minLength: 1, maxLength: 200 }), { nil: undefined }), (message, topic) => {
        const b = { message, ...(topic === undefined ? {} : { topic }), replyPublicKey: reply.publicKey, signPublicKey: requesterSign.publicKey, argon: { ops: 1, memKiB: 2048 } };
        expect(v2.decodeRequestBodyV2(v2.encodeRequestBodyV2(b))).toEqual(b);
      }), { numRuns: 50 });
    });
  });

  describe('audit chain', () => {
    const b64 = base64urlEncode;
    // the entry shape of web/shared/admin-crypto.ts buildAuditEntry (canonical JSON, sorted keys)
    const entryFor = (actor: Uint8Array, action: string): Uint8Array =>
      utf8Encode(JSON.stringify({ action, actor: b64(actor), hour: '2026-01-01T00:00:00Z', targets: {}, v: 1 }));
    function chain(signers: { id: Uint8Array; seed: Uint8Array }[]): v2.AuditChainEntry[] {
      let prev: Uint8Array = v1.AUDIT_GENESIS_HASH;
      return signers.map((s, i) => {
        const entry = entryFor(s.id, `action.${i}`);
        const hash = v1.auditEntryHash(p, prev, entry);
        const e = { seq: i + 1, actorId: s.id, entry, prevHash: prev, hash, signature: v1.signAuditHash(p, s.seed, hash) };
        prev = hash;
        return e;
      });
    }
    const admin = { id: adminId, seed: adminSeed };
    const certs = new Map([[b64(adminId), adminCert]]);
    it('accepts a chain signed by root-certified keys and returns its head', () => {
      const c = chain([admin, admin, admin]);
      expect(v2.verifyAuditChain(p, rootPublic, orgId, c, certs)).toEqual({ ok: true, count: 3, head: { seq: 3, hash: c[2]!.hash } });
    });
    it("rejects an entry re-signed with a key swapped into the actor's account", () => {
      const c = chain([admin, { id: adminId, seed: p.randomBytes(32) }]);
      expect(v2.verifyAuditChain(p, rootPublic, orgId, c, certs)).toMatchObject({ ok: false, brokenAt: 2, count: 1 });
    });
    it('rejects an actor whose certificate comes from another root or is missing', () => {
      const c = chain([admin]);
      const fake = new Map([[b64(adminId), certFor(adminSeed, v1.Role.admin, adminId, otherRootSeed)]]);
      expect(v2.verifyAuditChain(p, rootPublic, orgId, c, fake)).toMatchObject({ ok: false, brokenAt: 1 });
      expect(v2.verifyAuditChain(p, rootPublic, orgId, c, new Map())).toMatchObject({ ok: false, brokenAt: 1 });
    });
    it('rejects a deleted, edited or cut-off entry', () => {
      const c = chain([admin, admin, admin]);
      expect(v2.verifyAuditChain(p, rootPublic, orgId, [c[0]!, c[2]!], certs)).toMatchObject({ ok: false, brokenAt: 2 });
      const edited = { ...c[1]!, entry: entryFor(adminId, 'other') };
      expect(v2.verifyAuditChain(p, rootPublic, orgId, [c[0]!, edited, c[2]!], certs)).toMatchObject({ ok: false, brokenAt: 2 });
      const head = { seq: 3, hash: c[2]!.hash };
      expect(v2.verifyAuditChain(p, rootPublic, orgId, c.slice(0, 2), certs, { expectHead: head })).toMatchObject({ ok: false, brokenAt: 3 });
      expect(v2.verifyAuditChain(p, rootPublic, orgId, c, certs, { expectHead: head }).ok).toBe(true);
    });
  });
});
