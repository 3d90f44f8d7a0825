/**
 * What the no-JavaScript tests need beside the requester's own pages: a team reply written as
 * a certified responder would write it, and the dashboard's view of a thread (readThread with
 * the team's epoch secret), to check that follow-ups the server signed for the requester verify.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../api/db/schema.ts';
import { appendMessage } from '../../api/intake/intake.repository.ts';
import { coarseHour } from '../../api/time.ts';
import { createX25519Key, Role, signResponderCert } from '../../crypto/v1/certs.ts';
import { MessageKind, RecipientKind } from '../../crypto/v1/message.ts';
import { CURRENT_REQUESTER_PARAM_SET, REQUESTER_PARAM_SETS } from '../../crypto/v1/requester.ts';
import { encodeTextBody } from '../../crypto/v1/text-body.ts';
import { sealMessageV2 } from '../../crypto/v2/message.ts';
import { deriveRequesterKeysV2 } from '../../crypto/v2/requester.ts';
import { readThread, type ReadThread } from '../../crypto/thread-reading.ts';
import { loadSodiumPrimitives } from '../../crypto/sodium.ts';
import type { DemoOrganisation } from '../../seeds/demo.ts';

const p = await loadSodiumPrimitives();

async function theRequest(db: Kysely<Database>) {
  return db.selectFrom('requests').select(['id', 'team_id']).executeTakeFirstOrThrow();
}

/** Appends a reply from a responder certified by the demo root, at the thread's next position. */
export async function addTeamReply(db: Kysely<Database>, demo: DemoOrganisation, passphrase: string, text: string): Promise<void> {
  const request = await theRequest(db);
  const team = demo.teams.find((t) => p.constantTimeEqual(t.id, request.team_id))!;
  const keys = await deriveRequesterKeysV2(p, passphrase, demo.organisationId, REQUESTER_PARAM_SETS[CURRENT_REQUESTER_PARAM_SET]!);
  const seed = p.randomBytes(32);
  const cert = signResponderCert(p, demo.root.seed, {
    orgId: demo.organisationId, accountId: p.randomBytes(16), role: Role.responder, x25519Public: createX25519Key(p).publicKey, ed25519Public: p.ed25519KeypairFromSeed(seed).publicKey,
  });
  const last = await db.selectFrom('messages').select((eb) => eb.fn.max('position').as('max')).where('request_id', '=', request.id).executeTakeFirstOrThrow();
  const position = Number(last.max) + 1;
  const blob = sealMessageV2(p, {
    kind: MessageKind.reply, orgId: demo.organisationId, teamId: team.id, epoch: team.epoch, threadId: request.id, messageId: p.randomBytes(16), position,
    teamPublic: team.publicKey, requesterPublic: keys.replyPublic, body: encodeTextBody(text), author: { type: 'responder', signSeed: seed, cert },
  });
  await db.transaction().execute(async (trx) => {
    if (!(await appendMessage(trx, { id: p.randomBytes(16), requestId: request.id, position, kind: 'reply', epoch: team.epoch, authorId: null, blob, hour: coarseHour() }))) {
      throw new Error('reply position taken');
    }
  });
}

/** The thread as the team's dashboard reads it (the only request in the database). */
export async function teamView(db: Kysely<Database>, demo: DemoOrganisation): Promise<ReadThread> {
  const request = await theRequest(db);
  const team = demo.teams.find((t) => p.constantTimeEqual(t.id, request.team_id))!;
  const rows = await db.selectFrom('messages').select(['blob']).where('request_id', '=', request.id).orderBy('position').execute();
  return readThread(p, rows.map((r) => r.blob), {
    recipientKind: RecipientKind.team, secretFor: (epoch) => (epoch === team.epoch ? team.secretKey : null), orgId: demo.organisationId, rootPublic: demo.root.publicKey,
    threadId: request.id, teamId: team.id,
  });
}
