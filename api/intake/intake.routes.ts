/** Requester-site API: `/api/v1/intake`, `/api/v1/requests`, `/api/v1/threads/*`. */
import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { MAX_ENVELOPE_BYTES } from './limits.ts';
import { attachmentsField } from './attachments.ts';
import { bytesField, encodeBase64url, intField, objectField, readJsonObject, type JsonObject } from '../http/validate.ts';
import type { IntakeService } from './intake.service.ts';
import { POW_V2_MAX_EFFORT, POW_V2_NONCE_BYTES } from '../../crypto/v2/pow.ts';
import { ProofError, type PowOffer, type Proof } from './pow.service.ts';

/**
 * `pow: {challenge, effort, nonce}` (PROTOCOL.md 20.2). The challenge's length is left to the
 * version dispatch (54 bytes in v2; a 55-byte v1 challenge gets its own `unsupported_version`).
 */
function proofField(body: JsonObject): Proof {
  if (body.pow === undefined) throw new ProofError('proof_required', 'A proof of work is required.');
  const pow = objectField(body, 'pow');
  return {
    challenge: bytesField(pow, 'challenge', { maxLength: 64 }),
    effort: intField(pow, 'effort', 0, POW_V2_MAX_EFFORT),
    nonce: bytesField(pow, 'nonce', { length: POW_V2_NONCE_BYTES }),
  };
}

function offerJson(offer: PowOffer) {
  return { challenge: encodeBase64url(offer.challenge), difficulty: offer.difficulty, effort: offer.effort };
}

/** The smallest lookup answer: above any one-message thread (a request fits the 16 KiB bucket). */
export const LOOKUP_ANSWER_MIN_BYTES = 32_768;

/**
 * Serialises a lookup answer padded with a `pad` string to LOOKUP_ANSWER_MIN_BYTES, or to the
 * next power of two above it: an unknown passphrase and a thread of one request (or a request
 * and a short reply) are then the same number of bytes on the wire, so the size of the answer
 * does not say whether the passphrase exists. The pad is random base64url, so a compressing
 * proxy cannot squeeze it back out. Everything in the answer is ASCII: bytes = characters.
 * The random source is Node's (about 10 µs for the pad); it needs to be unpredictable enough not
 * to compress, not secret, and libsodium's randombytes_buf takes hundreds of milliseconds for 24 KB.
 */
export function padLookupAnswer(answer: Record<string, unknown>, random: (n: number) => Uint8Array): string {
  const bare = JSON.stringify({ ...answer, pad: '' });
  let size = LOOKUP_ANSWER_MIN_BYTES;
  while (size < bare.length) size *= 2;
  const fill = size - bare.length;
  const pad = encodeBase64url(random(Math.ceil((fill * 3) / 4) + 3)).slice(0, fill);
  return JSON.stringify({ ...answer, pad });
}

export function intakeRoutes(intake: IntakeService) {
  const app = new Hono();

  app.get('/intake', async (c) => {
    const info = await intake.info();
    return c.json({
      organisation: { id: encodeBase64url(info.organisation.id), name: info.organisation.name },
      rootPublicKey: encodeBase64url(info.rootPublicKey),
      rootFingerprint: info.rootFingerprint,
      teams: info.teams.map((t) => ({ id: encodeBase64url(t.id), slug: t.slug, name: t.name, names: t.names, epoch: t.epoch, certificate: encodeBase64url(t.certificate) })),
      pow: offerJson(info.pow),
    });
  });

  app.get('/pow/challenge', (c) => c.json(offerJson(intake.challenge())));

  app.post('/requests', async (c) => {
    const body = await readJsonObject(c);
    const envelope = bytesField(body, 'envelope', { maxLength: MAX_ENVELOPE_BYTES });
    const lookupHash = bytesField(body, 'lookupHash', { length: 32 });
    // Parsed (and their limits checked) before the proof, so a page learns what to fix without solving again.
    const attachments = attachmentsField(body);
    const id = await intake.submit(envelope, lookupHash, proofField(body), attachments);
    return c.json({ id: encodeBase64url(id) }, 201);
  });

  app.post('/threads/lookup', async (c) => {
    const body = await readJsonObject(c);
    const thread = await intake.lookup(bytesField(body, 'token', { length: 32 }));
    const answer = {
      messages: thread.messages.map((m) => ({ id: encodeBase64url(m.id), kind: m.kind, position: m.position, blob: encodeBase64url(m.blob) })),
      // The position the next follow-up must sign (0 for an unknown token, like an empty thread).
      nextPosition: thread.nextPosition,
      status: thread.status,
      deleteAfter: thread.deleteAfter,
      retentionDays: thread.retentionDays,
    };
    return c.body(padLookupAnswer(answer, (n) => randomBytes(n)), 200, { 'content-type': 'application/json; charset=utf-8' });
  });

  app.post('/threads/messages', async (c) => {
    const body = await readJsonObject(c);
    const token = bytesField(body, 'token', { length: 32 });
    const envelope = bytesField(body, 'envelope', { maxLength: MAX_ENVELOPE_BYTES });
    const id = await intake.followUp(token, envelope, proofField(body));
    return c.json({ id: encodeBase64url(id) }, 201);
  });

  return app;
}
