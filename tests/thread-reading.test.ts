/**
 * crypto/thread-reading.ts: every reader's per-message rules, against the attacks a server (or
 * anyone holding the public keys) can mount on a thread it serves. No database, no browser.
 */
import { describe, expect, it } from 'vitest';
import { loadSodiumPrimitives } from '../crypto/sodium.ts';
import { createRootKey, createX25519Key, Role, signResponderCert } from '../crypto/v1/certs.ts';
import { MessageKind, RecipientKind, sealMessage } from '../crypto/v1/message.ts';
import { encodeRequestBody } from '../crypto/v1/request-body.ts';
import { encodeTagsBody, encodeTextBody } from '../crypto/v1/text-body.ts';
import { sealMessageV2, type MessageAuthor } from '../crypto/v2/message.ts';
import { encodeRequestBodyV2 } from '../crypto/v2/request-body.ts';
import { readThread, type ReadThreadArgs } from '../crypto/thread-reading.ts';

const p = await loadSodiumPrimitives();
const ARGON = { ops: 1, memKiB: 8192 };

function world() {
  const root = createRootKey(p);
  const orgId = p.randomBytes(16);
  const teamId = p.randomBytes(16);
  const team = createX25519Key(p);
  const requester = { reply: createX25519Key(p), signSeed: p.randomBytes(32) };
  const signPublic = p.ed25519KeypairFromSeed(requester.signSeed).publicKey;
  const responderSeed = p.randomBytes(32);
  const accountId = p.randomBytes(16);
  const cert = signResponderCert(p, root.seed, { orgId, accountId, role: Role.responder, x25519Public: createX25519Key(p).publicKey, ed25519Public: p.ed25519KeypairFromSeed(responderSeed).publicKey });
  const threadId = p.randomBytes(16);
  const seal = (kind: number, position: number, body: Uint8Array, author: MessageAuthor, over: { threadId?: Uint8Array } = {}) =>
    sealMessageV2(p, {
      kind: kind as 1, orgId, teamId, epoch: 1, threadId: over.threadId ?? threadId, messageId: kind === MessageKind.request ? (over.threadId ?? threadId) : p.randomBytes(16), position,
      teamPublic: team.publicKey, ...(kind === MessageKind.note || kind === MessageKind.tags ? {} : { requesterPublic: requester.reply.publicKey }), body, author,
    });
  const asRequester: MessageAuthor = { type: 'requester', signSeed: requester.signSeed };
  const asResponder: MessageAuthor = { type: 'responder', signSeed: responderSeed, cert };
  const request = seal(MessageKind.request, 0, encodeRequestBodyV2({ message: 'help', replyPublicKey: requester.reply.publicKey, argon: ARGON, signPublicKey: signPublic }), asRequester);
  const teamArgs: ReadThreadArgs = { recipientKind: RecipientKind.team, secretFor: () => team.secretKey, orgId, rootPublic: root.publicKey, threadId, teamId };
  const requesterArgs: ReadThreadArgs = { recipientKind: RecipientKind.requester, secretFor: () => requester.reply.secretKey, orgId, rootPublic: root.publicKey, ownSignPublic: signPublic };
  return { root, orgId, teamId, team, requester, signPublic, accountId, cert, threadId, seal, asRequester, asResponder, request, teamArgs, requesterArgs };
}

const statuses = (r: ReturnType<typeof readThread>) => r.entries.map((e) => e.status);

