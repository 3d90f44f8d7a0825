/** Requester-site API: `/api/v1/intake`, `/api/v1/requests`, `/api/v1/threads/*`. */
import { Hono } from 'hono';
import { MAX_ENVELOPE_BYTES } from './limits.ts';
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

export function intakeRoutes(intake: IntakeService) {
  const app = new Hono();

  app.get('/intake', async (c) => {
    const info = await intake.info();
    return c.json({
      organisation: { id: encodeBase64url(info.organisation.id), name: info.organisation.name },
      rootPublicKey: encodeBase64url(info.rootPublicKey),
      rootFingerprint: info.rootFingerprint,
      teams: info.teams.map((t) => ({ id: encodeBase64url(t.id), slug: t.slug, name: t.name, epoch: t.epoch, certificate: encodeBase64url(t.certificate) })),
      pow: offerJson(info.pow),
    });
  });

  app.get('/pow/challenge', (c) => c.json(offerJson(intake.challenge())));

  app.post('/requests', async (c) => {
    const body = await readJsonObject(c);
    const envelope = bytesField(body, 'envelope', { maxLength: MAX_ENVELOPE_BYTES });
    const lookupHash = bytesField(body, 'lookupHash', { length: 32 });
    const id = await intake.submit(envelope, lookupHash, proofField(body));
    return c.json({ id: encodeBase64url(id) }, 201);
  });

  app.post('/threads/lookup', async (c) => {
    const body = await readJsonObject(c);
    const thread = await intake.lookup(bytesField(body, 'token', { length: 32 }));
    return c.json({
      messages: thread.messages.map((m) => ({ id: encodeBase64url(m.id), kind: m.kind, position: m.position, blob: encodeBase64url(m.blob) })),
      // The position the next follow-up must sign (0 for an unknown token, like an empty thread).
      nextPosition: thread.nextPosition,
    });
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
