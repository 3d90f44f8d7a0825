/**
 * v2 known answers (tests/vectors/v2.json), both directions, both backends: each backend must
 * reproduce the file byte for byte from the same inputs and deterministic randomness, and must
 * open, verify and decode the checked-in bytes. Set HAVEN_WRITE_VECTORS=1 to regenerate (with
 * libsodium) after a deliberate format change.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hexDecode as h, hexEncode as x, utf8Decode } from '../encoding.ts';
import { noblePrimitives } from '../noble.ts';
import { loadSodiumPrimitives } from '../sodium.ts';
import { TINY } from '../test-vectors.ts';
import * as v1 from '../v1/index.ts';
import * as v2 from './index.ts';
import { buildVectorsV2 } from './test-vectors.ts';

const sodiumP = await loadSodiumPrimitives();
const backends = [sodiumP, noblePrimitives];
const vectorPath = new URL('../../tests/vectors/v2.json', import.meta.url);
if (process.env.HAVEN_WRITE_VECTORS === '1') {
  writeFileSync(vectorPath, JSON.stringify(await buildVectorsV2(sodiumP), null, 2) + '\n');
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const V: any = JSON.parse(readFileSync(vectorPath, 'utf8'));

describe.each(backends)('v2 vectors: encode reproduces tests/vectors/v2.json ($name)', (p) => {
  it('every object is byte-identical to the checked-in vector', async () => {
    expect(JSON.parse(JSON.stringify(await buildVectorsV2(p)))).toEqual(V);
  });
});

describe.each(backends)('v2 vectors: decode of the checked-in bytes ($name)', (p) => {
  const orgId = h(V.inputs.orgId);
  const teamId = h(V.inputs.teamId);
  const rootPublic = h(V.rootPublic);
  const nowHour = V.inputs.issuedHour + 1;
  const exp = { orgId, teamId, threadId: h(V.inputs.threadId) };

  it('verifies the team key statement (146 bytes)', () => {
    const bytes = h(V.teamKeyStatement.bytes);
    expect(bytes.length).toBe(146);
    const s = v2.verifyTeamKeyStatement(p, rootPublic, bytes, { orgId, teamId, epoch: 1, nowHour, minSerial: 1 });
    expect([s.serial, s.issuedHour, s.expiresHour, x(s.publicKey)]).toEqual([1, V.teamKeyStatement.issuedHour, V.teamKeyStatement.expiresHour, V.epochPublic]);
  });

  it('verifies the invitation with the admin certificate and derives its id from the code', () => {
    expect(x(v2.invitationIdFromCode(p, h(V.invitation.inviteCode)))).toBe(V.invitation.invitationId);
    const inv = v2.verifyInvitation(p, rootPublic, h(V.invitation.statement), {
      orgId, adminCert: h(V.adminCert), nowHour, invitationId: h(V.invitation.invitationId),
    });
    expect(inv.role).toBe(v1.Role.responder);
    expect(inv.teamIds.map(x)).toEqual([V.inputs.teamId, V.inputs.otherTeamId]);
    expect(x(inv.adminAccountId)).toBe(V.inputs.adminAccountId);
  });

  it('derives the v2 requester keys (v1 keys unchanged, plus the sign key)', async () => {
    const k = await v2.deriveRequesterKeysV2(p, V.inputs.requesterPassphrase, orgId, TINY, TINY);
    expect(x(k.signPublic)).toBe(V.requester.signPublic);
    const old = await v1.deriveRequesterKeys(p, V.inputs.requesterPassphrase, orgId, TINY, TINY);
    expect([x(old.lookupToken), x(old.replySecret)]).toEqual([V.requester.lookupToken, V.requester.replySecret]);
  });

  it('opens every message, verifies each author, and decodes the request body', () => {
    const team = { recipientKind: v1.RecipientKind.team, secret: h(V.inputs.epochSecret), rootPublic };
    const mine = { recipientKind: v1.RecipientKind.requester, secret: h(V.requester.replySecret), rootPublic };
    const request = v2.openMessageV2(p, h(V.messages.request), { ...team, expected: { ...exp, position: 0 } });
    expect(request.author).toEqual({ type: 'requester', signPublic: h(V.requester.signPublic) });
    expect(utf8Decode(request.body)).toBe(V.requestBodyUtf8);
    const body = v2.decodeRequestBodyV2(request.body);
    expect(x(body.signPublicKey)).toBe(V.requester.signPublic);
    expect(v2.openMessageV2(p, h(V.messages.request), { ...mine, expected: exp }).body).toEqual(request.body);

    for (const opener of [team, mine]) {
      const reply = v2.openMessageV2(p, h(V.messages.reply), { ...opener, expected: { ...exp, position: 1 } });
      expect(utf8Decode(reply.body)).toBe('We received your request.');
      expect(reply.author.type).toBe('responder');
      if (reply.author.type === 'responder') {
        expect(x(reply.author.accountId)).toBe(V.inputs.accountId);
        expect(reply.author.role).toBe(v1.Role.responder);
      }
      const f = v2.openMessageV2(p, h(V.messages.followup), { ...opener, expected: { ...exp, position: 2 }, threadRequesterSignPublic: body.signPublicKey });
      expect(utf8Decode(f.body)).toBe('Thank you.');
    }
    const note = v2.openMessageV2(p, h(V.messages.note), { ...team, expected: { ...exp, position: 3 } });
    expect(utf8Decode(note.body)).toBe('internal note');
  });

  it('a rewrapped v2 message still verifies (vector)', () => {
    const re = v2.openMessageV2(p, h(V.messages.replyRewrappedToEpoch2), {
      recipientKind: v1.RecipientKind.team, secret: h(V.inputs.epoch2Secret), rootPublic, expected: { ...exp, epoch: 2, position: 1 },
    });
    expect(utf8Decode(re.body)).toBe('We received your request.');
  });
});