describe('thread reading (protocol v2)', () => {
  it('reads a genuine thread with verified authors on both sides', () => {
    const w = world();
    const blobs = [
      w.request,
      w.seal(MessageKind.reply, 1, encodeTextBody('we will call'), w.asResponder),
      w.seal(MessageKind.followup, 2, encodeTextBody('thanks'), w.asRequester),
      w.seal(MessageKind.note, 3, encodeTextBody('internal'), w.asResponder),
    ];
    const team = readThread(p, blobs, w.teamArgs);
    expect(statuses(team)).toEqual(['verified', 'verified', 'verified', 'verified']);
    const reply = team.entries[1]!;
    expect(reply.status === 'verified' && reply.responderAccountId).toEqual(w.accountId);
    const requester = readThread(p, blobs.slice(0, 3), w.requesterArgs);
    expect(statuses(requester)).toEqual(['verified', 'verified', 'verified']);
    expect(requester.threadId).toEqual(w.threadId);
  });

  it('[forged follow-up] a follow-up signed by any key but the request\'s is unverified, for the team and the requester', () => {
    const w = world();
    const forged = w.seal(MessageKind.followup, 1, encodeTextBody('send the address'), { type: 'requester', signSeed: p.randomBytes(32) });
    expect(statuses(readThread(p, [w.request, forged], w.teamArgs))).toEqual(['verified', 'unverified']);
    expect(statuses(readThread(p, [w.request, forged], w.requesterArgs))).toEqual(['verified', 'unverified']);
  });

  it('[forged note or reply] a certificate from another root makes a note or reply unverified', () => {
    const w = world();
    const other = createRootKey(p);
    const seed = p.randomBytes(32);
    const cert = signResponderCert(p, other.seed, { orgId: w.orgId, accountId: w.accountId, role: Role.responder, x25519Public: createX25519Key(p).publicKey, ed25519Public: p.ed25519KeypairFromSeed(seed).publicKey });
    const note = w.seal(MessageKind.note, 1, encodeTextBody('close it'), { type: 'responder', signSeed: seed, cert });
    const reply = w.seal(MessageKind.reply, 2, encodeTextBody('meet us'), { type: 'responder', signSeed: seed, cert });
    expect(statuses(readThread(p, [w.request, note, reply], w.teamArgs))).toEqual(['verified', 'unverified', 'unverified']);
    expect(statuses(readThread(p, [w.request, reply], w.requesterArgs))).toEqual(['verified', 'unverified']);
  });

  it('[request swap] the requester does not accept a request signed by a key other than its own', () => {
    const w = world();
    const other = p.randomBytes(32);
    const swapped = w.seal(MessageKind.request, 0, encodeRequestBodyV2({ message: 'not mine', replyPublicKey: w.requester.reply.publicKey, argon: ARGON, signPublicKey: p.ed25519KeypairFromSeed(other).publicKey }), { type: 'requester', signSeed: other });
    const read = readThread(p, [swapped], w.requesterArgs);
    expect(read.threadId).toBeNull();
    expect(statuses(read)).toEqual(['unverified']);
  });

  it('[downgrade] a v1 message in a v2 thread is unverified; a v1 thread is read as legacy', () => {
    const w = world();
    const v1 = sealMessage(p, { kind: MessageKind.followup, orgId: w.orgId, teamId: w.teamId, epoch: 1, threadId: w.threadId, messageId: p.randomBytes(16), teamPublic: w.team.publicKey, requesterPublic: w.requester.reply.publicKey, body: encodeTextBody('unsigned') });
    expect(statuses(readThread(p, [w.request, v1], w.teamArgs))).toEqual(['verified', 'unverified']);
    const v1Request = sealMessage(p, { kind: MessageKind.request, orgId: w.orgId, teamId: w.teamId, epoch: 1, threadId: w.threadId, messageId: w.threadId, teamPublic: w.team.publicKey, requesterPublic: w.requester.reply.publicKey, body: encodeRequestBody({ message: 'old', replyPublicKey: w.requester.reply.publicKey, argon: ARGON }) });
    expect(statuses(readThread(p, [v1Request, v1], w.teamArgs))).toEqual(['legacy', 'legacy']);
  });

  it('[replay, misfiling] the same position twice, another thread\'s blob and random bytes are each unverified; the rest stays readable', () => {
    const w = world();
    const reply = w.seal(MessageKind.reply, 1, encodeTextBody('we will call'), w.asResponder);
    const elsewhere = w.seal(MessageKind.followup, 2, encodeTextBody('other thread'), w.asRequester, { threadId: p.randomBytes(16) });
    const read = readThread(p, [w.request, reply, reply, elsewhere, p.randomBytes(reply.length), new Uint8Array(0)], w.teamArgs);
    expect(statuses(read)).toEqual(['verified', 'verified', 'unverified', 'unverified', 'unverified', 'unverified']);
  });

  it('[reordering] verified messages are shown in their signed order, whatever order the server sends', () => {
    const w = world();
    const f1 = w.seal(MessageKind.followup, 1, encodeTextBody('first'), w.asRequester);
    const r2 = w.seal(MessageKind.reply, 2, encodeTextBody('second'), w.asResponder);
    const f3 = w.seal(MessageKind.followup, 3, encodeTextBody('third'), w.asRequester);
    const junk = p.randomBytes(f1.length);
    const read = readThread(p, [f3, w.request, junk, r2, f1], w.teamArgs);
    const shown = read.entries.map((e) => (e.status === 'unverified' ? 'unverified' : e.position));
    // The junk the server sent after the request stays right after it; the rest by signed position.
    expect(shown).toEqual([0, 'unverified', 1, 2, 3]);
  });

  it('[tags] the verified tags message with the highest position wins', () => {
    const w = world();
    const t1 = w.seal(MessageKind.tags, 1, encodeTagsBody(['a']), w.asResponder);
    const t2 = w.seal(MessageKind.tags, 2, encodeTagsBody(['b']), w.asResponder);
    expect(readThread(p, [w.request, t2, t1], w.teamArgs).tags).toEqual(['b']);
  });
});
